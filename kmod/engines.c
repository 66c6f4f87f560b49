// SPDX-License-Identifier: GPL-2.0
/*
 * Engines shipped with utrace.ko, attached through /dev/utrace:
 *
 *  count	counts every event it is given, never stops the thread by
 *		itself.
 *  stopper	counts, and returns UTRACE_STOP for the events in its stop
 *		mask, so the thread stays stopped until UTRACE_IOC_CONTROL
 *		resumes it (or SIGKILL, or a detach; in a group exit, where
 *		SIGKILL is dropped, also when its file is orphaned:
 *		utrace_engines_exit_orphans()).
 *
 * Both keep a stop asked for with UTRACE_IOC_CONTROL (UTRACE_STOP): their
 * callbacks answer UTRACE_STOP until another action is asked for, since a
 * callback's answer replaces the engine's earlier stop.
 *
 * Ownership (docs/SECURITY.md): an engine belongs to the /dev/utrace file
 * that attached it (its bridge): only that file sees it, and closing the
 * file detaches it.  A persistent engine (UTRACE_ENGINE_PERSISTENT, count
 * and stopper only) belongs to its attacher's euid instead: files opened
 * with that euid, or with CAP_SYS_ADMIN, see and control it, and it stays
 * until detached.  To any other file an engine does not exist: ENOENT, and
 * LIST leaves it out.  The attacher's credentials are kept (@owner) for the
 * exec check, as ptrace keeps ptracer_cred.
 *
 * Each attachment is a struct utrace_mod_engine in an xarray keyed by its id,
 * a 64-bit number never used twice, so a stale id never names a newer engine.
 * The xarray holds one reference, the utrace engine (as its data) another,
 * dropped by the engine's release callback.  Callbacks touch only atomics,
 * so they are safe in every report context, report_death's atomic one too.
 *
 * Lifetimes: a struct utrace_mod_engine holds its task, pid and bridge until
 * it is freed, and its utrace engine from attach until it is detached, when
 * @engine becomes NULL.  utrace_mod_engines_mutex covers the xarray's
 * membership and every use of @engine: each ioctl finds its engine and acts
 * on it under the mutex, and detaching takes it, so no ioctl ever uses an
 * engine a concurrent detach or close let go.  The mutex is never held
 * across a user copy (a faulting page can take forever: userfaultfd) nor
 * across anything that waits for a traced thread; utrace calls made under
 * it do not sleep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/kref.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <asm/syscall.h>

#include "uapi/utrace.h"
#include "utrace_internal.h"

/*
 * A syscall table (UTRACE_IOC_SET_SYSCALLS), read-only once made, shared by
 * the engines inherited from the one it was set on: each holds a
 * reference; the last put frees it after a grace period (callbacks read
 * it under rcu_read_lock()).
 */
struct utrace_syscall_table {
	refcount_t ref;
	struct rcu_head rcu;
	u32 nr;
	u16 ent[];
};

static void syscall_table_put(struct utrace_syscall_table *t)
{
	if (t && refcount_dec_and_test(&t->ref))
		kfree_rcu(t, rcu);
}

/*
 * The core's filter for an engine with table @t: the calls it leaves out
 * then cost no callback (utrace_set_syscall_filter()).  NULL when the table
 * leaves no call out but numbers past its end, which are not system calls
 * of the table's ABI: the callbacks filter those, and every call is spared
 * the filter's test (`utracectl trace` without -e has a table, for the
 * arguments it captures).  ERR_PTR(-ENOMEM) if out of memory.
 */
static struct utrace_syscall_filter *syscall_filter_of(const struct utrace_syscall_table *t)
{
	struct utrace_syscall_filter *f;
	u32 i = 0;

	while (i < t->nr && (t->ent[i] & UTRACE_SYSCALL_REPORT))
		i++;
	if (i == t->nr)
		return NULL;
	f = kzalloc(struct_size(f, bits, BITS_TO_LONGS(t->nr)), GFP_KERNEL);
	if (!f)
		return ERR_PTR(-ENOMEM);
	f->nr = t->nr;
	for (i = 0; i < t->nr; i++)
		if (t->ent[i] & UTRACE_SYSCALL_REPORT)
			__set_bit(i, f->bits);
	return f;
}

struct utrace_mod_engine {
	struct kref kref;
	u64 id;
	u32 type;
	u32 flags;			/* UTRACE_ENGINE_* */
	const struct cred *owner;	/* the attacher's, referenced until freed */
	struct task_struct *task;	/* referenced until freed */
	struct pid *pid;		/* referenced until freed */
	s32 tid;			/* @pid's number where @bridge's opener is */
	/* An observer's: @bridge's ring, which lives as long as @bridge does */
	struct utrace_ring *ring;
	struct utrace_engine *engine;	/* referenced until detached, then NULL */
	unsigned long events;
	unsigned long stop_events;
	atomic64_t counts[UTRACE_NEVENTS];
	atomic64_t stops;
	atomic64_t last_event;
	atomic64_t last_syscall;
	atomic64_t exit_code;
	/* UTRACE_IOC_SET_SYSCALLS's table (referenced), or NULL: changed under the mutex */
	struct utrace_syscall_table __rcu *syscalls;
	/* the file that attached it (referenced); a user engine's reports go there */
	struct utrace_bridge *bridge;
	bool stop_requested;	/* UTRACE_IOC_CONTROL said STOP, not yet resumed */
	bool detached;		/* detached: not in the xarray; no more waits for replies */
	bool dead;
	bool gone;		/* reaped, or the engine detached itself (a reply) */
};

/* Engines by id; membership and ->engine under utrace_mod_engines_mutex. */
static DEFINE_XARRAY(utrace_mod_engines);
static DEFINE_MUTEX(utrace_mod_engines_mutex);
static unsigned long utrace_mod_engines_nr;	/* entries in the xarray (mutex) */
static bool utrace_mod_engines_unloading;	/* no more attaches (mutex) */
static atomic64_t utrace_mod_engine_ids = ATOMIC64_INIT(0);

