// SPDX-License-Identifier: GPL-2.0
/*
 * Signals of traced tasks: the SIGNAL* and JCTL events.
 *
 * get_signal() is ftrace-redirected, but only for tasks whose engines want
 * signal or job control events (the hook's filter); every other task runs
 * the kernel's own get_signal() and never enters this module.  For a traced
 * task, utrace_get_signal() below is get_signal() with the engines' reports
 * added where upstream utrace had them:
 *
 *  - each dequeued signal (synchronous ones first, as the kernel does) is
 *    reported with the disposition normal delivery would give it, before
 *    anything is done; the engines may change the signal, the sigaction used
 *    and the disposition, or hold the signal (UTRACE_SIGNAL_HOLD);
 *  - then the chosen disposition is carried out: handler delivery (filling
 *    in @ksig), ignore, a job control stop (do_signal_stop()), or death
 *    (do_coredump(), do_group_exit()), with the kernel's checks (init's
 *    unkillable signals, orphaned process groups);
 *  - JCTL is reported before this thread stops for a group stop and when it
 *    finds the group continued (SIGNAL_CLD_MASK).  An engine's UTRACE_STOP
 *    to a group stop makes a JCTL stop (utrace_jctl_stop_here()): the
 *    thread takes part in the group stop as the kernel would, but sleeps in
 *    TASK_TRACED, as a ptraced thread does in ptrace_stop().
 *
 * The kernel's bookkeeping that needs kernel/signal.c's inlined functions or
 * tasklist_lock (not in kallsyms on powerpc) -- notifying the parent of a
 * continue, native ptrace traps, the cgroup freezer, a group exit -- is left
 * to the kernel's get_signal(), called with every signal but SIGKILL
 * blocked so that it dequeues nothing to report: it does the bookkeeping and
 * returns (or the task dies).
 *
 * Locks: siglock is taken in hard irq (itimers), so nothing here takes
 * utrace->lock (or any lock taken with interrupts on) inside it; what is
 * written under siglock is atomic bits.
 *
 * Sending (__send_signal_locked(), under send_signal_locked() and the
 * parent notifications, redirected while any task is traced): see
 * utrace_mark_sending() for how ignored and fatal signals reach a traced
 * thread's get_signal() instead of being dropped or turned into SIGKILL.
 *
 * SIGKILL is never reported and always kills.  A task also traced by native
 * ptrace, or single-stepping a uprobe, runs the kernel's get_signal() as is.
 *
 * Unloading: a traced task may stop or die inside this code, so the filter
 * takes a module reference (try_module_get(), which fails once unloading
 * has begun: the task then runs the kernel's code).  It is dropped on the
 * way out, or in the do_exit() hook if the task dies here.  "rmmod utrace"
 * fails with EBUSY while a traced task sits in a job control stop.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/signal.h>
#include <linux/task_work.h>
#include <linux/tracepoint.h>
#include <linux/uprobes.h>
#include <linux/freezer.h>

#include "utrace_internal.h"

/* The originals (kcall.h); __send_signal_locked() is static: our prototype. */
typedef int utrace_send_signal_locked_t(int sig, struct kernel_siginfo *info,
					struct task_struct *t, enum pid_type type, bool force);
UTRACE_KCALL_DEFINE(orig_get_signal, get_signal);
UTRACE_KCALL_DEFINE(orig_send_signal_locked, utrace_send_signal_locked_t);
UTRACE_KCALL_DEFINE(orig_dequeue_signal, dequeue_signal);

static bool utrace_signal_filter(void);
UTRACE_DECLARE_REPLACEMENT(utrace_get_signal);

static struct utrace_fhook utrace_hook_signal = {
	.name = "get_signal",
	.replacement = UTRACE_REPLACEMENT(utrace_get_signal),
	.filter = utrace_signal_filter,
	.lazy = true,
	UTRACE_FHOOK_ORIG(orig_get_signal),
};

UTRACE_DECLARE_REPLACEMENT(utrace_send_signal_locked);

static struct utrace_fhook utrace_hook_send = {
	.name = "__send_signal_locked",
	.replacement = UTRACE_REPLACEMENT(utrace_send_signal_locked),
	.filter = utrace_active,
	.lazy = true,
	UTRACE_FHOOK_ORIG(orig_send_signal_locked),
};

static bool utrace_dequeue_filter(void);
UTRACE_DECLARE_REPLACEMENT(utrace_dequeue_signal);

static struct utrace_fhook utrace_hook_dequeue = {
	.name = "dequeue_signal",
	.replacement = UTRACE_REPLACEMENT(utrace_dequeue_signal),
	.filter = utrace_dequeue_filter,
	.lazy = true,
	UTRACE_FHOOK_ORIG(orig_dequeue_signal),
};

/* __send_signal_locked() is static: no declaration to check against. */
UTRACE_CHECK_REPLACEMENT(get_signal, utrace_get_signal);

/* ftrace callback, in the calling task, preemption disabled. */
static bool utrace_signal_filter(void)
{
	struct utrace *utrace;
	bool want;

	rcu_read_lock();
	utrace = utrace_lookup(current);
	want = utrace && utrace_wants_signals(utrace);
	rcu_read_unlock();
	return want && try_module_get(THIS_MODULE);
}

/*
 * Whether the kernel drops @sig sent to @t to protect an init, not because
 * it is ignored (sig_task_ignored()): SIGKILL and SIGSTOP to the global
 * init, and a signal whose default action stops or kills to a (global or
 * container) init, SIGNAL_UNKILLABLE, unless it is SIGKILL or SIGSTOP
 * @force'd (from an ancestor pid namespace, or the kernel's).  Such a
 * signal must not reach get_signal(), which relies on the drop: it stops an
 * init for a SIGSTOP it finds there.  (A default-ignored one, SIGCHLD, is
 * dropped as ignored too: SIGNAL_IGN engines see it as for any task.)
 * siglock held.
 */
static bool utrace_init_drops(struct task_struct *t, int sig, bool force)
{
	if (unlikely(is_global_init(t) && sig_kernel_only(sig)))
		return true;
	return unlikely(t->signal->flags & SIGNAL_UNKILLABLE) &&
	       t->sighand->action[sig - 1].sa.sa_handler == SIG_DFL &&
	       !sig_kernel_ignore(sig) && !(force && sig_kernel_only(sig));
}

