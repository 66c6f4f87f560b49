/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ptrace backend (ptrace.c, ptrace_wait.c): ptrace(2) and wait(2) served
 * by a utrace engine per tracee when /sys/module/utrace/parameters/
 * ptrace_backend is on.  See docs/PTRACE.md.
 */
#ifndef _UTRACE_PTRACE_INTERNAL_H
#define _UTRACE_PTRACE_INTERNAL_H

#include <linux/list.h>
#include <linux/rhashtable-types.h>
#include <linux/sched.h>
#include <linux/signal.h>
#include <linux/spinlock.h>
#include <linux/utrace.h>
#include <linux/wait.h>

/* What kind of ptrace stop a tracee is in (or about to be in). */
enum pt_stop {
	PT_STOP_NONE,
	PT_STOP_SIGNAL,		/* signal-delivery stop: exit_code is the signal */
	PT_STOP_SYSCALL_ENTRY,	/* SIGTRAP (| 0x80) */
	PT_STOP_SYSCALL_EXIT,
	PT_STOP_EVENT,		/* SIGTRAP | PTRACE_EVENT_* << 8 */
	PT_STOP_GROUP,		/* group stop (a JCTL stop): the stop signal */
};

/**
 * struct pt_ctx - one ptrace relationship: the engine's data
 * @node:	on its tracer group's @group->tracees while @linked (written
 *		under pt_lock, walked under RCU)
 * @hnode:	in pt_tracees, keyed by @tracee, while @linked (pt_lock)
 * @group:	the tracer's thread group (pt_group), set at link
 * @engine:	our engine on @tracee; the list holds a reference while @linked
 * @tracee:	referenced
 * @pid:	the tracee's thread pid (referenced): wait matches and reports
 *		it even after the thread was released (its ->thread_pid gone)
 * @tracer:	the thread that attached (referenced); any thread of its group
 *		may wait for the tracee, only this one makes requests
 * @ptracer_cred: what ptrace_link() records as ->ptracer_cred (referenced):
 *		the tracer's credentials at ATTACH/SEIZE, the tracee's own at
 *		TRACEME, the parent tracee's at auto-attach; ptracer_capable()
 *		reads them (PEEK/POKE of a non-dumpable tracee)
 * @options:	PTRACE_O_*
 * @seized:	attached by PTRACE_SEIZE
 * @linked:	in pt_tracees and on @group->tracees: the relationship
 *		exists (pt_lock)
 * @stop:	the stop the tracee is in or entering (pt_lock)
 * @exit_code:	what wait reports for the stop; 0 once reported (pt_lock)
 * @have_info:	@info is valid (GETSIGINFO, GET_SYSCALL_INFO) (pt_lock)
 * @info:	the tracee's last_siginfo
 * @eventmsg:	GETEVENTMSG
 * @inject:	the signals the tracer gave at resume from signal-delivery
 *		stops and queued: each is delivered once without stopping
 *		again (pt_lock); a set, as another signal can stop the tracee
 *		before an injected one is dequeued
 * @syscall_trace: stop at syscall entry and exit (PTRACE_SYSCALL)
 * @sysemu:	stop at syscall entry and skip the call (PTRACE_SYSEMU*)
 * @sysemu_skip: the system call being entered is skipped: it was entered
 *		under @sysemu (the kernel reads its work bits before the stop);
 *		written and read by the tracee only
 * @step:	UTRACE_SINGLESTEP or UTRACE_BLOCKSTEP while the last resume
 *		request steps, else UTRACE_RESUME: every callback that does
 *		not stop answers it, so the step holds across reports
 * @interrupt:	PTRACE_INTERRUPT pending, or a seized tracee's job control
 *		trap (JOBCTL_TRAP_NOTIFY): stop with PTRACE_EVENT_STOP (pt_lock)
 * @listening:	PTRACE_LISTEN: the tracee stays in its PTRACE_EVENT_STOP
 *		stop, hidden from wait and requests, until a job control
 *		event (SIGCONT) or INTERRUPT makes it trap again (pt_lock)
 * @death_seen: its death was reported (DEATH, or REAP for a tracee linked
 *		after its death report point) (pt_lock)
 * @dead:	a tracee that is not the tracer's child (or not a group leader)
 *		died; @exit_status is reported once by the tracer's wait (pt_lock)
 * @zombie:	a child tracee died: the kernel's wait reports it; the
 *		relationship lasts until it is reaped (pt_lock)
 * @hold:	enum pt_hold: a dead non-child group leader kept from its real
 *		parent until the tracer reaped it (cmpxchg; see pt_hold_zombie())
 * @rcu:	the ctx is freed, and its tracer put, after a grace period
 *		(RCU readers of pt_tracees and of @group->tracees)
 * @vpid:	the tracee's tid in the tracer's pid namespace, as of attach or
 *		the last exec (PTRACE_EVENT_EXEC's message is the old one)
 * @vfork_done:	PTRACE_O_TRACEVFORKDONE: the vfork child's pid (the event
 *		message) while the tracee is in or before its vfork wait; the
 *		VFORK_DONE stop is made at the next report after it (pt_lock)
 * @late_exit:	the tracer resumed the VFORK_DONE stop with PTRACE_SYSCALL:
 *		the vfork's exit stop, which natively follows inside the
 *		call, is made at the resume point
 * @step_trap:	the tracer stepped from the VFORK_DONE stop: the arch's step
 *		trap at the vfork's exit (x86), which natively follows inside
 *		the call, is made at the resume point
 * @events:	the event mask last set on the engine (pt_set_events()); the
 *		tracer's thread only
 */
