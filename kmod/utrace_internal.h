/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of utrace.ko.  Nothing here is API:
 * engines use <linux/utrace.h>, user space <uapi/utrace.h>.
 *
 * The per-task state (struct utrace) lives in a side table keyed by the task
 * pointer (utrace.c), because a module cannot add a field to task_struct.
 * The table holds a reference on each task in it; an entry goes when the
 * task is reaped (release_task) or when the module unloads.  Hooks that run
 * in the traced task itself (syscall, exec, exit, resume work) can use the
 * entry without a reference of their own: it cannot go away under them.
 */
#ifndef _UTRACE_INTERNAL_H
#define _UTRACE_INTERNAL_H

#include <linux/compat.h>
#include <linux/ftrace.h>
#include <linux/ptrace.h>
#include <linux/rhashtable-types.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/task_work.h>
#include <linux/utrace.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <asm/syscall.h>

#include "utrace_compat.h"
#include "kcall.h"

#define UTRACE_MODULE_VERSION	"0.1.0"

/* engine->flags bits beyond the event bits: the engine wants the task stopped */
#define ENGINE_STOP		BIT(_UTRACE_NEVENTS)
/* ... or stepping: its last answer or control was a step (utrace_finish_resume()) */
#define ENGINE_STEP		BIT(_UTRACE_NEVENTS + 1)
#define ENGINE_WISHES		(ENGINE_STOP | ENGINE_STEP)

/* utrace->jctl_bits */
#define UTRACE_JCTL_CONTINUED	0
#define UTRACE_JCTL_LISTEN	1
#define UTRACE_JCTL_RETRAP	2
#define UTRACE_JCTL_RETRAP_KICKED 3
#define UTRACE_SIG_PTRACED	4
#define UTRACE_JCTL_TRAP	5

/**
 * struct utrace - per-task utrace state
 * @node:	side-table linkage, key @task
 * @task:	the traced task (referenced while in the table)
 * @ref:	1 for the table + 1 for each user outside RCU
 * @lock:	protects the lists, @flags, @reporting, @resume and the bits
 * @attached:	engines the task reports to; only the task itself changes
 *		this list, or another thread while the task is stopped or dead
 * @attaching:	new engines, moved to @attached by the task's next report
 * @reporting:	engine whose callback is running now (for utrace_barrier)
 * @flags:	union of the event bits of all engines
 * @resume:	the least resume action pending for the task's way back to user
 * @stopped:	the task is in (or entering) a utrace stop, in TASK_TRACED
 * @holds:	utrace_hold_stop()s in force: the task stays in its stop
 * @held:	the task waits in its stop for @holds to end (utrace_stop_held())
 * @death:	the task has passed its DEATH report: no more stops
 * @death_report: the task is walking @attached for its DEATH report
 * @reap:	the task was released: no more reports but REAP
 * @syscall_work: the arch syscall slow-path bit is set by us
 * @arch_flag:	arch scratch (x86: the task had syscall user dispatch before us;
 *		unused on powerpc)
 * @syscall_filters: an engine was given a syscall filter (for good): the
 *		entry reports test filters and may leave the exit hook out
 *		(struct utrace_exit_hint); without, they cost nothing
 * @exit_gen:	changed, under @lock, by whatever may want the exit report of
 *		a call entered with every engine's filter leaving it out
 *		(utrace_syscall_exit_rearm()); read unlocked by the entry hook
 * @exit_skip:	powerpc: this call's entry report allowed its exit hook out,
 *		if @exit_gen is still @exit_skip_gen (written by the task only)
 * @stepping:	we enabled single/block step on the task
 * @work_queued: @work is queued on the task
 * @step_off:	unloading: @work must turn the task's stepping off
 * @uncached:	the entry left the table: no CPU may keep it in its lookup
 *		slot (utrace_lookup())
 * @in_signal:	the task runs its task work from get_signal() (signal.c)
 * @signal_handler: a signal handler frame was just set up (report it)
 * @sig_modref:	the task holds the module reference signal.c's filter took
 * @frames:	replacement frames that hold utrace_inflight around a call in
 *		which the task may die (utrace_frame_get()); task only
 * @modrefs:	module references the ptrace backend's filters took for
 *		calls in which the task may die (ptrace_tracee.c): dropped by
 *		the do_exit() hook if it does.  Written by the task only.
 * @cld_claim:	this thread reports JCTL for the group's SIGNAL_CLD_MASK; the
 *		others leave it to it (signal.c, under the group's siglock)
 * @jctl_bits:	UTRACE_JCTL_CONTINUED: a SIGCONT came while the task was
 *		stopped (set by the sender, utrace_mark_continued()); it reports
 *		JCTL CLD_CONTINUED when it wakes.  UTRACE_JCTL_LISTEN: an engine
 *		wants that SIGCONT to wake it (utrace_jctl_listen()).
 *		UTRACE_JCTL_RETRAP: a thread in a group stop was woken to report
 *		JCTL again (utrace_jctl_retrap()); UTRACE_JCTL_RETRAP_KICKED: woken
 *		in the kernel's own get_signal() for that, it was sent back to
 *		ours once (signal.c).  UTRACE_SIG_PTRACED: a tracee of the
 *		ptrace backend, to which signals an init drops are sent as to a
 *		native tracee (utrace_signal_ptraced()).  UTRACE_JCTL_TRAP: an
 *		engine wants a SIGCONT to reach the task also when it is not
 *		stopped (utrace_jctl_trap()).  Atomic bits, never @lock: the
 *		sender may be in any context (hard irq: itimers), and the retrap
 *		bits are written under the task's siglock, which nests no
 *		utrace->lock.
 * @real_blocked_saved: @saved_real_blocked holds the task's real_blocked
 *		(signal.c, under the task's siglock, while a signal is sent)
 * @work:	task work running utrace_resume_work() in the task
 * @reap_work:	runs the REAP reports after release_task()
 * @rcu:	deferred free
 */