/*
 * Sending: the kernel drops an ignored signal at once (sig_ignored()) and
 * turns a fatal one into SIGKILL for the whole group (complete_signal()),
 * so neither would reach get_signal() to be reported.  Both skip a signal
 * in the target's real_blocked (the mask sigtimedwait() saves there).  For
 * the send, under siglock, each traced thread that could take the signal
 * and whose engines want SIGNAL_IGN, SIGNAL_TERM, SIGNAL_CORE or QUIESCE
 * gets @sig added to real_blocked; the old mask is put back right after.
 * Not a signal the kernel drops to protect an init (utrace_init_drops()):
 * engines do not see it, as if they were not there; but a tracee of the
 * ptrace backend gets it, as sig_ignored() queues every signal but SIGKILL
 * for a native tracee (whose tracer then sees it, and passing a SIGSTOP on
 * stops the init: native ptrace does that too).
 */
static bool utrace_mark_sending(struct task_struct *th, int sig, bool force)
{
	struct utrace *utrace = utrace_lookup(th);

	if (!utrace || !(READ_ONCE(utrace->flags) &
			 (UTRACE_EVENT(SIGNAL_IGN) | UTRACE_EVENT(SIGNAL_TERM) |
			  UTRACE_EVENT(SIGNAL_CORE) | UTRACE_EVENT(QUIESCE))))
		return false;
	if (utrace_init_drops(th, sig, force) &&
	    !test_bit(UTRACE_SIG_PTRACED, &utrace->jctl_bits))
		return false;
	utrace->saved_real_blocked = th->real_blocked;
	utrace->real_blocked_saved = true;
	sigaddset(&th->real_blocked, sig);
	return true;
}

static void utrace_unmark_sending(struct task_struct *th)
{
	struct utrace *utrace = utrace_lookup(th);

	if (utrace && utrace->real_blocked_saved) {
		th->real_blocked = utrace->saved_real_blocked;
		utrace->real_blocked_saved = false;
	}
}

/*
 * After prepare_signal() of a SIGCONT (the target group's siglock held, any
 * context): each thread of the group in a utrace stop whose engines want
 * JCTL is marked to report its continue (JCTL CLD_CONTINUED, notify 0) when
 * it wakes (utrace_stop()), and woken now if an engine listens.  A thread
 * that is not in a utrace stop (running, asleep in a call, or in the
 * kernel's group stop, which prepare_signal() ended) is marked and woken
 * into its signal path if an engine asked for that (utrace_jctl_trap()),
 * where it reports before it takes a signal (utrace_signal_loop()): both
 * as ptrace_trap_notify() for each seized thread of native ptrace.
 */
static void utrace_mark_continued(struct task_struct *t)
{
	struct utrace *utrace;
	struct task_struct *th;

	if (t->signal->flags & SIGNAL_GROUP_EXIT)
		return;
	for_each_thread(t, th) {
		utrace = utrace_lookup(th);
		if (!utrace || !(READ_ONCE(utrace->flags) & UTRACE_EVENT(JCTL)))
			continue;
		if (!READ_ONCE(utrace->stopped)) {
			if (test_bit(UTRACE_JCTL_TRAP, &utrace->jctl_bits)) {
				set_bit(UTRACE_JCTL_CONTINUED, &utrace->jctl_bits);
				utrace_kcall(signal_wake_up_state)(th, 0);
			}
			continue;
		}
		set_bit(UTRACE_JCTL_CONTINUED, &utrace->jctl_bits);
		/* Pairs with utrace_jctl_listen(). */
		smp_mb__after_atomic();
		if (test_bit(UTRACE_JCTL_LISTEN, &utrace->jctl_bits))
			utrace_kcall(wake_up_state)(th, __TASK_TRACED);
	}
}

/*
 * An engine of @task wants a SIGCONT to reach it also while it is not in a
 * utrace stop (@on): woken, it reports JCTL CLD_CONTINUED from its signal
 * path before any signal (a seized ptrace tracee: ptrace_trap_notify()).
 * Cleared by @on false, or when no engine wants JCTL.
 */
void utrace_jctl_trap(struct task_struct *task, bool on)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace) {
		if (on)
			set_bit(UTRACE_JCTL_TRAP, &utrace->jctl_bits);
		else
			clear_bit(UTRACE_JCTL_TRAP, &utrace->jctl_bits);
	}
	rcu_read_unlock();
}

/*
 * An engine of @task, stopped, listens (@on) for a SIGCONT: it wakes the
 * task, which reports JCTL CLD_CONTINUED at once (ptrace's PTRACE_LISTEN).
 * One that came since the stop began wakes it now (PTRACE_LISTEN with
 * JOBCTL_TRAP_NOTIFY set).  Cleared by that report, by @on false, or when
 * no engine wants JCTL.
 */
void utrace_jctl_listen(struct task_struct *task, bool on)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace) {
		if (on) {
			set_bit(UTRACE_JCTL_LISTEN, &utrace->jctl_bits);
			/* Pairs with utrace_mark_continued(): one of us wakes it. */
			smp_mb__after_atomic();
			if (test_bit(UTRACE_JCTL_CONTINUED, &utrace->jctl_bits))
				utrace_kcall(wake_up_state)(task, __TASK_TRACED);
		} else {
			clear_bit(UTRACE_JCTL_LISTEN, &utrace->jctl_bits);
		}
	}
	rcu_read_unlock();
}

/*
 * Whether a SIGCONT's JCTL report is pending for @task, stopped
 * (utrace_mark_continued()).  Any context.
 */
bool utrace_jctl_continued(struct task_struct *task)
{
	struct utrace *utrace;
	bool pending;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	pending = utrace && test_bit(UTRACE_JCTL_CONTINUED, &utrace->jctl_bits);
	rcu_read_unlock();
	return pending;
}

/*
 * The ptrace backend links (@on) or unlinks a tracee: see
 * utrace_mark_sending().  Any context.
 */
void utrace_signal_ptraced(struct task_struct *task, bool on)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace) {
		if (on)
			set_bit(UTRACE_SIG_PTRACED, &utrace->jctl_bits);
		else
			clear_bit(UTRACE_SIG_PTRACED, &utrace->jctl_bits);
	}
	rcu_read_unlock();
}

/*
 * __send_signal_locked() (static; every send but posix timers' goes through
 * it, the parent notifications' SIGCHLD too): atomic, the target's siglock
 * held.
 */
int utrace_send_signal_locked(int sig, struct kernel_siginfo *info, struct task_struct *t,
			      enum pid_type type, bool force)
{
	struct task_struct *th;
	bool marked = false;
	int ret;

