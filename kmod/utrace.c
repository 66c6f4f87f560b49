// SPDX-License-Identifier: GPL-2.0
/*
 * utrace core: engines, the per-task side table, reports, stops.
 *
 * The rules (after upstream kernel/utrace.c):
 *
 * - Per-task state is a struct utrace in an rhashtable keyed by the task
 *   pointer.  Lookups are RCU; the table holds one reference on the entry and
 *   one on the task.  An entry is removed only when its task is released
 *   (utrace_release_task, called from release_task) or when the module
 *   unloads; so code running in the traced task itself may use its entry
 *   without a reference.
 *
 * - utrace->lock (a spinlock, never held across a callback or a sleep)
 *   protects the engine lists, the event union, the stop and resume state.
 *
 * - Only the task itself modifies utrace->attached, except while the task is
 *   stopped or dead, when it is not looking.  So the reporting loop walks the
 *   list with no lock.  New engines go to utrace->attaching and are spliced
 *   in by the task at the start of its next report; detached engines get the
 *   utrace_detached_ops and are unlinked by the task (or, when it is stopped
 *   or dead, by the detacher).
 *
 * - A stop happens only in the task's own context: at the resume point (the
 *   task work on its way back to user mode) or at once after a report that
 *   may stop immediately (syscall entry, exit, clone).  The task
 *   sleeps in TASK_TRACED; utrace_control() wakes it with wake_up_state(),
 *   and SIGKILL wakes it through signal_wake_up(), which wakes __TASK_TRACED
 *   sleepers for fatal signals.
 *
 * - Module unload: utrace_core_exit() runs after every hook is gone.  It
 *   detaches every engine, which wakes every stopped task, cancels pending
 *   task work, then waits until no task is inside this module's code
 *   (utrace_inflight) before the text goes away.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/rhashtable.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/wait.h>

#include "utrace_internal.h"
#include "utrace_syscall.h"
#include "utrace_trace.h"

static struct rhashtable utrace_table;
static const struct rhashtable_params utrace_table_params = {
	.key_len = sizeof(struct task_struct *),
	.key_offset = offsetof(struct utrace, task),
	.head_offset = offsetof(struct utrace, node),
	.automatic_shrinking = true,
};

static struct kmem_cache *utrace_cachep;
static struct kmem_cache *utrace_engine_cachep;
static atomic64_t utrace_engine_ids;
static struct workqueue_struct *utrace_wq;

/* Tasks in the table; hooks that see every task return at once when zero. */
atomic_t utrace_tasks = ATOMIC_INIT(0);

/*
 * Tasks inside this module's code (see utrace_inflight_get()), plus one
 * for the module itself until utrace_core_exit(): only then can it reach 0.
 */
atomic_t utrace_inflight = ATOMIC_INIT(1);
DECLARE_WAIT_QUEUE_HEAD(utrace_inflight_wq);

/* utrace_barrier and utrace_prepare_examine wait here for a report to end. */
static bool utrace_exiting;

/*
 * Unloading: tasks that must still turn their stepping off (utrace->step_off,
 * utrace_core_quiesce()).  Their waiter sleeps on utrace_inflight_wq.
 */
static atomic_t utrace_step_offs = ATOMIC_INIT(0);

/*
 * A replacement about to call a kernel function in which the task may die
 * (seccomp's do_exit()): the utrace_inflight reference it holds would never
 * be dropped, and unload would wait for it forever.  The task counts such
 * frames; its do_exit() hook drops their references (utrace_frames_drop()),
 * or, if it dies once the hooks are gone, utrace_core_exit() does.  Written
 * by the task only.  @utrace may be NULL: the task is not traced.
 */
void utrace_frame_get(struct utrace *utrace)
{
	if (utrace) {
		utrace_inflight_get();
		utrace->frames++;
	}
}

void utrace_frame_put(struct utrace *utrace)
{
	if (utrace) {
		utrace->frames--;
		utrace_inflight_put();
	}
}

/* From the do_exit() hook, or unload for a task dead without it. */
void utrace_frames_drop(struct utrace *utrace)
{
	while (utrace->frames) {
		utrace->frames--;
		utrace_inflight_put();
	}
}

bool utrace_active(void)
{
	return atomic_read(&utrace_tasks) != 0;
}

/*
 * What an empty lookup slot holds, so that the hit test needs no NULL test:
 * an entry that is no task's (its task pointer is its own address, which no
 * task_struct has, not NULL).
 */
struct utrace utrace_slot_empty = { .task = (struct task_struct *)&utrace_slot_empty };

/*
 * The utrace each CPU looked up last: a task making system calls finds its
 * own entry here, and a tracer the entry of the tracee it works on, without
 * a hash walk.  An entry leaves every CPU's slot (utrace_uncache()) after it
 * leaves the table and before it is freed, an RCU grace period later; so a
 * slot read with preemption off holds utrace_slot_empty or an entry not yet
 * freed, used only if it is @task's.  A slot is filled with the full
 * barrier of a Dekker pair: either the filler sees the entry is going and
 * empties its slot again, or utrace_uncache() sees the slot filled and
 * empties it.
 */
DEFINE_PER_CPU(struct utrace *, utrace_slot);	/* set by utrace_core_init() */

/*
 * A counting filter of the table's tasks: a lookup of a task whose counter
 * is 0 finds no entry without a bucket walk (the SIGCHLD of a stop, sent
 * to a tracer that has no entry; a hook's filter on an untraced task while
 * others are traced).  A task's counter is raised before its entry goes
 * into the table and lowered after it left: a lookup ordered after the
 * insertion sees the counter raised, and one that races it finds nothing
 * either way.  Tasks that share a counter only cost each other the walk.
 */
#define UTRACE_FILTER_BITS	10
static atomic_t utrace_filter[1 << UTRACE_FILTER_BITS];

static inline atomic_t *utrace_filter_of(struct task_struct *task)
{
	return &utrace_filter[hash_ptr(task, UTRACE_FILTER_BITS)];
}

/*
 * utrace_lookup() (utrace_internal.h) when this CPU's slot holds another
 * task's entry: the table walk, always under RCU (a resize frees the old
 * bucket table after a grace period), and the slot filled.
 */
struct utrace *utrace_lookup_slow(struct task_struct *task)
{
	struct utrace *utrace;

	if (!atomic_read(utrace_filter_of(task)))
		return NULL;
	preempt_disable();
	rcu_read_lock();
	utrace = rhashtable_lookup(&utrace_table, &task, utrace_table_params);
	rcu_read_unlock();
	if (utrace) {
		__this_cpu_write(utrace_slot, utrace);
		smp_mb();	/* the slot before ->uncached */
		if (READ_ONCE(utrace->uncached))
			this_cpu_cmpxchg(utrace_slot, utrace, &utrace_slot_empty);
	}
	preempt_enable();
	return utrace;
}

/* @utrace has left the table: empty every slot that holds it. */
static void utrace_uncache(struct utrace *utrace)
{
	int cpu;

	WRITE_ONCE(utrace->uncached, true);
	smp_mb();	/* ->uncached before the slots */
	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&utrace_slot, cpu), utrace, &utrace_slot_empty);
}

/*
 * Take @utrace out of the table and every lookup slot, marking it reaped
 * first (under its lock).  True if this call removed it: the caller then
 * owes the table's reference.  False if it was reaped or removed already.
 */
static bool utrace_table_remove(struct utrace *utrace)
{
	spin_lock(&utrace->lock);
	if (utrace->reap) {
		spin_unlock(&utrace->lock);
		return false;
	}
	utrace->reap = 1;
	spin_unlock(&utrace->lock);
	if (rhashtable_remove_fast(&utrace_table, &utrace->node, utrace_table_params))
		return false;
	utrace_uncache(utrace);
	atomic_dec(utrace_filter_of(utrace->task));
	if (atomic_dec_and_test(&utrace_tasks))
		utrace_lazy_hooks_idle();
	return true;
}

static void utrace_free_rcu(struct rcu_head *rcu)
{
	struct utrace *utrace = container_of(rcu, struct utrace, rcu);

	put_task_struct(utrace->task);
	kmem_cache_free(utrace_cachep, utrace);
}

static void utrace_put(struct utrace *utrace)
{
	if (refcount_dec_and_test(&utrace->ref))
		call_rcu(&utrace->rcu, utrace_free_rcu);
}

/* A referenced utrace of @task, or NULL. */
static struct utrace *utrace_get(struct task_struct *task)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace && !refcount_inc_not_zero(&utrace->ref))
		utrace = NULL;
	rcu_read_unlock();
	return utrace;
}

static void utrace_reap_work(struct work_struct *work);
static void utrace_task_work(struct callback_head *cb);

/* The referenced utrace of @task, created if need be. */
static struct utrace *utrace_get_or_create(struct task_struct *task)
{
	struct utrace *utrace, *old;

	utrace = utrace_get(task);
	if (utrace)
		return utrace;

	utrace = kmem_cache_zalloc(utrace_cachep, GFP_KERNEL);
	if (!utrace)
		return ERR_PTR(-ENOMEM);
	utrace->task = task;
	refcount_set(&utrace->ref, 2);	/* the table's and ours */
	spin_lock_init(&utrace->lock);
	INIT_LIST_HEAD(&utrace->attached);
	INIT_LIST_HEAD(&utrace->attaching);
	utrace->resume = UTRACE_RESUME;
	init_task_work(&utrace->work, utrace_task_work);
	INIT_WORK(&utrace->reap_work, utrace_reap_work);
	get_task_struct(task);

	atomic_inc(&utrace_tasks);
	atomic_inc(utrace_filter_of(task));
	rcu_read_lock();
	old = rhashtable_lookup_get_insert_fast(&utrace_table, &utrace->node,
						utrace_table_params);
	if (old) {
		/* Lost a race with another attacher, or out of memory. */
		if (!IS_ERR(old) && !refcount_inc_not_zero(&old->ref))
			old = ERR_PTR(-EAGAIN);
		rcu_read_unlock();
		atomic_dec(utrace_filter_of(task));
		if (atomic_dec_and_test(&utrace_tasks))
			utrace_lazy_hooks_idle();
		put_task_struct(task);
		kmem_cache_free(utrace_cachep, utrace);
		return old;
	}
	rcu_read_unlock();

	/*
	 * A task released between the caller's check and the insertion would
	 * leave this entry behind: check again now that release_task() can
	 * see it.
	 */
	if (task->exit_state == EXIT_DEAD) {
		if (utrace_table_remove(utrace))
			utrace_put(utrace);	/* the table's */
		utrace_put(utrace);
		return ERR_PTR(-ESRCH);
	}
	return utrace;
}

/*
 * Engines
 */

/* The ops of a detached engine: any callback still in flight lands here. */
static const struct utrace_engine_ops utrace_detached_ops;

static bool engine_detached(const struct utrace_engine *engine)
{
	return READ_ONCE(engine->ops) == &utrace_detached_ops;
}

void __utrace_engine_release(struct kref *kref)
{
	struct utrace_engine *engine = container_of(kref, struct utrace_engine, kref);

	if (engine->release)
		(*engine->release)(engine->data);
	/* Unlinked from its task's list: no report can look at its filter. */
	kfree(rcu_dereference_protected(engine->syscall_filter, true));
	kmem_cache_free(utrace_engine_cachep, engine);
}
EXPORT_SYMBOL_GPL(__utrace_engine_release);

static bool engine_matches(struct utrace_engine *engine, int flags,
			   const struct utrace_engine_ops *ops, void *data)
{
	if ((flags & UTRACE_ATTACH_MATCH_OPS) && engine->ops != ops)
		return false;
	if ((flags & UTRACE_ATTACH_MATCH_DATA) && engine->data != data)
		return false;
	return !engine_detached(engine);
}