static void utrace_mod_engine_free(struct kref *kref)
{
	struct utrace_mod_engine *me = container_of(kref, struct utrace_mod_engine, kref);

	syscall_table_put(rcu_dereference_protected(me->syscalls, true));
	if (me->bridge)
		utrace_bridge_put(me->bridge);
	put_pid(me->pid);
	put_task_struct(me->task);
	if (me->owner)
		put_cred(me->owner);
	kfree(me);
}

static void me_release(void *data)
{
	struct utrace_mod_engine *me = data;

	kref_put(&me->kref, utrace_mod_engine_free);
}

/* A count engine's event: counted; a requested stop is kept. */
static __always_inline u32 me_count(struct utrace_mod_engine *me, unsigned int event)
{
	atomic64_inc(&me->counts[event]);
	atomic64_set(&me->last_event, event);
	/* A callback's action replaces the engine's stop: keep a requested one. */
	if (READ_ONCE(me->stop_requested)) {
		atomic64_inc(&me->stops);
		return UTRACE_STOP;
	}
	return UTRACE_RESUME;
}

static __always_inline u32 me_event(struct utrace_engine *engine, unsigned int event)
{
	struct utrace_mod_engine *me = engine->data;

	if (me_count(me, event) == UTRACE_STOP)
		return UTRACE_STOP;
	if (me->type == UTRACE_ENGINE_STOPPER && (READ_ONCE(me->stop_events) & BIT(event))) {
		atomic64_inc(&me->stops);
		return UTRACE_STOP;
	}
	return UTRACE_RESUME;
}

/*
 * An observing user engine (UTRACE_ENGINE_OBSERVE) writes the events not in
 * its stop mask into its file's ring and resumes at once.
 */
static bool me_observed(const struct utrace_mod_engine *me, unsigned int event)
{
	return (me->flags & UTRACE_ENGINE_OBSERVE) && !(READ_ONCE(me->stop_events) & BIT(event));
}

/*
 * Count the event; a stopper or a requested stop answers by itself, a user
 * engine asks its process (or, observing, writes a record) (waiting for the answer when @wait).
 */
static u32 me_report_full(struct utrace_engine *engine, unsigned int event, u32 action,
			  struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
			  u16 capture, kernel_siginfo_t *info, int notify, bool wait)
{
	struct utrace_mod_engine *me = engine->data;
	u32 ret = me_event(engine, event);

	if (me->type != UTRACE_ENGINE_USER || ret == UTRACE_STOP)
		return ret;
	if (me_observed(me, event)) {
		utrace_bridge_observe(me->bridge, me->id, me->tid, event, action, regs, code,
				      clone_flags, retval, info, capture);
		return UTRACE_RESUME;
	}
	ret = utrace_bridge_report(me->bridge, me->id, me->pid, event, action, regs, code,
				   clone_flags, retval, info, notify, wait, &me->detached);
	/* The reply detached the engine: utrace unlinks it as this report ends. */
	if (utrace_resume_action(ret) == UTRACE_DETACH)
		WRITE_ONCE(me->gone, true);
	return ret;
}

static u32 me_report(struct utrace_engine *engine, unsigned int event, u32 action,
		     struct pt_regs *regs, s64 code, u64 clone_flags, bool wait)
{
	return me_report_full(engine, event, action, regs, code, clone_flags, 0, 0, NULL, 0,
			      wait);
}

static u32 me_quiesce(u32 action, struct utrace_engine *engine, unsigned long event)
{
	return me_report(engine, _UTRACE_EVENT_QUIESCE, action, current_pt_regs(), event, 0,
			 true);
}

static u32 me_signal(u32 action, struct utrace_engine *engine, struct pt_regs *regs,
		     kernel_siginfo_t *info, const struct k_sigaction *orig_ka,
		     struct k_sigaction *return_ka)
{
	static const unsigned char events[] = {
		[UTRACE_SIGNAL_DELIVER >> 4] = _UTRACE_EVENT_SIGNAL,
		[UTRACE_SIGNAL_IGN >> 4] = _UTRACE_EVENT_SIGNAL_IGN,
		[UTRACE_SIGNAL_TERM >> 4] = _UTRACE_EVENT_SIGNAL_TERM,
		[UTRACE_SIGNAL_CORE >> 4] = _UTRACE_EVENT_SIGNAL_CORE,
		[UTRACE_SIGNAL_STOP >> 4] = _UTRACE_EVENT_SIGNAL_STOP,
		[UTRACE_SIGNAL_TSTP >> 4] = _UTRACE_EVENT_SIGNAL_STOP,
		[UTRACE_SIGNAL_REPORT >> 4] = _UTRACE_EVENT_QUIESCE,
		[UTRACE_SIGNAL_HANDLER >> 4] = _UTRACE_EVENT_QUIESCE,
	};
	struct utrace_mod_engine *me = engine->data;
	u32 disposition = utrace_signal_action(action);
	int signo = info ? info->si_signo : 0;
	u32 ret;

	/* The disposition so far tells which event this is. */
	ret = me_report_full(engine, events[disposition >> 4], action, regs, 0, 0, 0, 0, info, 0,
			     true);
	/*
	 * Only a user engine's reply chooses a disposition, and only for a
	 * signal (not in a REPORT or HANDLER report); a stop answer carries
	 * none.  Otherwise the disposition so far goes on to the next engine,
	 * unless that stop answer changed the signal: the old signal's
	 * disposition (its default action, say) is not the new one's, which
	 * is delivered with its own action, as native ptrace resuming with
	 * another signal.
	 */
	if (me->type != UTRACE_ENGINE_USER || disposition >= UTRACE_SIGNAL_REPORT ||
	    me_observed(me, events[disposition >> 4]) ||
	    (!(ret & UTRACE_SIGNAL_MASK) && utrace_resume_action(ret) == UTRACE_STOP)) {
		if (me->type == UTRACE_ENGINE_USER && disposition < UTRACE_SIGNAL_REPORT &&
		    info && info->si_signo != signo)
			disposition = UTRACE_SIGNAL_DELIVER;
		ret = (ret & ~UTRACE_SIGNAL_MASK) | disposition;
	}
	return ret;
}