	if (sig == SIGKILL || !valid_signal(sig) || !sig)
		return utrace_kcall(orig_send_signal_locked)(sig, info, t, type, force);
	rcu_read_lock();
	if (type == PIDTYPE_PID) {
		marked = utrace_mark_sending(t, sig, force);
	} else {
		for_each_thread(t, th)
			marked |= utrace_mark_sending(th, sig, force);
	}
	ret = utrace_kcall(orig_send_signal_locked)(sig, info, t, type, force);
	if (sig == SIGCONT)
		utrace_mark_continued(t);
	if (marked) {
		if (type == PIDTYPE_PID) {
			utrace_unmark_sending(t);
		} else {
			for_each_thread(t, th)
				utrace_unmark_sending(th);
		}
	}
	rcu_read_unlock();
	return ret;
}

/* __lock_task_sighand(), which is not exported.  @t referenced or RCU. */
struct sighand_struct *utrace_lock_sighand(struct task_struct *t, unsigned long *flags)
{
	struct sighand_struct *sighand;

	rcu_read_lock();
	for (;;) {
		sighand = rcu_dereference(t->sighand);
		if (!sighand)
			break;
		spin_lock_irqsave(&sighand->siglock, *flags);
		if (likely(sighand == t->sighand))
			break;
		spin_unlock_irqrestore(&sighand->siglock, *flags);
	}
	rcu_read_unlock();
	return sighand;
}

/* task_cputime(): the raw times, as the kernel's SIGCHLD carries them. */
static void utrace_task_cputime(struct task_struct *tsk, u64 *utime, u64 *stime)
{
#ifdef CONFIG_VIRT_CPU_ACCOUNTING_GEN
	utrace_kcall(task_cputime)(tsk, utime, stime);
#else
	task_cputime(tsk, utime, stime);
#endif
}

/*
 * The SIGCHLD siginfo do_notify_parent() and do_notify_parent_cldstop()
 * build: @sig with CLD_* @why and @status, @tsk's pid and uid as @parent
 * sees them, its CPU times plus @gutime/@gstime (a dead group's).
 */
static void utrace_child_siginfo(kernel_siginfo_t *info, struct task_struct *tsk,
				 struct task_struct *parent, int sig, int why, int status,
				 u64 gutime, u64 gstime)
{
	u64 utime, stime;

	clear_siginfo(info);
	info->si_signo = sig;
	info->si_code = why;
	info->si_status = status;
	rcu_read_lock();
	info->si_pid = task_pid_nr_ns(tsk, task_active_pid_ns(parent));
	info->si_uid = from_kuid_munged(task_cred_xxx(parent, user_ns), task_uid(tsk));
	rcu_read_unlock();
	utrace_task_cputime(tsk, &utime, &stime);
	info->si_utime = div_u64(utime + gutime, NSEC_PER_SEC / USER_HZ);
	info->si_stime = div_u64(stime + gstime, NSEC_PER_SEC / USER_HZ);
}

/* The kernel's signal_generate tracepoint, or NULL (not found at init). */
static struct tracepoint *utrace_tp_generate;

static void utrace_find_generate(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "signal_generate"))
		utrace_tp_generate = tp;
}

/*
 * Whether __send_signal_locked() would drop @sig to @t's group as ignored
 * (prepare_signal()'s sig_ignored(): a default-ignored signal at SIG_DFL,
 * blocked in no way, @t not ptraced) and do nothing else than fire its
 * signal_generate tracepoint, which is off; and no thread of the group has
 * a utrace (whose engines may see ignored signals, utrace_mark_sending()).
 * The SIGCHLD of a stop is then neither built nor sent: a tracer that
 * leaves SIGCHLD alone, as most do.  On powerpc the send is a pass through
 * ftrace's callback (fhook.c), some 1.5 % of a PTRACE_SYSCALL cycle each.
 * @t's siglock held.
 */
static bool utrace_sig_dropped(struct task_struct *t, int sig)
{
	struct tracepoint *tp = utrace_tp_generate;
	struct task_struct *th;
	bool traced = false;

	if (!tp || static_key_enabled(&tp->key) || !sig_kernel_ignore(sig) ||
	    t->sighand->action[sig - 1].sa.sa_handler != SIG_DFL || t->ptrace ||
	    sigismember(&t->blocked, sig) || sigismember(&t->real_blocked, sig))
		return false;
	rcu_read_lock();
	for_each_thread(t, th) {
		if (utrace_lookup(th)) {
			traced = true;
			break;
		}
	}
	rcu_read_unlock();
	return !traced;
}

/*
 * do_notify_parent_cldstop() of @tsk to @parent (the real parent, or a
 * utrace-ptrace tracer), without tasklist_lock, which is not in powerpc's
 * kallsyms: the caller holds a reference on @parent, or rcu_read_lock()
 * around reading ->real_parent (a parent exiting meanwhile may miss the
 * SIGCHLD, as it misses one sent just after it is gone).
 */
void utrace_notify_cldstop(struct task_struct *tsk, struct task_struct *parent, int why,
			   int status)
{
	struct sighand_struct *sighand;
	unsigned long flags;

	sighand = utrace_lock_sighand(parent, &flags);
	if (!sighand)
		return;
	if (sighand->action[SIGCHLD - 1].sa.sa_handler != SIG_IGN &&
	    !(sighand->action[SIGCHLD - 1].sa.sa_flags & SA_NOCLDSTOP) &&
	    !utrace_sig_dropped(parent, SIGCHLD)) {
		/* Zeroed here only (CONFIG_INIT_STACK_ALL_ZERO): most go unsent. */
		kernel_siginfo_t info;

		utrace_child_siginfo(&info, tsk, parent, SIGCHLD, why, status, 0, 0);
		utrace_send_signal_locked(SIGCHLD, &info, parent, PIDTYPE_TGID, false);
	}
	/* __wake_up_parent(): wait4 calls wake even without SIGCHLD. */
	__wake_up_sync_key(&parent->signal->wait_chldexit, TASK_INTERRUPTIBLE, tsk);
	spin_unlock_irqrestore(&sighand->siglock, flags);
}

/*
 * do_notify_parent() of @tsk's death to @parent (referenced), without
 * tasklist_lock: @sig (SIGCHLD to a tracer) carrying @tsk->exit_code, and
 * the wakeup of @parent's waits.  @traced: @parent is a utrace-ptrace
 * tracer, which is sent the signal even if it ignores SIGCHLD (it is
 * dropped then).  Else @parent is the real parent, and @tsk a dead group
 * leader that the caller holds in EXIT_TRACE: it becomes EXIT_ZOMBIE, or
 * EXIT_DEAD if @parent reaps automatically (SIGCHLD ignored or
 * SA_NOCLDWAIT), under @parent's siglock before the wakeup, as
 * wait_task_zombie() sets it under tasklist_lock.  Returns 1 when the
 * caller must release_task() @tsk, 0 when notified, -ESRCH when @parent is
 * past its release (no sighand): nothing was done.  @pid: the pid the
 * siginfo names, for a @tsk already released (which has none); NULL: @tsk's.
 */