/* Called with utrace->lock held. */
static struct utrace_engine *find_matching_engine(struct utrace *utrace, int flags,
						  const struct utrace_engine_ops *ops,
						  void *data)
{
	struct utrace_engine *engine;

	list_for_each_entry(engine, &utrace->attached, entry)
		if (engine_matches(engine, flags, ops, data))
			return engine;
	list_for_each_entry(engine, &utrace->attaching, entry)
		if (engine_matches(engine, flags, ops, data))
			return engine;
	return NULL;
}

/* Whether an engine has @flag (ENGINE_STOP, ENGINE_STEP).  utrace->lock held. */
static bool utrace_wants(struct utrace *utrace, unsigned long flag)
{
	struct utrace_engine *engine;

	list_for_each_entry(engine, &utrace->attached, entry)
		if (engine->flags & flag)
			return true;
	list_for_each_entry(engine, &utrace->attaching, entry)
		if (engine->flags & flag)
			return true;
	return false;
}

static bool utrace_wants_stop(struct utrace *utrace)
{
	return utrace_wants(utrace, ENGINE_STOP);
}

static bool utrace_wants_step(struct utrace *utrace)
{
	return utrace_wants(utrace, ENGINE_STEP);
}

/* Wake a stopped task nobody wants stopped any more.  utrace->lock held. */
static void utrace_wakeup(struct utrace *utrace)
{
	if (utrace->stopped && !utrace_wants_stop(utrace)) {
		utrace->stopped = false;
		utrace_kcall(wake_up_state)(utrace->task, __TASK_TRACED);
	}
}

/*
 * Queue the task work that brings @utrace's task through the resume point:
 * TWA_SIGNAL interrupts a blocking system call (UTRACE_INTERRUPT), TWA_RESUME
 * waits for the task's next return to user mode.  utrace->lock held.
 * Returns whether the work is queued (false: the task is past running it).
 */
static bool __utrace_queue_work(struct utrace *utrace, bool interrupt)
{
	struct task_struct *task = utrace->task;

	if (utrace->reap || (task->flags & PF_EXITING))
		return false;
	if (utrace->work_queued) {
		/*
		 * Queued to wait for the next return to user mode, and now
		 * asked to interrupt: notify as TWA_SIGNAL would have
		 * (set_notify_signal(), whose wake_up_state() is not exported).
		 */
		if (interrupt && task != current) {
			set_tsk_thread_flag(task, TIF_NOTIFY_SIGNAL);
			if (!utrace_kcall(wake_up_state)(task, TASK_INTERRUPTIBLE))
				kick_process(task);
		}
		return true;
	}
	utrace_inflight_get();
	if (task_work_add(task, &utrace->work, interrupt ? TWA_SIGNAL : TWA_RESUME)) {
		utrace_inflight_put();
		return false;
	}
	utrace->work_queued = 1;
	if (task != current)
		kick_process(task);
	return true;
}

/* As above; nothing new once unload began (but utrace_core_quiesce()'s). */
static void utrace_queue_work(struct utrace *utrace, bool interrupt)
{
	if (!READ_ONCE(utrace_exiting))
		__utrace_queue_work(utrace, interrupt);
}

/*
 * Unlink detached engines, recompute the event union, drop the syscall
 * slow path if no engine wants syscalls, and wake the task if nobody wants
 * it stopped.  Only when the task is not walking utrace->attached: it is
 * the caller, or it is stopped or dead.  utrace->lock held; the engines to
 * put are moved to @drop, to be put after the lock is released.
 */
static void utrace_reset(struct utrace *utrace, struct list_head *drop)
{
	struct utrace_engine *engine, *next;
	unsigned long flags = 0;

	utrace->stale = false;
	list_for_each_entry_safe(engine, next, &utrace->attached, entry) {
		if (engine_detached(engine)) {
			list_move(&engine->entry, drop);
			continue;
		}
		flags |= engine->flags;
	}
	list_for_each_entry(engine, &utrace->attaching, entry)
		flags |= engine->flags;
	utrace->flags = flags & UTRACE_EVENT_ALL;
	if (utrace->syscall_work && !(utrace->flags & UTRACE_EVENT_SYSCALL))
		utrace_arch_clear_syscall_work(utrace);
	/* A re-trap or a listen is for the engines that want JCTL: none is left. */
	if (!(utrace->flags & UTRACE_EVENT(JCTL))) {
		clear_bit(UTRACE_JCTL_RETRAP, &utrace->jctl_bits);
		clear_bit(UTRACE_JCTL_LISTEN, &utrace->jctl_bits);
		clear_bit(UTRACE_JCTL_TRAP, &utrace->jctl_bits);
	}
	utrace_wakeup(utrace);
}

static noinline void __put_detached_list(struct list_head *drop)
{
	struct utrace_engine *engine, *next;

	list_for_each_entry_safe(engine, next, drop, entry) {
		list_del_init(&engine->entry);
		utrace_engine_put(engine);	/* the attachment's reference */
	}
}

/* Usually empty: a stop and its resume pass here several times each. */
static __always_inline void put_detached_list(struct list_head *drop)
{
	if (unlikely(!list_empty(drop)))
		__put_detached_list(drop);
}

/*
 * Whether others may touch utrace->attached now: the task is not walking it
 * (it is the caller, stopped, released, or dead and past its death report).
 * utrace->lock held.
 */
static bool utrace_quiet(struct utrace *utrace)
{
	return utrace->task == current || utrace->stopped || utrace->reap ||
	       (utrace->death && !utrace->death_report && !utrace->reporting);
}

/**
 * utrace_attach_task - attach new engine, or look up an attached engine
 * @target:	thread to attach to
 * @flags:	flag bits combined with OR, see below
 * @ops:	callback table for new engine
 * @data:	engine private data pointer
 *
 * The caller must ensure that the @target thread does not get freed,
 * i.e. hold a ref or be its parent.  It is always safe to call this
 * on @current, or on the @child pointer in a @report_clone callback.
 *
 * UTRACE_ATTACH_CREATE: create a new engine.  If %UTRACE_ATTACH_CREATE is
 * not specified, you only look up an existing engine already attached to
 * the thread (-ENOENT if none matches).
 * UTRACE_ATTACH_EXCLUSIVE: refuse with -EEXIST if a matching engine exists.
 * UTRACE_ATTACH_MATCH_OPS / UTRACE_ATTACH_MATCH_DATA: what "matching" means.
 *
 * Returns the engine with a reference the caller must put, or an ERR_PTR:
 * -EPERM for kernel threads, -ESRCH for a reaped or reaping task, -ENOMEM.
 * A new engine has no events: it sees nothing until utrace_set_events().
 * Context: process, may sleep.
 */
struct utrace_engine *utrace_attach_task(struct task_struct *target, int flags,
					 const struct utrace_engine_ops *ops, void *data)
{
	struct utrace_engine *engine, *match;
	struct utrace *utrace;
	int ret;

	if (unlikely(target->flags & (PF_KTHREAD | UTRACE_PF_USER_WORKER)))
		return ERR_PTR(-EPERM);

	if (!(flags & UTRACE_ATTACH_CREATE)) {
		utrace = utrace_get(target);
		if (!utrace)
			return ERR_PTR(-ENOENT);
		spin_lock(&utrace->lock);
		match = find_matching_engine(utrace, flags, ops, data);
		if (match)
			utrace_engine_get(match);
		spin_unlock(&utrace->lock);
		utrace_put(utrace);
		return match ? match : ERR_PTR(-ENOENT);
	}

	if (unlikely(!ops || ops == &utrace_detached_ops))
		return ERR_PTR(-EINVAL);
	if (unlikely(target->exit_state == EXIT_DEAD))
		return ERR_PTR(-ESRCH);

	engine = kmem_cache_zalloc(utrace_engine_cachep, GFP_KERNEL);
	if (unlikely(!engine))
		return ERR_PTR(-ENOMEM);
	kref_init(&engine->kref);	/* the attachment's */
	kref_get(&engine->kref);	/* the caller's */
	engine->ops = ops;
	engine->data = data;
	engine->release = ops->release;
	engine->id = atomic64_inc_return(&utrace_engine_ids);
	engine->type = ops->type;
	INIT_LIST_HEAD(&engine->entry);

	utrace = utrace_get_or_create(target);
	if (IS_ERR(utrace)) {
		kmem_cache_free(utrace_engine_cachep, engine);
		return ERR_CAST(utrace);
	}
	/* Counted in utrace_tasks: the hooks only traced tasks need are on. */
	ret = utrace_lazy_hooks_get();
	if (ret) {
		utrace_put(utrace);
		kmem_cache_free(utrace_engine_cachep, engine);
		return ERR_PTR(ret);
	}

	spin_lock(&utrace->lock);
	if (utrace->reap) {
		match = ERR_PTR(-ESRCH);
	} else if ((flags & UTRACE_ATTACH_EXCLUSIVE) &&
		   find_matching_engine(utrace, flags, ops, data)) {
		match = ERR_PTR(-EEXIST);
	} else {
		match = NULL;
		/*
		 * The task walks utrace->attached only in its own reports;
		 * while it is stopped or is us, a new engine may join at once.
		 */
		if (utrace_quiet(utrace) && !utrace->reporting)
			list_add_tail(&engine->entry, &utrace->attached);
		else
			list_add_tail(&engine->entry, &utrace->attaching);
	}
	spin_unlock(&utrace->lock);
	utrace_put(utrace);

	if (match) {
		kmem_cache_free(utrace_engine_cachep, engine);
		return match;
	}
	return engine;
}
EXPORT_SYMBOL_GPL(utrace_attach_task);

/**
 * utrace_attach_pid - attach new engine, or look up an attached engine
 * @pid:	&struct pid pointer representing thread to attach to
 * @flags:	flag bits combined with OR, see utrace_attach_task()
 * @ops:	callback table for new engine
 * @data:	engine private data pointer
 *
 * This is the same as utrace_attach_task(), but takes a &struct pid
 * pointer rather than a &struct task_struct pointer.  Returns -ESRCH if
 * no task has that pid.
 */
struct utrace_engine *utrace_attach_pid(struct pid *pid, int flags,
					const struct utrace_engine_ops *ops, void *data)
{
	struct utrace_engine *engine;
	struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);

	if (!task)
		return ERR_PTR(-ESRCH);
	engine = utrace_attach_task(task, flags, ops, data);
	put_task_struct(task);
	return engine;
}
EXPORT_SYMBOL_GPL(utrace_attach_pid);

/*
 * The locked utrace of @target for an operation on @engine, or an ERR_PTR:
 * -ESRCH if the engine is detached or the task was reaped.  No reference is
 * taken: the RCU read section held until put_utrace_unlock() keeps the entry
 * (freed an RCU grace period after its last reference went), and nothing
 * between the two sleeps, the lock being held.  A caller that keeps the
 * entry after the unlock takes a reference itself (utrace_hold_stop()).
 */
static struct utrace *get_utrace_lock(struct task_struct *target,
				      struct utrace_engine *engine)
	__acquires(utrace->lock)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(target);
	if (!utrace)
		goto fail;
	spin_lock(&utrace->lock);
	if (unlikely(utrace->reap || engine_detached(engine))) {
		spin_unlock(&utrace->lock);
		goto fail;
	}
	return utrace;
fail:
	rcu_read_unlock();
	return ERR_PTR(-ESRCH);
}

static void put_utrace_unlock(struct utrace *utrace)
	__releases(utrace->lock)
{
	spin_unlock(&utrace->lock);
	rcu_read_unlock();
}

