// SPDX-License-Identifier: GPL-2.0
/*
 * wait(2) of a tracer when the ptrace backend is on: wait4, waitid (and
 * powerpc's and ia32's waitpid) first look at the caller's utrace-ptrace
 * tracees (a stop not yet reported, the death of a traced non-child), then
 * poll the kernel's own wait with WNOHANG, and sleep on the caller's
 * signal->wait_chldexit, which wakes for both (the kernel's children, and
 * our tracees' stops and deaths: ptrace.c wakes the tracer group's only,
 * as __wake_up_parent()), until one of them has something.
 *
 * Only a thread group with tracees waits here (ptrace.c's pt_wait_filter());
 * every other runs the kernel's wait untouched.  A group that gets its first
 * tracee while a thread of it already sleeps in the kernel's wait (a
 * PTRACE_TRACEME child, another thread's attach) makes that wait restart
 * here (pt_kick_waiters()), and a wait here whose group has no tracee left
 * restarts in the kernel's.
 *
 * x86's ia32 entries (compat wait4 and waitid, waitpid) come here too:
 * pt_arg() reads their registers, the rusage and the siginfo are written in
 * the compat layouts, and the kernel's wait polled is their own entry.
 *
 * When the group's last relationship ends (which switching the backend off
 * requires), a waiter with no tracee restarts its call (-ERESTARTNOINTR),
 * which then runs the kernel's wait untouched: no task stays in this code,
 * and the module can be unloaded.
 *
 * waitid(P_PIDFD) is passed to the kernel as it is (not yet emulated).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/resource.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <uapi/linux/wait.h>

#include "utrace_internal.h"
#include "ptrace_internal.h"

struct pt_wait_opts {
	enum pid_type type;	/* PIDTYPE_MAX: any */
	struct pid *pid;
	pid_t nr;		/* PIDTYPE_PID: the number asked for */
	int options;
	pid_t zombie;		/* a zombie child tracee the selector needs __WALL for */
	bool own_child;		/* a tracee of the group is one of its children */
	bool live_target;	/* PIDTYPE_PID: the tracee asked for, alive */
	/* what was found */
	pid_t pid_nr;
	int cause;		/* CLD_* */
	int status;		/* waitid's si_status */
	int stat;		/* wait4's status word */
	struct task_struct *task;	/* referenced, for rusage */
	struct pt_ctx *reap;	/* dead non-child to unlink, engine referenced */
};

/*
 * wait_task_continued(): a tracer's WCONTINUED sees its tracee's group
 * continued (SIGNAL_STOP_CONTINUED), and consumes that unless WNOWAIT, as
 * the real parent's would.  pt_lock held; @p referenced.
 */
static bool pt_wait_continued(struct task_struct *p, struct pt_wait_opts *wo)
{
	struct sighand_struct *sighand;
	unsigned long flags;
	bool found;

	if (!(READ_ONCE(p->signal->flags) & SIGNAL_STOP_CONTINUED))
		return false;
	sighand = utrace_lock_sighand(p, &flags);
	if (!sighand)
		return false;
	found = p->signal->flags & SIGNAL_STOP_CONTINUED;
	if (found && !(wo->options & WNOWAIT))
		p->signal->flags &= ~SIGNAL_STOP_CONTINUED;
	spin_unlock_irqrestore(&sighand->siglock, flags);
	if (found) {
		wo->cause = CLD_CONTINUED;
		wo->status = SIGCONT;
		wo->stat = 0xffff;
	}
	return found;
}

/*
 * A dead tracee the tracer's wait reports now.  A group leader, as
 * wait_consider_task() has it, only once it is a zombie (past
 * exit_notify()) and the last of its group (delay_group_leader()): until
 * then the wait finds it but has nothing to report.  Another thread is
 * released at its death (no ->ptrace), and reported once it is (natively a
 * zombie past exit_notify()): its death is recorded at DEATH, before, and
 * reaping it earlier would let the tracer see its leader still delayed by
 * it (*@settling: a moment).  Until the tracer reaps it, it counts as still
 * in the group (pt_threads_unreaped()).  pt_lock and RCU held, @ctx linked.
 */
static bool pt_dead_ready(struct pt_ctx *ctx, bool *settling)
{
	struct task_struct *p = ctx->tracee;

	if (!thread_group_leader(p)) {
		/* __unhash_process(): off the group, under tasklist_lock */
		if (!READ_ONCE(p->thread_pid))
			return true;
		*settling = true;
		return false;
	}
	return READ_ONCE(p->exit_state) && thread_group_empty(p) &&
	       !pt_threads_unreaped(ctx->group, p);
}