struct utrace {
	struct rhash_head node;
	struct task_struct *task;
	refcount_t ref;
	spinlock_t lock;	/* see above */
	struct list_head attached;
	struct list_head attaching;
	struct utrace_engine *reporting;
	unsigned long flags;
	/*
	 * @flags may hold events no engine wants any more, or a detached
	 * engine is still linked: utrace_reset() has work to do
	 */
	bool stale;
	enum utrace_resume_action resume;
	bool stopped;
	unsigned int holds;
	bool held;
	unsigned int death:1;
	unsigned int death_report:1;
	unsigned int reap:1;
	bool syscall_work;
	bool arch_flag;		/* read unlocked by x86's syscall entry hook */
	bool syscall_filters;
	bool exit_skip;
	unsigned int exit_skip_gen;
	unsigned int exit_gen;
	bool stepping;
	unsigned int work_queued:1;
	bool step_off;		/* under @lock; read unlocked by unload's wait */
	bool uncached;
	/* written by the task itself without the lock: not in the bitfield */
	bool in_signal;
	bool signal_handler;
	bool sig_modref;
	unsigned int modrefs;
	unsigned int frames;
	/* signal.c: this thread reports the group's continue (siglock) */
	bool cld_claim;
	/* signal.c: atomic bits (UTRACE_JCTL_*, UTRACE_SIG_PTRACED) */
	unsigned long jctl_bits;
	/* signal.c: the task's real_blocked while a signal is sent to it */
	bool real_blocked_saved;
	sigset_t saved_real_blocked;
	/* signal.c: the signal to dequeue next (utrace_signal_next(); siglock) */
	int next_signr;
	/*
	 * hooks.c: kernel_clone()'s flags and exit signal (CSIGNAL), noted at
	 * its entry for the CLONE report; written and read by the task only
	 */
	bool clone_noted;
	u64 clone_flags;
	struct callback_head work;
	struct work_struct reap_work;
	struct rcu_head rcu;
};

/* utrace.c: the core */
int utrace_core_init(void);
void utrace_core_quiesce(void);
void utrace_core_exit(void);
bool utrace_active(void);

extern atomic_t utrace_tasks;			/* entries in the table */
DECLARE_PER_CPU(struct utrace *, utrace_slot);	/* the entry looked up last */
extern struct utrace utrace_slot_empty;		/* in a slot: none (no task's) */
struct utrace *utrace_lookup_slow(struct task_struct *task);

/* Whether this CPU's lookup slot (*@slot) holds @task's entry. */
static __always_inline bool utrace_slot_hit(struct task_struct *task, struct utrace **slot)
{
	bool hit;

	preempt_disable();
	*slot = __this_cpu_read(utrace_slot);
	hit = READ_ONCE((*slot)->task) == task;
	preempt_enable();
	return hit;
}

/*
 * @task's utrace, or NULL.  The entry stays valid while the caller is in an
 * RCU read-side section, holds a reference, or is @task itself (only the
 * task's release or unload removes it).  This CPU's slot first (utrace.c,
 * utrace_slot): a task making system calls finds its own entry there.
 */
static __always_inline struct utrace *__utrace_lookup(struct task_struct *task)
{
	struct utrace *utrace;

	if (likely(utrace_slot_hit(task, &utrace)))
		return utrace;
	return utrace_lookup_slow(task);
}