/*
 * Something may want the exit report of a call the task is in, which it
 * entered with every engine's syscall filter leaving it out: an engine's
 * events or filter changed, an engine came, or one asks the task to report
 * (its resume action, which the exit report acts on).  The new
 * @exit_gen tells the task's arch hook, which compares it with the one it
 * read before its entry report (struct utrace_exit_hint), and the arch puts
 * the exit hook back for this call if it took it out.  utrace->lock held.
 */
static void utrace_syscall_exit_rearm(struct utrace *utrace)
{
	/*
	 * Only a task that has had a filter leaves exits out: the others
	 * (the ptrace backend's requests) pay nothing here.  Set under this
	 * lock before any entry could see it (utrace_set_syscall_filter()).
	 */
	if (!utrace->syscall_filters)
		return;
	smp_mb();	/* the change (maybe not under the lock) before @exit_gen */
	WRITE_ONCE(utrace->exit_gen, utrace->exit_gen + 1);
	smp_mb();	/* @exit_gen before the arch's bit: see its entry hook */
	if (utrace->syscall_work)
		utrace_arch_syscall_exit_rearm(utrace);
}

/**
 * utrace_set_syscall_filter - choose which system calls an engine hears of
 * @target:	thread to affect
 * @engine:	attached engine to affect
 * @filter:	kmalloc()ed filter, or NULL for every call
 *
 * Replaces @engine's syscall filter (struct utrace_syscall_filter) with
 * @filter, which the engine then owns: it is freed when replaced (after a
 * grace period) or when the engine is.  A call @target is in gets its exit
 * report if the new filter wants it (utrace_syscall_exit_rearm()).
 * Returns 0, or -ESRCH if @engine is detached or @target reaped (@filter
 * freed).  Context: any; does not sleep.
 */
int utrace_set_syscall_filter(struct task_struct *target, struct utrace_engine *engine,
			      struct utrace_syscall_filter *filter)
{
	struct utrace_syscall_filter *old;
	struct utrace *utrace;

	utrace = get_utrace_lock(target, engine);
	if (IS_ERR(utrace)) {
		kfree(filter);
		return PTR_ERR(utrace);
	}
	/*
	 * For good: the entry reports test filters from now on.  A report that
	 * sees the filter and not this calls the callback, which filters too.
	 */
	if (filter)
		WRITE_ONCE(utrace->syscall_filters, true);
	old = rcu_replace_pointer(engine->syscall_filter, filter, lockdep_is_held(&utrace->lock));
	utrace_syscall_exit_rearm(utrace);
	put_utrace_unlock(utrace);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

/**
 * utrace_set_events - choose which event reports a tracing engine gets
 * @target:	thread to affect
 * @engine:	attached engine to affect
 * @events:	new event mask
 *
 * This changes the set of events for which @engine wants callbacks made.
 *
 * Returns 0, or: -EINVAL for bits outside %UTRACE_EVENT_ALL; -ESRCH if
 * @engine is detached or @target reaped; -EALREADY if @target is dying
 * and @events adds anything but %UTRACE_EVENT(%REAP); -EINPROGRESS if
 * bits were removed while a callback of @engine may be running on @target
 * (use utrace_barrier() to be sure it is over).
 * Context: any; does not sleep.
 */
int utrace_set_events(struct task_struct *target, struct utrace_engine *engine,
		      unsigned long events)
{
	struct utrace *utrace;
	unsigned long old;
	int ret = 0;

	if (events & ~UTRACE_EVENT_ALL)
		return -EINVAL;
	if (READ_ONCE(utrace_exiting))
		return -ESRCH;
	utrace = get_utrace_lock(target, engine);
	if (IS_ERR(utrace))
		return PTR_ERR(utrace);

	old = engine->flags & UTRACE_EVENT_ALL;
	if (utrace->death && (events & ~old & ~UTRACE_EVENT(REAP))) {
		ret = -EALREADY;
		goto out;
	}
	engine->flags = events | (engine->flags & ENGINE_WISHES);
	utrace->flags |= events;
	if (old & ~events)
		utrace->stale = true;
	if ((events & UTRACE_EVENT_SYSCALL) && !utrace->syscall_work && !utrace->death)
		utrace_arch_set_syscall_work(utrace);
	utrace_syscall_exit_rearm(utrace);
	if ((old & ~events) && target != current) {
		smp_mb();	/* the events before @reporting: see start_callback() */
		if (READ_ONCE(utrace->reporting) == engine)
			ret = -EINPROGRESS;
	}
out:
	put_utrace_unlock(utrace);
	return ret;
}
EXPORT_SYMBOL_GPL(utrace_set_events);

/**
 * utrace_control - control a thread being traced by a tracing engine
 * @target:	thread to affect
 * @engine:	attached engine to affect
 * @action:	&enum utrace_resume_action for thread to do
 *
 * %UTRACE_STOP: returns 0 if @target is already stopped; otherwise
 * -EINPROGRESS, and @target stops at its next resume point (as after
 * %UTRACE_REPORT).  The stop stays in force until this engine asks for
 * something else.
 * %UTRACE_INTERRUPT: @target reports soon even if blocked in a system call
 * (which is interrupted and restarted, as for a signal).
 * %UTRACE_REPORT: @target reports (report_quiesce) at its next resume point.
 * %UTRACE_SINGLESTEP, %UTRACE_BLOCKSTEP: when @target resumes, it runs one
 * instruction (or to the next branch) and traps; -EOPNOTSUPP if the CPU
 * cannot.  BLOCKSTEP degrades to SINGLESTEP where only single-step exists.
 * %UTRACE_RESUME: withdraw this engine's stop; @target runs when no engine
 * wants it stopped.
 * %UTRACE_DETACH: detach the engine; its callbacks may still be running
 * (-EINPROGRESS: use utrace_barrier()); -EALREADY if @target is past its
 * death report (report_death was or is being made).
 *
 * Returns -ESRCH if @engine is detached or @target reaped, -EINVAL for an
 * unknown action.  Context: any process context; does not sleep.
 */
int utrace_control(struct task_struct *target, struct utrace_engine *engine,
		   enum utrace_resume_action action)
{
	LIST_HEAD(drop);
	struct utrace *utrace;
	int ret = 0;

	if (unlikely(action >= UTRACE_RESUME_MAX))
		return -EINVAL;
	if (action == UTRACE_BLOCKSTEP && !arch_has_block_step())
		action = UTRACE_SINGLESTEP;
	if (action == UTRACE_SINGLESTEP && !arch_has_single_step())
		return -EOPNOTSUPP;

	utrace = get_utrace_lock(target, engine);
	if (IS_ERR(utrace))
		return PTR_ERR(utrace);

	switch (action) {
	case UTRACE_STOP:
		engine->flags |= ENGINE_STOP;
		if (utrace->stopped)
			break;
		ret = -EINPROGRESS;
		if (!utrace->death) {
			if (utrace->resume > UTRACE_REPORT)
				utrace->resume = UTRACE_REPORT;
			utrace_queue_work(utrace, false);
		}
		break;

	case UTRACE_DETACH:
		engine->flags = 0;
		WRITE_ONCE(engine->ops, &utrace_detached_ops);
		utrace->stale = true;
		smp_mb();	/* the ops before @reporting: see start_callback() */
		if (utrace->death && target->exit_state)
			ret = -EALREADY;
		else if (READ_ONCE(utrace->reporting) == engine)
			ret = -EINPROGRESS;
		if (!list_empty(&engine->entry) && utrace_quiet(utrace) &&
		    utrace->reporting != engine) {
			utrace_reset(utrace, &drop);
		} else {
			/* The task unlinks it at its next resume point. */
			utrace_wakeup(utrace);
			if (!utrace->death && !utrace->stopped)
				utrace_queue_work(utrace, false);
		}
		break;

	case UTRACE_RESUME:
		engine->flags &= ~ENGINE_WISHES;
		utrace_wakeup(utrace);
		break;

	case UTRACE_REPORT:
	case UTRACE_INTERRUPT:
	case UTRACE_SINGLESTEP:
	case UTRACE_BLOCKSTEP:
		engine->flags &= ~ENGINE_WISHES;
		if (action == UTRACE_SINGLESTEP || action == UTRACE_BLOCKSTEP)
			engine->flags |= ENGINE_STEP;
		if (utrace->death) {
			ret = -EALREADY;
			break;
		}
		if (action < utrace->resume)
			utrace->resume = action;
		if (utrace->stopped) {
			/* It acts on utrace->resume as it leaves the stop. */
			utrace_wakeup(utrace);
		} else {
			utrace_queue_work(utrace, action == UTRACE_INTERRUPT);
		}
		break;

	default:
		ret = -EINVAL;
		break;
	}
	if (action != UTRACE_DETACH)
		utrace_syscall_exit_rearm(utrace);
	put_utrace_unlock(utrace);
	put_detached_list(&drop);
	return ret;
}
EXPORT_SYMBOL_GPL(utrace_control);

/**
 * utrace_interrupt - make a task report soon, keeping an engine's wishes
 * @target:	thread to affect
 * @engine:	attached engine asking
 *
 * As utrace_control(%UTRACE_INTERRUPT), but @engine's stop and step stay as
 * they are: a stop that @engine's callback in @target is asking for right
 * now (its answer not yet recorded) is not withdrawn by the interrupt, and
 * a stopped @target reports once its engines resume it.  For the ptrace
 * backend, whose PTRACE_INTERRUPT must never cancel the stop it races (a
 * syscall stop the tracer asked for: the call would run).  Returns 0,
 * -ESRCH if @engine is detached or @target reaped, -EALREADY if @target is
 * dying.  Context: any process context; does not sleep.
 */
int utrace_interrupt(struct task_struct *target, struct utrace_engine *engine)
{
	struct utrace *utrace;
	int ret = 0;

	utrace = get_utrace_lock(target, engine);
	if (IS_ERR(utrace))
		return PTR_ERR(utrace);
	if (utrace->death) {
		ret = -EALREADY;
	} else {
		if (utrace->resume > UTRACE_INTERRUPT)
			utrace->resume = UTRACE_INTERRUPT;
		if (utrace->stopped)
			utrace_wakeup(utrace);
		else
			utrace_queue_work(utrace, true);
		utrace_syscall_exit_rearm(utrace);
	}
	put_utrace_unlock(utrace);
	return ret;
}

/**
 * utrace_barrier - synchronize with simultaneous tracing callbacks
 * @target:	thread to affect
 * @engine:	engine to affect (can be detached)
 *
 * Waits until no callback of @engine is running on @target.  Returns 0, or
 * -ESRCH if @engine is detached (after its last callback is over) or
 * @target was reaped, or -ERESTARTSYS if a signal interrupted the wait.
 * Context: process, may sleep.
 */
int utrace_barrier(struct task_struct *target, struct utrace_engine *engine)
{
	struct utrace *utrace;
	int ret;

	if (target == current)
		return 0;
	utrace = utrace_get(target);
	if (!utrace)
		return -ESRCH;
	for (;;) {
		spin_lock(&utrace->lock);
		smp_mb();	/* a detach before @reporting: see start_callback() */
		if (smp_load_acquire(&utrace->reporting) != engine || utrace->stopped) {
			ret = engine_detached(engine) || utrace->reap ? -ESRCH : 0;
			spin_unlock(&utrace->lock);
			break;
		}
		spin_unlock(&utrace->lock);
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		schedule_timeout_interruptible(1);
	}
	utrace_put(utrace);
	return ret;
}
EXPORT_SYMBOL_GPL(utrace_barrier);

/**
 * utrace_prepare_examine - prepare to examine thread state
 * @target:	thread of interest, a &struct task_struct pointer
 * @engine:	engine pointer returned by utrace_attach_task()
 * @exam:	temporary state, a &struct utrace_examiner pointer
 *
 * Call this before examining a stopped @target's registers or memory;
 * call utrace_finish_examine() after, and trust what you read only if it
 * returns 0.  Returns 0 (also for @target == current), -ESRCH if @engine is
 * detached or @target reaped, -EINVAL if @target is not stopped, -EAGAIN if
 * it is leaving its stop.  Context: process, may sleep.
 */
int utrace_prepare_examine(struct task_struct *target, struct utrace_engine *engine,
			   struct utrace_examiner *exam)
{
	struct utrace *utrace;
	bool stopped;

