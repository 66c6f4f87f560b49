/* SPDX-License-Identifier: GPL-2.0 */
/*
 * utrace infrastructure interface for debugging user processes
 *
 * The utrace engine API (upstream version 20091216) for modules: an engine
 * attaches to a user thread, chooses the events it wants (utrace_set_events)
 * and answers each report with a resume action.  Implemented by utrace.ko;
 * every function here is EXPORT_SYMBOL_GPL from it.
 *
 * Rules every caller relies on:
 * - Callbacks run in the context of the traced thread ("the task"), in
 *   process context with no utrace lock held, and may sleep; the exceptions
 *   are report_death (must not sleep) and report_reap (runs in a workqueue,
 *   for a task that is not current), see the differences below.
 * - Only the task itself changes its list of attached engines, or another
 *   thread while the task is stopped; so a reporting loop walks the list
 *   without a lock.  New engines wait on a separate list until the task's
 *   next report.
 * - An engine is reference-counted: utrace_attach_task returns it with a
 *   reference the caller must drop with utrace_engine_put; the attachment
 *   holds another until the engine is detached.  ->release(data) runs when
 *   the last reference goes.
 * - utrace_control(UTRACE_STOP) stops the task only when it reaches a safe
 *   point: on its way back to user mode, or at once when the report being
 *   answered is SYSCALL_ENTRY, EXIT or CLONE, or JCTL for a group stop
 *   (a JCTL stop, see report_jctl).  A stopped task is in TASK_TRACED
 *   ("t (tracing stop)"); SIGKILL always ends a stop.
 * - Stepping: %UTRACE_SINGLESTEP or %UTRACE_BLOCKSTEP holds only while the
 *   engines keep asking for it: a report that no engine answers with a step
 *   (nor a step asked for with utrace_control()) turns it off; an engine that
 *   steps answers its step to every report it does not stop at.  When the
 *   task leaves a stop, the step is the one asked for with utrace_control()
 *   while it was stopped, else the least step of the other engines' answers
 *   to the report that stopped it.  After a stop inside a system call
 *   (SYSCALL_ENTRY, CLONE, SYSCALL_EXIT) the step is turned on or off at once,
 *   not at the resume point, as native ptrace_resume() does.
 * - Step trap at system call exit: a system call made while stepping gives
 *   the arch's single-step trap when it returns (x86: SIGTRAP %TRAP_BRKPT at
 *   the instruction after the call, arch/x86/kernel/step.c; powerpc: the
 *   generic SIGTRAP %SI_USER, only where do_syscall_trace_leave() runs),
 *   reported as a signal.  As in the kernel, this is decided before the
 *   SYSCALL_EXIT report: a step turned on at a syscall-entry or clone stop
 *   traps there, one turned on at the syscall-exit stop begins with the next
 *   instruction, and one turned off at the syscall-exit stop does not trap.
 *
 * Differences from upstream utrace (reasons in docs/DESIGN.md):
 * - report_exec is called in the exec system call, where native ptrace's
 *   PTRACE_EVENT_EXEC stops (the new image is in place, the call has not
 *   returned), with @fmt and @bprm NULL (not passed to the hook point).
 *   %UTRACE_STOP takes effect at once there, before the syscall-exit report.
 * - report_death is called from the sched_process_exit tracepoint, before
 *   exit_notify(), and must not sleep; @group_dead and @signal are as
 *   upstream.  report_reap is called from a workqueue after the task was
 *   released, not from release_task() itself, and may sleep.
 * - Signals: a changed @return_ka (handler, flags, sa_mask) applies to that
 *   one delivery; the thread's sigaction is unchanged but for SA_ONESHOT,
 *   as upstream.  A signal an engine changed (@info->si_signo) with
 *   @return_ka left alone is delivered with the new signal's own sigaction
 *   (and its SA_ONESHOT), and put back in the queue if the thread blocks
 *   it, as native ptrace does.  A signal the kernel drops to protect an
 *   init (SIGSTOP from inside its pid namespace, default-action signals)
 *   is not reported: it is dropped as without utrace (a tracee of the
 *   ptrace backend gets it, as a native tracee does).  Reports are not
 *   made for a thread that is also traced by native ptrace (its
 *   get_signal() is the kernel's), nor while the cgroup freezer or a native
 *   ptrace trap is pending (the kernel's code runs and may deliver that
 *   time's signals; SIGKILL still kills there).
 *   A signal sent by a posix timer (send_sigqueue()) to a traced thread is
 *   still dropped when ignored, or turned into a group kill when fatal, as
 *   without utrace.  print_fatal_signals is not honoured for signals
 *   utrace acts on, nor is the signal_deliver tracepoint fired for them.
 */