/* The same, at once NULL while no task has an entry (hooks every task passes). */
static __always_inline struct utrace *utrace_lookup(struct task_struct *task)
{
	if (!atomic_read(&utrace_tasks))
		return NULL;
	return __utrace_lookup(task);
}

/*
 * The same for a hook mostly traced tasks pass: the slot first, whose entry
 * is in the table (an entry that leaves it leaves every slot), then
 * utrace_lookup().
 */
static __always_inline struct utrace *utrace_lookup_traced(struct task_struct *task)
{
	struct utrace *utrace;

	if (likely(utrace_slot_hit(task, &utrace)))
		return utrace;
	return utrace_lookup(task);
}

bool utrace_task_stopped(struct task_struct *task);
struct utrace *utrace_hold_stop(struct task_struct *target, struct utrace_engine *engine);
void utrace_release_stop(struct utrace *utrace);
void utrace_flush_reaps(void);

/*
 * Tasks inside this module's code that may sleep or outlive a hook's
 * removal: replacements of kernel functions and queued task work.  Unload
 * waits for zero (utrace.c).  Inline: four per system call of a traced task.
 */
extern atomic_t utrace_inflight;
extern struct wait_queue_head utrace_inflight_wq;

static inline void utrace_inflight_get(void)
{
	atomic_inc(&utrace_inflight);
}

static inline void utrace_inflight_put(void)
{
	/*
	 * Only unload waits here, and only once it dropped the module's own
	 * count can this reach 0: no look at the wait queue before.
	 */
	if (unlikely(atomic_dec_and_test(&utrace_inflight)))
		wake_up_all(&utrace_inflight_wq);
}

bool utrace_unload_step_off(void);
void utrace_frame_get(struct utrace *utrace);
void utrace_frame_put(struct utrace *utrace);
void utrace_frames_drop(struct utrace *utrace);
void utrace_note_clone(u64 flags, int exit_signal);
void utrace_report_clone(struct task_struct *child);
void utrace_finish_clone(void);
void utrace_report_exec_event(void);
void utrace_report_exec(void);
void utrace_report_exit(long *code);
void utrace_report_death(struct task_struct *task);
void utrace_release_task(struct task_struct *task);

/* The state of one report pass (utrace.c), for signal.c. */
struct utrace_report {
	u32 result;
	enum utrace_resume_action action;	/* least of all engines */
	enum utrace_resume_action resume_action; /* least but STOP */
	bool detaches;
	bool takers;
};

#define INIT_REPORT(var)	struct utrace_report var = {		\
		.action = UTRACE_RESUME, .resume_action = UTRACE_RESUME }

/* What becomes of a reported signal: when the engines' stop or step acts. */
enum utrace_signal_fate {
	UTRACE_FATE_HANDLER,	/* a handler runs: after its frame is set up */
	UTRACE_FATE_IGNORED,	/* nothing happens: now */
	UTRACE_FATE_STOPPED,	/* job control stop: when it ends */
	UTRACE_FATE_FATAL,	/* the thread group dies: never */
};

bool utrace_wants_signals(struct utrace *utrace);
void utrace_report_signal(struct utrace *utrace, struct utrace_report *report,
			  struct pt_regs *regs, kernel_siginfo_t *info,
			  const struct k_sigaction *orig_ka, struct k_sigaction *return_ka,
			  unsigned long event);
void utrace_signal_done(struct utrace *utrace, struct utrace_report *report,
			enum utrace_signal_fate fate);
u32 utrace_report_jctl(struct utrace *utrace, int type, int notify);
void utrace_jctl_stop(struct utrace *utrace);
void utrace_signal_handler_setup(struct utrace *utrace);

/* utrace_control(UTRACE_INTERRUPT) that leaves the engine's stop and step */
int utrace_interrupt(struct task_struct *target, struct utrace_engine *engine);

/* signal.c: get_signal() for traced tasks */
int utrace_signal_init(void);
void utrace_signal_exit(void);
void utrace_signal_task_exit(void);
bool utrace_jctl_retrap(struct task_struct *task);
struct sighand_struct *utrace_lock_sighand(struct task_struct *t, unsigned long *flags);
bool utrace_jctl_retrap_pending(struct task_struct *task);
void utrace_jctl_listen(struct task_struct *task, bool on);
bool utrace_jctl_continued(struct task_struct *task);
void utrace_signal_ptraced(struct task_struct *task, bool on);
void utrace_jctl_trap(struct task_struct *task, bool on);
void utrace_signal_next(struct task_struct *task, int sig);
void utrace_notify_cldstop(struct task_struct *tsk, struct task_struct *parent, int why,
			   int status);