int utrace_notify_death(struct task_struct *tsk, struct pid *pid, struct task_struct *parent,
			int sig, bool traced)
{
	struct sighand_struct *sighand;
	struct k_sigaction *ka;
	kernel_siginfo_t info;
	unsigned long flags;
	int code = READ_ONCE(tsk->exit_code);
	int why = CLD_EXITED, autoreap = 0;

	/* A parent in another security domain since the clone: SIGCHLD. */
	if (!traced && sig != SIGCHLD && tsk->parent_exec_id != READ_ONCE(parent->self_exec_id))
		sig = SIGCHLD;
	if (code & 0x80)
		why = CLD_DUMPED;
	else if (code & 0x7f)
		why = CLD_KILLED;
	utrace_child_siginfo(&info, tsk, parent, sig, why,
			     why == CLD_EXITED ? code >> 8 : code & 0x7f,
			     tsk->signal->utime, tsk->signal->stime);
	if (pid) {
		rcu_read_lock();
		info.si_pid = pid_nr_ns(pid, task_active_pid_ns(parent));
		rcu_read_unlock();
	}

	sighand = utrace_lock_sighand(parent, &flags);
	if (!sighand)
		return -ESRCH;
	ka = &sighand->action[SIGCHLD - 1];
	if (!traced && sig == SIGCHLD &&
	    (ka->sa.sa_handler == SIG_IGN || (ka->sa.sa_flags & SA_NOCLDWAIT))) {
		autoreap = 1;
		if (ka->sa.sa_handler == SIG_IGN)
			sig = 0;
	}
	if (!traced)
		WRITE_ONCE(tsk->exit_state, autoreap ? EXIT_DEAD : EXIT_ZOMBIE);
	if (valid_signal(sig) && sig)
		utrace_send_signal_locked(sig, &info, parent, PIDTYPE_TGID, false);
	__wake_up_sync_key(&parent->signal->wait_chldexit, TASK_INTERRUPTIBLE, tsk);
	spin_unlock_irqrestore(&sighand->siglock, flags);
	return autoreap;
}

/* The disposition normal delivery gives @signr, and its event. */
static u32 utrace_default_disposition(int signr, const struct k_sigaction *ka,
				      unsigned long *event)
{
	if (ka->sa.sa_handler == SIG_IGN) {
		*event = UTRACE_EVENT(SIGNAL_IGN);
		return UTRACE_SIGNAL_IGN;
	}
	if (ka->sa.sa_handler != SIG_DFL) {
		*event = UTRACE_EVENT(SIGNAL);
		return UTRACE_SIGNAL_DELIVER;
	}
	if (sig_kernel_coredump(signr)) {
		*event = UTRACE_EVENT(SIGNAL_CORE);
		return UTRACE_SIGNAL_CORE;
	}
	if (sig_kernel_ignore(signr)) {
		*event = UTRACE_EVENT(SIGNAL_IGN);
		return UTRACE_SIGNAL_IGN;
	}
	if (sig_kernel_stop(signr)) {
		*event = UTRACE_EVENT(SIGNAL_STOP);
		return signr == SIGSTOP ? UTRACE_SIGNAL_STOP : UTRACE_SIGNAL_TSTP;
	}
	*event = UTRACE_EVENT(SIGNAL_TERM);
	return UTRACE_SIGNAL_TERM;
}

/* kernel/signal.c's: the signals an instruction's fault raises */
#define UTRACE_SYNCHRONOUS_MASK \
	(sigmask(SIGSEGV) | sigmask(SIGBUS) | sigmask(SIGILL) | \
	 sigmask(SIGTRAP) | sigmask(SIGFPE) | sigmask(SIGSYS))

/*
 * The first synchronous signal (a fault's: positive si_code) in the
 * thread's own queue, as get_signal()'s dequeue_synchronous_signal() picks
 * it.  siglock held.
 */
static int utrace_next_sync_signal(void)
{
	struct sigpending *pending = &current->pending;
	struct sigqueue *q;

	if (!((pending->signal.sig[0] & ~current->blocked.sig[0]) & UTRACE_SYNCHRONOUS_MASK))
		return 0;
	list_for_each_entry(q, &pending->list, list) {
		if (q->info.si_code > SI_USER &&
		    (sigmask(q->info.si_signo) & UTRACE_SYNCHRONOUS_MASK))
			return q->info.si_signo;
	}
	return 0;
}

/**
 * utrace_signal_next - the signal @task dequeues next
 * @task:	a stopped task; its siglock held
 * @sig:	a signal pending in its own queue and not blocked
 *
 * @task's next dequeue takes @sig (after synchronous signals) whatever
 * else is pending: the ptrace backend's resume signal, which native
 * ptrace_signal() delivers at once, before any other pending signal.
 */
void utrace_signal_next(struct task_struct *task, int sig)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace)
		utrace->next_signr = sig;
	rcu_read_unlock();
}

/* Dequeue the next signal as get_signal() would.  siglock held. */
static int utrace_dequeue(struct utrace *utrace, kernel_siginfo_t *info)
{
	enum pid_type type = PIDTYPE_PID;
	int signr = utrace_next_sync_signal();
	int next = utrace->next_signr;

	utrace->next_signr = 0;
	if (!signr && next && sigismember(&current->pending.signal, next) &&
	    !sigismember(&current->blocked, next))
		signr = next;
	if (signr) {
		sigset_t only;

		/* A legacy signal is queued once: this takes that entry. */
		siginitsetinv(&only, sigmask(signr));
		return utrace_dequeue_current(&only, info, &type);
	}
	return utrace_dequeue_current(&current->blocked, info, &type);
}

/* UTRACE_SIGNAL_HOLD: put the signal back in the thread's queue. */
static void utrace_push_back_signal(const kernel_siginfo_t *info)
{
	struct sighand_struct *sighand = current->sighand;
	int signr = info->si_signo;
	struct sigqueue *q;

	if (!valid_signal(signr) || !signr)
		return;
	q = utrace_kcall(sigqueue_alloc)();
	spin_lock_irq(&sighand->siglock);
	if (q && (signr >= SIGRTMIN || !sigismember(&current->pending.signal, signr))) {
		/* An ordinary queue entry, freed by whoever dequeues it. */
		q->flags = 0;
		copy_siginfo(&q->info, info);
		list_add_tail(&q->list, &current->pending.list);
		q = NULL;
	}
	sigaddset(&current->pending.signal, signr);
	recalc_sigpending();
	spin_unlock_irq(&sighand->siglock);
	if (q)
		utrace_kcall(sigqueue_free)(q);
}