#ifndef _LINUX_UTRACE_H
#define _LINUX_UTRACE_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/signal.h>

struct linux_binprm;
struct linux_binfmt;
struct pt_regs;
struct utrace_engine;

/*
 * Event bits passed to utrace_set_events().
 * These appear in &struct task_struct.@utrace_flags
 * and &struct utrace_engine.@flags.
 */
enum utrace_events {
	_UTRACE_EVENT_QUIESCE,	/* Thread is available for examination.  */
	_UTRACE_EVENT_REAP,	/* Zombie reaped, no more tracing possible.  */
	_UTRACE_EVENT_CLONE,	/* Successful clone/fork/vfork just done.  */
	_UTRACE_EVENT_EXEC,	/* Successful execve just completed.  */
	_UTRACE_EVENT_EXIT,	/* Thread exit in progress.  */
	_UTRACE_EVENT_DEATH,	/* Thread has died.  */
	_UTRACE_EVENT_SYSCALL_ENTRY, /* User entered kernel for system call. */
	_UTRACE_EVENT_SYSCALL_EXIT, /* Returning to user after system call.  */
	_UTRACE_EVENT_SIGNAL,	/* Signal delivery will run a user handler.  */
	_UTRACE_EVENT_SIGNAL_IGN, /* No-op signal to be delivered.  */
	_UTRACE_EVENT_SIGNAL_STOP, /* Signal delivery will suspend.  */
	_UTRACE_EVENT_SIGNAL_TERM, /* Signal delivery will terminate.  */
	_UTRACE_EVENT_SIGNAL_CORE, /* Signal delivery will dump core.  */
	_UTRACE_EVENT_JCTL,	/* Job control stop or continue completed.  */
	_UTRACE_NEVENTS
};

#define UTRACE_EVENT(type)	(1UL << _UTRACE_EVENT_##type)

/*
 * All the kinds of signal events.
 * These all use the @report_signal() callback.
 */
#define UTRACE_EVENT_SIGNAL_ALL	(UTRACE_EVENT(SIGNAL) \
				 | UTRACE_EVENT(SIGNAL_IGN) \
				 | UTRACE_EVENT(SIGNAL_STOP) \
				 | UTRACE_EVENT(SIGNAL_TERM) \
				 | UTRACE_EVENT(SIGNAL_CORE))
/*
 * Both kinds of syscall events; these call the @report_syscall_entry()
 * and @report_syscall_exit() callbacks, respectively.
 */
#define UTRACE_EVENT_SYSCALL	\
	(UTRACE_EVENT(SYSCALL_ENTRY) | UTRACE_EVENT(SYSCALL_EXIT))

/* The event bits utrace_set_events() accepts. */
#define UTRACE_EVENT_ALL	((1UL << _UTRACE_NEVENTS) - 1)

/*
 * The event reports triggered synchronously by task death.
 */
#define _UTRACE_DEATH_EVENTS (UTRACE_EVENT(DEATH) | UTRACE_EVENT(QUIESCE))

/**
 * enum utrace_resume_action - engine's choice of action for a traced task
 * @UTRACE_STOP:		Stay quiescent after callbacks.
 * @UTRACE_INTERRUPT:		Make @report_signal() callback soon.
 * @UTRACE_REPORT:		Make some callback soon.
 * @UTRACE_SINGLESTEP:		Resume in user mode for one instruction.
 * @UTRACE_BLOCKSTEP:		Resume in user mode until next branch.
 * @UTRACE_RESUME:		Resume normally in user mode.
 * @UTRACE_DETACH:		Detach my engine (implies %UTRACE_RESUME).
 *
 * The ordering is significant: when engines disagree, the smallest wins.
 * Only %UTRACE_STOP is sticky: it stays in force until the engine asks for
 * something else with utrace_control().
 */
enum utrace_resume_action {
	UTRACE_STOP,
	UTRACE_INTERRUPT,
	UTRACE_REPORT,
	UTRACE_SINGLESTEP,
	UTRACE_BLOCKSTEP,
	UTRACE_RESUME,
	UTRACE_DETACH,
	UTRACE_RESUME_MAX
};