/*
 * The dead non-child leader's zombie (pt_ctx.hold), as native ptrace keeps
 * it in EXIT_TRACE for its tracer: CANDIDATE from its death report, HELD
 * once its do_notify_parent() was turned into EXIT_TRACE, GONE once the
 * tracer reaped it or let go (HELD: the real parent is notified then).
 * CHILD: a dead child leader, whose zombie exit_notify() must not autoreap
 * (a traced task never is, whatever its parent's SIGCHLD disposition): its
 * tracer, the parent, reaps it with the kernel's wait.  CHILD_HELD: such a
 * zombie kept in EXIT_TRACE from that wait while its tracer has a dead
 * thread of its group to reap first (pt_hold_child()); CHILD again once
 * the last is reaped, and its parent notified then.
 */
enum pt_hold {
	PT_HOLD_NONE,
	PT_HOLD_CANDIDATE,
	PT_HOLD_HELD,
	PT_HOLD_GONE,
	PT_HOLD_CHILD,
	PT_HOLD_CHILD_HELD,
};

struct pt_group;

struct pt_ctx {
	struct list_head node;
	struct rhash_head hnode;
	struct pt_group *group;
	struct utrace_engine *engine;
	struct task_struct *tracee;
	struct pid *pid;
	struct task_struct *tracer;
	const struct cred *ptracer_cred;
	unsigned long options;
	bool seized;
	bool linked;
	enum pt_stop stop;
	int exit_code;
	bool have_info;
	/* @info is a trap's with only si_signo and si_code made: pt_info() */
	bool info_lazy;
	kernel_siginfo_t info;
	unsigned long eventmsg;
	sigset_t inject;
	bool syscall_trace;
	bool sysemu;
	bool sysemu_skip;
	enum utrace_resume_action step;
	bool interrupt;
	bool listening;
	/*
	 * A PTRACE_EVENT_STOP was recorded for the stopped tracee while a
	 * SIGCONT's JCTL report was pending: that report makes no trap.
	 */
	bool notify_trapped;
	bool death_seen;
	bool dead;
	bool zombie;
	int hold;
	struct rcu_head rcu;
	int exit_status;
	pid_t vpid;
	pid_t vfork_done;
	bool late_exit;
	bool step_trap;
	unsigned long events;
};

/**
 * struct pt_group - a tracer thread group and its tracees: native's
 * ->ptraced lists of its threads, which its waits look at
 * @hnode:	in pt_groups, keyed by @sig (pt_lock; RCU readers)
 * @sig:	the group's signal_struct (alive: each tracee's ctx holds a
 *		reference on its tracer, a thread of the group)
 * @tracees:	pt_ctx.node of its relationships (pt_lock; RCU readers)
 * @count:	relationships on @tracees; the wait hooks redirect the
 *		group's waits only while it is not 0 (pt_lock, read unlocked)
 * @rcu:	freed after a grace period
 *
 * The group exists while it has relationships.  A wait in it comes to
 * ptrace_wait.c only then; any other wait is the kernel's own.
 */
struct pt_group {
	struct rhash_head hnode;
	struct signal_struct *sig;
	struct list_head tracees;
	unsigned int count;
	bool uncached;		/* out of the table: out of every lookup slot */
	struct rcu_head rcu;
};

extern spinlock_t pt_lock;
extern bool pt_backend;