/*
 * The kernel's get_signal() for its bookkeeping only: with every signal but
 * SIGKILL blocked it dequeues nothing to report, so it returns false once it
 * has notified the parent, taken part in a group stop, handled a trap or the
 * freezer (or it does not return: a group exit).  It may sleep there (the
 * freezer, a group stop): SIGKILL stays unblocked so that a kill, tgkill or
 * cgroup.kill still wakes and kills the task, as send_signal's
 * complete_signal() and wants_signal() pass over a thread that blocks it.
 * SIGKILL is never reported, so the kernel acting on it is what we would do.
 */
static void utrace_kernel_bookkeeping(struct ksignal *ksig)
{
	struct sighand_struct *sighand = current->sighand;
	sigset_t saved;

	spin_lock_irq(&sighand->siglock);
	saved = current->blocked;
	sigfillset(&current->blocked);
	sigdelset(&current->blocked, SIGKILL);
	set_thread_flag(TIF_SIGPENDING);
	spin_unlock_irq(&sighand->siglock);

	utrace_kcall(orig_get_signal)(ksig);

	spin_lock_irq(&sighand->siglock);
	current->blocked = saved;
	recalc_sigpending();
	spin_unlock_irq(&sighand->siglock);
}

/*
 * An engine changed the signal reported into @signr (valid).  Native ptrace
 * delivers the new signal with its own sigaction, and requeues it if it is
 * blocked (ptrace_signal()).  So: an engine that changed @return_ka (its
 * copy of @reported_ka, the old signal's sigaction) keeps its sigaction;
 * otherwise the new signal's own is used (and its SA_ONESHOT resets it, not
 * the old one's).  A new signal the thread blocks is put back in its queue
 * (UTRACE_SIGNAL_HOLD) and not acted on, unless an engine ignores it: it is
 * reported again when it is unblocked and dequeued.  siglock held.
 */
static void utrace_changed_signal(int signr, struct utrace_report *report,
				  struct k_sigaction *return_ka,
				  const struct k_sigaction *reported_ka)
{
	/* Pointers and a sigset: struct k_sigaction has no padding to compare. */
	if (!memcmp(return_ka, reported_ka, sizeof(*return_ka)))
		*return_ka = current->sighand->action[signr - 1];
	if (sigismember(&current->blocked, signr) &&
	    utrace_signal_action(report->result) != UTRACE_SIGNAL_IGN)
		report->result = UTRACE_SIGNAL_IGN | UTRACE_SIGNAL_HOLD;
}

/* Whether this thread stopping now ends the group stop.  siglock held. */
static int utrace_stop_notify(bool initiating)
{
	struct signal_struct *sig = current->signal;
	struct task_struct *t;

	if (!initiating)
		return (current->jobctl & JOBCTL_STOP_CONSUME) && sig->group_stop_count == 1 ?
			CLD_STOPPED : 0;
	for_each_thread(current, t) {
		if (t != current && !task_is_stopped(t) && !(t->flags & PF_EXITING))
			return 0;
	}
	return CLD_STOPPED;
}

/*
 * Whether a thread of the group is reporting its SIGNAL_CLD_MASK already:
 * one JCTL report per continue, as upstream.  siglock held.
 */
static bool utrace_cld_claimed(void)
{
	struct utrace *utrace;
	struct task_struct *t;
	bool claimed = false;

	rcu_read_lock();
	for_each_thread(current, t) {
		utrace = utrace_lookup(t);
		if (utrace && utrace->cld_claim) {
			claimed = true;
			break;
		}
	}
	rcu_read_unlock();
	return claimed;
}

/* Death by @ksig->info, with a core dump if @core.  siglock held, dropped. */
static bool utrace_signal_fatal(struct ksignal *ksig, int signr, bool core)
{
	spin_unlock_irq(&current->sighand->siglock);
	if (unlikely(cgroup_task_frozen(current)))
		utrace_kcall(cgroup_leave_frozen)(true);
	current->flags |= PF_SIGNALED;
	if (core) {
		utrace_kcall(proc_coredump_connector)(current);
		utrace_kcall(do_coredump)(&ksig->info);
	}
	if (current->flags & UTRACE_PF_USER_WORKER) {
		ksig->sig = signr;
		return true;
	}
	utrace_signal_task_exit();	/* do_group_exit() does not return */
	utrace_kcall(do_group_exit)(ksig->info.si_signo);
	return false;	/* not reached */
}

/*
 * JCTL stops.  do_signal_stop() stops an untraced thread in TASK_STOPPED;
 * a ptraced one instead traps (JOBCTL_TRAP_STOP) and takes part in the
 * group stop in ptrace_stop().  A thread whose engine answers UTRACE_STOP
 * to JCTL CLD_STOPPED does the latter here: do_signal_stop()'s start of the
 * group stop if it starts one, task_participate_group_stop()'s bookkeeping,
 * the real parent's CLD_STOPPED if that completes the group stop, and the
 * stop itself (utrace_jctl_stop(), in TASK_TRACED).
 */

/*
 * do_signal_stop()'s start of a group stop with @signr (this thread stops
 * in a JCTL stop, not in do_signal_stop()).  siglock held.  True if this
 * thread has a group stop to take part in (maybe one another thread began
 * meanwhile), false if none starts (the group is exiting).
 */
static bool utrace_start_group_stop(int signr)
{
	unsigned long gstop = JOBCTL_STOP_PENDING | JOBCTL_STOP_CONSUME;
	struct signal_struct *sig = current->signal;
	struct task_struct *t;

	if (current->jobctl & JOBCTL_STOP_PENDING)
		return true;
	if (!(current->jobctl & JOBCTL_STOP_DEQUEUED) || (sig->flags & SIGNAL_GROUP_EXIT) ||
	    sig->group_exec_task)
		return false;
	/* A second stop while the group is stopped keeps the first's code. */
	if (!(sig->flags & SIGNAL_STOP_STOPPED))
		sig->group_exit_code = signr;
	sig->group_stop_count = 0;
	if (utrace_kcall(task_set_jobctl_pending)(current, signr | gstop))
		sig->group_stop_count++;
	t = current;
	while_each_thread(current, t) {
		unsigned int state = 0;

		if (task_is_stopped(t) || !utrace_kcall(task_set_jobctl_pending)(t, signr | gstop))
			continue;
		sig->group_stop_count++;
		if (unlikely(t->ptrace & PT_SEIZED)) {
			/* ptrace_trap_notify(): a sibling seized by native ptrace */
			utrace_kcall(task_set_jobctl_pending)(t, JOBCTL_TRAP_NOTIFY);
			if (t->jobctl & JOBCTL_LISTENING) {
				t->jobctl &= ~JOBCTL_TRACED;
				state = __TASK_TRACED;
			}
		}
		utrace_kcall(signal_wake_up_state)(t, state);
	}
	return true;
}