#define UTRACE_RESUME_BITS	(ilog2(UTRACE_RESUME_MAX) + 1)
#define UTRACE_RESUME_MASK	((1 << UTRACE_RESUME_BITS) - 1)

/**
 * utrace_resume_action - &enum utrace_resume_action from callback action
 * @action:		&u32 callback @action argument or return value
 */
static inline enum utrace_resume_action utrace_resume_action(u32 action)
{
	return action & UTRACE_RESUME_MASK;
}

/**
 * enum utrace_signal_action - disposition of signal
 * @UTRACE_SIGNAL_DELIVER:	Deliver according to sigaction.
 * @UTRACE_SIGNAL_IGN:		Ignore the signal.
 * @UTRACE_SIGNAL_TERM:		Terminate the process.
 * @UTRACE_SIGNAL_CORE:		Terminate with core dump.
 * @UTRACE_SIGNAL_STOP:		Deliver as absolute stop.
 * @UTRACE_SIGNAL_TSTP:		Deliver as job control stop.
 * @UTRACE_SIGNAL_REPORT:	Reporting before pending signals.
 * @UTRACE_SIGNAL_HANDLER:	Reporting after signal handler setup.
 *
 * This is encoded in the @action argument and the return value for
 * a @report_signal() callback, together with the resume action.
 */
enum utrace_signal_action {
	UTRACE_SIGNAL_DELIVER	= 0x00,
	UTRACE_SIGNAL_IGN	= 0x10,
	UTRACE_SIGNAL_TERM	= 0x20,
	UTRACE_SIGNAL_CORE	= 0x30,
	UTRACE_SIGNAL_STOP	= 0x40,
	UTRACE_SIGNAL_TSTP	= 0x50,
	UTRACE_SIGNAL_REPORT	= 0x60,
	UTRACE_SIGNAL_HANDLER	= 0x70
};

#define	UTRACE_SIGNAL_MASK	0xf0
#define UTRACE_SIGNAL_HOLD	0x100 /* Flag, push signal back on queue.  */

/**
 * utrace_signal_action - &enum utrace_signal_action from callback action
 * @action:		@report_signal callback @action argument or return value
 */
static inline enum utrace_signal_action utrace_signal_action(u32 action)
{
	return action & UTRACE_SIGNAL_MASK;
}

/**
 * enum utrace_syscall_action - disposition of system call attempt
 * @UTRACE_SYSCALL_RUN:		Run the system call.
 * @UTRACE_SYSCALL_ABORT:	Don't run the system call.
 */
enum utrace_syscall_action {
	UTRACE_SYSCALL_RUN	= 0x00,
	UTRACE_SYSCALL_ABORT	= 0x10
};

#define	UTRACE_SYSCALL_MASK	0xf0
#define	UTRACE_SYSCALL_RESUMED	0x100 /* Flag, report_syscall_entry() repeats */

/*
 * Flag in a report_jctl() answer: with %UTRACE_STOP to %CLD_STOPPED, the
 * engine has told the thread's real parent itself (ptrace, when the tracer
 * is the real parent), so completing the group stop does not tell it again.
 */
#define UTRACE_JCTL_NOTIFIED	0x10

/**
 * utrace_syscall_action - &enum utrace_syscall_action from callback action
 * @action:		@report_syscall_entry callback @action or return value
 */
static inline enum utrace_syscall_action utrace_syscall_action(u32 action)
{
	return action & UTRACE_SYSCALL_MASK;
}

/*
 * Flags for utrace_attach_task().
 */
#define UTRACE_ATTACH_MATCH_OPS		0x0001 /* Match engines on ops.  */
#define UTRACE_ATTACH_MATCH_DATA	0x0002 /* Match engines on data.  */
#define UTRACE_ATTACH_MATCH_MASK	0x000f
#define UTRACE_ATTACH_CREATE		0x0010 /* Attach a new engine.  */
#define UTRACE_ATTACH_EXCLUSIVE		0x0020 /* Refuse if existing match.  */

/**
 * struct utrace_engine - per-engine structure
 * @ops:	&struct utrace_engine_ops pointer passed to utrace_attach_task()
 * @data:	engine-private &void * passed to utrace_attach_task()
 * @flags:	event mask set by utrace_set_events() plus internal flag bits
 *
 * The caller must hold a reference on this engine (from utrace_attach_task
 * or utrace_engine_get) to use it, and drop it with utrace_engine_put().
 *
 * Fields other than @ops, @data and @flags are private to utrace.
 */