static s64 me_inherit(struct utrace_mod_engine *me, struct task_struct *child);

/*
 * An inheriting engine (UTRACE_ENGINE_INHERIT) gets CLONE reports whatever
 * its @events: it attaches its like to the child first, then reports the
 * clone with the outcome, or, when CLONE is not in @events, reports a
 * failure only.
 */
static u32 me_clone(u32 action, struct utrace_engine *engine, unsigned long clone_flags,
		    struct task_struct *child)
{
	struct utrace_mod_engine *me = engine->data;
	s64 inherited = 0;

	if ((me->flags & UTRACE_ENGINE_INHERIT) && !(clone_flags & CLONE_UNTRACED))
		inherited = me_inherit(me, child);
	if (!(READ_ONCE(me->events) & UTRACE_EVENT(CLONE))) {
		if (inherited < 0)
			utrace_bridge_observe(me->bridge, me->id, me->tid, _UTRACE_EVENT_CLONE,
					      action, current_pt_regs(), task_pid_vnr(child),
					      clone_flags, inherited, NULL, 0);
		return READ_ONCE(me->stop_requested) ? UTRACE_STOP : UTRACE_RESUME;
	}
	return me_report_full(engine, _UTRACE_EVENT_CLONE, action, current_pt_regs(),
			      task_pid_vnr(child), clone_flags, inherited, 0, NULL, 0, true);
}

static u32 me_jctl(u32 action, struct utrace_engine *engine, int type, int notify)
{
	return me_report_full(engine, _UTRACE_EVENT_JCTL, action, current_pt_regs(), type, 0, 0, 0,
			      NULL, notify, true);
}

static u32 me_exec(u32 action, struct utrace_engine *engine, const struct linux_binfmt *fmt,
		   const struct linux_binprm *bprm, struct pt_regs *regs)
{
	return me_report(engine, _UTRACE_EVENT_EXEC, action, regs, 0, 0, true);
}

/*
 * The engine's syscall table entry for the current system call: 0 if the
 * table filters it out, UTRACE_SYSCALL_REPORT without a table.  The first
 * thing a syscall callback does: a filtered call costs a table lookup.
 */
static __always_inline u16 me_syscall_entry_bits(struct utrace_mod_engine *me, struct pt_regs *regs)
{
	struct utrace_syscall_table *t;
	u16 bits = UTRACE_SYSCALL_REPORT;
	long nr;

	if (!rcu_access_pointer(me->syscalls))
		return bits;
	rcu_read_lock();
	t = rcu_dereference(me->syscalls);
	if (t) {
		nr = syscall_get_nr(current, regs);
		/* The table is for the native ABI: compat numbers mean other calls. */
		if (nr < 0 || nr >= t->nr || in_compat_syscall())
			bits = 0;
		else
			bits = t->ent[nr];
		if (!(bits & UTRACE_SYSCALL_REPORT))
			bits = 0;
	}
	rcu_read_unlock();
	return bits;
}

/* A filtered-out call: no report; a requested stop stays (see me_event()). */
static u32 me_syscall_filtered(struct utrace_mod_engine *me)
{
	return READ_ONCE(me->stop_requested) ? UTRACE_STOP : UTRACE_RESUME;
}

/*
 * A user engine's syscall report without captured arguments: an observed
 * one goes straight into the ring, without me_report_full()'s arguments
 * for other events; a waiting one takes that path.
 */
static __always_inline u32 me_syscall_observe(struct utrace_engine *engine, unsigned int event,
					      u32 action, struct pt_regs *regs)
{
	struct utrace_mod_engine *me = engine->data;

	u32 ret;

	if (unlikely(!me_observed(me, event)))
		return me_report_full(engine, event, action, regs, 0, 0, 0, 0, NULL, 0, true);
	/* As me_report_full(): counted, and no record when a stop was asked for. */
	ret = me_event(engine, event);
	if (ret != UTRACE_STOP)
		utrace_ring_write_syscall(me->ring, me->id, me->tid, event, action, regs);
	return ret;
}

static u32 me_syscall_entry(u32 action, struct utrace_engine *engine, struct pt_regs *regs)
{
	struct utrace_mod_engine *me = engine->data;
	u16 bits = me_syscall_entry_bits(me, regs);

	if (!bits)
		return me_syscall_filtered(me);
	atomic64_set(&me->last_syscall, syscall_get_nr(current, regs));
	/* Count and stopper engines: on every call, no user engine's arguments to build. */
	if (me->type != UTRACE_ENGINE_USER)
		return me_event(engine, _UTRACE_EVENT_SYSCALL_ENTRY);
	if (bits == UTRACE_SYSCALL_REPORT)
		return me_syscall_observe(engine, _UTRACE_EVENT_SYSCALL_ENTRY, action, regs);
	return me_report_full(engine, _UTRACE_EVENT_SYSCALL_ENTRY, action, regs, 0, 0, 0,
			      bits & ~UTRACE_SYSCALL_REPORT, NULL, 0, true);
}

static u32 me_syscall_exit(u32 action, struct utrace_engine *engine, struct pt_regs *regs)
{
	struct utrace_mod_engine *me = engine->data;

	if (!me_syscall_entry_bits(me, regs))
		return me_syscall_filtered(me);
	if (me->type != UTRACE_ENGINE_USER)
		return me_event(engine, _UTRACE_EVENT_SYSCALL_EXIT);
	return me_syscall_observe(engine, _UTRACE_EVENT_SYSCALL_EXIT, action, regs);
}

/*
 * A count engine's syscall callbacks (its own ops): without a syscall table
 * it counts in a leaf, at every system call of its task; with one, it goes
 * the common way.  notrace: no mcount site on that path.
 */