/*
 * task_participate_group_stop(), siglock held, JOBCTL_STOP_PENDING set.
 * True if this completes a fresh group stop: the real parent is told.
 */
static bool utrace_participate_group_stop(void)
{
	struct signal_struct *sig = current->signal;
	bool consume = current->jobctl & JOBCTL_STOP_CONSUME;

	utrace_kcall(task_clear_jobctl_pending)(current, JOBCTL_STOP_PENDING);
	if (!consume)
		return false;
	if (!WARN_ON_ONCE(sig->group_stop_count == 0))
		sig->group_stop_count--;
	if (!sig->group_stop_count && !(sig->flags & SIGNAL_STOP_STOPPED)) {
		signal_set_stop_flags(sig, SIGNAL_STOP_STOPPED);
		return true;
	}
	return false;
}

/*
 * An engine answered @jctl (UTRACE_STOP, maybe UTRACE_JCTL_NOTIFIED) to
 * JCTL CLD_STOPPED.  Take part in the group stop unless a SIGCONT ended it
 * meanwhile (the thread stops all the same, as in ptrace_stop()), tell the
 * real parent if that completes it, and stop.  No lock held.
 */
static void utrace_jctl_stop_here(struct utrace *utrace, u32 jctl)
{
	struct task_struct *leader = current->group_leader;
	bool done = false;

	spin_lock_irq(&current->sighand->siglock);
	if (current->jobctl & JOBCTL_STOP_PENDING)
		done = utrace_participate_group_stop();
	spin_unlock_irq(&current->sighand->siglock);
	if (done && !(jctl & UTRACE_JCTL_NOTIFIED)) {
		rcu_read_lock();
		utrace_notify_cldstop(leader, rcu_dereference(leader->real_parent), CLD_STOPPED,
				      current->signal->group_exit_code & 0x7f);
		rcu_read_unlock();
	}
	utrace_jctl_stop(utrace);
}

/*
 * Re-trap (native ptrace's JOBCTL_TRAP_STOP at attach): wake @task, stopped
 * in a group stop (TASK_STOPPED), so that it reports JCTL CLD_STOPPED again
 * (notify 0; it took part in the group stop already) and stops in a JCTL
 * stop if an engine answers UTRACE_STOP, or else goes back to the group
 * stop.  It may sleep in the kernel's own get_signal() (it stopped before
 * any engine wanted signals): there, its next dequeue_signal() finds nothing
 * and sends it back through ours (utrace_dequeue_signal()).  False if @task
 * is not in a group stop.  Context: process; @task referenced.
 */
bool utrace_jctl_retrap(struct task_struct *task)
{
	struct sighand_struct *sighand;
	struct utrace *utrace;
	unsigned long flags;
	bool kicked = false;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	sighand = utrace ? utrace_lock_sighand(task, &flags) : NULL;
	if (sighand) {
		if (task_is_stopped(task)) {
			/* Atomic bits: no utrace->lock inside siglock (hard irq takes siglock). */
			clear_bit(UTRACE_JCTL_RETRAP_KICKED, &utrace->jctl_bits);
			set_bit(UTRACE_JCTL_RETRAP, &utrace->jctl_bits);
			task->jobctl &= ~JOBCTL_STOPPED;
			utrace_kcall(signal_wake_up_state)(task, __TASK_STOPPED);
			kicked = true;
		}
		spin_unlock_irqrestore(&sighand->siglock, flags);
	}
	rcu_read_unlock();
	return kicked;
}

/* Whether a re-trap of @task is still to be made.  @task referenced. */
bool utrace_jctl_retrap_pending(struct task_struct *task)
{
	struct utrace *utrace;
	bool pending;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	pending = utrace && test_bit(UTRACE_JCTL_RETRAP, &utrace->jctl_bits);
	rcu_read_unlock();
	return pending;
}

/* ftrace callback of dequeue_signal(): a re-trap woke us in the kernel's get_signal(). */
static bool utrace_dequeue_filter(void)
{
	struct utrace *utrace;
	bool want;

	rcu_read_lock();
	utrace = utrace_lookup(current);
	want = utrace && test_bit(UTRACE_JCTL_RETRAP, &utrace->jctl_bits) &&
	       !test_bit(UTRACE_JCTL_RETRAP_KICKED, &utrace->jctl_bits) && !utrace->sig_modref;
	rcu_read_unlock();
	return want && try_module_get(THIS_MODULE);
}

/*
 * dequeue_signal() in the kernel's get_signal() of a thread woken for a
 * re-trap (siglock held): nothing, once, and TIF_NOTIFY_SIGNAL, so that
 * get_signal() returns and the thread comes back to it, through ours.
 */
static bool utrace_dequeue_kick(void)
{
	struct utrace *utrace = utrace_lookup(current);

	if (!utrace)
		return false;
	set_bit(UTRACE_JCTL_RETRAP_KICKED, &utrace->jctl_bits);
	set_thread_flag(TIF_NOTIFY_SIGNAL);
	return true;
}

/* The kernel's prototype: 6.11 dropped the task, always current. */
#ifdef UTRACE_HAVE_DEQUEUE_SIGNAL_TASK
int utrace_dequeue_signal(struct task_struct *task, sigset_t *mask, kernel_siginfo_t *info,
			  enum pid_type *type)
{
	int ret = 0;

	if (task != current || !utrace_dequeue_kick())
		ret = utrace_kcall(orig_dequeue_signal)(task, mask, info, type);
	module_put(THIS_MODULE);
	return ret;
}
#else
int utrace_dequeue_signal(sigset_t *mask, kernel_siginfo_t *info, enum pid_type *type)
{
	int ret = 0;

	if (!utrace_dequeue_kick())
		ret = utrace_kcall(orig_dequeue_signal)(mask, info, type);
	module_put(THIS_MODULE);
	return ret;
}
#endif
UTRACE_CHECK_REPLACEMENT(dequeue_signal, utrace_dequeue_signal);

/*
 * get_signal() for a traced task.  Returns true with @ksig filled in when a
 * handler is to run.
 */