struct utrace_engine {
/* private: */
	struct kref kref;
	void (*release)(void *data);
	struct list_head entry;
	u64 id;

/* public: */
	const struct utrace_engine_ops *ops;
	void *data;

	unsigned long flags;

/* private: */
	unsigned int type;		/* @ops->type at attach, for tracepoints */
	unsigned long stop_event;	/* see utrace_trace_report_end() */
	/* utrace_set_syscall_filter(): NULL, or the only calls reported */
	struct utrace_syscall_filter __rcu *syscall_filter;
};

/**
 * utrace_engine_get - acquire a reference on a &struct utrace_engine
 * @engine:	&struct utrace_engine pointer
 *
 * You must hold a reference on @engine, and you get another.
 */
static inline void utrace_engine_get(struct utrace_engine *engine)
{
	kref_get(&engine->kref);
}

void __utrace_engine_release(struct kref *kref);

/**
 * utrace_engine_put - release a reference on a &struct utrace_engine
 * @engine:	&struct utrace_engine pointer
 *
 * You must hold a reference on @engine, and you lose that reference.
 * If it was the last one, @engine becomes an invalid pointer.
 */
static inline void utrace_engine_put(struct utrace_engine *engine)
{
	kref_put(&engine->kref, __utrace_engine_release);
}