static notrace u32 me_count_syscall_entry(u32 action, struct utrace_engine *engine,
					  struct pt_regs *regs)
{
	struct utrace_mod_engine *me = engine->data;

	if (rcu_access_pointer(me->syscalls))
		return me_syscall_entry(action, engine, regs);
	atomic64_set(&me->last_syscall, syscall_get_nr(current, regs));
	return me_count(me, _UTRACE_EVENT_SYSCALL_ENTRY);
}

static notrace u32 me_count_syscall_exit(u32 action, struct utrace_engine *engine,
					 struct pt_regs *regs)
{
	struct utrace_mod_engine *me = engine->data;

	if (rcu_access_pointer(me->syscalls))
		return me_syscall_exit(action, engine, regs);
	return me_count(me, _UTRACE_EVENT_SYSCALL_EXIT);
}

static u32 me_exit(u32 action, struct utrace_engine *engine, long orig_code, long *code)
{
	struct utrace_mod_engine *me = engine->data;

	atomic64_set(&me->exit_code, orig_code);
	return me_report(engine, _UTRACE_EVENT_EXIT, action, current_pt_regs(), orig_code, 0,
			 true);
}

/* Atomic context: a user engine is told, without waiting. */
static u32 me_death(struct utrace_engine *engine, bool group_dead, int signal)
{
	struct utrace_mod_engine *me = engine->data;

	WRITE_ONCE(me->dead, true);
	me_report(engine, _UTRACE_EVENT_DEATH, 0, NULL, signal, 0, false);
	return UTRACE_RESUME;
}

/* A worker, not the task: a user engine is told, without waiting. */
static void me_reap(struct utrace_engine *engine, struct task_struct *task)
{
	struct utrace_mod_engine *me = engine->data;

	me_report(engine, _UTRACE_EVENT_REAP, 0, NULL, 0, 0, false);
	WRITE_ONCE(me->gone, true);
}

#define ME_OPS							\
	.report_quiesce = me_quiesce,				\
	.report_signal = me_signal,				\
	.report_clone = me_clone,				\
	.report_jctl = me_jctl,					\
	.report_exec = me_exec,					\
	.report_exit = me_exit,					\
	.report_death = me_death,				\
	.report_reap = me_reap,					\
	.release = me_release

/* One table per type, so that UTRACE_ATTACH_MATCH_OPS tells them apart. */
static const struct utrace_engine_ops utrace_count_ops = {
	ME_OPS,
	.report_syscall_entry = me_count_syscall_entry,
	.report_syscall_exit = me_count_syscall_exit,
	.type = UTRACE_ENGINE_COUNT,
};

static const struct utrace_engine_ops utrace_stopper_ops = {
	ME_OPS,
	.report_syscall_entry = me_syscall_entry,
	.report_syscall_exit = me_syscall_exit,
	.type = UTRACE_ENGINE_STOPPER,
};

static const struct utrace_engine_ops utrace_user_ops = {
	ME_OPS,
	.report_syscall_entry = me_syscall_entry,
	.report_syscall_exit = me_syscall_exit,
	.type = UTRACE_ENGINE_USER,
};

/*
 * Who may see and control an engine: the file that attached it; and for a
 * persistent engine, any file opened with its owner's euid or with
 * CAP_SYS_ADMIN.  To every other file it does not exist (ENOENT).
 */
static bool me_visible(const struct utrace_mod_engine *me, const struct utrace_bridge *bridge)
{
	if (me->bridge == bridge)
		return true;
	return (me->flags & UTRACE_ENGINE_PERSISTENT) && utrace_bridge_may_use(bridge, me->owner);
}

/* Engine @id, if @bridge may see it, or NULL.  utrace_mod_engines_mutex held. */
static struct utrace_mod_engine *me_find(u64 id, const struct utrace_bridge *bridge)
{
	struct utrace_mod_engine *me;

	lockdep_assert_held(&utrace_mod_engines_mutex);
	if (!id || id > ULONG_MAX)
		return NULL;
	me = xa_load(&utrace_mod_engines, id);
	return me && me_visible(me, bridge) ? me : NULL;
}

static void me_put(struct utrace_mod_engine *me)
{
	kref_put(&me->kref, utrace_mod_engine_free);
}

static struct task_struct *get_task_by_tid(pid_t tid)
{
	struct task_struct *task;