	if (target == current)
		return 0;
	/*
	 * Stopped, and the engine attached: no lock (the usual case, a
	 * tracer's request at a stop).  A stale look is caught below: a
	 * task no longer in TASK_TRACED fails wait_task_inactive()
	 * (-EAGAIN, and the caller looks again).  Otherwise the look under
	 * the lock tells a detached engine or a reaped task from a task
	 * that is not stopped.
	 */
	rcu_read_lock();
	utrace = utrace_lookup(target);
	stopped = utrace && READ_ONCE(utrace->stopped) && !engine_detached(engine);
	rcu_read_unlock();
	if (!stopped) {
		utrace = get_utrace_lock(target, engine);
		if (IS_ERR(utrace))
			return PTR_ERR(utrace);
		stopped = utrace->stopped;
		put_utrace_unlock(utrace);
		if (!stopped)
			return -EINVAL;
	}
	exam->state = __TASK_TRACED;
	exam->ncsw = utrace_kcall(wait_task_inactive)(target, exam->state);
	return exam->ncsw ? 0 : -EAGAIN;
}
EXPORT_SYMBOL_GPL(utrace_prepare_examine);

/**
 * utrace_finish_examine - complete an examination of thread state
 * @target:	thread of interest, a &struct task_struct pointer
 * @engine:	engine pointer returned by utrace_attach_task()
 * @exam:	pointer passed to utrace_prepare_examine() call
 *
 * Returns 0 if @target stayed stopped since utrace_prepare_examine(), so
 * what was read is consistent; -EAGAIN if it ran in between; -ESRCH if
 * @engine was detached or @target reaped.
 */
int utrace_finish_examine(struct task_struct *target, struct utrace_engine *engine,
			  struct utrace_examiner *exam)
{
	struct utrace *utrace;

	if (target == current)
		return 0;
	utrace = get_utrace_lock(target, engine);
	if (IS_ERR(utrace))
		return PTR_ERR(utrace);
	put_utrace_unlock(utrace);
	if (READ_ONCE(target->__state) != exam->state)
		return -EAGAIN;
	if (utrace_kcall(wait_task_inactive)(target, exam->state) != exam->ncsw)
		return -EAGAIN;
	return 0;
}
EXPORT_SYMBOL_GPL(utrace_finish_examine);

/**
 * utrace_hold_stop - keep a stopped thread in its stop, SIGKILL included
 * @target:	thread of interest, stopped for @engine
 * @engine:	engine pointer returned by utrace_attach_task()
 *
 * As ptrace_freeze_traced() does for a native ptrace request: until
 * utrace_release_stop(), @target does not leave its stop, not for a fatal
 * signal either, so its registers and kernel stack stay there for the
 * caller to read and write (a SIGKILL ends the stop once the hold is
 * released).  Returns the hold (the thread's utrace, referenced), or
 * ERR_PTR(-ESRCH) if @target is not stopped, has a fatal signal pending,
 * or @engine is detached.  Not for current.  Context: process, no locks
 * held; the hold must be short (the length of a request).
 */
struct utrace *utrace_hold_stop(struct task_struct *target, struct utrace_engine *engine)
{
	struct utrace *utrace = get_utrace_lock(target, engine);

	if (IS_ERR(utrace))
		return utrace;
	if (!utrace->stopped || fatal_signal_pending(target)) {
		put_utrace_unlock(utrace);
		return ERR_PTR(-ESRCH);
	}
	utrace->holds++;
	/* Not reaped (->reap is set under the lock first): the table's is held. */
	refcount_inc(&utrace->ref);
	put_utrace_unlock(utrace);
	return utrace;
}

/* End a utrace_hold_stop(): the thread goes on as its engines and signals say. */
void utrace_release_stop(struct utrace *utrace)
{
	spin_lock(&utrace->lock);
	if (!--utrace->holds && utrace->held)
		utrace_kcall(wake_up_state)(utrace->task, __TASK_TRACED);
	spin_unlock(&utrace->lock);
	utrace_put(utrace);
}

/*
 * Woken in utrace_stop() (resumed, or a fatal signal): stay while a
 * utrace_hold_stop() lasts, in TASK_TRACED (any other wakeup only loops).
 */
static void utrace_stop_held(struct utrace *utrace)
	__must_hold(&utrace->lock)
{
	while (utrace->holds) {
		utrace->held = true;
		set_special_state(TASK_TRACED);
		spin_unlock(&utrace->lock);
		schedule();
		__set_current_state(TASK_RUNNING);
		spin_lock(&utrace->lock);
	}
	utrace->held = false;
}

/* Whether @task is in a utrace stop now (for /dev/utrace's engine info). */
bool utrace_task_stopped(struct task_struct *task)
{
	struct utrace *utrace;
	bool stopped = false;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace)
		stopped = READ_ONCE(utrace->stopped);
	rcu_read_unlock();
	return stopped;
}

/*
 * Reporting.  Everything below runs in the traced task itself.
 */

/* utrace_start_report()'s (utrace_syscall.h) splice, under the lock. */
void utrace_splice_attaching(struct utrace *utrace)
{
	spin_lock(&utrace->lock);
	list_splice_tail_init(&utrace->attaching, &utrace->attached);
	spin_unlock(&utrace->lock);
}

/*
 * An engine's callback returned @ret.  Record what it wants: its stop
 * wish is replaced by what it returned now.
 */
static void __finish_callback(struct utrace *utrace, struct utrace_report *report,
			      struct utrace_engine *engine, enum utrace_resume_action action);

static __always_inline void finish_callback(struct utrace *utrace, struct utrace_report *report,
					    struct utrace_engine *engine, u32 ret)
{
	enum utrace_resume_action action = utrace_resume_action(ret);

	report->result = ret & ~UTRACE_RESUME_MASK;
	/*
	 * The common answer changes nothing: no lock.  A wish or a detach
	 * another thread makes meanwhile is made after this answer, as it
	 * would be had it waited for the lock.
	 */
	if (likely(action == UTRACE_RESUME &&
		   !(READ_ONCE(engine->flags) & ENGINE_WISHES) && !engine_detached(engine))) {
		/* The callback's effects before utrace_barrier() sees it end. */
		smp_store_release(&utrace->reporting, NULL);
		return;
	}
	__finish_callback(utrace, report, engine, action);
}

/* The answer changes the engine or the report: under the lock. */
static noinline void __finish_callback(struct utrace *utrace, struct utrace_report *report,
				       struct utrace_engine *engine,
				       enum utrace_resume_action action)
{
	spin_lock(&utrace->lock);
	WRITE_ONCE(utrace->reporting, NULL);
	if (action == UTRACE_DETACH || engine_detached(engine)) {
		engine->flags = 0;
		WRITE_ONCE(engine->ops, &utrace_detached_ops);
		report->detaches = true;
		action = UTRACE_RESUME;
	} else if (action == UTRACE_STOP) {
		/* A stop keeps the step it had: the task steps once resumed. */
		engine->flags |= ENGINE_STOP;
	} else {
		engine->flags &= ~ENGINE_WISHES;
		if (action == UTRACE_SINGLESTEP || action == UTRACE_BLOCKSTEP)
			engine->flags |= ENGINE_STEP;
	}
	spin_unlock(&utrace->lock);
	if (action < report->action)
		report->action = action;
	if (action != UTRACE_STOP && action < report->resume_action)
		report->resume_action = action;
}

/*
 * Whether @engine gets this report; marks it as the one reporting.  No lock:
 * the engine is published in @reporting before its ops and events are read
 * again, and a detach or utrace_set_events() changes those before it reads
 * @reporting, with a full barrier on each side (see utrace_control(),
 * utrace_set_events() and utrace_barrier()): either the detacher sees the
 * callback may run (-EINPROGRESS, and utrace_barrier() waits for it), or
 * the task sees the change and makes no callback.
 */
static bool start_callback(struct utrace *utrace, struct utrace_report *report,
			   struct utrace_engine *engine, unsigned long event)
{
	if (engine_detached(engine)) {
		report->detaches = true;
		return false;
	}
	if (!(READ_ONCE(engine->flags) & event))
		return false;
	WRITE_ONCE(utrace->reporting, engine);
	smp_mb();	/* pairs with the detacher's */
	if (unlikely(engine_detached(engine))) {
		smp_store_release(&utrace->reporting, NULL);	/* no callback */
		report->detaches = true;
		return false;
	}
	if (unlikely(!(READ_ONCE(engine->flags) & event))) {
		smp_store_release(&utrace->reporting, NULL);	/* events removed */
		return false;
	}
	report->takers = true;
	return true;
}

/*
 * One report pass: for each attached engine that wants @event, in attach
 * order or in reverse, @invoke calls its callback with the event's @args and
 * the actions so far, and finish_callback() records the answer.
 */
typedef u32 (*utrace_invoke_t)(struct utrace_engine *engine,
			       const struct utrace_engine_ops *ops,
			       struct utrace_report *report, void *args);

static __always_inline void __report_callbacks_from(struct utrace *utrace,
						    struct utrace_report *report,
						    unsigned long event, bool reverse,
						    utrace_invoke_t invoke, void *args,
						    struct list_head *pos)
{
	struct list_head *head = &utrace->attached;
	struct utrace_engine *engine;
	u64 start;
	u32 ret;

	for (; pos != head; pos = reverse ? pos->prev : pos->next) {
		engine = list_entry(pos, struct utrace_engine, entry);
		if (!start_callback(utrace, report, engine, event))
			continue;
		start = utrace_trace_report_begin(engine, event);
		ret = invoke(engine, READ_ONCE(engine->ops), report, args);
		utrace_trace_report_end(engine, event, ret, start);
		finish_callback(utrace, report, engine, ret);
	}
}

/* A whole pass, from the first engine in that order. */
static __always_inline void __report_callbacks(struct utrace *utrace,
					       struct utrace_report *report,
					       unsigned long event, bool reverse,
					       utrace_invoke_t invoke, void *args)
{
	struct list_head *head = &utrace->attached;

	__report_callbacks_from(utrace, report, event, reverse, invoke, args,
				reverse ? head->prev : head->next);
}

/*
 * The other reports' pass; the syscall reports' generic part
 * (utrace_syscall_report_rest()) calls __report_callbacks_from() itself,
 * so that its @invoke is a direct call.
 */
static noinline void report_callbacks(struct utrace *utrace, struct utrace_report *report,
				      unsigned long event, bool reverse, utrace_invoke_t invoke,
				      void *args)
{
	__report_callbacks(utrace, report, event, reverse, invoke, args);
}

static u32 invoke_quiesce(struct utrace_engine *engine, const struct utrace_engine_ops *ops,
			  struct utrace_report *report, void *args)
{
	if (!ops->report_quiesce)
		return UTRACE_RESUME;
	return ops->report_quiesce(report->action, engine, *(unsigned long *)args);
}

struct utrace_entry_args {
	struct pt_regs *regs;
	u32 resumed;
};

static u32 invoke_syscall_entry(struct utrace_engine *engine,
				const struct utrace_engine_ops *ops,
				struct utrace_report *report, void *args)
{
	struct utrace_entry_args *a = args;