/**
 * struct utrace_engine_ops - tracing engine callbacks
 *
 * Each @report_*() callback corresponds to an %UTRACE_EVENT(*) bit.
 * utrace_set_events() calls on @engine choose which callbacks will
 * be made to @engine from @task.
 *
 * Most callbacks take an @action argument, giving the resume action
 * chosen by other tracing engines.  All callbacks take an @engine
 * argument.  The @report_reap callback takes a @task argument that
 * might or might not be @current.  All other @report_* callbacks
 * report an event in the @current task.
 *
 * For some calls, @action also includes bits specific to that event
 * and utrace_resume_action() is used to extract the resume action.
 * This shows what would happen if @engine wasn't there, or will if
 * the callback's return value uses %UTRACE_RESUME.  This always
 * starts as %UTRACE_RESUME when no other tracing is being done on
 * this task.
 *
 * All return values contain &enum utrace_resume_action bits.  For
 * some calls, other bits specific to that kind of event are added to
 * the resume action bits with OR.  These are the same bits used in
 * the @action argument.  The resume action returned by a callback
 * does not override previous engines' choices, it only says what
 * @engine wants done.  What @current actually does is the action
 * that's most constrained among the choices made by all attached
 * engines.
 *
 * @report_quiesce:
 *	Requested by %UTRACE_EVENT(%QUIESCE).
 *	This does not indicate any event, but just that @current is in a
 *	safe place for examination.  The @event argument is the
 *	UTRACE_EVENT() bit of the event this report goes with, or zero
 *	when it is not tied to an event.
 *
 * @report_signal:
 *	Requested by %UTRACE_EVENT(%SIGNAL_*) or %UTRACE_EVENT(%QUIESCE).
 *	The thread dequeued a signal (synchronous ones first) and nothing was
 *	done with it yet.  utrace_signal_action(@action) is the disposition
 *	normal delivery would give it (or the one an earlier engine chose):
 *	%UTRACE_SIGNAL_DELIVER for a handler, _IGN, _TERM, _CORE, _STOP
 *	(SIGSTOP) or _TSTP; the event bit is the matching %SIGNAL_* one.
 *	@info may be changed (another signal), @return_ka is the sigaction
 *	delivery will use (a copy of @orig_ka, the thread's own), and the
 *	return value is a disposition, optionally %UTRACE_SIGNAL_HOLD (put the
 *	signal back in the queue), plus a resume action.  SIGKILL is never
 *	reported.  With _DELIVER and a handler, a stop or step takes effect
 *	after the handler's frame is set up, where engines with QUIESCE get
 *	report_signal again with %UTRACE_SIGNAL_HANDLER (on powerpc the first
 *	instruction is then the vdso's signal trampoline, which calls the
 *	handler).  Also called with %UTRACE_SIGNAL_REPORT (no signal, @info
 *	and @return_ka scratch, @orig_ka NULL) for a report asked for with
 *	%UTRACE_INTERRUPT when the thread is in its signal path.  A
 *	single-step or block-step trap arrives here as SIGTRAP (%TRAP_TRACE,
 *	event SIGNAL_CORE): an engine that steps answers %UTRACE_SIGNAL_IGN.
 *
 * @report_clone:
 *	Requested by %UTRACE_EVENT(%CLONE).
 *	Event reported for parent, before the new task @child might run.
 *	@clone_flags gives the flags used in the clone system call, with the
 *	exit signal asked for in %CSIGNAL (clone3's too).  Derived from
 *	@child instead when the task was not traced yet as its clone began,
 *	and for io_uring's workers (%CLONE_IO | %CLONE_UNTRACED added).
 *
 * @report_jctl:
 *	Requested by %UTRACE_EVENT(%JCTL).
 *	Job control: @type is %CLD_STOPPED when the thread is about to stop
 *	for a group stop, %CLD_CONTINUED when it finds its group continued
 *	(one thread of the group reports that).  @notify is the CLD_* code
 *	the parent is told next if this thread tells it, else 0 (for
 *	%CLD_STOPPED: whether this is the last thread to stop, computed just
 *	before the stop).  For %CLD_STOPPED the stop signal is in the thread's
 *	jobctl (@current->jobctl & %JOBCTL_STOP_SIGMASK), also for the thread
 *	that starts the group stop: it reports before the other threads are
 *	told to stop.
 *	%UTRACE_STOP answered to %CLD_STOPPED makes a *JCTL stop*: the thread
 *	takes part in the group stop (the count, %SIGNAL_STOP_STOPPED, and the
 *	real parent's %CLD_STOPPED when it completes the group stop, as the
 *	kernel's own task_participate_group_stop()) but sleeps in
 *	%TASK_TRACED (`t (tracing stop)`) until no engine wants it stopped,
 *	as a ptraced thread's group stop does.  Add %UTRACE_JCTL_NOTIFIED to
 *	the answer when the engine's own notification stands for the real
 *	parent's (the parent is not told again).  When the JCTL stop ends the
 *	thread goes on in its signal path: it runs while the group stays
 *	stopped, unless its engine made it take part again (jobctl
 *	%JOBCTL_STOP_PENDING, as ptrace's detach does).
 *	SIGCONT ends no utrace stop.  A thread that is in one when SIGCONT
 *	comes reports JCTL %CLD_CONTINUED with @notify 0 when it wakes (when
 *	its engines resume it; %UTRACE_STOP then keeps it stopped), before
 *	its group's continue is reported as above.  %UTRACE_STOP answered to
 *	the group's %CLD_CONTINUED takes effect on the way back to user mode.
 *
 * @report_exec:
 *	Requested by %UTRACE_EVENT(%EXEC).
 *	An execve system call has succeeded and the new program is about to
 *	start running.  See the differences from upstream above.
 *
 * @report_syscall_entry:
 *	Requested by %UTRACE_EVENT(%SYSCALL_ENTRY).
 *	Thread has entered the kernel to request a system call; the call has
 *	not run.  %UTRACE_STOP takes effect at once, and register changes made
 *	while stopped are seen by the call.  Return %UTRACE_SYSCALL_ABORT to
 *	skip it.  An engine that sees %UTRACE_STOP in @action can return
 *	%UTRACE_REPORT to be called again, with %UTRACE_SYSCALL_RESUMED, after
 *	the stopping engine resumes the task.  Engines are called in reverse
 *	attach order.
 *
 * @report_syscall_exit:
 *	Requested by %UTRACE_EVENT(%SYSCALL_EXIT).
 *	Thread is about to leave the kernel after a system call request.
 *
 * @report_exit:
 *	Requested by %UTRACE_EVENT(%EXIT).
 *	Thread is exiting and cannot be prevented from doing so, but its mm
 *	is still alive.  %UTRACE_STOP takes effect at once.
 *
 * @report_death:
 *	Requested by %UTRACE_EVENT(%DEATH).
 *	Thread is really dead now.  It might be reaped by its parent at any
 *	time.  Must not sleep.
 *
 * @report_reap:
 *	Requested by %UTRACE_EVENT(%REAP).
 *	Called when someone reaps the dead task (parent, init, or self).
 *	This means the parent called wait, or else this was a detached thread
 *	or a process whose parent ignores SIGCHLD.  No more callbacks are made
 *	to this engine after it returns; the engine is detached.
 *
 * @release:
 *	If not NULL, this is called after the last utrace_engine_put()
 *	call for a &struct utrace_engine, which could be implicit after
 *	a %UTRACE_DETACH return from another callback.  Its argument is
 *	the engine's @data member.
 *
 * @type:
 *	What kind of engine this is, for the utrace tracepoints and the
 *	metrics built on them: %UTRACE_ENGINE_COUNT, %UTRACE_ENGINE_STOPPER,
 *	%UTRACE_ENGINE_USER of <uapi/utrace.h> for the engines shipped with
 *	utrace.ko; engines of other modules leave it 0
 *	(%UTRACE_ENGINE_MODULE).  Not a callback; read once at attach.
 */