/*
 * wait_task_zombie()'s status, as of the wait: the group's exit code once
 * the group exits (a leader dead before its other threads reports how they
 * ended, a thread dead before the group's exit reports the group's code),
 * else the task's own, as recorded at its death.  ->signal stays with the
 * task (referenced) after its release.
 */
static int pt_dead_status(struct pt_ctx *ctx, struct task_struct *p)
{
	if (READ_ONCE(p->signal->flags) & SIGNAL_GROUP_EXIT)
		return READ_ONCE(p->signal->group_exit_code);
	return ctx->exit_status;
}

/*
 * One tracee of the caller's group: whether it has something for the wait
 * (*@have: it matches; *@settling: it has a stop it is not in yet).
 * pt_lock held, @ctx linked.
 */
static bool pt_wait_consider_one(struct pt_ctx *ctx, struct pt_wait_opts *wo, bool *have,
				 bool *settling)
{
	struct task_struct *p = ctx->tracee;

	if ((wo->options & __WNOTHREAD) && ctx->tracer != current)
		return false;
	/*
	 * By number: a released thread has no ->thread_pid (nor pid), and
	 * its number may be another task's now.  The pid the wait names is
	 * that number in the caller's namespace.
	 */
	if (wo->type == PIDTYPE_PID ? ctx->pid != wo->pid && pid_vnr(ctx->pid) != wo->nr :
	    wo->type != PIDTYPE_MAX && task_pid_type(p, wo->type) != wo->pid)
		return false;
	/*
	 * A zombie child tracee the kernel's wait took (EXIT_DEAD): gone
	 * for its tracer, as natively, though its REAP report, which
	 * ends the relationship, is still to run.
	 */
	if (ctx->zombie && READ_ONCE(p->exit_state) == EXIT_DEAD)
		return false;
	*have = true;
	if (thread_group_leader(p) && same_thread_group(rcu_dereference(p->real_parent), current))
		wo->own_child = true;
	if (wo->type == PIDTYPE_PID && !ctx->dead && !ctx->zombie && !READ_ONCE(p->exit_state))
		wo->live_target = true;
	if (ctx->exit_code && !ctx->listening && !utrace_task_stopped(p)) {
		/*
		 * Not in the stop yet: between its callback's answer and the
		 * core's stop, held there by another engine's report, or
		 * killed on the way.  Natively the tracer is told once it is
		 * in TASK_TRACED: nothing to report yet, look at the others.
		 */
		*settling = true;
		return false;
	}
	if (ctx->exit_code && !ctx->listening) {
		/*
		 * wait_task_stopped(), ptrace: no WUNTRACED needed, not
		 * LISTENING; the tracee is really in it.  Consumed unless
		 * WNOWAIT, before the report is copied out, as natively.
		 */
		wo->cause = CLD_TRAPPED;
		wo->status = ctx->exit_code;
		wo->stat = (ctx->exit_code << 8) | 0x7f;
		if (!(wo->options & WNOWAIT))
			ctx->exit_code = 0;
	} else if (ctx->dead && (wo->options & WEXITED) && pt_dead_ready(ctx, settling)) {
		int st = pt_dead_status(ctx, p);

		wo->stat = st;
		if (st & 0x7f) {
			wo->cause = (st & 0x80) ? CLD_DUMPED : CLD_KILLED;
			wo->status = st & 0x7f;
		} else {
			wo->cause = CLD_EXITED;
			wo->status = st >> 8;
		}
		if (!(wo->options & WNOWAIT)) {
			utrace_engine_get(ctx->engine);
			wo->reap = ctx;
		}
	} else if (!(wo->options & WCONTINUED) || !pt_wait_continued(p, wo)) {
		/*
		 * A zombie child tracee: the kernel's wait reports it,
		 * but natively to its tracer regardless of __WCLONE.
		 */
		if (ctx->zombie && !wo->zombie && (wo->options & WEXITED) &&
		    !(wo->options & __WALL))
			wo->zombie = pid_vnr(ctx->pid);
		return false;
	}
	rcu_read_lock();
	wo->pid_nr = wo->type == PIDTYPE_PID ? wo->nr : pid_vnr(ctx->pid);
	rcu_read_unlock();
	get_task_struct(p);
	wo->task = p;
	return true;
}

/*
 * The caller's group's tracees (native: the ->ptraced lists of its
 * threads), one at a time under pt_lock.  *@tracer: the group has any.
 */