static bool utrace_signal_loop(struct utrace *utrace, struct ksignal *ksig)
{
	struct sighand_struct *sighand = current->sighand;
	struct signal_struct *signal = current->signal;
	struct pt_regs *regs = current_pt_regs();
	bool jctl_reported = false;

again:
	/* Our own task work reports here as from the signal path. */
	clear_notify_signal();
	if (unlikely(task_work_pending(current))) {
		utrace->in_signal = true;
		utrace_kcall(task_work_run)();
		utrace->in_signal = false;
	}
	/*
	 * A SIGCONT came while this thread was not in a utrace stop
	 * (utrace_mark_continued()): its continue, before any signal, as a
	 * seized tracee's JOBCTL_TRAP_NOTIFY trap comes first natively.  What
	 * an engine asks for at it (an interrupt) runs from the task work.
	 */
	if (unlikely(test_and_clear_bit(UTRACE_JCTL_CONTINUED, &utrace->jctl_bits))) {
		utrace_report_jctl(utrace, CLD_CONTINUED, 0);
		goto again;
	}
	if (!task_sigpending(current) && !test_bit(UTRACE_JCTL_RETRAP, &utrace->jctl_bits))
		return false;
	try_to_freeze();

relock:
	if (unlikely(current->ptrace)) {
		/* Native ptrace attached meanwhile: its signal stops are the kernel's. */
		return utrace_kcall(orig_get_signal)(ksig);
	}
	spin_lock_irq(&sighand->siglock);
	for (;;) {
		struct k_sigaction return_ka;
		enum utrace_signal_fate fate;
		unsigned long event;
		u32 disposition, jctl;
		int signr;

		INIT_REPORT(report);

		/* Woken from the group stop by a SIGCONT: its continue first. */
		if (unlikely(test_bit(UTRACE_JCTL_CONTINUED, &utrace->jctl_bits))) {
			spin_unlock_irq(&sighand->siglock);
			goto again;
		}
		if (unlikely(signal->flags & SIGNAL_CLD_MASK)) {
			int why = signal->flags & SIGNAL_CLD_CONTINUED ?
				  CLD_CONTINUED : CLD_STOPPED;

			if (utrace_cld_claimed()) {
				/* Another thread reports it; the kernel notifies. */
				spin_unlock_irq(&sighand->siglock);
				utrace_kernel_bookkeeping(ksig);
				goto relock;
			}
			utrace->cld_claim = true;
			spin_unlock_irq(&sighand->siglock);
			utrace_report_jctl(utrace, CLD_CONTINUED, why);
			utrace_kernel_bookkeeping(ksig);
			spin_lock_irq(&sighand->siglock);
			utrace->cld_claim = false;
			spin_unlock_irq(&sighand->siglock);
			goto relock;
		}
		if (unlikely(test_and_clear_bit(UTRACE_JCTL_RETRAP, &utrace->jctl_bits))) {
			/* utrace_jctl_retrap(): report the group stop again. */
			clear_bit(UTRACE_JCTL_RETRAP_KICKED, &utrace->jctl_bits);
			spin_unlock_irq(&sighand->siglock);
			jctl = utrace_report_jctl(utrace, CLD_STOPPED, 0);
			if (utrace_resume_action(jctl) == UTRACE_STOP) {
				utrace_jctl_stop_here(utrace, jctl);
				goto relock;
			}
			/* No JCTL stop: back in the group stop if it is still on. */
			spin_lock_irq(&sighand->siglock);
			if ((signal->flags & SIGNAL_STOP_STOPPED) || signal->group_stop_count) {
				current->jobctl |= JOBCTL_STOP_PENDING;
				jctl_reported = true;
			}
			continue;
		}
		if (unlikely(current->jobctl & JOBCTL_STOP_PENDING)) {
			/* A group stop this thread takes part in. */
			if (!jctl_reported) {
				int notify = utrace_stop_notify(false);

				spin_unlock_irq(&sighand->siglock);
				jctl = utrace_report_jctl(utrace, CLD_STOPPED, notify);
				if (utrace_resume_action(jctl) == UTRACE_STOP) {
					utrace_jctl_stop_here(utrace, jctl);
					goto relock;
				}
				jctl_reported = true;
				goto relock;
			}
			jctl_reported = false;
			/* Not ptraced: it stops, releases siglock, returns true. */
			if (utrace_kcall(do_signal_stop)(0))
				goto relock;
			continue;
		}
		if (unlikely((signal->flags & SIGNAL_GROUP_EXIT) ||
			     signal->group_exec_task || cgroup_task_frozen(current) ||
			     (current->jobctl & (JOBCTL_TRAP_MASK | JOBCTL_TRAP_FREEZE)))) {
			spin_unlock_irq(&sighand->siglock);
			utrace_kernel_bookkeeping(ksig);
			goto relock;
		}

		signr = utrace_dequeue(utrace, &ksig->info);
		if (!signr)
			break;
		return_ka = sighand->action[signr - 1];
		if (signr == SIGKILL) {
			ksig->info.si_signo = SIGKILL;
			return utrace_signal_fatal(ksig, SIGKILL, false);
		}

		report.result = utrace_default_disposition(signr, &return_ka, &event);
		if (utrace->flags & (event | UTRACE_EVENT(QUIESCE))) {
			const struct k_sigaction reported_ka = return_ka;
			const int reported = signr;

			spin_unlock_irq(&sighand->siglock);
			utrace_report_signal(utrace, &report, regs, &ksig->info,
					     &sighand->action[signr - 1], &return_ka, event);
			spin_lock_irq(&sighand->siglock);
			signr = ksig->info.si_signo;
			if (!valid_signal(signr) || !signr) {
				/* A bogus signal number is never acted on. */
				signr = 0;
				report.result = UTRACE_SIGNAL_IGN |
						(report.result & UTRACE_SIGNAL_HOLD);
			} else if (signr != reported) {
				utrace_changed_signal(signr, &report, &return_ka, &reported_ka);
			}
		}

		disposition = utrace_signal_action(report.result);
		if (disposition == UTRACE_SIGNAL_DELIVER) {
			if (return_ka.sa.sa_handler == SIG_IGN) {
				disposition = UTRACE_SIGNAL_IGN;
			} else if (return_ka.sa.sa_handler == SIG_DFL) {
				/* The default action of the signal delivered. */
				disposition = utrace_default_disposition(signr, &return_ka, &event);
			} else {
				/* Run the handler. */
				ksig->ka = return_ka;
				if (return_ka.sa.sa_flags & SA_ONESHOT)
					sighand->action[signr - 1].sa.sa_handler = SIG_DFL;
				spin_unlock_irq(&sighand->siglock);
				utrace_signal_done(utrace, &report, UTRACE_FATE_HANDLER);
				if (report.result & UTRACE_SIGNAL_HOLD)
					utrace_push_back_signal(&ksig->info);
				ksig->sig = signr;
				return true;
			}
		}

		/* The kernel's rules for default actions. */
		if ((disposition == UTRACE_SIGNAL_TERM || disposition == UTRACE_SIGNAL_CORE ||
		     disposition == UTRACE_SIGNAL_STOP || disposition == UTRACE_SIGNAL_TSTP) &&
		    unlikely(signal->flags & SIGNAL_UNKILLABLE) && !sig_kernel_only(signr))
			disposition = UTRACE_SIGNAL_IGN;

		switch (disposition) {
		case UTRACE_SIGNAL_TERM:
		case UTRACE_SIGNAL_CORE:
			/*
			 * Dying: a stop or step asked for does not happen.
			 * utrace_signal_done() takes utrace->lock, which never
			 * nests in siglock (an itimer takes siglock in hard irq).
			 */
			spin_unlock_irq(&sighand->siglock);
			utrace_signal_done(utrace, &report, UTRACE_FATE_FATAL);
			spin_lock_irq(&sighand->siglock);
			return utrace_signal_fatal(ksig, signr,
						   disposition == UTRACE_SIGNAL_CORE);
		case UTRACE_SIGNAL_STOP:
		case UTRACE_SIGNAL_TSTP:
			if (disposition == UTRACE_SIGNAL_TSTP) {
				spin_unlock_irq(&sighand->siglock);
				/* Job control signals do nothing in an orphaned pgrp. */
				if (utrace_kcall(is_current_pgrp_orphaned)()) {
					fate = UTRACE_FATE_IGNORED;
					goto ignored;
				}
				spin_lock_irq(&sighand->siglock);
			}
			if (current->jobctl & JOBCTL_STOP_PENDING) {
				/*
				 * A group stop began while the signal was
				 * reported: take part in it (reported above).
				 * Outside siglock, as above.
				 */
				spin_unlock_irq(&sighand->siglock);
				utrace_signal_done(utrace, &report, UTRACE_FATE_STOPPED);
				if (report.result & UTRACE_SIGNAL_HOLD)
					utrace_push_back_signal(&ksig->info);
				goto relock;
			}
			{
				int notify = utrace_stop_notify(true);

				/* report_jctl finds the stop signal in jobctl. */
				current->jobctl = (current->jobctl & ~JOBCTL_STOP_SIGMASK) | signr;
				spin_unlock_irq(&sighand->siglock);
				jctl = utrace_report_jctl(utrace, CLD_STOPPED, notify);
				utrace_signal_done(utrace, &report, UTRACE_FATE_STOPPED);
				spin_lock_irq(&sighand->siglock);
			}
			/* An engine's STOP disposition stops as a stop signal would. */
			current->jobctl |= JOBCTL_STOP_DEQUEUED;
			if (utrace_resume_action(jctl) == UTRACE_STOP) {
				/* A JCTL stop: begin the group stop, take part, stop. */
				utrace_start_group_stop(signr);
				spin_unlock_irq(&sighand->siglock);
				utrace_jctl_stop_here(utrace, jctl);
				if (report.result & UTRACE_SIGNAL_HOLD)
					utrace_push_back_signal(&ksig->info);
				goto relock;
			}
			if (utrace_kcall(do_signal_stop)(signr)) {
				/* It stopped, released siglock, and we are continued. */
				if (report.result & UTRACE_SIGNAL_HOLD)
					utrace_push_back_signal(&ksig->info);
				goto relock;
			}
			/* It did not stop (a SIGCONT came first). */
			if (report.result & UTRACE_SIGNAL_HOLD) {
				spin_unlock_irq(&sighand->siglock);
				utrace_push_back_signal(&ksig->info);
				goto relock;
			}
			continue;
		default:
			/* IGN, or a REPORT/HANDLER answer that says nothing. */
			spin_unlock_irq(&sighand->siglock);
			fate = UTRACE_FATE_IGNORED;
			goto ignored;
		}
ignored:
		utrace_signal_done(utrace, &report, fate);
		if (report.result & UTRACE_SIGNAL_HOLD)
			utrace_push_back_signal(&ksig->info);
		spin_lock_irq(&sighand->siglock);
	}
	spin_unlock_irq(&sighand->siglock);
	ksig->sig = 0;
	return false;
}