	if (!ops->report_syscall_entry)
		return UTRACE_RESUME;
	return ops->report_syscall_entry(report->result | report->action | a->resumed,
					 engine, a->regs);
}

static u32 invoke_syscall_exit(struct utrace_engine *engine,
			       const struct utrace_engine_ops *ops,
			       struct utrace_report *report, void *args)
{
	if (!ops->report_syscall_exit)
		return UTRACE_RESUME;
	return ops->report_syscall_exit(report->action, engine, args);
}

struct utrace_signal_args {
	struct pt_regs *regs;
	kernel_siginfo_t *info;
	const struct k_sigaction *orig_ka;
	struct k_sigaction *return_ka;
	unsigned long event;
};

/*
 * report_signal, or report_quiesce for an engine without it (upstream's
 * rule).  The disposition chosen so far is in report->result; an engine's
 * answer replaces it.  INTERRUPT and REPORT would only bring the task back
 * here: they count as RESUME.
 */
static u32 invoke_signal(struct utrace_engine *engine, const struct utrace_engine_ops *ops,
			 struct utrace_report *report, void *args)
{
	struct utrace_signal_args *a = args;
	u32 ret;

	if (ops->report_signal)
		ret = ops->report_signal(report->result | report->action, engine, a->regs,
					 a->info, a->orig_ka, a->return_ka);
	else if (ops->report_quiesce)
		ret = report->result | ops->report_quiesce(report->action, engine, a->event);
	else
		ret = report->result | UTRACE_RESUME;
	switch (utrace_resume_action(ret)) {
	case UTRACE_INTERRUPT:
	case UTRACE_REPORT:
		ret = (ret & ~UTRACE_RESUME_MASK) | UTRACE_RESUME;
		break;
	default:
		break;
	}
	return ret;
}

struct utrace_jctl_args {
	int type;
	int notify;
};

/* The engines' UTRACE_JCTL_NOTIFIED flags add up in report->result. */
static u32 invoke_jctl(struct utrace_engine *engine, const struct utrace_engine_ops *ops,
		       struct utrace_report *report, void *args)
{
	struct utrace_jctl_args *a = args;
	u32 ret;

	if (!ops->report_jctl)
		return report->result | UTRACE_RESUME;
	ret = ops->report_jctl(report->action, engine, a->type, a->notify);
	return (ret & (UTRACE_RESUME_MASK | UTRACE_JCTL_NOTIFIED)) | report->result;
}

struct utrace_clone_args {
	unsigned long flags;
	struct task_struct *child;
};

static u32 invoke_clone(struct utrace_engine *engine, const struct utrace_engine_ops *ops,
			struct utrace_report *report, void *args)
{
	struct utrace_clone_args *a = args;

	if (!ops->report_clone)
		return UTRACE_RESUME;
	return ops->report_clone(report->action, engine, a->flags, a->child);
}

static u32 invoke_exec(struct utrace_engine *engine, const struct utrace_engine_ops *ops,
		       struct utrace_report *report, void *args)
{
	if (!ops->report_exec)
		return UTRACE_RESUME;
	return ops->report_exec(report->action, engine, NULL, NULL, args);
}

struct utrace_exit_args {
	long orig_code;
	long *code;
};

static u32 invoke_exit(struct utrace_engine *engine, const struct utrace_engine_ops *ops,
		       struct utrace_report *report, void *args)
{
	struct utrace_exit_args *a = args;

	if (!ops->report_exit)
		return UTRACE_RESUME;
	return ops->report_exit(report->action, engine, a->orig_code, a->code);
}

struct utrace_death_args {
	bool group_dead;
	int signal;
};

static u32 invoke_death(struct utrace_engine *engine, const struct utrace_engine_ops *ops,
			struct utrace_report *report, void *args)
{
	struct utrace_death_args *a = args;

	if (!ops->report_death)
		return UTRACE_RESUME;
	return ops->report_death(engine, a->group_dead, a->signal);
}

/*
 * After a report: unlink engines that detached, and make the task come
 * through the resume point if any engine asked for more than RESUME.  A
 * STOP needs the resume point too, unless the caller stops the task itself
 * right after (@stops_here).
 */
static void __finish_report(struct utrace *utrace, struct utrace_report *report,
			    bool stops_here);

static __always_inline void finish_report(struct utrace *utrace, struct utrace_report *report,
					  bool stops_here)
{
	/*
	 * Nothing to unlink, and no engine asked for more than RESUME, or
	 * for a stop the caller makes at once with nothing else asked
	 * (__finish_report() would change nothing): no lock.
	 */
	if (likely(!report->detaches &&
		   (report->action == UTRACE_RESUME ||
		    (stops_here && report->action == UTRACE_STOP &&
		     report->resume_action == UTRACE_RESUME)) &&
		   READ_ONCE(utrace->resume) == UTRACE_RESUME))
		return;
	__finish_report(utrace, report, stops_here);
}

static noinline void __finish_report(struct utrace *utrace, struct utrace_report *report,
				     bool stops_here)
{
	LIST_HEAD(drop);
	enum utrace_resume_action resume = report->action;

	spin_lock(&utrace->lock);
	if (report->detaches)
		utrace_reset(utrace, &drop);
	if (resume == UTRACE_STOP)
		resume = stops_here ? report->resume_action : UTRACE_REPORT;
	if (resume < utrace->resume)
		utrace->resume = resume;
	if (utrace->resume < UTRACE_RESUME && !utrace->death)
		utrace_queue_work(utrace, utrace->resume == UTRACE_INTERRUPT);
	spin_unlock(&utrace->lock);
	put_detached_list(&drop);
}

static void utrace_report_jctl_continued(struct utrace *utrace);

struct utrace_traced_timer {
	struct timer_list timer;
	struct task_struct *task;
};

static void utrace_traced_timeout(struct timer_list *t)
{
	struct utrace_traced_timer *tt = from_timer(tt, t, timer);

	utrace_kcall(wake_up_state)(tt->task, __TASK_TRACED);
}

/**
 * utrace_schedule_traced_timeout - schedule_timeout() in TASK_TRACED
 * @timeout:	jiffies
 *
 * schedule_timeout()'s timer wakes the task with wake_up_process(), which
 * wakes only TASK_NORMAL sleepers: a task in TASK_TRACED would sleep on.
 * This timer wakes __TASK_TRACED.  The caller set its state; in the task.
 */
void utrace_schedule_traced_timeout(long timeout)
{
	struct utrace_traced_timer tt = { .task = current };

	timer_setup_on_stack(&tt.timer, utrace_traced_timeout, 0);
	mod_timer(&tt.timer, jiffies + timeout);
	schedule();
	del_timer_sync(&tt.timer);
	destroy_timer_on_stack(&tt.timer);
}

static enum utrace_resume_action __utrace_finish_resume(struct utrace *utrace,
							enum utrace_resume_action action,
							bool requeue);

/*
 * Stop here, in TASK_TRACED, until no engine wants the task stopped or a
 * fatal signal arrives.  Called only by the task itself, with no lock held,
 * outside any report loop.  After a stop, the event union is recomputed at
 * once if it may have shrunk (@stale): events engines gave up while it was
 * stopped (syscall reports, and with them the syscall slow path) are off
 * before it goes on.
 *
 * Once the thread group exits, the kernel drops every further SIGKILL: an
 * engine of /dev/utrace whose file only this group's file table holds can
 * then never be told to resume.  Before each sleep, and ten times a second
 * while asleep if the task has engines whose file may become so held, such
 * engines are detached (utrace_engines_exit_orphans()), as the close of the
 * file in exit_files() would, after the stop.  Other stops (a ptrace
 * tracee's at PTRACE_EVENT_EXIT) are not woken.
 *
 * SIGCONT does not end a stop, but a thread whose engines want JCTL and
 * that was stopped when one came (utrace_mark_continued()) reports JCTL
 * CLD_CONTINUED with notify 0 when it wakes: at once if an engine listens
 * (utrace_jctl_listen()), else when its engines resume it.
 *
 * @finish: NULL, or the resume action of a caller that finishes the stop
 * with utrace_finish_resume(utrace, *@finish, true) unless a fatal signal
 * is pending.  Its locked part is then done in the stop's last lock
 * section: *@finish becomes the action for utrace_apply_step(), and true
 * is returned.  False: the caller's own finish is still to do.
 */
static bool utrace_stop(struct utrace *utrace, enum utrace_resume_action *finish)
{
	struct task_struct *task = current;
	struct utrace_stop_trace st = {};
	bool slept = false, look_again = false, finished = false;
	LIST_HEAD(drop);

	for (;;) {
		if (task->signal->flags & SIGNAL_GROUP_EXIT)
			look_again = utrace_engines_exit_orphans();
		spin_lock(&utrace->lock);
look:
		if (utrace->death || !utrace_wants_stop(utrace) ||
		    READ_ONCE(utrace_exiting)) {
			if (slept && utrace->stale && !utrace->death &&
			    !READ_ONCE(utrace_exiting))
				utrace_reset(utrace, &drop);
			if (finish && !fatal_signal_pending(task)) {
				*finish = __utrace_finish_resume(utrace, *finish, true);
				finished = true;
			}
			spin_unlock(&utrace->lock);
			put_detached_list(&drop);
			utrace_trace_resume(&st, utrace_exiting ? UTRACE_RESUME_UNLOAD :
						  UTRACE_RESUMED);
			return finished;
		}
		/*
		 * The stop's start time is taken before the stop is visible
		 * (utrace_task_stopped() reads ->stopped without the lock): one
		 * who sees the task stopped and waits sees a longer stop traced.
		 */
		utrace_trace_stop(utrace, &st);
		utrace->stopped = true;
		set_special_state(TASK_TRACED);
		spin_unlock(&utrace->lock);

		/*
		 * signal_wake_up() of a fatal signal wakes __TASK_TRACED: test
		 * after setting our state so such a wakeup is never lost.
		 */
		if (!fatal_signal_pending(task)) {
			if (look_again)
				utrace_schedule_traced_timeout(HZ / 10);
			else
				schedule();
		}
		__set_current_state(TASK_RUNNING);

		spin_lock(&utrace->lock);
		utrace_stop_held(utrace);
		utrace->stopped = false;
		/*
		 * Woken with no fatal signal, group exit or SIGCONT report to
		 * handle: the next round's look, under the lock already held.
		 */
		if (!fatal_signal_pending(task) && !(task->signal->flags & SIGNAL_GROUP_EXIT) &&
		    !test_bit(UTRACE_JCTL_CONTINUED, &utrace->jctl_bits)) {
			slept = true;
			goto look;
		}
		spin_unlock(&utrace->lock);
		if (fatal_signal_pending(task)) {
			utrace_trace_resume(&st, UTRACE_RESUME_KILLED);
			return false;
		}
		slept = true;
		if (test_and_clear_bit(UTRACE_JCTL_CONTINUED, &utrace->jctl_bits)) {
			clear_bit(UTRACE_JCTL_LISTEN, &utrace->jctl_bits);
			utrace_report_jctl_continued(utrace);
		}
	}
}