int utrace_notify_death(struct task_struct *tsk, struct pid *pid, struct task_struct *parent,
			int sig, bool traced);

struct rusage;

/*
 * syms.c: kernel functions that are not exported, called as
 * utrace_kcall(NAME)(args) (kcall.h); syms.c checks each type against the
 * kernel's declaration at build time.
 */
typedef int utrace_wake_up_state_t(struct task_struct *p, unsigned int state);
UTRACE_KCALL_DECLARE(wake_up_state, utrace_wake_up_state_t);
typedef unsigned long utrace_wait_task_inactive_t(struct task_struct *p, unsigned int match_state);
UTRACE_KCALL_DECLARE(wait_task_inactive, utrace_wait_task_inactive_t);
typedef void utrace_user_enable_single_step_t(struct task_struct *task);
UTRACE_KCALL_DECLARE(user_enable_single_step, utrace_user_enable_single_step_t);
typedef void utrace_user_enable_block_step_t(struct task_struct *task);
UTRACE_KCALL_DECLARE(user_enable_block_step, utrace_user_enable_block_step_t);
typedef void utrace_user_disable_single_step_t(struct task_struct *task);
UTRACE_KCALL_DECLARE(user_disable_single_step, utrace_user_disable_single_step_t);
/* 6.1.100+ (backported from 6.11): cancels one callback_head */
typedef bool utrace_task_work_cancel_t(struct task_struct *task, struct callback_head *cb);
UTRACE_KCALL_DECLARE(task_work_cancel, utrace_task_work_cancel_t);
typedef bool utrace_ptrace_may_access_t(struct task_struct *task, unsigned int mode);
UTRACE_KCALL_DECLARE(ptrace_may_access, utrace_ptrace_may_access_t);
/*
 * engines.c: an engine owner's capability at a set-id exec; ptrace.c:
 * ptracer_capable() on the credentials a relationship recorded
 */
typedef int utrace_security_capable_t(const struct cred *cred, struct user_namespace *ns,
				int cap, unsigned int opts);
UTRACE_KCALL_DECLARE(security_capable, utrace_security_capable_t);
typedef int utrace_ptrace_notify_t(int exit_code, unsigned long message);
UTRACE_KCALL_DECLARE(ptrace_notify, utrace_ptrace_notify_t);
/* signal.c: get_signal()'s helpers */
typedef void utrace_task_work_run_t(void);
UTRACE_KCALL_DECLARE(task_work_run, utrace_task_work_run_t);
typedef unsigned long utrace_ftrace_location_t(unsigned long ip);
UTRACE_KCALL_DECLARE(ftrace_location, utrace_ftrace_location_t);
/* no __noreturn here: objtool cannot see it through a static call */
typedef void utrace_do_group_exit_t(int exit_code);
UTRACE_KCALL_DECLARE(do_group_exit, utrace_do_group_exit_t);
typedef void utrace_do_coredump_t(const kernel_siginfo_t *siginfo);
UTRACE_KCALL_DECLARE(do_coredump, utrace_do_coredump_t);
typedef void utrace_proc_coredump_connector_t(struct task_struct *task);
UTRACE_KCALL_DECLARE(proc_coredump_connector, utrace_proc_coredump_connector_t);
typedef int utrace_is_current_pgrp_orphaned_t(void);
UTRACE_KCALL_DECLARE(is_current_pgrp_orphaned, utrace_is_current_pgrp_orphaned_t);
typedef struct sigqueue *(utrace_sigqueue_alloc_t)(void);
UTRACE_KCALL_DECLARE(sigqueue_alloc, utrace_sigqueue_alloc_t);
typedef void utrace_sigqueue_free_t(struct sigqueue *q);
UTRACE_KCALL_DECLARE(sigqueue_free, utrace_sigqueue_free_t);
typedef void utrace_cgroup_leave_frozen_t(bool always_leave);
UTRACE_KCALL_DECLARE(cgroup_leave_frozen, utrace_cgroup_leave_frozen_t);
/* static in kernel/signal.c; called with siglock held, drops it if true */
typedef bool utrace_do_signal_stop_t(int signr);
UTRACE_KCALL_DECLARE(do_signal_stop, utrace_do_signal_stop_t);
/* signal.c: group stop bookkeeping (siglock held) */
typedef bool utrace_task_set_jobctl_pending_t(struct task_struct *task, unsigned long mask);
UTRACE_KCALL_DECLARE(task_set_jobctl_pending, utrace_task_set_jobctl_pending_t);
typedef void utrace_task_clear_jobctl_pending_t(struct task_struct *task, unsigned long mask);
UTRACE_KCALL_DECLARE(task_clear_jobctl_pending, utrace_task_clear_jobctl_pending_t);
typedef void utrace_signal_wake_up_state_t(struct task_struct *t, unsigned int state);
UTRACE_KCALL_DECLARE(signal_wake_up_state, utrace_signal_wake_up_state_t);
/* ptrace.c: the ptrace backend */
/* the switch: a walk of every process under tasklist_lock */
typedef void utrace_walk_process_tree_t(struct task_struct *top, proc_visitor visitor, void *data);
UTRACE_KCALL_DECLARE(walk_process_tree, utrace_walk_process_tree_t);
typedef long utrace_arch_ptrace_t(struct task_struct *child, long request, unsigned long addr,
				unsigned long data);