/* The tracer group of @sig, or NULL.  pt_lock or rcu_read_lock() held. */
struct pt_group *pt_group_lookup(struct signal_struct *sig);
/* Wake the waits of @tracer's group (__wake_up_parent()); @p is the tracee. */
void pt_wake_tracer(struct task_struct *p, struct task_struct *tracer);
bool pt_threads_unreaped(struct pt_group *g, struct task_struct *leader);

/* ptrace_wait.c */
long pt_wait(const struct pt_regs *regs, int kind);
#define PT_WAIT4	0
#define PT_WAITID	1
#define PT_WAITPID	2
void pt_unlink_put(struct pt_ctx *ctx);
int pt_detach_engine(struct pt_ctx *ctx);
int pt_check_stopped(struct pt_ctx *ctx, bool recorded);
/*
 * A request's wait for its tracee's stop (pt_check_stopped()), and the
 * wait's for a stop not reached yet: PT_SETTLE_SPINS cond_resched() rounds
 * (the tracee is on its way into the stop: a moment), then sleeps of a
 * jiffy; a request gives up after PT_SETTLE_JIFFIES of those (ESRCH).
 */
#define PT_SETTLE_SPINS		100
#define PT_SETTLE_JIFFIES	HZ

/* ptrace.c, for ptrace_wait.c: the kernel's own wait of the caller's entry */
long pt_orig_wait(const struct pt_regs *regs, int kind);

/* ptrace.c, for ptrace_tracee.c */
struct pt_ctx *pt_find(struct task_struct *tracee, struct task_struct *tracer);
bool pt_traced_by_group(struct task_struct *tracee, struct signal_struct *sig);
u32 pt_event_stop(struct pt_ctx *ctx, int event, unsigned long msg);
int pt_tracee_init(void);
#define PT_TRACEE_NHOOKS_MAX	4
unsigned int pt_tracee_lazy_hooks(struct utrace_fhook **hooks);
void pt_tracee_hooks_on(void);
bool pt_tracee_hooks_may_go(void);
void pt_tracee_exit(void);

/*
 * The current system call came through one of x86's ia32 entries (int $0x80,
 * sysenter, a 32-bit syscall; TS_COMPAT is set for the call): its arguments
 * are in the ia32 registers and it reads and writes memory in the compat
 * layouts.  The ia32 hooks in ptrace.c reach the same replacements as the
 * native ones, which ask this.
 */
static inline bool pt_ia32(void)
{
#ifdef CONFIG_IA32_EMULATION
	return in_ia32_syscall();
#else
	return false;
#endif
}

/*
 * arch: syscall arguments of a pt_regs syscall wrapper.  ia32: bx, cx, dx,
 * si, di, 32 bits each, zero-extended as the kernel's ia32 wrappers take
 * them before casting to the declared type (compat pointers, compat_ulong_t).
 * Always inline, a switch: no array of the registers is built (and zeroed
 * first, CONFIG_INIT_STACK_ALL_ZERO) per argument read, which a request
 * and a wait each did several times.
 */
static __always_inline unsigned long pt_arg(const struct pt_regs *regs, int i)
{
#ifdef CONFIG_X86_64
#ifdef CONFIG_IA32_EMULATION
	if (pt_ia32()) {
		switch (i) {
		case 0:
			return (u32)regs->bx;
		case 1:
			return (u32)regs->cx;
		case 2:
			return (u32)regs->dx;
		case 3:
			return (u32)regs->si;
		default:
			return (u32)regs->di;
		}
	}
#endif
	switch (i) {
	case 0:
		return regs->di;
	case 1:
		return regs->si;
	case 2:
		return regs->dx;
	case 3:
		return regs->r10;
	default:
		return regs->r8;
	}
#else
	return regs->gpr[3 + i];
#endif
}

static inline void pt_set_arg(struct pt_regs *regs, int i, unsigned long v)
{
#ifdef CONFIG_X86_64
	unsigned long *args[] = { &regs->di, &regs->si, &regs->dx, &regs->r10, &regs->r8 };
#ifdef CONFIG_IA32_EMULATION
	unsigned long *args32[] = { &regs->bx, &regs->cx, &regs->dx, &regs->si, &regs->di };

	if (pt_ia32()) {
		*args32[i] = (u32)v;
		return;
	}
#endif
	*args[i] = v;
#else
	regs->gpr[3 + i] = v;
#endif
}

#endif /* _UTRACE_PTRACE_INTERNAL_H */