	rcu_read_lock();
	task = pid_task(find_vpid(tid), PIDTYPE_PID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	return task;
}

/*
 * As ptrace_attach(), wait for @task's cred_guard_mutex, interruptibly --
 * but not while its group is in an exec's de_thread() (group_exec_task):
 * that exec holds the mutex until the group's other threads are gone, and
 * engines of the very caller may hold them (stopped at EXIT, waiting for a
 * reply).  Waiting then would deadlock the caller with its own engines
 * (natively a ptracer deadlocks so); EAGAIN lets it answer them and try
 * again.  Returns 0 with the mutex held, -EAGAIN or -ERESTARTNOINTR.
 */
static int me_lock_cred_guard(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;

	while (!mutex_trylock(&sig->cred_guard_mutex)) {
		if (READ_ONCE(sig->group_exec_task))
			return -EAGAIN;
		if (signal_pending(current))
			return -ERESTARTNOINTR;
		schedule_timeout_interruptible(1);
	}
	return 0;
}

/* The utrace events an engine needs for @events: an inheriting one, CLONE too. */
static unsigned long me_utrace_events(const struct utrace_mod_engine *me, unsigned long events)
{
	if (me->flags & UTRACE_ENGINE_INHERIT)
		events |= UTRACE_EVENT(CLONE);
	return events;
}

/* @me, attached as @engine, gets its id.  utrace_mod_engines_mutex held. */
static void me_publish(struct utrace_mod_engine *me, struct utrace_engine *engine)
{
	lockdep_assert_held(&utrace_mod_engines_mutex);
	me->engine = engine;		/* the attach's reference, until detached */
	xa_store(&utrace_mod_engines, me->id, me, GFP_KERNEL);
	WRITE_ONCE(utrace_mod_engines_nr, utrace_mod_engines_nr + 1);
}

/**
 * me_inherit - attach to @child an engine like @me (UTRACE_ENGINE_INHERIT)
 * @me:		the parent's engine, in its CLONE report (current is its task)
 * @child:	the new task, not yet run
 *
 * As ptrace's auto-attach: no access check (the attacher was allowed on
 * the parent, the child has the parent's credentials); the new engine
 * keeps the attacher's credentials (@owner), for the exec check.  It
 * belongs to the same file, writes into the same ring, and shares the
 * syscall table.  Context: the parent's CLONE report, may sleep.
 * Returns the new engine's id, or -errno: ENOMEM, EBADF (the file is
 * being closed), ESHUTDOWN (the module is unloading), ESRCH (@me was
 * detached, or the child is already gone).
 */
static s64 me_inherit(struct utrace_mod_engine *me, struct task_struct *child)
{
	struct utrace_syscall_filter *filter;
	struct utrace_syscall_table *table;
	struct utrace_mod_engine *ce;
	struct utrace_engine *engine;
	unsigned int i;
	s64 ret;

	if (utrace_bridge_closed(me->bridge))
		return -EBADF;
	ce = kzalloc(sizeof(*ce), GFP_KERNEL);
	if (!ce)
		return -ENOMEM;
	kref_init(&ce->kref);			/* the xarray's */
	get_task_struct(child);
	ce->task = child;
	ce->type = me->type;
	ce->flags = me->flags;
	ce->owner = get_cred(me->owner);
	ce->events = READ_ONCE(me->events);
	ce->stop_events = READ_ONCE(me->stop_events);
	ce->pid = get_task_pid(child, PIDTYPE_PID);
	ce->bridge = me->bridge;
	utrace_bridge_get(ce->bridge);
	ce->tid = utrace_bridge_tid(ce->bridge, ce->pid);
	ce->ring = me->ring;
	atomic64_set(&ce->last_event, -1);
	atomic64_set(&ce->last_syscall, -1);
	for (i = 0; i < UTRACE_NEVENTS; i++)
		atomic64_set(&ce->counts[i], 0);
	ce->id = atomic64_inc_return(&utrace_mod_engine_ids);
	ret = xa_reserve(&utrace_mod_engines, ce->id, GFP_KERNEL);
	if (ret)
		goto out_put;

	kref_get(&ce->kref);			/* the utrace engine's data */
	engine = utrace_attach_task(child, UTRACE_ATTACH_CREATE, &utrace_user_ops, ce);
	if (IS_ERR(engine)) {
		ret = PTR_ERR(engine);
		me_put(ce);
		goto out_release;
	}
	ret = utrace_set_events(child, engine, me_utrace_events(ce, ce->events));
	if (ret)
		goto out_detach;

	/*
	 * Published under the mutex, or not at all: a close sets the bridge's
	 * flag before it takes the mutex to detach the file's engines, and
	 * the unload sets ours under it, so an engine published here is one
	 * they detach.
	 */
	mutex_lock(&utrace_mod_engines_mutex);
	if (utrace_mod_engines_unloading)
		ret = -ESHUTDOWN;
	else if (utrace_bridge_closed(ce->bridge))
		ret = -EBADF;
	else if (READ_ONCE(me->detached))
		ret = -ESRCH;
	if (ret) {
		mutex_unlock(&utrace_mod_engines_mutex);
		goto out_detach;
	}
	/* The table as it is now, shared: a change under the mutex comes after. */
	table = rcu_dereference_protected(me->syscalls, lockdep_is_held(&utrace_mod_engines_mutex));
	if (table) {
		refcount_inc(&table->ref);
		/*
		 * The core's filter is the engine's own.  Without memory for
		 * it the callbacks filter alone, as they always do too.
		 */
		filter = syscall_filter_of(table);
		if (!IS_ERR_OR_NULL(filter))
			utrace_set_syscall_filter(child, engine, filter);
	}
	RCU_INIT_POINTER(ce->syscalls, table);
	me_publish(ce, engine);
	mutex_unlock(&utrace_mod_engines_mutex);
	return ce->id;

out_detach:
	if (ret == -EALREADY)
		ret = -ESRCH;
	WARN_ON(utrace_control(child, engine, UTRACE_DETACH) == -EINVAL);
	utrace_engine_put(engine);
out_release:
	xa_release(&utrace_mod_engines, ce->id);
out_put:
	me_put(ce);
	return ret;
}

static long me_attach(struct utrace_bridge *bridge, void __user *arg)
{
	const struct utrace_engine_ops *ops;
	struct utrace_ioc_attach req;
	struct utrace_mod_engine *me;
	struct utrace_engine *engine;
	struct task_struct *task;
	unsigned int i;
	long ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.type == UTRACE_ENGINE_COUNT)
		ops = &utrace_count_ops;
	else if (req.type == UTRACE_ENGINE_STOPPER)
		ops = &utrace_stopper_ops;
	else if (req.type == UTRACE_ENGINE_USER)
		ops = &utrace_user_ops;
	else
		return -EINVAL;
	if ((req.events | req.stop_events) & ~UTRACE_EVENTS_ALL || req.tid <= 0 ||
	    (req.flags & ~(UTRACE_ENGINE_PERSISTENT | UTRACE_ENGINE_OBSERVE |
			   UTRACE_ENGINE_INHERIT)) || req.__reserved)
		return -EINVAL;
	/* Inheriting: an observer (its children's records go into its ring). */
	if ((req.flags & UTRACE_ENGINE_INHERIT) && !(req.flags & UTRACE_ENGINE_OBSERVE))
		return -EINVAL;
	/* A user engine's reports are read from its file: it cannot outlive it. */
	if ((req.flags & UTRACE_ENGINE_PERSISTENT) && req.type == UTRACE_ENGINE_USER)
		return -EINVAL;
	/* Observing: a user engine, and a ring to write to (never taken away). */
	if ((req.flags & UTRACE_ENGINE_OBSERVE) &&
	    (req.type != UTRACE_ENGINE_USER || !utrace_bridge_ring(bridge)))
		return -EINVAL;