/* Turn stepping on or off for the task's way back to user mode. */
static void utrace_apply_step(struct utrace *utrace, enum utrace_resume_action action)
{
	struct task_struct *task = current;

	/* No step to turn on or off (@stepping is the task's own): no lock. */
	if (action != UTRACE_SINGLESTEP && action != UTRACE_BLOCKSTEP && !utrace->stepping)
		return;
	/*
	 * Unloading: nothing may be left armed for after the module.  Under
	 * the lock, against utrace_core_quiesce(): it sees @stepping set, and
	 * has the task turn it off, or we see utrace_exiting.
	 */
	spin_lock(&utrace->lock);
	if (READ_ONCE(utrace_exiting))
		action = UTRACE_RESUME;
	if (action == UTRACE_SINGLESTEP || action == UTRACE_BLOCKSTEP)
		utrace->stepping = 1;
	spin_unlock(&utrace->lock);
	if (action == UTRACE_BLOCKSTEP && arch_has_block_step()) {
		utrace_kcall(user_enable_block_step)(task);
	} else if (action == UTRACE_SINGLESTEP || action == UTRACE_BLOCKSTEP) {
		utrace_kcall(user_enable_single_step)(task);
	} else if (utrace->stepping) {
		utrace->stepping = 0;
		utrace_kcall(user_disable_single_step)(task);
		/* It may have cleared our syscall exit bit (x86). */
		spin_lock(&utrace->lock);
		if (utrace->syscall_work)
			utrace_arch_set_syscall_work(utrace);
		spin_unlock(&utrace->lock);
	}
}

/**
 * utrace_unload_step_off - unloading: turn current's step off, not trap it
 *
 * From the arch's system call exit hook, where a step that was on during
 * the call gives its trap (x86: user_single_step_report()).  While the
 * module unloads (utrace_core_quiesce() interrupted the call to have the
 * task turn its step off), nobody is left to take that trap: if the step
 * is ours, it is turned off instead.  Returns whether it was.
 */
bool utrace_unload_step_off(void)
{
	struct utrace *utrace;

	if (!READ_ONCE(utrace_exiting))
		return false;
	utrace = utrace_lookup(current);
	if (!utrace || !utrace->stepping)
		return false;
	utrace_apply_step(utrace, UTRACE_RESUME);
	return true;
}

/*
 * After a report at the resume point and its stop, if any: a step asked for
 * while stopped wins; then step, or stop stepping.  @requeue: a report or
 * interrupt asked for meanwhile brings the task to the resume point (again,
 * after a stop there; or, after a stop inside a system call, on its way
 * back to user mode).
 */
static enum utrace_resume_action __utrace_finish_resume(struct utrace *utrace,
							enum utrace_resume_action action,
							bool requeue)
	__must_hold(&utrace->lock)
{
	if (utrace->resume < UTRACE_RESUME && utrace->resume > UTRACE_REPORT) {
		action = utrace->resume;
		utrace->resume = UTRACE_RESUME;
	}
	/*
	 * The engines that asked for the step may have detached while the
	 * task was stopped (a file closed): no step that nobody takes.
	 */
	if ((action == UTRACE_SINGLESTEP || action == UTRACE_BLOCKSTEP) &&
	    !utrace_wants_step(utrace))
		action = UTRACE_RESUME;
	if (requeue && utrace->resume < UTRACE_RESUME && !utrace->death)
		utrace_queue_work(utrace, utrace->resume == UTRACE_INTERRUPT);
	return action;
}

static void utrace_finish_resume(struct utrace *utrace, enum utrace_resume_action action,
				 bool requeue)
{
	spin_lock(&utrace->lock);
	action = __utrace_finish_resume(utrace, action, requeue);
	spin_unlock(&utrace->lock);
	utrace_apply_step(utrace, action);
}

/*
 * The resume point, on the task's way back to user mode: a report to
 * whoever asked for one, a stop if any engine wants it, then a step or not.
 * The report is report_quiesce, or report_signal (UTRACE_SIGNAL_REPORT) when
 * the task came here from get_signal(), and UTRACE_SIGNAL_HANDLER right after
 * a signal handler's frame was set up; only engines with QUIESCE get it.
 */
static void utrace_resume(struct utrace *utrace)
{
	enum utrace_resume_action action;
	bool handler;
	LIST_HEAD(drop);

	spin_lock(&utrace->lock);
	action = utrace->resume;
	utrace->resume = UTRACE_RESUME;
	handler = utrace->signal_handler;
	utrace->signal_handler = false;
	if (utrace->death) {
		spin_unlock(&utrace->lock);
		return;
	}
	/* Engines detached from outside are unlinked here, by the task. */
	if (utrace->stale)
		utrace_reset(utrace, &drop);
	spin_unlock(&utrace->lock);
	put_detached_list(&drop);

	/* Nothing asked for (a detach only): stepping stays as it is... */
	if (action == UTRACE_RESUME && !handler) {
		/* ...unless no engine is left to take the trap. */
		if (utrace->stepping && list_empty(&utrace->attached) &&
		    list_empty(&utrace->attaching))
			utrace_apply_step(utrace, UTRACE_RESUME);
		return;
	}

	if ((action <= UTRACE_REPORT || handler) && (utrace->flags & UTRACE_EVENT(QUIESCE))) {
		INIT_REPORT(report);

		/*
		 * A step asked for earlier holds unless an engine asks less, or
		 * an engine stops the task: then it is what the task is resumed
		 * with (report.resume_action has only the others' answers).
		 */
		if (action > UTRACE_REPORT)
			report.action = action;
		utrace_start_report(utrace);
		if (handler || utrace->in_signal) {
			struct k_sigaction ka = {};
			kernel_siginfo_t info = {};
			struct utrace_signal_args args = {
				.regs = current_pt_regs(), .info = &info, .return_ka = &ka,
			};

			report.result = handler ? UTRACE_SIGNAL_HANDLER : UTRACE_SIGNAL_REPORT;
			report_callbacks(utrace, &report, UTRACE_EVENT(QUIESCE), false,
					 invoke_signal, &args);
		} else {
			unsigned long event = 0;

			report_callbacks(utrace, &report, UTRACE_EVENT(QUIESCE), false,
					 invoke_quiesce, &event);
		}
		finish_report(utrace, &report, true);
		action = report.action == UTRACE_STOP ? report.resume_action : report.action;
	} else if (action <= UTRACE_REPORT) {
		action = UTRACE_RESUME;
	}
	/*
	 * A report or an interrupt asked for while stopped here: another
	 * pass of the resume point before user mode (task_work_run() takes
	 * the new work), as after the other stops (utrace_stop_now()).
	 */
	if (utrace_stop(utrace, &action))
		utrace_apply_step(utrace, action);
	else
		utrace_finish_resume(utrace, action, true);
}

/*
 * Task work: queued by utrace_queue_work(), or by utrace_core_quiesce() to
 * turn a step off before unload; runs in the task.
 */
static void utrace_task_work(struct callback_head *cb)
{
	struct utrace *utrace = container_of(cb, struct utrace, work);
	bool step_off;

	spin_lock(&utrace->lock);
	utrace->work_queued = 0;
	step_off = utrace->step_off;
	utrace->step_off = 0;
	spin_unlock(&utrace->lock);

	utrace_resume(utrace);
	/*
	 * Unloading: whatever utrace_resume() did (a death, engines left), the
	 * task leaves here not stepping: after the module nobody would turn it
	 * off, and each instruction would trap (SIGTRAP).
	 */
	if (READ_ONCE(utrace_exiting) && utrace->stepping)
		utrace_apply_step(utrace, UTRACE_RESUME);
	if (step_off && atomic_dec_and_test(&utrace_step_offs) &&
	    wq_has_sleeper(&utrace_inflight_wq))
		wake_up_all(&utrace_inflight_wq);
	utrace_inflight_put();
}

/*
 * Reports after a stop-at-once event (syscall entry, exit, clone): stop now
 * if an engine said so, then let the resume point handle the rest.
 */
static void utrace_stop_now(struct utrace *utrace, struct utrace_report *report)
{
	if (report->action != UTRACE_STOP)
		return;
	utrace_stop(utrace, NULL);
	/* A report, interrupt or step asked for while stopped: at the resume point. */
	spin_lock(&utrace->lock);
	if (utrace->resume < UTRACE_RESUME && !utrace->death)
		utrace_queue_work(utrace, utrace->resume == UTRACE_INTERRUPT);
	spin_unlock(&utrace->lock);
}

/*
 * After a stop inside a system call (syscall entry or exit, clone): the
 * step asked for while stopped, else the one the report's other answers
 * chose (@action), is turned on or off now, as the kernel's ptrace_resume()
 * does in the stopped task, so that the system call's exit sees it (the
 * step trap, see <linux/utrace.h>).  A report asked for waits for the
 * resume point.
 */
static void utrace_resume_in_syscall(struct utrace *utrace, enum utrace_resume_action action)
{
	if (fatal_signal_pending(current))
		return;
	utrace_finish_resume(utrace, action, true);
}

/* Whether the task's get_signal() must go through signal.c. */
bool utrace_wants_signals(struct utrace *utrace)
{
	return READ_ONCE(utrace->flags) & (UTRACE_EVENT_SIGNAL_ALL | UTRACE_EVENT(JCTL));
}

/**
 * utrace_report_signal - report a signal the task dequeued
 * @utrace:	the task's utrace
 * @report:	INIT_REPORT'ed, .result = the disposition normal delivery
 *		would have (UTRACE_SIGNAL_*)
 * @regs:	the task's user registers
 * @info:	the signal; engines may change it
 * @orig_ka:	the task's sigaction for it
 * @return_ka:	a copy engines may change: how the signal is delivered
 * @event:	the UTRACE_EVENT(SIGNAL*) bit of the disposition
 *
 * Called by signal.c with no lock held.  Engines that want @event or
 * QUIESCE are asked in attach order; report->result ends up the
 * disposition to act on, plus UTRACE_SIGNAL_HOLD.  utrace_signal_done()
 * must follow.
 */
void utrace_report_signal(struct utrace *utrace, struct utrace_report *report,
			  struct pt_regs *regs, kernel_siginfo_t *info,
			  const struct k_sigaction *orig_ka, struct k_sigaction *return_ka,
			  unsigned long event)
{
	struct utrace_signal_args args = {
		.regs = regs, .info = info, .orig_ka = orig_ka, .return_ka = return_ka,
		.event = event,
	};

	utrace_start_report(utrace);
	report_callbacks(utrace, report, event | UTRACE_EVENT(QUIESCE), false, invoke_signal,
			 &args);
}

/*
 * After a signal report: an engine's stop or step takes effect when the
 * signal's fate allows (see enum utrace_signal_fate).
 */
void utrace_signal_done(struct utrace *utrace, struct utrace_report *report,
			enum utrace_signal_fate fate)
{
	switch (fate) {
	case UTRACE_FATE_IGNORED:
		/* Back to user mode: stop, then step or stop stepping, now. */
		finish_report(utrace, report, true);
		utrace_stop_now(utrace, report);
		utrace_finish_resume(utrace, report->resume_action, false);
		break;
	case UTRACE_FATE_FATAL:
		report->action = report->resume_action;
		finish_report(utrace, report, true);
		break;
	case UTRACE_FATE_HANDLER:
	case UTRACE_FATE_STOPPED:
		finish_report(utrace, report, false);
		break;
	}
}

/* One JCTL report pass; returns the least action | UTRACE_JCTL_NOTIFIED. */
static u32 __utrace_report_jctl(struct utrace *utrace, int type, int notify)
{
	struct utrace_jctl_args args = { .type = type, .notify = notify };

	INIT_REPORT(report);

	if (!(utrace->flags & UTRACE_EVENT(JCTL)))
		return UTRACE_RESUME;
	utrace_start_report(utrace);
	report_callbacks(utrace, &report, UTRACE_EVENT(JCTL), false, invoke_jctl, &args);
	/* A JCTL stop (CLD_STOPPED) is made by the caller, at once. */
	finish_report(utrace, &report, type == CLD_STOPPED || !notify);
	return report.action | (report.result & UTRACE_JCTL_NOTIFIED);
}