UTRACE_KCALL_DECLARE(arch_ptrace, utrace_arch_ptrace_t);
typedef int utrace_copy_siginfo_to_user_t(siginfo_t __user *to, const kernel_siginfo_t *from);
UTRACE_KCALL_DECLARE(copy_siginfo_to_user, utrace_copy_siginfo_to_user_t);
typedef int utrace_copy_siginfo_from_user_t(kernel_siginfo_t *to, const siginfo_t __user *from);
UTRACE_KCALL_DECLARE(copy_siginfo_from_user, utrace_copy_siginfo_from_user_t);
typedef int utrace_security_ptrace_traceme_t(struct task_struct *parent);
UTRACE_KCALL_DECLARE(security_ptrace_traceme, utrace_security_ptrace_traceme_t);
typedef void utrace_getrusage_t(struct task_struct *p, int who, struct rusage *ru);
UTRACE_KCALL_DECLARE(getrusage, utrace_getrusage_t);
typedef void utrace_release_task_t(struct task_struct *p);
UTRACE_KCALL_DECLARE(release_task, utrace_release_task_t);
/* try_get_task_stack() is inline, its put is not exported */
typedef void utrace_put_task_stack_t(struct task_struct *tsk);
UTRACE_KCALL_DECLARE(put_task_stack, utrace_put_task_stack_t);
#ifdef CONFIG_VIRT_CPU_ACCOUNTING_GEN
/* Not exported; without it a static inline (utrace_task_cputime()) */
UTRACE_KCALL_DECLARE(task_cputime, task_cputime);
#endif
/* static in kernel/exit.c; struct waitid_info copied in ptrace_wait.c */
typedef long utrace_kernel_waitid_t(int which, pid_t upid, void *infop, int options,
				struct rusage *ru);
UTRACE_KCALL_DECLARE(kernel_waitid, utrace_kernel_waitid_t);
#ifdef CONFIG_IA32_EMULATION
/* the ptrace backend's ia32 entries: compat layouts */
typedef long utrace_compat_arch_ptrace_t(struct task_struct *child, compat_long_t request,
				compat_ulong_t addr, compat_ulong_t data);
UTRACE_KCALL_DECLARE(compat_arch_ptrace, utrace_compat_arch_ptrace_t);
typedef int utrace_copy_siginfo_to_user32_t(struct compat_siginfo __user *to,
				const kernel_siginfo_t *from);
UTRACE_KCALL_DECLARE(copy_siginfo_to_user32, utrace_copy_siginfo_to_user32_t);
typedef int utrace_copy_siginfo_from_user32_t(kernel_siginfo_t *to,
				const struct compat_siginfo __user *from);
UTRACE_KCALL_DECLARE(copy_siginfo_from_user32, utrace_copy_siginfo_from_user32_t);
typedef int utrace_put_compat_rusage_t(const struct rusage *r, struct compat_rusage __user *ru);
UTRACE_KCALL_DECLARE(put_compat_rusage, utrace_put_compat_rusage_t);
#endif

/*
 * The do_group_exit call drops __noreturn, so its type is checked by
 * redeclaring the kernel's prototype here: a change fails to compile.
 */
void __noreturn do_group_exit(int exit_code);

int utrace_syms_init(void);
unsigned long utrace_lookup_name(const char *name);

/*
 * fhook.c: ftrace-redirected kernel functions.  The replacement calls the
 * kernel's function as utrace_kcall(orig_<sym>)(args), a static call
 * (kcall.h) defined next to the hook with UTRACE_KCALL_DEFINE(orig_<sym>,
 * proto) and named in it by UTRACE_FHOOK_ORIG(orig_<sym>).
 */