static bool pt_wait_consider(struct pt_wait_opts *wo, bool *have, bool *tracer, bool *settling)
{
	struct pt_group *g;
	struct pt_ctx *ctx;
	bool found = false;

	rcu_read_lock();
	g = pt_group_lookup(current->signal);
	*tracer = g && READ_ONCE(g->count);
	if (g) {
		list_for_each_entry_rcu(ctx, &g->tracees, node) {
			spin_lock(&pt_lock);
			if (ctx->linked)
				found = pt_wait_consider_one(ctx, wo, have, settling);
			spin_unlock(&pt_lock);
			if (found)
				break;
		}
	}
	rcu_read_unlock();
	return found;
}

#ifdef CONFIG_IA32_EMULATION
/* compat_sys_waitid()'s copy out: pt_put_waitid()'s fields in a compat_siginfo */
static int pt_put_waitid32(struct compat_siginfo __user *infop, int signo, int cause, pid_t pid,
			   uid_t uid, int status)
{
	if (!user_write_access_begin(infop, sizeof(*infop)))
		return -EFAULT;
	unsafe_put_user(signo, &infop->si_signo, efault);
	unsafe_put_user(0, &infop->si_errno, efault);
	unsafe_put_user(cause, &infop->si_code, efault);
	unsafe_put_user(pid, &infop->si_pid, efault);
	unsafe_put_user(uid, &infop->si_uid, efault);
	unsafe_put_user(status, &infop->si_status, efault);
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}
#endif