	task = get_task_by_tid(req.tid);
	if (!task)
		return -ESRCH;
	/* Not a kernel thread or user worker, not our own thread group. */
	if ((task->flags & (PF_KTHREAD | UTRACE_PF_USER_WORKER)) ||
	    same_thread_group(task, current)) {
		put_task_struct(task);
		return -EPERM;
	}
	me = kzalloc(sizeof(*me), GFP_KERNEL);
	if (!me) {
		put_task_struct(task);
		return -ENOMEM;
	}
	kref_init(&me->kref);			/* the xarray's */
	me->task = task;			/* our reference, until freed */
	me->type = req.type;
	me->flags = req.flags;
	me->owner = get_current_cred();
	me->events = req.events;
	me->stop_events = req.stop_events;
	me->pid = get_task_pid(task, PIDTYPE_PID);
	me->bridge = bridge;
	utrace_bridge_get(bridge);
	me->tid = utrace_bridge_tid(bridge, me->pid);
	if (me->flags & UTRACE_ENGINE_OBSERVE)
		me->ring = utrace_bridge_ring(bridge);	/* checked above */
	atomic64_set(&me->last_event, -1);
	atomic64_set(&me->last_syscall, -1);
	for (i = 0; i < UTRACE_NEVENTS; i++)
		atomic64_set(&me->counts[i], 0);
	me->id = atomic64_inc_return(&utrace_mod_engine_ids);
	/* Room for the entry now: once attached, publishing it cannot fail. */
	ret = xa_reserve(&utrace_mod_engines, me->id, GFP_KERNEL);
	if (ret)
		goto out_put;

	/*
	 * As ptrace_attach(): the access check and the attach happen under the
	 * target's cred_guard_mutex, so an exec cannot change its credentials
	 * in between; an exec after it sees the engine (see
	 * utrace_engines_exec_unsafe()).
	 */
	ret = me_lock_cred_guard(task);
	/*
	 * EAGAIN is for a caller that may trace the task: anyone else is told
	 * EPERM, as at any other time, and learns nothing of an exec.
	 */
	if (ret == -EAGAIN &&
	    !utrace_kcall(ptrace_may_access)(task, PTRACE_MODE_ATTACH_REALCREDS))
		ret = -EPERM;
	if (ret)
		goto out_release;
	ret = -EPERM;
	if (!utrace_kcall(ptrace_may_access)(task, PTRACE_MODE_ATTACH_REALCREDS))
		goto out_unlock;

	kref_get(&me->kref);			/* the utrace engine's data */
	engine = utrace_attach_task(task, UTRACE_ATTACH_CREATE, ops, me);
	if (IS_ERR(engine)) {
		ret = PTR_ERR(engine);
		me_put(me);
		goto out_unlock;
	}
	ret = utrace_set_events(task, engine, me_utrace_events(me, req.events));
	if (ret) {
		/* Dying (EALREADY) or reaped (ESRCH) meanwhile: no such thread. */
		if (ret == -EALREADY)
			ret = -ESRCH;
		WARN_ON(utrace_control(task, engine, UTRACE_DETACH) == -EINVAL);
		utrace_engine_put(engine);
		goto out_unlock;
	}

	mutex_lock(&utrace_mod_engines_mutex);
	me_publish(me, engine);
	mutex_unlock(&utrace_mod_engines_mutex);
	mutex_unlock(&task->signal->cred_guard_mutex);

	req.id = me->id;
	/* The engine is attached either way: the caller can find it by UTRACE_IOC_LIST. */
	if (copy_to_user(arg, &req, sizeof(req)))
		return -EFAULT;
	return 0;

out_unlock:
	mutex_unlock(&task->signal->cred_guard_mutex);
out_release:
	xa_release(&utrace_mod_engines, me->id);
out_put:
	me_put(me);
	return ret;
}

/*
 * Detach @me from its thread and forget it: its id names nothing any more.
 * A thread waiting for its reply stops waiting.  utrace_mod_engines_mutex held.
 */
static void me_detach(struct utrace_mod_engine *me)
{
	int ret;

	lockdep_assert_held(&utrace_mod_engines_mutex);
	/* A report begun from now on sees the flag and does not wait. */
	WRITE_ONCE(me->detached, true);
	ret = utrace_control(me->task, me->engine, UTRACE_DETACH);
	if (me->type == UTRACE_ENGINE_USER)
		utrace_bridge_cancel(me->bridge, me->id);
	if (ret && ret != -ESRCH && ret != -EINPROGRESS && ret != -EALREADY)
		pr_warn_once("detach of engine %llu: %d\n", me->id, ret);
	xa_erase(&utrace_mod_engines, me->id);
	WRITE_ONCE(utrace_mod_engines_nr, utrace_mod_engines_nr - 1);
	utrace_engine_put(me->engine);
	me->engine = NULL;
	me_put(me);		/* the xarray's */
}