struct utrace_fhook {
	const char *name;		/* kernel symbol */
	void *replacement;		/* our function, same prototype */
	bool (*filter)(void);		/* NULL, or whether to redirect this call */
	/* or, instead: whether to redirect it, from its first argument */
	bool (*filter_arg)(unsigned long arg0);
	/*
	 * Or an entry probe, as a kprobe's pre-handler but in the shared
	 * ops' code update: given the first argument, preemption off, and the
	 * call is never redirected (no replacement, no filter).
	 */
	void (*probe)(unsigned long arg0);
	struct utrace_kcall orig;	/* set to the kernel function */
	/*
	 * Or: an ftrace direct trampoline to the replacement, through the
	 * filter if any (x86_64, arch_x86_tramp.S: UTRACE_FHOOK_DIRECT()),
	 * with its own ftrace_ops, tried first; the shared redirection where
	 * direct calls fail.
	 */
	void *direct;
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS
	struct ftrace_ops direct_ops;
#endif
	/*
	 * Enabled only while some task has a utrace (utrace_hook_setup(),
	 * utrace_lazy_hooks_get()): a function every task may pass that only
	 * those need redirected.
	 */
	bool lazy;
	unsigned long addr;
	unsigned long ip;		/* its ftrace site */
	bool installed;
	bool direct_on;			/* installed as a direct call */
};

#define UTRACE_FHOOK_ORIG(sym)	.orig = UTRACE_KCALL_INIT(sym, NULL)

int utrace_fhook_resolve(struct utrace_fhook *hook);
int utrace_fhook_enable(struct utrace_fhook *hook);
void utrace_fhook_remove(struct utrace_fhook *hook);
/* The most hooks one utrace_fhooks_enable() or _remove() takes. */
#define UTRACE_FHOOK_BATCH	16
int utrace_fhooks_enable(struct utrace_fhook *const *hooks, unsigned int n);
void utrace_fhooks_remove(struct utrace_fhook *const *hooks, unsigned int n);
void utrace_fhook_sync(void);

/*
 * An ftrace replacement as the hook must name it: on powerpc a trampoline
 * that sets up this module's TOC (arch_powerpc_tramp.S), elsewhere the
 * function itself.
 */
/*
 * A replacement has the prototype of the kernel function @kfn it stands for,
 * checked at compile time against the kernel's declaration: where a kernel
 * changes a prototype (dequeue_signal() in 6.11), a replacement that kept
 * the old one would otherwise compile and get its arguments shifted.
 */