bool utrace_get_signal(struct ksignal *ksig)
{
	struct utrace *utrace = utrace_lookup(current);
	bool ret;

	/* The filter took a module reference for this call. */
	if (!utrace) {
		ret = utrace_kcall(orig_get_signal)(ksig);
		module_put(THIS_MODULE);
		return ret;
	}
	utrace->sig_modref = true;
	if (current->ptrace || (current->utask && current->utask->active_uprobe))
		ret = utrace_kcall(orig_get_signal)(ksig);
	else
		ret = utrace_signal_loop(utrace, ksig);
	utrace->sig_modref = false;
	module_put(THIS_MODULE);
	return ret;
}

/* From the do_exit() hook: a task dying inside utrace_get_signal(). */
void utrace_signal_task_exit(void)
{
	struct utrace *utrace = utrace_lookup(current);

	if (utrace && utrace->sig_modref) {
		utrace->sig_modref = false;
		module_put(THIS_MODULE);
	}
}

/*
 * signal_setup_done(failed, ksig, stepping), entry: a handler frame is set
 * up (unless @failed).  Only the task's own flag is touched.
 */
static void utrace_setup_done_probe(unsigned long failed)
{
	struct utrace *utrace;

	if (failed || !utrace_active())
		return;
	rcu_read_lock();
	utrace = utrace_lookup(current);
	if (utrace)
		utrace_signal_handler_setup(utrace);
	rcu_read_unlock();
}

static struct utrace_fhook utrace_probe_setup_done = {
	.name = "signal_setup_done",
	.probe = utrace_setup_done_probe,
	.lazy = true,
};

int utrace_signal_init(void)
{
	int ret;

	/* Not found: every SIGCHLD of a stop is sent (utrace_sig_dropped()). */
	for_each_kernel_tracepoint(utrace_find_generate, NULL);
	ret = utrace_hook_setup(&utrace_probe_setup_done);
	if (ret)
		return ret;
	ret = utrace_hook_setup(&utrace_hook_signal);
	if (ret)
		goto out_probe;
	ret = utrace_hook_setup(&utrace_hook_send);
	if (ret)
		goto out_signal;
	ret = utrace_hook_setup(&utrace_hook_dequeue);
	if (ret)
		goto out_send;
	return 0;

out_send:
	utrace_fhook_remove(&utrace_hook_send);
out_signal:
	utrace_fhook_remove(&utrace_hook_signal);
out_probe:
	utrace_fhook_remove(&utrace_probe_setup_done);
	return ret;
}

void utrace_signal_exit(void)
{
	utrace_fhook_remove(&utrace_hook_dequeue);
	utrace_fhook_remove(&utrace_hook_send);
	utrace_fhook_remove(&utrace_hook_signal);
	utrace_fhook_remove(&utrace_probe_setup_done);
}