struct utrace_engine_ops {
	u32 (*report_quiesce)(u32 action, struct utrace_engine *engine,
			      unsigned long event);
	u32 (*report_signal)(u32 action, struct utrace_engine *engine,
			     struct pt_regs *regs, kernel_siginfo_t *info,
			     const struct k_sigaction *orig_ka,
			     struct k_sigaction *return_ka);
	u32 (*report_clone)(u32 action, struct utrace_engine *engine,
			    unsigned long clone_flags,
			    struct task_struct *child);
	u32 (*report_jctl)(u32 action, struct utrace_engine *engine,
			   int type, int notify);
	u32 (*report_exec)(u32 action, struct utrace_engine *engine,
			   const struct linux_binfmt *fmt,
			   const struct linux_binprm *bprm,
			   struct pt_regs *regs);
	u32 (*report_syscall_entry)(u32 action, struct utrace_engine *engine,
				    struct pt_regs *regs);
	u32 (*report_syscall_exit)(u32 action, struct utrace_engine *engine,
				   struct pt_regs *regs);
	u32 (*report_exit)(u32 action, struct utrace_engine *engine,
			   long orig_code, long *code);
	u32 (*report_death)(struct utrace_engine *engine,
			    bool group_dead, int signal);
	void (*report_reap)(struct utrace_engine *engine,
			    struct task_struct *task);
	void (*release)(void *data);
	unsigned int type;
};

/**
 * struct utrace_examiner - private state for using utrace_prepare_examine()
 *
 * The members of &struct utrace_examiner are private to the implementation.
 * This data type holds the state from a call to utrace_prepare_examine()
 * to be used by a call to utrace_finish_examine().
 */
struct utrace_examiner {
/* private: */
	unsigned int state;
	unsigned long ncsw;
};

/*
 * These are the exported entry points for tracing engines to use.
 * See kmod/utrace.c for the full descriptions.
 */
struct utrace_engine *utrace_attach_task(struct task_struct *target, int flags,
					 const struct utrace_engine_ops *ops,
					 void *data);
struct utrace_engine *utrace_attach_pid(struct pid *pid, int flags,
					const struct utrace_engine_ops *ops,
					void *data);
int __must_check utrace_control(struct task_struct *target,
				struct utrace_engine *engine,
				enum utrace_resume_action action);
int __must_check utrace_set_events(struct task_struct *target,
				   struct utrace_engine *engine,
				   unsigned long eventmask);
int __must_check utrace_barrier(struct task_struct *target,
				struct utrace_engine *engine);
/*
 * Not in upstream utrace: stop current for @engine at a kernel point the
 * core does not report (an engine's own hook), as a stop-at-once report's
 * %UTRACE_STOP would (kmod/utrace.c).
 */
int utrace_stop_current(struct utrace_engine *engine);
int __must_check utrace_prepare_examine(struct task_struct *target,
					struct utrace_engine *engine,
					struct utrace_examiner *exam);
int __must_check utrace_finish_examine(struct task_struct *target,
				       struct utrace_engine *engine,
				       struct utrace_examiner *exam);

/**
 * utrace_control_pid - control a thread being traced by a tracing engine
 * @pid:		thread to affect
 * @engine:		attached engine to affect
 * @action:		&enum utrace_resume_action for thread to do
 *
 * This is the same as utrace_control(), but takes a &struct pid
 * pointer rather than a &struct task_struct pointer.
 */
static inline __must_check int utrace_control_pid(struct pid *pid, struct utrace_engine *engine,
						  enum utrace_resume_action action)
{
	struct task_struct *task;
	int ret;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task)
		return -ESRCH;
	ret = utrace_control(task, engine, action);
	put_task_struct(task);
	return ret;
}

#endif	/* linux/utrace.h */