#define UTRACE_CHECK_REPLACEMENT(kfn, fn)				\
	static_assert(__same_type(&(kfn), &(fn)),			\
		      #fn "() must have the prototype of " #kfn "()")

#ifdef CONFIG_PPC64
#define UTRACE_REPLACEMENT(fn)	utrace_ppc_tramp_##fn
#define UTRACE_DECLARE_REPLACEMENT(fn) void utrace_ppc_tramp_##fn(void)
#else
#define UTRACE_REPLACEMENT(fn)	fn
#define UTRACE_DECLARE_REPLACEMENT(fn)
#endif

/* signal.c: replacements, not static (powerpc trampolines) */
bool utrace_get_signal(struct ksignal *ksig);
#ifdef UTRACE_HAVE_DEQUEUE_SIGNAL_TASK
int utrace_dequeue_signal(struct task_struct *task, sigset_t *mask, kernel_siginfo_t *info,
			  enum pid_type *type);
#else
int utrace_dequeue_signal(sigset_t *mask, kernel_siginfo_t *info, enum pid_type *type);
#endif
int utrace_send_signal_locked(int sig, struct kernel_siginfo *info, struct task_struct *t,
			      enum pid_type type, bool force);

/* ptrace.c: the ptrace backend; replacements not static (powerpc trampolines) */
int utrace_ptrace_init(void);
void utrace_ptrace_exit(void);
void utrace_ptrace_exit_tracer(void);
bool utrace_ptrace_active(void);
long utrace_pt_sys_ptrace(const struct pt_regs *regs);
long utrace_pt_sys_wait4(const struct pt_regs *regs);
long utrace_pt_sys_waitid(const struct pt_regs *regs);
long utrace_pt_sys_waitpid(const struct pt_regs *regs);
bool utrace_pt_do_notify_parent(struct task_struct *tsk, int sig);
struct seccomp_data;
int utrace_pt_secure_computing(const struct seccomp_data *sd);
int utrace_pt_notify(int exit_code, unsigned long message);
bool pt_filter(unsigned long arg0);
bool pt_wait_filter(void);
bool pt_notify_filter(void);
struct linux_binprm;
struct file;
int utrace_pt_bprm_creds_from_file(struct linux_binprm *bprm,
				   UTRACE_BPRM_FILE_CONST struct file *file);
int utrace_pt_bprm_creds_for_exec(struct linux_binprm *bprm);
void utrace_ptrace_task_exit(struct utrace *utrace);
void utrace_ptrace_parent_exit(struct task_struct *father);

/* hooks.c: the event sources; not static, powerpc reaches them by trampoline */
void utrace_wake_up_new_task(struct task_struct *p);
void __noreturn utrace_do_exit(long code);
void utrace_proc_exec_connector(struct task_struct *task);
int utrace_hooks_init(void);
void utrace_hooks_exit(void);
int utrace_hook_setup(struct utrace_fhook *hook);
int utrace_lazy_hooks_get(void);
void utrace_lazy_hooks_idle(void);
void utrace_lazy_hooks_flush(void);

/* arch_*.c: what differs between x86_64 and powerpc */
extern struct utrace_fhook utrace_arch_hooks[];
extern const unsigned int utrace_arch_nhooks;
void utrace_arch_set_syscall_work(struct utrace *utrace);
void utrace_arch_clear_syscall_work(struct utrace *utrace);
void utrace_arch_syscall_exit_rearm(struct utrace *utrace);

/**
 * struct utrace_syscall_filter - the system calls an engine wants reported
 * @nr:		calls 0 .. @nr - 1 of the native ABI are covered; others, and
 *		every compat call, are filtered out
 * @rcu:	freed after a grace period when replaced
 * @bits:	bit n set: call n is reported
 *
 * A call the filter leaves out gets no report_syscall_entry() callback in
 * the common pass (utrace_syscall_pass()), unless the engine has a wish
 * pending (a stop, a step), which the callback must then answer itself;
 * when every engine that wants exits leaves it out, its exit passes no
 * hook (struct utrace_exit_hint).  The engine's callbacks may still be
 * called for calls the filter leaves out (by the generic code, at exits):
 * they must filter alike themselves.
 */
struct utrace_syscall_filter {
	unsigned int nr;
	struct rcu_head rcu;
	unsigned long bits[];
};

int utrace_set_syscall_filter(struct task_struct *target, struct utrace_engine *engine,
			      struct utrace_syscall_filter *filter);
void utrace_arch_clone(struct task_struct *child);
void utrace_arch_redirect(struct pt_regs *regs, void *replacement);

unsigned long utrace_arch_arg0(struct pt_regs *regs);
unsigned long utrace_arch_func_entry(unsigned long probe_addr);
void utrace_arch_set_syscall_nr(struct pt_regs *regs, long nr);
void utrace_arch_set_syscall_args(struct pt_regs *regs, const unsigned long *args);
void utrace_arch_set_return_value(struct pt_regs *regs, long val);
void utrace_arch_syscall_exit_step_trap(struct pt_regs *regs);

#ifdef CONFIG_PPC64
long utrace_ppc_syscall_enter(struct pt_regs *regs);
void utrace_ppc_syscall_leave(struct pt_regs *regs);

/*
 * powerpc's ftrace_caller saves the argument registers, the NIP and the LR
 * in a pt_regs and jumps to a changed NIP: a redirect needs no more
 * (arch_powerpc_tramp.S finds its own TOC), so the shared ops asks for no
 * full save (ftrace_regs_caller), some 50 instructions a call.
 */
#define UTRACE_FHOOK_OPS_REGS	0
static inline struct pt_regs *utrace_arch_fregs(struct ftrace_regs *fregs)
{
#ifdef arch_ftrace_regs	/* 6.13's opaque ftrace_regs, in Debian's 6.12 */
	return &arch_ftrace_regs(fregs)->regs;
#else
	return &fregs->regs;
#endif
}
#else
#define UTRACE_FHOOK_OPS_REGS	FTRACE_OPS_FL_SAVE_REGS
static inline struct pt_regs *utrace_arch_fregs(struct ftrace_regs *fregs)
{
	return ftrace_get_regs(fregs);
}
#endif

#ifdef CONFIG_X86_64
/*
 * Hooks reached by ftrace direct calls (arch_x86_tramp.S): the replacements
 * and filters the trampolines reach are global.
 */
#define UTRACE_FHOOK_DIRECT(name)	.direct = utrace_x86_direct_##name
bool utrace_syscall_user_dispatch(struct pt_regs *regs);
void utrace_user_single_step_report(struct pt_regs *regs);
void utrace_user_disable_single_step(struct task_struct *task);
void utrace_x86_direct_syscall_user_dispatch(void);
void utrace_x86_direct_user_single_step_report(void);
void utrace_x86_direct_user_disable_single_step(void);
void utrace_x86_direct_sys_ptrace(void);
void utrace_x86_direct_sys_wait4(void);
void utrace_x86_direct_sys_waitid(void);
void utrace_x86_direct_ptrace_notify(void);
#else
#define UTRACE_FHOOK_DIRECT(name)	.direct = NULL
#endif

/* bridge.c: the user-engine bridge, one per open /dev/utrace file */
struct utrace_bridge;
struct utrace_bridge *utrace_bridge_create(struct file *file);
void utrace_bridge_flush(struct utrace_bridge *b);
void utrace_bridge_get(struct utrace_bridge *b);
void utrace_bridge_put(struct utrace_bridge *b);
bool utrace_bridge_may_use(const struct utrace_bridge *b, const struct cred *owner);
void utrace_bridge_close(struct utrace_bridge *b);
u32 utrace_bridge_report(struct utrace_bridge *b, u64 id, struct pid *pid, unsigned int event,
			 u32 action, struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
			 kernel_siginfo_t *info, int notify, bool wait, const bool *detached);
bool utrace_bridge_closed(struct utrace_bridge *b);
void utrace_bridge_cancel(struct utrace_bridge *b, u64 id);
bool utrace_bridge_orphaned(struct utrace_bridge *b);
struct utrace_ring;
struct utrace_record;
struct utrace_ring *utrace_bridge_ring(struct utrace_bridge *b);
int utrace_bridge_set_ring(struct utrace_bridge *b, struct utrace_ring *ring);
void utrace_bridge_observe(struct utrace_bridge *b, u64 id, s32 tid, unsigned int event,
			   u32 action, struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
			   kernel_siginfo_t *info, u16 capture);
s32 utrace_bridge_tid(struct utrace_bridge *b, struct pid *pid);

/*
 * The system call's number, arguments and (at exit) return value, for a
 * report message or a ring record: the same fields in both.  Straight into
 * @argv: no array on the stack to clear and copy.
 */
static __always_inline void utrace_fill_syscall(struct pt_regs *regs, unsigned int event,
						__s64 *nr, __u64 *argv, __s64 *retval)
{
	BUILD_BUG_ON(sizeof(unsigned long) != sizeof(*argv));
	*nr = syscall_get_nr(current, regs);
	syscall_get_arguments(current, regs, (unsigned long *)argv);
	if (event == _UTRACE_EVENT_SYSCALL_EXIT)
		*retval = syscall_get_return_value(current, regs);
}

/* ring.c: rings of observed reports, one per /dev/utrace file at most */
long utrace_ring_create(struct utrace_bridge *b, void __user *arg);
void utrace_ring_fill(struct utrace_record *rec, u64 id, s32 tid, unsigned int event, u32 action,
		      struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
		      const kernel_siginfo_t *info);
void utrace_ring_write(struct utrace_ring *ring, u64 id, s32 tid, unsigned int event, u32 action,
		       struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
		       const kernel_siginfo_t *info);
void utrace_ring_write_syscall(struct utrace_ring *ring, u64 id, s32 tid, unsigned int event,
			       u32 action, struct pt_regs *regs);
void utrace_ring_write_group(struct utrace_ring *ring, struct utrace_record *recs, unsigned int n);
void utrace_ring_lose(struct utrace_ring *ring, unsigned int n);
void utrace_ring_close(struct utrace_ring *ring);
void utrace_ring_get(struct utrace_ring *ring);
void utrace_ring_put(struct utrace_ring *ring);
ssize_t utrace_bridge_read(struct utrace_bridge *b, char __user *buf, size_t len,
			   bool nonblock);
ssize_t utrace_bridge_write(struct utrace_bridge *b, const char __user *buf, size_t len);
__poll_t utrace_bridge_poll(struct utrace_bridge *b, struct file *file,
			    struct poll_table_struct *wait);

/* engines.c: the engines shipped with the module */
int utrace_engines_init(void);
void utrace_engines_exit(void);
long utrace_engines_ioctl(struct utrace_bridge *bridge, unsigned int cmd, void __user *arg);
void utrace_engines_file_closed(struct utrace_bridge *bridge);
bool utrace_engines_active(void);
bool utrace_engines_exit_orphans(void);
void utrace_schedule_traced_timeout(long timeout);
bool utrace_engines_exec_unsafe(struct task_struct *task, const struct cred *new);

int utrace_dev_init(void);
void utrace_dev_exit(void);

#endif /* _UTRACE_INTERNAL_H */