/* sys_waitid()'s copy out, at @uinfo, in the caller's layout (pt_ia32()) */
static int pt_put_waitid(unsigned long uinfo, int signo, int cause, pid_t pid, uid_t uid,
			 int status)
{
	struct siginfo __user *infop = (struct siginfo __user *)uinfo;

	if (!infop)
		return 0;
#ifdef CONFIG_IA32_EMULATION
	if (pt_ia32())
		return pt_put_waitid32(compat_ptr(uinfo), signo, cause, pid, uid, status);
#endif
	if (!user_write_access_begin(infop, sizeof(*infop)))
		return -EFAULT;
	unsafe_put_user(signo, &infop->si_signo, efault);
	unsafe_put_user(0, &infop->si_errno, efault);
	unsafe_put_user(cause, &infop->si_code, efault);
	unsafe_put_user(pid, &infop->si_pid, efault);
	unsafe_put_user(uid, &infop->si_uid, efault);
	unsafe_put_user(status, &infop->si_status, efault);
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

/* wait4's or waitid's rusage at @ru (not NULL), in the caller's layout */
static int pt_put_rusage(unsigned long ru, const struct rusage *r)
{
#ifdef CONFIG_IA32_EMULATION
	if (pt_ia32())
		return utrace_kcall(put_compat_rusage)(r, compat_ptr(ru));
#endif
	return copy_to_user((struct rusage __user *)ru, r, sizeof(*r)) ? -EFAULT : 0;
}

/* Copy out what pt_wait_consider() found; returns the syscall's result. */
static long pt_wait_report(struct pt_wait_opts *wo, const struct pt_regs *regs, int kind)
{
	unsigned long ru;
	long ret = wo->pid_nr;

	ru = pt_arg(regs, kind == PT_WAITID ? 4 : 3);
	if (kind == PT_WAITPID)
		ru = 0;
	if (ru) {
		struct rusage r;	/* zeroed here only (CONFIG_INIT_STACK_ALL_ZERO) */

		utrace_kcall(getrusage)(wo->task, RUSAGE_BOTH, &r);
		if (pt_put_rusage(ru, &r))
			ret = -EFAULT;
	}
	if (kind == PT_WAITID) {
		uid_t uid;

		/* Only waitid tells the uid: read here, of the task found. */
		rcu_read_lock();
		uid = from_kuid_munged(current_user_ns(), task_uid(wo->task));
		rcu_read_unlock();
		if (pt_put_waitid(pt_arg(regs, 2), SIGCHLD, wo->cause, wo->pid_nr, uid,
				  wo->status))
			ret = -EFAULT;
		else if (ret > 0)
			ret = 0;
	} else {
		int __user *stat_addr = (int __user *)pt_arg(regs, 1);

		if (stat_addr && put_user(wo->stat, stat_addr))
			ret = -EFAULT;
	}
	return ret;
}

/* kernel/exit.c's, private there */
struct pt_waitid_info {
	pid_t pid;
	uid_t uid;
	int status;
	int cause;
};

/*
 * The kernel's own wait, WNOHANG: > 0 when it found something (and wrote
 * the syscall's results, which *@result is), 0 when not, or an error.
 * wait4 and waitpid go through the original syscall with WNOHANG added;
 * waitid through kernel_waitid(), because sys_waitid() returns 0 both when
 * it found something and when not.
 */
static long pt_poll_native(const struct pt_regs *poll, int kind, long *result)
{
	unsigned long infop = pt_arg(poll, 2), ru = pt_arg(poll, 4);
	struct pt_waitid_info info = {};
	struct rusage r;
	long ret;

	if (kind != PT_WAITID)
		return *result = pt_orig_wait(poll, kind);
	ret = utrace_kcall(kernel_waitid)(pt_arg(poll, 0), pt_arg(poll, 1), &info,
					  pt_arg(poll, 3), ru ? &r : NULL);
	if (ret <= 0)
		return *result = ret;
	*result = 0;
	if (ru && pt_put_rusage(ru, &r))
		*result = -EFAULT;
	else if (pt_put_waitid(infop, SIGCHLD, info.cause, info.pid, info.uid, info.status))
		*result = -EFAULT;
	return ret;
}

struct pt_child {
	struct pid *pid;
	bool hidden;
};

struct pt_children {
	const struct pt_wait_opts *wo;
	struct pt_child *c;
	unsigned int n, size;
};

/*
 * walk_process_tree() visitor, one level: a child of the caller's group
 * (of the caller alone with __WNOTHREAD, as do_wait_thread()) that the
 * wait's selector names.  Under tasklist_lock: atomic, RCU only.
 */
static int pt_child_visit(struct task_struct *c, void *data)
{
	struct pt_children *ch = data;
	const struct pt_wait_opts *wo = ch->wo;

	if ((wo->options & __WNOTHREAD) && c->real_parent != current)
		return 0;
	if (wo->type == PIDTYPE_PID ? task_pid(c) != wo->pid :
	    wo->type != PIDTYPE_MAX && task_pid_type(c, wo->type) != wo->pid)
		return 0;
	if (ch->n < ch->size) {
		ch->c[ch->n].pid = get_pid(task_pid(c));
		ch->c[ch->n].hidden = pt_traced_by_group(c, current->signal);
	}
	ch->n++;
	return 0;	/* not its children */
}

static void pt_children_put(struct pt_children *ch, struct pt_child *stack)
{
	unsigned int i;

	for (i = 0; i < min(ch->n, ch->size); i++)
		put_pid(ch->c[i].pid);
	if (ch->c != stack)
		kfree(ch->c);
}

/*
 * pt_poll_native(), when a child of the caller's group is also its tracee:
 * natively wait_consider_task() then takes the real parent's wait for a
 * ptrace wait, so that child's stops are reported once, as ptrace stops
 * (pt_wait_consider()'s), and its group stop never again through
 * WUNTRACED/WSTOPPED.  The kernel's do_wait() cannot be told to pass over
 * one child: each child the selector names is polled on its own (P_PID),
 * without WSTOPPED for those.  Only such waits pay for the walk.
 */
static long pt_poll_children(const struct pt_regs *poll, int kind, const struct pt_wait_opts *wo,
			     long *result)
{
	struct pt_child stack[16];
	struct pt_children ch = { .wo = wo, .c = stack, .size = ARRAY_SIZE(stack) };
	int opt_arg = kind == PT_WAITID ? 3 : 2;
	long found = 0, res;
	unsigned int i;

	for (;;) {
		ch.n = 0;
		utrace_kcall(walk_process_tree)(current, pt_child_visit, &ch);
		if (ch.n <= ch.size)
			break;
		i = ch.n;
		pt_children_put(&ch, stack);
		ch.n = 0;
		ch.size = i + 16;
		ch.c = kmalloc_array(ch.size, sizeof(*ch.c), GFP_KERNEL);
		if (!ch.c)
			return *result = -ENOMEM;
	}
	*result = -ECHILD;
	for (i = 0; i < ch.n; i++) {
		unsigned long opts = pt_arg(poll, opt_arg);
		struct pt_regs one = *poll;
		pid_t nr = pid_vnr(ch.c[i].pid);

		if (!nr)
			continue;	/* reaped meanwhile */
		if (ch.c[i].hidden) {
			opts &= ~WSTOPPED;	/* WUNTRACED */
			if (!(opts & (WEXITED | WCONTINUED)) && kind == PT_WAITID) {
				*result = 0;	/* eligible, nothing to poll */
				continue;
			}
		}
		if (kind == PT_WAITID) {
			pt_set_arg(&one, 0, P_PID);
			pt_set_arg(&one, 1, nr);
		} else {
			pt_set_arg(&one, 0, nr);
		}
		pt_set_arg(&one, opt_arg, opts);
		found = pt_poll_native(&one, kind, &res);
		if (found > 0) {
			*result = res;
			break;
		}
		found = 0;
		if (res == 0) {
			*result = 0;
		} else if (res != -ECHILD) {
			*result = res;
			break;
		}
	}
	pt_children_put(&ch, stack);
	return found;
}

/*
 * The wait ends with nothing to report (@ret 0: WNOHANG) or with the error
 * @ret: sys_waitid() and compat_sys_waitid() write their siginfo all the
 * same, zeroed (si_signo 0, si_pid 0); wait4 and waitpid write nothing.
 */
static long pt_wait_none(const struct pt_regs *regs, int kind, long ret)
{
	if (kind == PT_WAITID && pt_put_waitid(pt_arg(regs, 2), 0, 0, 0, 0, 0))
		return -EFAULT;
	return ret;
}

struct pt_waiter {
	wait_queue_entry_t entry;
	bool woken;
};

static int pt_wake(wait_queue_entry_t *w, unsigned int mode, int sync, void *key)
{
	WRITE_ONCE(container_of(w, struct pt_waiter, entry)->woken, true);
	return default_wake_function(w, mode, sync, key);
}

/*
 * The wait's selector as the kernel computes it, or false to leave the call
 * to the kernel (invalid arguments: it fails them at once; P_PIDFD).
 */
static bool pt_wait_parse(const struct pt_regs *regs, int kind, struct pt_wait_opts *wo)
{
	int which;
	pid_t upid;

	if (kind == PT_WAITID) {
		which = pt_arg(regs, 0);
		upid = pt_arg(regs, 1);
		wo->options = pt_arg(regs, 3);
		if (wo->options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED |
				    __WNOTHREAD | __WCLONE | __WALL))
			return false;
		if (!(wo->options & (WEXITED | WSTOPPED | WCONTINUED)))
			return false;
		switch (which) {
		case P_ALL:
			wo->type = PIDTYPE_MAX;
			return true;
		case P_PID:
			if (upid <= 0)
				return false;
			wo->type = PIDTYPE_PID;
			wo->pid = find_get_pid(upid);
			wo->nr = upid;
			return true;
		case P_PGID:
			if (upid < 0)
				return false;
			wo->type = PIDTYPE_PGID;
			wo->pid = upid ? find_get_pid(upid) : get_task_pid(current, PIDTYPE_PGID);
			return true;
		default:
			return false;
		}
	}
	upid = pt_arg(regs, 0);
	wo->options = pt_arg(regs, 2);
	if (wo->options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
		return false;
	if (upid == INT_MIN)
		return false;
	wo->options |= WEXITED;
	if (upid == -1) {
		wo->type = PIDTYPE_MAX;
	} else if (upid < 0) {
		wo->type = PIDTYPE_PGID;
		wo->pid = find_get_pid(-upid);
	} else if (upid == 0) {
		wo->type = PIDTYPE_PGID;
		wo->pid = get_task_pid(current, PIDTYPE_PGID);
	} else {
		wo->type = PIDTYPE_PID;
		wo->pid = find_get_pid(upid);
		wo->nr = upid;
	}
	return true;
}

/*
 * The kernel's own wait, as the caller asked but WNOHANG (the group's own
 * children), then for the zombie tracee the selector needs __WALL for:
 * whether it found something, *@ret the call's result or 0 or an error.
 * Apart from pt_wait(): the registers copied for it are made (and zeroed
 * first, CONFIG_INIT_STACK_ALL_ZERO) only when the kernel's wait is polled.
 */
static noinline bool pt_wait_native(const struct pt_regs *regs, int kind,
				    const struct pt_wait_opts *wo, long *ret)
{
	int opt_arg = kind == PT_WAITID ? 3 : 2;
	struct pt_regs poll = *regs;
	bool found;

	pt_set_arg(&poll, opt_arg, pt_arg(regs, opt_arg) | WNOHANG);
	if (wo->own_child && (wo->options & WSTOPPED))
		found = pt_poll_children(&poll, kind, wo, ret) > 0;
	else
		found = pt_poll_native(&poll, kind, ret) > 0;
	if (!found && wo->zombie && (*ret == 0 || *ret == -ECHILD)) {
		/* That zombie tracee, as the tracer sees it: with __WALL. */
		if (kind == PT_WAITID) {
			pt_set_arg(&poll, 0, P_PID);
			pt_set_arg(&poll, 1, wo->zombie);
		} else {
			pt_set_arg(&poll, 0, wo->zombie);
		}
		pt_set_arg(&poll, opt_arg, pt_arg(&poll, opt_arg) | __WALL);
		found = pt_poll_native(&poll, kind, ret) > 0;
	}
	return found;
}

long pt_wait(const struct pt_regs *regs, int kind)
{
	struct pt_wait_opts wo = {};
	struct pt_waiter w = {};
	unsigned int spins = 0, waited = 0;
	long ret;

	if (!pt_wait_parse(regs, kind, &wo))
		return pt_orig_wait(regs, kind);

	init_waitqueue_func_entry(&w.entry, pt_wake);
	w.entry.private = current;
	add_wait_queue(&current->signal->wait_chldexit, &w.entry);

	for (;;) {
		bool have = false, tracer, found, settling = false;

		wo.zombie = 0;
		wo.own_child = false;
		wo.live_target = false;
		WRITE_ONCE(w.woken, false);
		/* Clear before looking: a wakeup after the look sets it again. */
		smp_mb();
		/*
		 * ptrace_stop() notifies once in TASK_TRACED, and the wait
		 * reports a tracee in it, on its CPU or not: the stop found is
		 * one the tracee is in (pt_wait_consider_one()).
		 */
		found = pt_wait_consider(&wo, &have, &tracer, &settling);
		if (found) {
			ret = pt_wait_report(&wo, regs, kind);
			break;
		}
		/*
		 * A stop not reached yet, and nothing else: a moment, usually
		 * (cond_resched() rounds); then it is looked at every jiffy,
		 * for as long as another engine's report may hold it.
		 */
		if (settling && spins < PT_SETTLE_SPINS) {
			spins++;
			cond_resched();
			continue;
		}
		/*
		 * The kernel's own wait, as asked but WNOHANG; not for one pid
		 * that is a live tracee, neither WSTOPPED nor WCONTINUED: it
		 * has nothing for it but its exit, whose zombie wakes us and
		 * is seen here first (a tracer's usual wait, often made before
		 * its tracee reached the stop it waits for).
		 */
		if (wo.live_target && !wo.zombie && !(wo.options & (WSTOPPED | WCONTINUED))) {
			found = false;
			ret = 0;
		} else {
			found = pt_wait_native(regs, kind, &wo, &ret);
		}
		if (found)
			break;
		if (ret != 0 && !(ret == -ECHILD && have)) {
			ret = pt_wait_none(regs, kind, ret);
			break;
		}
		/*
		 * The stop's SIGCHLD is sent before the core stops the tracee
		 * (natively after: ptrace_stop() is in TASK_TRACED first), and
		 * tracers such as gdb answer a SIGCHLD with a WNOHANG wait: it
		 * waits for a stop not reached yet, a bounded while.
		 */
		if ((wo.options & WNOHANG) && settling && waited < PT_SETTLE_JIFFIES &&
		    !signal_pending(current)) {
			waited++;
			schedule_timeout_interruptible(1);
			continue;
		}
		if (wo.options & WNOHANG) {
			ret = pt_wait_none(regs, kind, 0);
			break;
		}
		if (!have && (!tracer || !READ_ONCE(pt_backend))) {
			/*
			 * The group traces nothing (any more), or the backend
			 * is off: the kernel's wait, by restarting the call.
			 */
			set_tsk_thread_flag(current, TIF_NOTIFY_SIGNAL);
			ret = -ERESTARTNOINTR;
			break;
		}
		set_current_state(TASK_INTERRUPTIBLE);
		if (!READ_ONCE(w.woken) && !signal_pending(current))
			schedule_timeout(settling ? 1 : MAX_SCHEDULE_TIMEOUT);
		__set_current_state(TASK_RUNNING);
		if (signal_pending(current)) {
			ret = pt_wait_none(regs, kind, -ERESTARTSYS);
			break;
		}
	}

	remove_wait_queue(&current->signal->wait_chldexit, &w.entry);
	if (wo.task)
		put_task_struct(wo.task);
	if (wo.reap) {
		pt_unlink_put(wo.reap);
		pt_detach_engine(wo.reap);
		utrace_engine_put(wo.reap->engine);
	}
	put_pid(wo.pid);
	return ret;
}