/**
 * utrace_report_jctl - report a job control stop or continue
 * @utrace:	the task's utrace
 * @type:	CLD_STOPPED (the task is about to stop) or CLD_CONTINUED
 * @notify:	the CLD_* code the parent is told next, 0 if this thread
 *		does not tell it
 *
 * The task, no lock held.  Returns UTRACE_STOP (plus UTRACE_JCTL_NOTIFIED
 * if an engine said so) when an engine wants the task stopped: for
 * CLD_STOPPED the caller (signal.c) then makes the JCTL stop, see
 * utrace_jctl_stop().  A stop asked for at CLD_CONTINUED takes effect on
 * the way back to user mode.
 */
u32 utrace_report_jctl(struct utrace *utrace, int type, int notify)
{
	return __utrace_report_jctl(utrace, type, notify);
}

/* In a JCTL stop, woken by SIGCONT: this thread's own CLD_CONTINUED. */
static void utrace_report_jctl_continued(struct utrace *utrace)
{
	__utrace_report_jctl(utrace, CLD_CONTINUED, 0);
}

/**
 * utrace_jctl_stop - the JCTL stop of a thread that took part in a group stop
 * @utrace:	the task's utrace
 *
 * The task, no lock held, from its signal path (signal.c), after an engine
 * answered UTRACE_STOP to JCTL CLD_STOPPED and the thread did the group
 * stop's bookkeeping.  Sleeps in TASK_TRACED until no engine wants it
 * stopped (see utrace_stop() for SIGCONT); a resume action other than
 * RESUME asked for meanwhile (a step, INTERRUPT) is carried out at the
 * resume point on the way back to user mode.
 */
void utrace_jctl_stop(struct utrace *utrace)
{
	utrace_stop(utrace, NULL);
	spin_lock(&utrace->lock);
	if (utrace->resume < UTRACE_RESUME && !utrace->death)
		utrace_queue_work(utrace, utrace->resume == UTRACE_INTERRUPT);
	spin_unlock(&utrace->lock);
}

/*
 * A signal handler frame was set up (signal_setup_done(), atomic, in the
 * task): report UTRACE_SIGNAL_HANDLER before the handler's first
 * instruction if an engine listens or a stop or step is pending.
 */
void utrace_signal_handler_setup(struct utrace *utrace)
{
	spin_lock(&utrace->lock);
	if (!utrace->death && ((utrace->flags & UTRACE_EVENT(QUIESCE)) ||
			       utrace->resume < UTRACE_RESUME || utrace->stepping)) {
		utrace->signal_handler = true;
		utrace_queue_work(utrace, false);
	}
	spin_unlock(&utrace->lock);
}

/*
 * The rest of a syscall report from @pos on (finish_callback() first, if
 * @answered with @ret), with the result bits so far, then its end: a stop,
 * and for SYSCALL_ENTRY the RESUMED reports after it.  Returns true if the
 * call must not run.
 */
noinline bool utrace_syscall_report_rest(struct utrace *utrace, unsigned long event,
					 struct pt_regs *regs, struct list_head *pos, u32 result,
					 u32 ret, bool answered)
{
	const bool entry = event == UTRACE_EVENT(SYSCALL_ENTRY);
	struct utrace_entry_args args = { .regs = regs };
	struct utrace_report report = { .result = result, .action = UTRACE_RESUME,
					.resume_action = UTRACE_RESUME };
	enum utrace_resume_action step;
	bool stopped = false, finished = false;

	if (answered) {
		finish_callback(utrace, &report, list_entry(pos, struct utrace_engine, entry), ret);
		pos = entry ? pos->prev : pos->next;
	}
	for (;;) {
		if (entry)
			__report_callbacks_from(utrace, &report, event, true, invoke_syscall_entry,
						&args, pos);
		else
			__report_callbacks_from(utrace, &report, event, false, invoke_syscall_exit,
						regs, pos);
		finish_report(utrace, &report, true);
		if (report.action != UTRACE_STOP)
			break;
		/* The stop ends with utrace_resume_in_syscall()'s part, unless RESUMED follows. */
		step = report.resume_action;
		finished = utrace_stop(utrace, entry && step == UTRACE_REPORT ? NULL : &step);
		stopped = true;
		if (!entry)
			break;
		if (fatal_signal_pending(current))
			return true;
		/* An engine that returned REPORT is asked again, RESUMED. */
		if (report.resume_action != UTRACE_REPORT)
			break;
		args.resumed = UTRACE_SYSCALL_RESUMED;
		report = (struct utrace_report){ .action = UTRACE_RESUME,
						 .resume_action = UTRACE_RESUME };
		utrace_start_report(utrace);
		pos = utrace->attached.prev;
	}
	if (finished)
		utrace_apply_step(utrace, step);
	else if (stopped)
		utrace_resume_in_syscall(utrace, report.resume_action);
	return utrace_syscall_action(report.result) == UTRACE_SYSCALL_ABORT;
}

/*
 * clone flags of @child, which @current just created (wake_up_new_task()),
 * as far as the child shows them: for a clone whose flags were not noted.
 */
static unsigned long derive_clone_flags(struct task_struct *child)
{
	unsigned long flags = child->exit_signal > 0 ? child->exit_signal : 0;

	if (child->mm && child->mm == current->mm)
		flags |= CLONE_VM;
	if (child->fs == current->fs)
		flags |= CLONE_FS;
	if (child->files == current->files)
		flags |= CLONE_FILES;
	if (child->sighand == current->sighand)
		flags |= CLONE_SIGHAND;
	if (same_thread_group(child, current))
		flags |= CLONE_THREAD;
	else if (child->real_parent != current)
		flags |= CLONE_PARENT;
	if (child->vfork_done)
		flags |= CLONE_VFORK;
	if (child->ptrace)
		flags |= CLONE_PTRACE;
	if (child->nsproxy != current->nsproxy)
		flags |= CLONE_NEWNS;	/* some namespace differs */
	return flags;
}

/**
 * utrace_note_clone - kernel_clone() begins in a task that may be traced
 * @flags:	its args->flags (CLONE_*, without the exit signal)
 * @exit_signal: its args->exit_signal
 *
 * From the kprobe at kernel_clone()'s entry (hooks.c), atomic, in the task.
 * The CLONE report of the task it creates gives these flags: CLONE_PTRACE,
 * CLONE_UNTRACED and the exit signal asked for cannot be seen in the child
 * (CLONE_PARENT gives it the parent's exit signal).  A clone that fails
 * leaves the note to be overwritten by the next one.
 */
void utrace_note_clone(u64 flags, int exit_signal)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(current);
	if (utrace) {
		utrace->clone_flags = flags | (exit_signal & CSIGNAL);
		utrace->clone_noted = true;
	}
	rcu_read_unlock();
}

/* The flags of the clone that created @child, for its CLONE report. */
static unsigned long utrace_clone_flags(struct utrace *utrace, struct task_struct *child)
{
	/*
	 * User workers do not come through kernel_clone(): create_io_thread()
	 * (io_uring, CLONE_IO) and vhost_task_create() clone them untraced.
	 */
	if (child->flags & UTRACE_PF_USER_WORKER)
		return derive_clone_flags(child) | CLONE_UNTRACED |
		       (child->flags & PF_IO_WORKER ? CLONE_IO : 0);
	/* Not traced yet when kernel_clone() began. */
	if (!utrace->clone_noted)
		return derive_clone_flags(child);
	utrace->clone_noted = false;
	return utrace->clone_flags;
}

/**
 * utrace_report_clone - report a new task, before it first runs
 * @child:	the new task
 *
 * Called in the parent from wake_up_new_task(), sleepable, before @child is
 * woken.  A stop waits until after the child is woken, in the system call
 * (before the parent's vfork wait for vfork): utrace_finish_clone(), as
 * native ptrace's fork event stops.
 */
void utrace_report_clone(struct task_struct *child)
{
	struct utrace *utrace = utrace_lookup(current);
	struct utrace_clone_args args = { .child = child };

	INIT_REPORT(report);

	if (!utrace)
		return;
	utrace_arch_clone(child);
	args.flags = utrace_clone_flags(utrace, child);
	if (!(utrace->flags & UTRACE_EVENT(CLONE)))
		return;
	utrace_start_report(utrace);
	report_callbacks(utrace, &report, UTRACE_EVENT(CLONE), false, invoke_clone, &args);
	finish_report(utrace, &report, true);	/* utrace_finish_clone() stops */
}

/* After the child was woken: a CLONE stop takes effect now. */
void utrace_finish_clone(void)
{
	struct utrace *utrace = utrace_lookup(current);
	bool stop;

	if (!utrace)
		return;
	spin_lock(&utrace->lock);
	stop = utrace_wants_stop(utrace);
	spin_unlock(&utrace->lock);
	if (stop) {
		/* The others' answers are in utrace->resume (finish_report()). */
		enum utrace_resume_action step = UTRACE_RESUME;

		if (utrace_stop(utrace, &step))
			utrace_apply_step(utrace, step);
		else
			utrace_resume_in_syscall(utrace, UTRACE_RESUME);
	}
}

/**
 * utrace_stop_current - stop the current task for @engine, now
 * @engine:	an engine attached to current
 *
 * For an engine that hooks a kernel point the core does not report (the
 * ptrace backend's PTRACE_EVENT_SECCOMP): as if @engine had returned
 * %UTRACE_STOP from a stop-at-once report there.  In the task, sleepable,
 * no locks held.  Returns when no engine wants the task stopped any more or
 * a fatal signal is pending; what engines asked for meanwhile (a report, a
 * step) takes effect at the resume point.  Returns 0, -ESRCH if current
 * has no utrace, -EALREADY if @engine is detached or current is dying.
 */
int utrace_stop_current(struct utrace_engine *engine)
{
	struct utrace *utrace = utrace_lookup(current);
	struct utrace_report report = { .action = UTRACE_STOP };

	if (!utrace)
		return -ESRCH;
	spin_lock(&utrace->lock);
	if (engine_detached(engine) || utrace->death) {
		spin_unlock(&utrace->lock);
		return -EALREADY;
	}
	engine->flags |= ENGINE_STOP;
	spin_unlock(&utrace->lock);
	utrace_stop_now(utrace, &report);
	return 0;
}
EXPORT_SYMBOL_GPL(utrace_stop_current);

/*
 * sched_process_exec, atomic, after begin_new_exec(): restore the syscall
 * slow path exec cleared.
 */
void utrace_report_exec_event(void)
{
	struct utrace *utrace = utrace_lookup(current);

	if (!utrace)
		return;
	spin_lock(&utrace->lock);
	/* begin_new_exec() cleared x86's syscall user dispatch bit: set ours again. */
	if (utrace->syscall_work)
		utrace_arch_set_syscall_work(utrace);
	spin_unlock(&utrace->lock);
}

/**
 * utrace_report_exec - report a successful exec
 *
 * Called in the task from exec_binprm() (proc_exec_connector()), where
 * native ptrace's PTRACE_EVENT_EXEC stops: the new image is in place and
 * the system call has not returned.  Sleepable; a stop takes effect at once.
 */
void utrace_report_exec(void)
{
	struct utrace *utrace = utrace_lookup(current);

	INIT_REPORT(report);

	if (!utrace || !(utrace->flags & UTRACE_EVENT(EXEC)))
		return;
	utrace_start_report(utrace);
	report_callbacks(utrace, &report, UTRACE_EVENT(EXEC), false, invoke_exec,
			 current_pt_regs());
	finish_report(utrace, &report, true);
	utrace_stop_now(utrace, &report);
}

/**
 * utrace_report_exit - report a thread starting to exit
 * @code:	exit code, engines may change it
 *
 * Called at the start of do_exit(), sleepable, mm still alive.  A stop
 * takes effect at once (but not with SIGKILL pending).
 */