static long me_engine_ioctl(struct utrace_bridge *bridge, unsigned int cmd, void __user *arg)
{
	struct utrace_ioc_engine req;
	struct utrace_mod_engine *me;
	long ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	/* The argument first: EINVAL whatever the id names. */
	switch (cmd) {
	case UTRACE_IOC_DETACH:
		if (req.arg)		/* reserved */
			return -EINVAL;
		break;
	case UTRACE_IOC_SET_EVENTS:
	case UTRACE_IOC_SET_STOP_EVENTS:
		if (req.arg & ~UTRACE_EVENTS_ALL)
			return -EINVAL;
		break;
	case UTRACE_IOC_CONTROL:
		if (req.arg > UTRACE_IOC_ACTION_DETACH)
			return -EINVAL;
		break;
	}

	mutex_lock(&utrace_mod_engines_mutex);
	me = me_find(req.id, bridge);
	if (!me) {
		ret = -ENOENT;
		goto out;
	}
	switch (cmd) {
	case UTRACE_IOC_DETACH:
		me_detach(me);
		ret = 0;
		break;
	case UTRACE_IOC_SET_EVENTS:
		ret = utrace_set_events(me->task, me->engine, me_utrace_events(me, req.arg));
		if (!ret || ret == -EINPROGRESS)
			WRITE_ONCE(me->events, req.arg);
		break;
	case UTRACE_IOC_SET_STOP_EVENTS:
		WRITE_ONCE(me->stop_events, req.arg);
		ret = 0;
		break;
	case UTRACE_IOC_CONTROL:
		/* The same detach as UTRACE_IOC_DETACH: the id goes, waits end. */
		if (req.arg == UTRACE_IOC_ACTION_DETACH) {
			me_detach(me);
			ret = 0;
			break;
		}
		WRITE_ONCE(me->stop_requested, req.arg == UTRACE_IOC_ACTION_STOP);
		ret = utrace_control(me->task, me->engine, req.arg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
out:
	mutex_unlock(&utrace_mod_engines_mutex);
	return ret;
}

static long me_info(struct utrace_bridge *bridge, void __user *arg)
{
	struct utrace_ioc_engine_info info;
	struct utrace_mod_engine *me;
	unsigned int i;
	u64 id;

	if (copy_from_user(&id, arg, sizeof(id)))
		return -EFAULT;
	memset(&info, 0, sizeof(info));
	mutex_lock(&utrace_mod_engines_mutex);
	me = me_find(id, bridge);
	if (!me) {
		mutex_unlock(&utrace_mod_engines_mutex);
		return -ENOENT;
	}
	info.id = me->id;
	info.type = me->type;
	info.flags = me->flags;
	info.owner_uid = from_kuid_munged(current_user_ns(), me->owner->euid);
	info.events = READ_ONCE(me->events);
	info.stop_events = READ_ONCE(me->stop_events);
	for (i = 0; i < UTRACE_NEVENTS; i++)
		info.counts[i] = atomic64_read(&me->counts[i]);
	info.stops = atomic64_read(&me->stops);
	info.last_event = atomic64_read(&me->last_event);
	info.last_syscall = atomic64_read(&me->last_syscall);
	info.exit_code = atomic64_read(&me->exit_code);
	if (READ_ONCE(me->gone)) {
		info.state = UTRACE_ENGINE_STATE_GONE;
	} else {
		info.tid = pid_vnr(me->pid);
		if (READ_ONCE(me->dead))
			info.state = UTRACE_ENGINE_STATE_DEAD;
		else if (utrace_task_stopped(me->task))
			info.state = UTRACE_ENGINE_STATE_STOPPED;
		else
			info.state = UTRACE_ENGINE_STATE_ATTACHED;
	}
	mutex_unlock(&utrace_mod_engines_mutex);
	if (copy_to_user(arg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

/*
 * The ids of the engines @bridge may see, gathered under the mutex into a
 * kernel buffer and copied out after it is released.
 */
static long me_list(struct utrace_bridge *bridge, void __user *arg)
{
	struct utrace_ioc_list req;
	struct utrace_mod_engine *me;
	unsigned long id;
	u64 *ids = NULL;
	u32 n = 0, room;
	long ret = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.__pad)			/* reserved */
		return -EINVAL;
	mutex_lock(&utrace_mod_engines_mutex);
	room = min_t(unsigned long, req.count, utrace_mod_engines_nr);
	if (room) {
		ids = kvmalloc_array(room, sizeof(*ids), GFP_KERNEL);
		if (!ids) {
			mutex_unlock(&utrace_mod_engines_mutex);
			return -ENOMEM;
		}
	}
	xa_for_each(&utrace_mod_engines, id, me) {
		if (!me_visible(me, bridge))
			continue;
		if (n < room)
			ids[n] = id;
		n++;
	}
	mutex_unlock(&utrace_mod_engines_mutex);
	if (copy_to_user(u64_to_user_ptr(req.ids), ids, (size_t)min(n, room) * sizeof(*ids)))
		ret = -EFAULT;
	kvfree(ids);
	if (ret)
		return ret;
	req.count = n;
	if (copy_to_user(arg, &req, sizeof(req)))
		return -EFAULT;
	return 0;
}

/*
 * UTRACE_IOC_SET_SYSCALLS: the table is copied and checked before the
 * mutex (no user copy under it), then swapped in; the old one is put
 * after it, freed after a grace period when no engine shares it.
 */
static long me_set_syscalls(struct utrace_bridge *bridge, void __user *arg)
{
	struct utrace_syscall_filter *filter = NULL;
	struct utrace_syscall_table *t = NULL, *old;
	struct utrace_ioc_syscalls req;
	struct utrace_mod_engine *me;
	u32 i;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.nr > UTRACE_SYSCALLS_MAX || req.__reserved || !req.nr != !req.table)
		return -EINVAL;
	if (req.nr) {
		t = kmalloc(struct_size(t, ent, req.nr), GFP_KERNEL);
		if (!t)
			return -ENOMEM;
		refcount_set(&t->ref, 1);
		t->nr = req.nr;
		if (copy_from_user(t->ent, u64_to_user_ptr(req.table),
				   array_size(req.nr, sizeof(t->ent[0])))) {
			kfree(t);
			return -EFAULT;
		}
		for (i = 0; i < t->nr; i++) {
			if (t->ent[i] & ~UTRACE_SYSCALL_VALID) {
				kfree(t);
				return -EINVAL;
			}
		}
		filter = syscall_filter_of(t);
		if (IS_ERR(filter)) {
			kfree(t);
			return PTR_ERR(filter);
		}
	}
	mutex_lock(&utrace_mod_engines_mutex);
	me = me_find(req.id, bridge);
	if (!me) {
		mutex_unlock(&utrace_mod_engines_mutex);
		kfree(filter);
		kfree(t);
		return -ENOENT;
	}
	old = rcu_dereference_protected(me->syscalls, lockdep_is_held(&utrace_mod_engines_mutex));
	rcu_assign_pointer(me->syscalls, t);
	/*
	 * The core's filter after the table, which the callbacks read: a call
	 * in between is filtered by the old or the new one, as if it came
	 * before or after.  Setting it also gives the call the task is in its
	 * exit report if the new table wants it.  A detached engine has none.
	 */
	if (me->engine)
		utrace_set_syscall_filter(me->task, me->engine, filter);
	else
		kfree(filter);
	mutex_unlock(&utrace_mod_engines_mutex);
	syscall_table_put(old);
	return 0;
}

long utrace_engines_ioctl(struct utrace_bridge *bridge, unsigned int cmd, void __user *arg)
{
	switch (cmd) {
	case UTRACE_IOC_ATTACH:
		return me_attach(bridge, arg);
	case UTRACE_IOC_SET_EVENTS:
	case UTRACE_IOC_SET_STOP_EVENTS:
	case UTRACE_IOC_CONTROL:
	case UTRACE_IOC_DETACH:
		return me_engine_ioctl(bridge, cmd, arg);
	case UTRACE_IOC_ENGINE_INFO:
		return me_info(bridge, arg);
	case UTRACE_IOC_LIST:
		return me_list(bridge, arg);
	case UTRACE_IOC_RING:
		return utrace_ring_create(bridge, arg);
	case UTRACE_IOC_SET_SYSCALLS:
		return me_set_syscalls(bridge, arg);
	default:
		return -ENOTTY;
	}
}

/* A /dev/utrace file was closed: the engines it owns go with it. */
void utrace_engines_file_closed(struct utrace_bridge *bridge)
{
	struct utrace_mod_engine *me;
	unsigned long id;

	utrace_bridge_close(bridge);
	mutex_lock(&utrace_mod_engines_mutex);
	xa_for_each(&utrace_mod_engines, id, me)
		if (me->bridge == bridge && !(me->flags & UTRACE_ENGINE_PERSISTENT))
			me_detach(me);
	mutex_unlock(&utrace_mod_engines_mutex);
}

/**
 * utrace_engines_exit_orphans - detach current's engines nobody can resume
 *
 * From utrace_stop(), while current's thread group exits: the kernel drops
 * every further SIGKILL (prepare_signal()), so only a resume, a detach or
 * the close of an engine's file can end the stop.  An engine whose file is
 * referenced only by descriptors of current's own file table
 * (utrace_bridge_orphaned(): the group's threads share it, and they are
 * all exiting) has nobody left to do any of that, and the close would come
 * only with exit_files(), after the stop: the task would wait for itself.
 * Such an engine is detached now, as that close would detach it.  A
 * persistent engine is left alone: files of its owner's euid control it.
 * Returns whether current keeps an engine whose file may become orphaned
 * later (another process's copy closed, a read() of the group's done):
 * the caller looks again.  Context: the task, process, no lock held; may
 * sleep.
 */
bool utrace_engines_exit_orphans(void)
{
	struct utrace_mod_engine *me;
	bool look_again = false;
	unsigned long id;

	if (!utrace_engines_active())
		return false;
	mutex_lock(&utrace_mod_engines_mutex);
	xa_for_each(&utrace_mod_engines, id, me) {
		if (me->task != current || (me->flags & UTRACE_ENGINE_PERSISTENT))
			continue;
		if (utrace_bridge_orphaned(me->bridge))
			me_detach(me);
		else
			look_again = true;
	}
	mutex_unlock(&utrace_mod_engines_mutex);
	return look_again;
}

/* Whether /dev/utrace has engines (for the exec hook's filter). */
bool utrace_engines_active(void)
{
	return READ_ONCE(utrace_mod_engines_nr) != 0;
}

/**
 * utrace_engines_exec_unsafe - an exec must not gain privileges
 * @task:	the task in its exec (current), cred_guard_mutex held
 * @new:	the credentials the exec is computing (bprm->cred)
 *
 * Whether an engine of /dev/utrace is attached to @task whose owner, the
 * credentials that attached it, lacks CAP_SYS_PTRACE in the user namespace
 * of @new: then a set-uid, set-gid or file-capability exec must gain
 * nothing, as natively under a ptracer that ptracer_capable() refuses.
 * The caller marks the exec unsafe.  Attaches are excluded meanwhile: they
 * take @task's cred_guard_mutex.  Context: process, may sleep.
 */
bool utrace_engines_exec_unsafe(struct task_struct *task, const struct cred *new)
{
	struct utrace_mod_engine *me;
	unsigned long id;
	bool unsafe = false;

	if (!utrace_engines_active())
		return false;
	mutex_lock(&utrace_mod_engines_mutex);
	xa_for_each(&utrace_mod_engines, id, me) {
		if (me->task != task || READ_ONCE(me->gone))
			continue;
		if (utrace_kcall(security_capable)(me->owner, new->user_ns, CAP_SYS_PTRACE,
						   CAP_OPT_NOAUDIT)) {
			unsafe = true;
			break;
		}
	}
	mutex_unlock(&utrace_mod_engines_mutex);
	return unsafe;
}

int utrace_engines_init(void)
{
	/* Ids are 64-bit xarray indices, never reused. */
	BUILD_BUG_ON(sizeof(unsigned long) < sizeof(u64));
	return 0;
}

/* Unload: detach every engine /dev/utrace attached. */
void utrace_engines_exit(void)
{
	struct utrace_mod_engine *me;
	unsigned long id;

	mutex_lock(&utrace_mod_engines_mutex);
	utrace_mod_engines_unloading = true;	/* no inheritance from now on */
	xa_for_each(&utrace_mod_engines, id, me)
		me_detach(me);
	mutex_unlock(&utrace_mod_engines_mutex);
	xa_destroy(&utrace_mod_engines);
}