void utrace_report_exit(long *code)
{
	struct utrace *utrace = utrace_lookup(current);
	struct utrace_exit_args args = { .orig_code = *code, .code = code };

	INIT_REPORT(report);

	if (!utrace || !(utrace->flags & UTRACE_EVENT(EXIT)))
		return;
	utrace_start_report(utrace);
	report_callbacks(utrace, &report, UTRACE_EVENT(EXIT), false, invoke_exit, &args);
	finish_report(utrace, &report, true);
	utrace_stop_now(utrace, &report);
}

/**
 * utrace_report_death - report a thread that has died
 * @task:	current, from the sched_process_exit tracepoint
 *
 * Atomic context: callbacks must not sleep.  After this, no stops.
 */
void utrace_report_death(struct task_struct *task)
{
	struct utrace *utrace = utrace_lookup(task);
	struct utrace_death_args args;
	bool report_death;

	INIT_REPORT(report);

	if (!utrace)
		return;
	spin_lock(&utrace->lock);
	utrace->death = 1;
	utrace->resume = UTRACE_RESUME;
	if (utrace->syscall_work)
		utrace_arch_clear_syscall_work(utrace);
	/*
	 * From here the task is dead to utrace_quiet(), but for the walk
	 * below: a detach meanwhile (the tracer's exit, a file closed) must
	 * leave the list to it.
	 */
	report_death = utrace->flags & UTRACE_EVENT(DEATH);
	utrace->death_report = report_death;
	spin_unlock(&utrace->lock);
	if (!report_death)
		return;
	utrace_start_report(utrace);
	args.group_dead = atomic_read(&task->signal->live) == 0;
	args.signal = task->exit_signal;
	report_callbacks(utrace, &report, UTRACE_EVENT(DEATH), false, invoke_death, &args);
	spin_lock(&utrace->lock);
	utrace->death_report = 0;
	spin_unlock(&utrace->lock);
	/*
	 * Engines detached by their callback or meanwhile stay linked: the
	 * reap work frees them in process context (or a later detach does).
	 */
}

/* REAP reports, then the entry goes.  Workqueue context, may sleep. */
static void utrace_reap_work(struct work_struct *work)
{
	struct utrace *utrace = container_of(work, struct utrace, reap_work);
	struct utrace_engine *engine, *next;
	LIST_HEAD(engines);

	spin_lock(&utrace->lock);
	list_splice_tail_init(&utrace->attaching, &utrace->attached);
	list_splice_tail_init(&utrace->attached, &engines);
	spin_unlock(&utrace->lock);

	list_for_each_entry_safe(engine, next, &engines, entry) {
		const struct utrace_engine_ops *ops = READ_ONCE(engine->ops);

		if ((engine->flags & UTRACE_EVENT(REAP)) && ops->report_reap) {
			u64 start = utrace_trace_report_begin(engine, UTRACE_EVENT(REAP));

			ops->report_reap(engine, utrace->task);
			utrace_trace_report_end(engine, UTRACE_EVENT(REAP), UTRACE_DETACH, start);
		}
		engine->flags = 0;
		WRITE_ONCE(engine->ops, &utrace_detached_ops);
		list_del_init(&engine->entry);
		utrace_engine_put(engine);
	}
	utrace_put(utrace);		/* the table's */
	utrace_inflight_put();
}

/**
 * utrace_flush_reaps - wait for the REAP reports of tasks released so far
 *
 * release_task() only queues a task's REAP report (utrace_unhash()): a
 * wait that reaped a task can return before its engines heard of it.
 * After this, every task released before the call has been reported.
 * Context: process, may sleep; no lock a REAP callback takes may be held.
 */
void utrace_flush_reaps(void)
{
	flush_workqueue(utrace_wq);
}

/* Remove @utrace from the table and schedule its REAP; any context. */
static void utrace_unhash(struct utrace *utrace)
{
	if (!utrace_table_remove(utrace))
		return;
	utrace_inflight_get();
	queue_work(utrace_wq, &utrace->reap_work);
}

/* From release_task() (via cgroup_release()): atomic, @task is being released. */
void utrace_release_task(struct task_struct *task)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace)
		utrace_unhash(utrace);
	rcu_read_unlock();
}

int utrace_core_init(void)
{
	int ret, cpu;

	/*
	 * A module's per-CPU initializers get no relocations: a pointer is set
	 * here, before any hook can look.
	 */
	for_each_possible_cpu(cpu)
		per_cpu(utrace_slot, cpu) = &utrace_slot_empty;
	utrace_cachep = KMEM_CACHE(utrace, 0);
	if (!utrace_cachep)
		return -ENOMEM;
	utrace_engine_cachep = KMEM_CACHE(utrace_engine, 0);
	if (!utrace_engine_cachep) {
		ret = -ENOMEM;
		goto out_cache;
	}
	utrace_wq = alloc_workqueue("utrace", 0, 0);
	if (!utrace_wq) {
		ret = -ENOMEM;
		goto out_engine_cache;
	}
	ret = rhashtable_init(&utrace_table, &utrace_table_params);
	if (ret)
		goto out_wq;
	return 0;

out_wq:
	destroy_workqueue(utrace_wq);
out_engine_cache:
	kmem_cache_destroy(utrace_engine_cachep);
out_cache:
	kmem_cache_destroy(utrace_cachep);
	return ret;
}

/*
 * Whether every task that still has to turn its step off is held where no
 * task work runs until someone else acts: a job-control stop (SIGCONT), a
 * ptrace stop, the freezer.  Unload does not wait for those.
 */
static bool utrace_step_offs_held(void)
{
	struct rhashtable_iter iter;
	struct utrace *utrace;
	bool held = true;

	rhashtable_walk_enter(&utrace_table, &iter);
	rhashtable_walk_start(&iter);
	while (held && (utrace = rhashtable_walk_next(&iter))) {
		if (IS_ERR(utrace) || !READ_ONCE(utrace->step_off))
			continue;
		if (!(READ_ONCE(utrace->task->__state) &
		      (__TASK_STOPPED | __TASK_TRACED | TASK_FROZEN)))
			held = false;
		else
			pr_info_ratelimited("unload: task %d left stepping: it is stopped\n",
					    task_pid_nr(utrace->task));
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	return held;
}

/* Unload: wait for the step-off work utrace_core_quiesce() queued. */
static void utrace_step_offs_wait(void)
{
	while (!wait_event_timeout(utrace_inflight_wq, !atomic_read(&utrace_step_offs),
				   HZ / 10)) {
		if (utrace_step_offs_held())
			break;
	}
}

/*
 * Unload, first step, while every hook is still in place: no task may keep
 * a work bit of ours once the hooks are gone, or its next system call would
 * get the kernel's own handling of that bit (x86: SIGSYS from
 * syscall_user_dispatch(), SIGTRAP from user_single_step_report(); finding 7
 * of issue 12).  No engine is left that could set one again (the device's
 * and the backend's are gone, other modules' hold ours).  Stopped tasks are
 * woken: they leave their stop and turn stepping off (utrace_exiting).  A
 * task with a step armed (blocked in a call, or running, its engines just
 * detached) gets task work that turns the step off, as an interrupt, and is
 * waited for (utrace_step_offs_wait()): only the task can do it, and work
 * queued for it earlier may not have run yet (utrace_core_exit() cancels
 * it).  An interrupted call's exit makes no step trap meanwhile
 * (utrace_unload_step_off()); the call is restarted.  A task that read its
 * work bits before they were cleared is past its call of the hooked function
 * once it has been through a voluntary context switch or user mode: an
 * RCU-tasks grace period.
 */
void utrace_core_quiesce(void)
{
	struct rhashtable_iter iter;
	struct utrace *utrace;

	WRITE_ONCE(utrace_exiting, true);
	rhashtable_walk_enter(&utrace_table, &iter);
	rhashtable_walk_start(&iter);
	while ((utrace = rhashtable_walk_next(&iter))) {
		if (IS_ERR(utrace))
			continue;
		spin_lock(&utrace->lock);
		if (utrace->syscall_work)
			utrace_arch_clear_syscall_work(utrace);
		if (utrace->stopped) {
			utrace->stopped = false;
			utrace_kcall(wake_up_state)(utrace->task, __TASK_TRACED);
		}
		if (utrace->stepping && !utrace->step_off) {
			utrace->step_off = 1;
			atomic_inc(&utrace_step_offs);
			if (!__utrace_queue_work(utrace, true)) {
				/* Exiting: it never returns to user mode. */
				utrace->step_off = 0;
				atomic_dec(&utrace_step_offs);
			}
		}
		spin_unlock(&utrace->lock);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	utrace_step_offs_wait();
#ifdef CONFIG_TASKS_RCU
	synchronize_rcu_tasks();
#else
	synchronize_rcu();
#endif
}

/*
 * Unload, hooks gone: a task that died inside a replacement after its
 * do_exit() hook was removed never drops its frames (utrace_frame_get()).
 * PF_EXITING says it is in do_exit(), below that frame for good; its count
 * is final (it is written by the task only, before exit_signals() sets
 * PF_EXITING under siglock).  Entries stay in the table until the end of
 * utrace_core_exit() (the REAP kprobe is gone), so the walk finds them.
 */
static void utrace_reclaim_dead_frames(void)
{
	struct utrace *utrace;
	struct rhashtable_iter iter;

	rhashtable_walk_enter(&utrace_table, &iter);
	rhashtable_walk_start(&iter);
	while ((utrace = rhashtable_walk_next(&iter))) {
		if (IS_ERR(utrace) || !(READ_ONCE(utrace->task->flags) & PF_EXITING))
			continue;
		smp_rmb();	/* ->frames as of PF_EXITING */
		utrace_frames_drop(utrace);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
}

/*
 * Unload: the hooks are gone, so no new report starts.  Detach every engine
 * (which wakes every stopped task), cancel queued task work, let the REAP
 * works run, and wait for every task to leave this module's code.
 */
void utrace_core_exit(void)
{
	struct rhashtable_iter iter;
	struct utrace *utrace;

	WRITE_ONCE(utrace_exiting, true);
	rhashtable_walk_enter(&utrace_table, &iter);
	rhashtable_walk_start(&iter);
	while ((utrace = rhashtable_walk_next(&iter))) {
		if (IS_ERR(utrace))
			continue;
		spin_lock(&utrace->lock);
		if (utrace->work_queued &&
		    utrace_kcall(task_work_cancel)(utrace->task, &utrace->work)) {
			utrace->work_queued = 0;
			utrace_inflight_put();
		}
		if (utrace->syscall_work)
			utrace_arch_clear_syscall_work(utrace);
		if (utrace->stopped) {
			utrace->stopped = false;
			utrace_kcall(wake_up_state)(utrace->task, __TASK_TRACED);
		}
		spin_unlock(&utrace->lock);
		utrace_unhash(utrace);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);

	flush_workqueue(utrace_wq);
	utrace_inflight_put();	/* the module's own */
	while (!wait_event_timeout(utrace_inflight_wq, atomic_read(&utrace_inflight) == 0,
				   HZ)) {
		utrace_reclaim_dead_frames();
		if (atomic_read(&utrace_inflight))
			pr_info_ratelimited("unload: waiting for %d tasks to leave utrace code\n",
					    atomic_read(&utrace_inflight));
	}
	/* The last instructions after utrace_inflight_put() in a task. */
#ifdef CONFIG_TASKS_RCU
	synchronize_rcu_tasks();
#else
	synchronize_rcu();
#endif
	rhashtable_destroy(&utrace_table);
	destroy_workqueue(utrace_wq);
	rcu_barrier();
	kmem_cache_destroy(utrace_engine_cachep);
	kmem_cache_destroy(utrace_cachep);
}
