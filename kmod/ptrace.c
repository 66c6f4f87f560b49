// SPDX-License-Identifier: GPL-2.0
/*
 * ptrace(2) on utrace: the backend switch, the ptrace() entry point and the
 * engine that makes the ptrace stops.  wait(2) is in ptrace_wait.c.  The
 * design and what is done so far: docs/PTRACE.md.
 *
 * - Switch: the module parameter ptrace_backend.  Off, the syscall hooks'
 *   filters let every call through to the kernel (nothing enters this
 *   module) but the ptrace() calls that may make a native relationship
 *   (TRACEME, ATTACH, SEIZE), which pass here on their way to the kernel's
 *   own (pt_native_link()).  On, every ptrace() and wait call comes here.
 *   Switching is refused with -EBUSY while a ptrace relationship of the
 *   current backend exists (native: a task with ->ptrace; utrace: a
 *   relationship here), and no relationship of the other backend can be
 *   made meanwhile (pt_switch_rwsem, pt_mutex: see pt_param_set()).
 * - A relationship is a struct pt_ctx, the data of a utrace engine on the
 *   tracee, in pt_tracees (keyed by the tracee) and on its tracer group's
 *   list (struct pt_group, in pt_groups keyed by the group's signal_struct)
 *   while it exists.  Each holds a module reference, so rmmod fails with
 *   EBUSY while anything is traced through the backend.
 * - Stops are utrace stops: a callback records the stop in the ctx (what
 *   wait reports, the siginfo, the event message), tells the tracer (SIGCHLD
 *   CLD_TRAPPED, wakeups) and answers UTRACE_STOP.  A request resumes the
 *   tracee with utrace_control().
 * - Signal-delivery stop: report_signal answers UTRACE_SIGNAL_IGN |
 *   UTRACE_STOP.  The signal the tracer resumes with is put back at the head
 *   of the tracee's own queue by the tracer (the tracee is stopped) and
 *   marked (inject): the tracee dequeues it right after the stop and
 *   report_signal lets it through with its normal disposition.
 * - Requests that only read or write registers go to the kernel's own
 *   arch_ptrace() once our own checks passed (it does not check the ptrace
 *   link for those); every request that touches ptrace state is handled
 *   here, because the kernel's would act on ->ptrace, ->exit_code and
 *   ->last_siginfo, which utrace tracees do not use.
 * - x86's ia32 entries (a 32-bit caller's ptrace, wait4, waitid, waitpid)
 *   are redirected to the same replacements, which tell them apart with
 *   pt_ia32(): arguments from the ia32 registers, the compat layouts of
 *   compat_ptrace_request() and compat_sys_wait4()/waitid(), and
 *   compat_arch_ptrace() for the register requests.
 *
 * Locking: pt_lock (spinlock) protects both tables, the groups' lists and
 * each ctx's stop fields; it is taken by the tracee in its callbacks (atomic
 * in report_death) and by tracers, never held across a utrace call, a
 * signal send or a sleep, and never across a walk of a list: lookups are
 * hashed, and the walks of a group's tracees (wait, a tracer's exit) are
 * RCU walks that take it for one ctx at a time.
 *
 * Wakeups go to the tracer group's signal->wait_chldexit only, as
 * __wake_up_parent() does natively: the SIGCHLD of a stop or a death
 * (utrace_notify_cldstop(), utrace_notify_death()) wakes it, and so does
 * every other change a wait may be waiting for (pt_wake_tracer()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/security.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/regset.h>
#include <linux/rhashtable.h>
#include <linux/rwsem.h>
#include <linux/sched/coredump.h>
#include <linux/sched/cputime.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/seccomp.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "utrace_internal.h"
#include "ptrace_internal.h"

DEFINE_SPINLOCK(pt_lock);
bool pt_backend;

/*
 * Both tables are keyed by a pointer, hashed and compared inline: a
 * request, a wait and a stop each look them up, and rhashtable's default
 * (an out-of-line jhash2() and a memcmp() per entry) was a tenth of the
 * module's part of a PTRACE_SYSCALL cycle (B3).  The seed is mixed in, so
 * that a rehash after too long a chain spreads the entries anew.
 */
static inline u32 pt_ptr_hashfn(const void *data, u32 len, u32 seed)
{
	return hash_64(*(const unsigned long *)data ^ seed, 32);
}

static inline int pt_tracee_cmpfn(struct rhashtable_compare_arg *arg, const void *obj)
{
	return *(struct task_struct * const *)arg->key != ((const struct pt_ctx *)obj)->tracee;
}

static inline int pt_group_cmpfn(struct rhashtable_compare_arg *arg, const void *obj)
{
	return *(struct signal_struct * const *)arg->key != ((const struct pt_group *)obj)->sig;
}

/* tracee -> its relationship (pt_ctx.hnode), while linked.  pt_lock; RCU readers. */
static struct rhashtable pt_tracees;
static const struct rhashtable_params pt_tracee_params = {
	.key_len = sizeof(struct task_struct *),
	.key_offset = offsetof(struct pt_ctx, tracee),
	.head_offset = offsetof(struct pt_ctx, hnode),
	.hashfn = pt_ptr_hashfn,
	.obj_cmpfn = pt_tracee_cmpfn,
	.automatic_shrinking = true,
};

/* tracer group (signal_struct) -> struct pt_group.  pt_lock; RCU readers. */
static struct rhashtable pt_groups;
static const struct rhashtable_params pt_group_params = {
	.key_len = sizeof(struct signal_struct *),
	.key_offset = offsetof(struct pt_group, sig),
	.head_offset = offsetof(struct pt_group, hnode),
	.hashfn = pt_ptr_hashfn,
	.obj_cmpfn = pt_group_cmpfn,
	.automatic_shrinking = true,
};

/* Dead non-child leaders whose zombie is or may be held (pt_hold_zombie()). */
static atomic_t pt_holds = ATOMIC_INIT(0);
/* Relationships: the do_exit() hook looks for tracers only then. */
static atomic_t pt_count = ATOMIC_INIT(0);

bool utrace_ptrace_active(void)
{
	return atomic_read(&pt_count) != 0;
}

/*
 * A signal the tracer detached with from a signal-delivery stop is queued
 * to the tracee (pt_inject()) and delivered when it dequeues it.  Attached
 * again before that, the new relationship must not stop for it (native
 * ptrace_detach() leaves it in ->exit_code, acted on at once): a record per
 * tracee carries it over to the next pt_link().  Records of dead tasks are
 * dropped at the next detach, the rest at unload.  pt_lock.
 */
struct pt_parting {
	struct list_head node;
	struct task_struct *task;	/* referenced */
	int sig;
};

static LIST_HEAD(pt_parting_list);

/* Serialises the switch against attaching. */
static DEFINE_MUTEX(pt_mutex);

/*
 * Native calls that may link (pt_native_link()) hold it for reading across
 * the kernel's own sys_ptrace(); switching on holds it for writing
 * (pt_param_set()).
 */
static DECLARE_RWSEM(pt_switch_rwsem);

static const struct utrace_engine_ops pt_ops;
static int pt_hooks_enable(void);
static void pt_hooks_idle(void);
static int pt_link(struct task_struct *tracee, struct task_struct *tracer, unsigned long options,
		   bool seized, const struct cred *cred);

/* Events every tracee reports; syscalls only while PTRACE_SYSCALL asks. */
#define PT_EVENTS	(UTRACE_EVENT_SIGNAL_ALL | UTRACE_EVENT(QUIESCE) | UTRACE_EVENT(CLONE) | \
			 UTRACE_EVENT(EXEC) | UTRACE_EVENT(EXIT) | UTRACE_EVENT(DEATH) | \
			 UTRACE_EVENT(REAP) | UTRACE_EVENT(JCTL))

/*
 * The switch
 */

static bool pt_any_tracee(void)
{
	return atomic_read(&pt_count) != 0;
}

/* walk_process_tree() visitor: the threads of group leader @p; atomic. */
static int pt_native_visit(struct task_struct *p, void *data)
{
	struct task_struct *t;

	for_each_thread(p, t) {
		if (t->ptrace) {
			*(bool *)data = true;
			return -1;	/* found: the walk ends */
		}
	}
	return 1;	/* and its children */
}

/*
 * Whether any task has ->ptrace.  Under tasklist_lock (walk_process_tree():
 * every process descends from init_task through ->children; powerpc's
 * kallsyms has no tasklist_lock to take it ourselves), which the kernel
 * holds for writing wherever ->ptrace goes from 0 to non-0 (ptrace_attach(),
 * ptrace_traceme(), copy_process()'s ptrace_init_task()) and back
 * (__ptrace_unlink()): the walk sees one consistent state.  An RCU walk
 * could miss a CLONE_PTRACE child of a native tracee that was forked in
 * front of it, its parent then detached behind it.
 * Before the module's init (ptrace_backend=1 given to insmod), an RCU walk:
 * the symbol is not resolved yet.
 */
static bool pt_any_native_ptrace(void)
{
	struct task_struct *g, *t;
	bool any = false;

	if (utrace_kcall_ready(walk_process_tree)) {
		utrace_kcall(walk_process_tree)(&init_task, pt_native_visit, &any);
		return any;
	}
	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (READ_ONCE(t->ptrace)) {
			any = true;
			break;
		}
	}
	rcu_read_unlock();
	return any;
}

/*
 * Switching on is refused while a native relationship exists, and none may
 * be made after that check:
 * - A native TRACEME, ATTACH or SEIZE comes to pt_native_link() (the ptrace
 *   hooks' filter), which holds pt_switch_rwsem for reading across the
 *   kernel's own call and looks at pt_backend under it.  Switching on takes
 *   it for writing first: calls in flight end (each has linked or failed;
 *   ptrace_link() is under tasklist_lock), later ones wait, and then see the
 *   backend on and go to it.  The ia32 entry goes through the same.
 * - A native tracee's CLONE_PTRACE child (or one auto-attached by its
 *   options) is traced only if its parent has ->ptrace when copy_process()
 *   links it, under tasklist_lock: the walk sees the parent traced or the
 *   child; with none seen, no fork makes one.
 * - Nothing else sets ->ptrace but the backend's own seccomp windows
 *   (ptrace_tracee.c), which exist only with a backend tracee.
 * Switching off is refused while a backend relationship exists: they are
 * made by pt_link(), under pt_mutex, which fails with -EAGAIN once the
 * backend is off; an ATTACH, SEIZE or TRACEME then restarts and goes to the
 * kernel.  An auto-attach (pt_auto_attach(), CLONE_PTRACE of a backend
 * tracee) needs its parent's relationship, which keeps the switch from
 * going off; had it ended meanwhile, the child is not traced, as natively.
 *
 * Lock order: pt_switch_rwsem, then pt_mutex.  The read side is held across
 * the kernel's ptrace_attach(), which waits for the tracee's
 * cred_guard_mutex (interruptibly) and for its re-trap (killable): a writer
 * waits for those.  Holders of cred_guard_mutex never take pt_switch_rwsem
 * (a backend attach takes pt_mutex under it, never the rwsem), and the
 * switch takes pt_mutex only once it holds the rwsem, so nothing it waits
 * for waits for it.  Its wait is killable.
 */
static int pt_switch_on(void)
{
	int ret;

	if (down_write_killable(&pt_switch_rwsem))
		return -EINTR;
	mutex_lock(&pt_mutex);
	ret = 0;
	if (!pt_backend) {
		if (pt_any_native_ptrace())
			ret = -EBUSY;
		else
			WRITE_ONCE(pt_backend, true);
	}
	mutex_unlock(&pt_mutex);
	up_write(&pt_switch_rwsem);
	return ret;
}

static int pt_param_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	if (on)
		return pt_switch_on();
	/*
	 * A tracee its tracer reaped with the kernel's wait (a child group
	 * leader) leaves the backend in its REAP report, queued by
	 * release_task(): a switch right after that wait must not find it.
	 */
	if (pt_any_tracee())
		utrace_flush_reaps();
	mutex_lock(&pt_mutex);
	if (pt_backend) {
		if (pt_any_tracee())
			ret = -EBUSY;
		else
			WRITE_ONCE(pt_backend, false);
	}
	mutex_unlock(&pt_mutex);
	/*
	 * No waiter is left in ptrace_wait.c: a wait comes there only while
	 * its group traces something, and leaves for the kernel's own as soon
	 * as it does not (it was woken when its group's last relationship
	 * ended), which switching off requires.
	 */
	return ret;
}

static int pt_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%c\n", READ_ONCE(pt_backend) ? 'Y' : 'N');
}

static const struct kernel_param_ops pt_param_ops = {
	.set = pt_param_set,
	.get = pt_param_get,
};

module_param_cb(ptrace_backend, &pt_param_ops, &pt_backend, 0644);
MODULE_PARM_DESC(ptrace_backend, "serve ptrace(2) and wait(2) with utrace (refused while anything is traced)");

/* ptrace_tracees: read-only, the relationships that keep the backend on. */
static int pt_tracees_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static int pt_tracees_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&pt_count));
}

static const struct kernel_param_ops pt_tracees_ops = {
	.set = pt_tracees_set,
	.get = pt_tracees_get,
};

module_param_cb(ptrace_tracees, &pt_tracees_ops, NULL, 0444);
MODULE_PARM_DESC(ptrace_tracees, "ptrace relationships of the utrace backend (read-only)");

/*
 * Relationships
 */

/*
 * RCU readers of pt_tracees and of a group's list (pt_hold_zombie() under
 * tasklist_lock, wait) may still look at the ctx, its tracer and the
 * tracer's signal_struct: all go after a grace period (utrace_core_exit()'s
 * rcu_barrier() runs them before the module goes).
 */
static void pt_free_rcu(struct rcu_head *rcu)
{
	struct pt_ctx *ctx = container_of(rcu, struct pt_ctx, rcu);

	put_pid(ctx->pid);
	if (ctx->ptracer_cred)
		put_cred(ctx->ptracer_cred);
	put_task_struct(ctx->tracee);
	if (ctx->tracer)
		put_task_struct(ctx->tracer);
	kfree(ctx);
}

static void pt_release(void *data)
{
	struct pt_ctx *ctx = data;

	call_rcu(&ctx->rcu, pt_free_rcu);
	module_put(THIS_MODULE);
}

/*
 * The group each CPU looked up last, as utrace_slot (utrace.c) is for the
 * utrace table: a tracer's requests and waits find their group here, with
 * no bucket walk.  A group leaves every slot (pt_group_uncache(), under
 * pt_lock) after it leaves the table and before its grace period starts;
 * so a slot read under RCU or pt_lock holds NULL or a group not yet freed,
 * used only if it is @sig's.  A slot is filled with preemption off and the
 * full barrier of a Dekker pair: either the filler sees the group is going
 * and empties its slot again, or the uncache sees the slot filled and
 * empties it.
 */
static DEFINE_PER_CPU(struct pt_group *, pt_group_slot);

struct pt_group *pt_group_lookup(struct signal_struct *sig)
{
	struct pt_group *g = this_cpu_read(pt_group_slot);

	if (likely(g && g->sig == sig))
		return g;
	g = rhashtable_lookup_fast(&pt_groups, &sig, pt_group_params);
	if (g) {
		preempt_disable();
		__this_cpu_write(pt_group_slot, g);
		smp_mb();	/* the slot before ->uncached */
		if (READ_ONCE(g->uncached))
			this_cpu_cmpxchg(pt_group_slot, g, NULL);
		preempt_enable();
	}
	return g;
}

/* @g has left the table (pt_lock held): empty every slot that holds it. */
static void pt_group_uncache(struct pt_group *g)
{
	int cpu;

	WRITE_ONCE(g->uncached, true);
	smp_mb();	/* ->uncached before the slots */
	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&pt_group_slot, cpu), g, NULL);
}

/*
 * The relationship each CPU looked up last: a tracer's requests and its
 * tracee's own lookups find it with no bucket walk.  Filled, read and
 * emptied (pt_ctx_uncache(), at unlink) under pt_lock, so a slot only
 * ever holds a linked relationship.
 */
static DEFINE_PER_CPU(struct pt_ctx *, pt_ctx_slot);

static void pt_ctx_uncache(struct pt_ctx *ctx)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(pt_ctx_slot, cpu) == ctx)
			per_cpu(pt_ctx_slot, cpu) = NULL;
	}
}

void pt_wake_tracer(struct task_struct *p, struct task_struct *tracer)
{
	__wake_up_sync_key(&tracer->signal->wait_chldexit, TASK_INTERRUPTIBLE, p);
}

/*
 * Whether @g's tracees include a thread of @leader's group that died and
 * is not reaped yet (->dead while linked): natively a zombie still in the
 * group, whose leader delay_group_leader() keeps from every wait until its
 * tracer reaped it.  Here that thread was released at its death, so the
 * leader's waits ask this.  Only the relationships of @g, the leader's
 * tracer group, are looked at.  RCU held; any context.
 */
bool pt_threads_unreaped(struct pt_group *g, struct task_struct *leader)
{
	struct pt_ctx *c;

	list_for_each_entry_rcu(c, &g->tracees, node) {
		if (c->tracee != leader && c->tracee->signal == leader->signal &&
		    READ_ONCE(c->dead) && READ_ONCE(c->linked))
			return true;
	}
	return false;
}

/* pt_lock held.  Whether @ctx was linked; the caller puts the list's engine reference. */
static bool pt_unlink(struct pt_ctx *ctx)
{
	struct pt_group *g = ctx->group;

	if (!ctx->linked)
		return false;
	rhashtable_remove_fast(&pt_tracees, &ctx->hnode, pt_tracee_params);
	pt_ctx_uncache(ctx);
	list_del_rcu(&ctx->node);
	if (!--g->count) {
		rhashtable_remove_fast(&pt_groups, &g->hnode, pt_group_params);
		pt_group_uncache(g);
		kfree_rcu(g, rcu);
	}
	ctx->group = NULL;
	if (atomic_dec_and_test(&pt_count))
		pt_hooks_idle();
	WRITE_ONCE(ctx->linked, false);
	utrace_signal_ptraced(ctx->tracee, false);
	ctx->stop = PT_STOP_NONE;
	ctx->exit_code = 0;
	ctx->have_info = false;
	ctx->vfork_done = 0;
	ctx->late_exit = false;
	ctx->step_trap = false;
	return true;
}

/*
 * The relationship of a dead non-child leader ends (its tracer reaped it,
 * or let go of it): what wait_task_zombie() does for a ptrace_reparented()
 * zombie in EXIT_TRACE, and __ptrace_detach() for a zombie, without
 * tasklist_lock.  A held zombie becomes its real parent's, which is
 * notified now, or is released if that parent reaps automatically.
 * Process context.
 */
static void pt_release_hold(struct pt_ctx *ctx)
{
	struct task_struct *p = ctx->tracee, *parent;
	int old, ret, tries;

	old = xchg(&ctx->hold, PT_HOLD_GONE);
	if (old != PT_HOLD_NONE && old != PT_HOLD_GONE)
		atomic_dec(&pt_holds);
	/* CHILD_HELD: no longer traced, its parent is told and may autoreap. */
	if (old != PT_HOLD_HELD && old != PT_HOLD_CHILD_HELD)
		return;
	/*
	 * p is ours in EXIT_TRACE: nothing else reaps or notifies for it.  A
	 * parent past its release (no sighand) reparented p before: read
	 * ->real_parent again.  Reparenting at this very moment may leave the
	 * new parent unnotified (its next wait still finds the zombie).
	 */
	for (tries = 0; tries < 8; tries++) {
		rcu_read_lock();
		parent = rcu_dereference(p->real_parent);
		get_task_struct(parent);
		rcu_read_unlock();
		ret = utrace_notify_death(p, NULL, parent, READ_ONCE(p->exit_signal), false);
		put_task_struct(parent);
		if (ret != -ESRCH)
			break;
	}
	if (ret == -ESRCH)
		WRITE_ONCE(p->exit_state, EXIT_ZOMBIE);
	else if (ret > 0)
		utrace_kcall(release_task)(p);
}

/*
 * @thread, a dead thread of @g's tracees, was reaped (or let go): if it was
 * the last such of its group, the leader pt_hold_child() keeps becomes its
 * parent's to reap, as native release_task() of the group's last thread
 * notifies the leader's parent.  RCU held (@g may be freed after it).
 */
static void pt_release_leader(struct pt_group *g, struct task_struct *thread)
{
	struct task_struct *leader, *parent;
	struct pt_ctx *c;

	/* ->linked cleared before ->hold is read: pairs with pt_hold_child() */
	smp_mb();
	list_for_each_entry_rcu(c, &g->tracees, node) {
		leader = c->tracee;
		if (leader->signal != thread->signal || READ_ONCE(c->hold) != PT_HOLD_CHILD_HELD ||
		    pt_threads_unreaped(g, leader))
			continue;
		if (cmpxchg(&c->hold, PT_HOLD_CHILD_HELD, PT_HOLD_CHILD) != PT_HOLD_CHILD_HELD)
			return;
		/* Traced: never autoreaped (pt_keep_zombie()), the tracer is told. */
		WRITE_ONCE(leader->exit_state, EXIT_ZOMBIE);
		parent = rcu_dereference(leader->real_parent);
		utrace_notify_death(leader, NULL, parent, READ_ONCE(leader->exit_signal), true);
		return;
	}
}

/*
 * Unlink @ctx (no lock held) and drop the list's reference on its engine.
 * The tracer group's waits look again: one for it alone now fails with
 * ECHILD, and one of a group left without tracees goes back to the kernel's
 * own wait (ptrace_wait.c).
 */
void pt_unlink_put(struct pt_ctx *ctx)
{
	struct pt_group *g;
	bool was, thread;

	rcu_read_lock();
	spin_lock(&pt_lock);
	g = ctx->group;
	thread = ctx->dead && !thread_group_leader(ctx->tracee);
	was = pt_unlink(ctx);
	spin_unlock(&pt_lock);
	/* A held leader counts in pt_holds: no walk at every thread's reap. */
	if (was && thread && atomic_read(&pt_holds))
		pt_release_leader(g, ctx->tracee);
	rcu_read_unlock();
	pt_release_hold(ctx);
	if (was) {
		pt_wake_tracer(ctx->tracee, ctx->tracer);
		utrace_engine_put(ctx->engine);
	}
}

/*
 * utrace_set_events() for the tracer's thread, or the attach: a request
 * that keeps the mask (every PTRACE_SYSCALL of a cycle) makes no call.
 * Only this sets the engine's events (a detach clears them, and then every
 * later call on the engine fails): the mask set last is the engine's.
 */
static int pt_set_events(struct pt_ctx *ctx, unsigned long events)
{
	int ret;

	if (ctx->events == events)
		return 0;
	ret = utrace_set_events(ctx->tracee, ctx->engine, events);
	if (!ret || ret == -EINPROGRESS)
		ctx->events = events;
	return ret;
}

/* Detach our engine from the tracee (which resumes if stopped). */
int pt_detach_engine(struct pt_ctx *ctx)
{
	return utrace_control(ctx->tracee, ctx->engine, UTRACE_DETACH);
}

/* The relationship of @tracee (with @tracer, or any if NULL).  pt_lock held. */
static struct pt_ctx *__pt_lookup(struct task_struct *tracee, struct task_struct *tracer)
{
	struct pt_ctx *ctx = __this_cpu_read(pt_ctx_slot);

	if (!ctx || ctx->tracee != tracee) {
		ctx = rhashtable_lookup_fast(&pt_tracees, &tracee, pt_tracee_params);
		if (ctx)
			__this_cpu_write(pt_ctx_slot, ctx);
	}
	if (ctx && tracer && ctx->tracer != tracer)
		return NULL;
	return ctx;
}

/*
 * Whether @ctx records a stop requests act on.  LISTEN: not in a stop as
 * far as requests go (ptrace_freeze_traced()).  pt_lock held.
 */
static bool __pt_stop_recorded(const struct pt_ctx *ctx)
{
	return ctx->linked && ctx->stop != PT_STOP_NONE && !ctx->listening;
}

/*
 * __pt_lookup() with its engine referenced, or NULL; and, if @recorded,
 * whether it records a stop in the same lock section (a request's
 * pt_check_stopped()).
 */
static struct pt_ctx *pt_find_recorded(struct task_struct *tracee, struct task_struct *tracer,
				       bool *recorded)
{
	struct pt_ctx *ctx;

	spin_lock(&pt_lock);
	ctx = __pt_lookup(tracee, tracer);
	if (ctx) {
		utrace_engine_get(ctx->engine);
		if (recorded)
			*recorded = __pt_stop_recorded(ctx);
	}
	spin_unlock(&pt_lock);
	return ctx;
}

struct pt_ctx *pt_find(struct task_struct *tracee, struct task_struct *tracer)
{
	return pt_find_recorded(tracee, tracer, NULL);
}

/*
 * Whether @tracee is traced by a thread of the group @sig.  RCU only: it is
 * called under tasklist_lock (pt_wait's walk of the caller's children).
 */
bool pt_traced_by_group(struct task_struct *tracee, struct signal_struct *sig)
{
	struct pt_group *g = NULL;
	struct pt_ctx *ctx;
	bool ret;

	rcu_read_lock();
	ctx = rhashtable_lookup(&pt_tracees, &tracee, pt_tracee_params);
	if (ctx)
		g = READ_ONCE(ctx->group);	/* NULL once unlinked; freed after RCU */
	ret = g && g->sig == sig;
	rcu_read_unlock();
	return ret;
}

static bool pt_traced(struct task_struct *tracee)
{
	bool found;

	spin_lock(&pt_lock);
	found = __pt_lookup(tracee, NULL);
	spin_unlock(&pt_lock);
	return found || READ_ONCE(tracee->ptrace);
}

static bool pt_sig_pending(struct task_struct *t, int sig);

/* Remember @sig, injected at detach, for the next relationship with @t. */
static void pt_parting_add(struct task_struct *t, int sig)
{
	struct pt_parting *rec = kmalloc(sizeof(*rec), GFP_KERNEL), *p, *n;
	LIST_HEAD(drop);

	spin_lock(&pt_lock);
	list_for_each_entry_safe(p, n, &pt_parting_list, node)
		if (p->task == t || p->task->exit_state)
			list_move(&p->node, &drop);
	if (rec) {
		rec->task = get_task_struct(t);
		rec->sig = sig;
		list_add(&rec->node, &pt_parting_list);
	}
	spin_unlock(&pt_lock);
	list_for_each_entry_safe(p, n, &drop, node) {
		put_task_struct(p->task);
		kfree(p);
	}
}

/* The signal a former tracer of @t detached with, if @t has yet to take it. */
static int pt_parting_take(struct task_struct *t)
{
	struct pt_parting *p, *found = NULL;
	int sig = 0;

	spin_lock(&pt_lock);
	list_for_each_entry(p, &pt_parting_list, node) {
		if (p->task == t) {
			list_del(&p->node);
			found = p;
			break;
		}
	}
	spin_unlock(&pt_lock);
	if (!found)
		return 0;
	if (pt_sig_pending(t, found->sig))
		sig = found->sig;
	put_task_struct(found->task);
	kfree(found);
	return sig;
}

static void pt_parting_free(void)
{
	struct pt_parting *p, *n;

	list_for_each_entry_safe(p, n, &pt_parting_list, node) {
		list_del(&p->node);
		put_task_struct(p->task);
		kfree(p);
	}
}

/*
 * Whether @t is in a wait system call (its registers' number: it sleeps
 * there, or may).  @t is another thread of ours, perhaps exited (a zombie
 * leader): its stack, where its registers are, is held while they are read.
 */
static bool pt_in_wait(struct task_struct *t)
{
	long nr;

	if (!try_get_task_stack(t))
		return false;
	nr = syscall_get_nr(t, task_pt_regs(t));
	utrace_kcall(put_task_stack)(t);

#ifdef CONFIG_IA32_EMULATION
	if (task_thread_info(t)->status & TS_COMPAT)
		return nr == __NR_ia32_wait4 || nr == __NR_ia32_waitid || nr == __NR_ia32_waitpid;
#endif
#ifdef __NR_waitpid
	if (nr == __NR_waitpid)
		return true;
#endif
	return nr == __NR_wait4 || nr == __NR_waitid;
}

/*
 * @tracer's group has its first tracee: the wait hooks let its waits go to
 * the kernel's own until now (pt_wait_filter()), which would never see the
 * tracee.  Its threads in a wait restart their call, which comes to
 * ptrace_wait.c now: a PTRACE_TRACEME child makes its waiting parent a
 * tracer, or a thread attaches while another waits for any child (native
 * waits look at the ->ptraced list of every thread of the group).  As
 * set_notify_signal() (task_work_add(TWA_SIGNAL)): TIF_NOTIFY_SIGNAL makes
 * the kernel's wait return -ERESTARTSYS, and the call is restarted with no
 * signal delivered.  A thread whose wait saw no tracee but is not asleep
 * yet finds the flag before it sleeps; one that is about to enter it sees
 * the group (the barrier pairs with pt_wait_filter()'s).
 */
static void pt_kick_waiters(struct task_struct *tracer)
{
	struct task_struct *t;

	smp_mb();	/* the group is visible before we look: pairs with pt_wait_filter() */
	rcu_read_lock();
	for_each_thread(tracer, t) {
		if (t == current || !pt_in_wait(t))
			continue;
		if (!test_and_set_tsk_thread_flag(t, TIF_NOTIFY_SIGNAL) &&
		    !utrace_kcall(wake_up_state)(t, TASK_INTERRUPTIBLE))
			kick_process(t);
	}
	rcu_read_unlock();
}

/*
 * Put @ctx in the tables and on its tracer group's list (made if it is the
 * group's first; @spare is used for that, or freed).  Returns 0 (*@first
 * true for a new group) or a negative errno.
 */
static int pt_insert(struct pt_ctx *ctx, struct pt_group *spare, bool *first)
{
	struct signal_struct *sig = ctx->tracer->signal;
	struct pt_group *g;
	int ret;

	*first = false;
	spin_lock(&pt_lock);
	g = rhashtable_lookup_fast(&pt_groups, &sig, pt_group_params);
	if (!g) {
		g = spare;
		spare = NULL;
		g->sig = sig;
		INIT_LIST_HEAD(&g->tracees);
		ret = rhashtable_insert_fast(&pt_groups, &g->hnode, pt_group_params);
		if (ret) {
			spin_unlock(&pt_lock);
			kfree(g);
			return ret;
		}
		*first = true;
	}
	ret = rhashtable_lookup_insert_fast(&pt_tracees, &ctx->hnode, pt_tracee_params);
	if (ret) {
		if (*first) {
			rhashtable_remove_fast(&pt_groups, &g->hnode, pt_group_params);
			pt_group_uncache(g);
			kfree_rcu(g, rcu);
		}
		spin_unlock(&pt_lock);
		kfree(spare);
		*first = false;
		return ret == -EEXIST ? -EPERM : ret;
	}
	ctx->group = g;
	g->count++;
	list_add_tail_rcu(&ctx->node, &g->tracees);
	ctx->linked = true;
	atomic_inc(&pt_count);
	utrace_signal_ptraced(ctx->tracee, true);
	spin_unlock(&pt_lock);
	kfree(spare);
	return 0;
}

static int __pt_link(struct task_struct *tracee, struct task_struct *tracer,
		     unsigned long options, bool seized, const struct cred *cred)
{
	struct utrace_engine *engine;
	struct pt_group *spare;
	struct pt_ctx *ctx;
	bool first;
	int ret, sig;

	if (pt_traced(tracee))
		return -EPERM;
	if (!try_module_get(THIS_MODULE))
		return -EPERM;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!ctx || !spare) {
		kfree(spare);
		kfree(ctx);
		module_put(THIS_MODULE);
		return -ENOMEM;
	}
	INIT_LIST_HEAD(&ctx->node);
	get_task_struct(tracee);
	ctx->tracee = tracee;
	ctx->pid = get_task_pid(tracee, PIDTYPE_PID);
	get_task_struct(tracer);
	ctx->tracer = tracer;
	ctx->ptracer_cred = cred ? get_cred(cred) : NULL;
	ctx->options = options;
	ctx->seized = seized;
	ctx->step = UTRACE_RESUME;
	sig = pt_parting_take(tracee);
	if (sig)
		sigaddset(&ctx->inject, sig);
	rcu_read_lock();
	ctx->vpid = task_pid_nr_ns(tracee, task_active_pid_ns(tracer));
	rcu_read_unlock();

	engine = utrace_attach_task(tracee, UTRACE_ATTACH_CREATE | UTRACE_ATTACH_EXCLUSIVE |
				    UTRACE_ATTACH_MATCH_OPS, &pt_ops, ctx);
	if (IS_ERR(engine)) {
		ret = PTR_ERR(engine) == -EEXIST ? -EPERM : PTR_ERR(engine);
		kfree(spare);
		pt_release(ctx);
		return ret;
	}
	/* From here the engine owns ctx: pt_release() runs when it goes. */
	ctx->engine = engine;
	ret = pt_insert(ctx, spare, &first);
	if (ret) {
		pt_detach_engine(ctx);
		utrace_engine_put(engine);
		return ret;
	}
	if (first)
		pt_kick_waiters(tracer);
	/* The caller's reference becomes the list's. */
	ret = pt_set_events(ctx, PT_EVENTS);
	/*
	 * Past its death report (the sched_process_exit tracepoint), not yet
	 * a zombie: ptrace_attach() succeeds, and exit_notify() then tells the
	 * tracer.  Here the REAP report does (pt_report_reap()).
	 */
	if (ret == -EALREADY)
		ret = pt_set_events(ctx, UTRACE_EVENT(REAP));
	if (ret && ret != -EINPROGRESS) {
		pt_detach_engine(ctx);
		pt_unlink_put(ctx);
		return -ESRCH;
	}
	/* ptrace_trap_notify(): a SIGCONT traps a seized tracee, stopped or not. */
	if (seized)
		utrace_jctl_trap(tracee, true);
	return 0;
}

/*
 * Attach our engine to @tracee for @tracer and link the relationship, with
 * @cred as the ptracer credentials ptrace_link() records (referenced here).
 * The first relationship enables the hooks only relationships need, before
 * anything can look for it there.  pt_mutex held.  Returns 0 or a negative
 * errno.
 */
static int pt_link(struct task_struct *tracee, struct task_struct *tracer, unsigned long options,
		   bool seized, const struct cred *cred)
{
	int ret;

	if (!READ_ONCE(pt_backend))
		return -EAGAIN;	/* switched off meanwhile: the caller restarts */
	ret = pt_hooks_enable();
	if (!ret)
		ret = __pt_link(tracee, tracer, options, seized, cred);
	if (ret && !atomic_read(&pt_count))
		pt_hooks_idle();
	return ret;
}

/*
 * Telling the tracer
 */

/*
 * do_notify_parent_cldstop(@tracee, true, @why) for a tracer that is not
 * ->parent: SIGCHLD, and the wakeup of the tracer group's waits only.
 */
static void pt_notify(struct task_struct *tracee, struct task_struct *tracer, int why, int status)
{
	utrace_notify_cldstop(tracee, tracer, why, status);
}

/* ptrace_do_notify()'s siginfo: a SIGTRAP with @code from the tracee. */
static void pt_trap_info(kernel_siginfo_t *info, int code)
{
	clear_siginfo(info);
	info->si_signo = SIGTRAP;
	info->si_code = code;
	info->si_pid = task_pid_vnr(current);
	info->si_uid = from_kuid_munged(current_user_ns(), current_uid());
}

/*
 * The stop's siginfo (pt_lock held).  A trap's is completed here, when a
 * request first needs it, as pt_trap_info() would have made it in the
 * tracee: its pid and uid as it sees them, which cannot change while it
 * is stopped.  Most stops are resumed without a look at it.
 */
static const kernel_siginfo_t *pt_info(struct pt_ctx *ctx)
{
	struct task_struct *t = ctx->tracee;
	int code = ctx->info.si_code;

	if (ctx->info_lazy) {
		clear_siginfo(&ctx->info);
		ctx->info.si_signo = SIGTRAP;
		ctx->info.si_code = code;
		rcu_read_lock();
		ctx->info.si_pid = task_pid_nr_ns(t, task_active_pid_ns(t));
		ctx->info.si_uid = from_kuid_munged(task_cred_xxx(t, user_ns), task_uid(t));
		rcu_read_unlock();
		ctx->info_lazy = false;
	}
	return &ctx->info;
}

/*
 * What a callback that does not stop answers: the step of the last resume
 * request (the core stops stepping at a report nobody answers with a step),
 * else UTRACE_RESUME.
 */
static u32 pt_go(struct pt_ctx *ctx)
{
	return READ_ONCE(ctx->step);
}

/*
 * The SIGCHLD si_status of a CLD_STOPPED stop (do_jobctl_trap()'s group
 * stop and PTRACE_EVENT_STOP traps): the group's stop code.  A group stop's
 * first thread reports before do_signal_stop() records it, so @signr then
 * stands for it.
 */
static int pt_group_status(struct task_struct *t, int signr)
{
	struct signal_struct *sig = t->signal;

	if (signr && !(sig->flags & SIGNAL_STOP_STOPPED))
		return signr & 0x7f;
	return sig->group_exit_code & 0x7f;
}

/*
 * Record a stop of @tracee (in it, or stopped) of @kind that wait reports
 * as @exit_code, with @info for GETSIGINFO (NULL: EINVAL, as a group stop
 * of an attached tracee; PT_TRAP_INFO: pt_trap_info() of @exit_code, which
 * pt_info() completes when asked), and tell the tracer: CLD_STOPPED for group stops
 * and PTRACE_EVENT_STOP, else CLD_TRAPPED.  False if the relationship is
 * gone.
 */
#define PT_TRAP_INFO	((const kernel_siginfo_t *)1)

static bool pt_record_stop(struct pt_ctx *ctx, struct task_struct *tracee, enum pt_stop kind,
			   int exit_code, const kernel_siginfo_t *info, unsigned long msg)
{
	struct task_struct *tracer;
	int why = CLD_TRAPPED, status = exit_code & 0x7f;

	spin_lock(&pt_lock);
	if (!ctx->linked) {
		spin_unlock(&pt_lock);
		return false;
	}
	ctx->stop = kind;
	ctx->exit_code = exit_code;
	ctx->have_info = !!info;
	ctx->info_lazy = info == PT_TRAP_INFO;
	if (info == PT_TRAP_INFO) {
		ctx->info.si_signo = SIGTRAP;
		ctx->info.si_code = exit_code;
	} else if (info) {
		ctx->info = *info;
	}
	ctx->eventmsg = msg;
	/* Any stop consumes a pending INTERRUPT (ptrace_stop()). */
	ctx->interrupt = false;
	ctx->listening = false;
	tracer = ctx->tracer;
	get_task_struct(tracer);
	spin_unlock(&pt_lock);
	if (kind == PT_STOP_GROUP) {
		why = CLD_STOPPED;
		status = pt_group_status(tracee, exit_code & 0x7f);
	} else if (kind == PT_STOP_EVENT && (exit_code >> 8) == PTRACE_EVENT_STOP) {
		why = CLD_STOPPED;
		status = pt_group_status(tracee, 0);
	}
	pt_notify(tracee, tracer, why, status);
	put_task_struct(tracer);
	return true;
}

/*
 * In the tracee, from a callback: record a stop (pt_record_stop()) and
 * return UTRACE_STOP; pt_go() if the relationship is gone or the tracee is
 * dying (no stop then, as ptrace_stop()).
 */
static u32 pt_stop(struct pt_ctx *ctx, enum pt_stop kind, int exit_code,
		   const kernel_siginfo_t *info, unsigned long msg)
{
	if (fatal_signal_pending(current))
		return pt_go(ctx);
	if (!pt_record_stop(ctx, current, kind, exit_code, info, msg))
		return pt_go(ctx);
	return UTRACE_STOP;
}

/* An event stop (PTRACE_EVENT_*), from a callback. */
u32 pt_event_stop(struct pt_ctx *ctx, int event, unsigned long msg)
{
	return pt_stop(ctx, PT_STOP_EVENT, SIGTRAP | (event << 8), PT_TRAP_INFO, msg);
}

/* Whether @t's group is stopped or stopping (do_jobctl_trap()'s test). */
static bool pt_group_stopped(struct task_struct *t)
{
	return (READ_ONCE(t->signal->flags) & SIGNAL_STOP_STOPPED) ||
	       READ_ONCE(t->signal->group_stop_count);
}

/*
 * do_jobctl_trap() of a seized tracee: PTRACE_EVENT_STOP with the group's
 * stop signal while it is stopped, else SIGTRAP, and ptrace_do_notify()'s
 * siginfo (SIGTRAP | PTRACE_EVENT_STOP << 8 in si_code, from the tracee).
 */
static void pt_jobctl_trap_info(struct task_struct *t, kernel_siginfo_t *info, int *code)
{
	int signr = SIGTRAP;

	if (pt_group_stopped(t))
		signr = (READ_ONCE(t->jobctl) & JOBCTL_STOP_SIGMASK) ?: SIGSTOP;
	*code = signr | (PTRACE_EVENT_STOP << 8);
	clear_siginfo(info);
	info->si_signo = signr;
	info->si_code = *code;
	rcu_read_lock();
	info->si_pid = task_pid_nr_ns(t, task_active_pid_ns(t));
	info->si_uid = from_kuid_munged(task_cred_xxx(t, user_ns), task_uid(t));
	rcu_read_unlock();
}

/* PTRACE_INTERRUPT's stop (or a seized tracee's job control trap), if pending. */
static u32 pt_interrupt_stop(struct pt_ctx *ctx)
{
	kernel_siginfo_t info;
	bool pending;
	int code;

	spin_lock(&pt_lock);
	pending = ctx->interrupt;
	spin_unlock(&pt_lock);
	if (!pending)
		return pt_go(ctx);
	pt_jobctl_trap_info(current, &info, &code);
	return pt_stop(ctx, PT_STOP_EVENT, code, &info, 0);
}

/*
 * The engine's callbacks, in the tracee
 */

/* A stop recorded earlier (and not ended) holds at the resume point. */
static bool pt_in_stop(struct pt_ctx *ctx)
{
	bool stop;

	spin_lock(&pt_lock);
	stop = ctx->linked && ctx->stop != PT_STOP_NONE;
	spin_unlock(&pt_lock);
	return stop;
}

/* PTRACE_EVENT_VFORK_DONE's stop, once the vfork wait is over. */
static u32 pt_vfork_done_stop(struct pt_ctx *ctx)
{
	pid_t child;

	spin_lock(&pt_lock);
	child = ctx->vfork_done;
	ctx->vfork_done = 0;
	spin_unlock(&pt_lock);
	if (!child)
		return UTRACE_RESUME;
	return pt_event_stop(ctx, PTRACE_EVENT_VFORK_DONE, child);
}

static u32 pt_syscall_stop(struct pt_ctx *ctx, enum pt_stop kind, unsigned long msg);

/*
 * At the resume point (report_quiesce, or report_signal with
 * UTRACE_SIGNAL_REPORT or _HANDLER): a stop recorded earlier holds; what
 * follows a VFORK_DONE stop inside the vfork natively (the exit stop, or
 * the exit's step trap); VFORK_DONE (no syscall-exit report after the vfork
 * wait); INTERRUPT.
 */
static u32 pt_resume_point(struct pt_ctx *ctx)
{
	if (pt_in_stop(ctx))
		return UTRACE_STOP;
	if (READ_ONCE(ctx->step_trap)) {
		WRITE_ONCE(ctx->step_trap, false);
		utrace_arch_syscall_exit_step_trap(current_pt_regs());
	}
	if (READ_ONCE(ctx->late_exit)) {
		WRITE_ONCE(ctx->late_exit, false);
		if (pt_syscall_stop(ctx, PT_STOP_SYSCALL_EXIT,
				    PTRACE_EVENTMSG_SYSCALL_EXIT) == UTRACE_STOP)
			return UTRACE_STOP;
	}
	if (pt_vfork_done_stop(ctx) == UTRACE_STOP)
		return UTRACE_STOP;
	return pt_interrupt_stop(ctx);
}

static u32 pt_report_quiesce(u32 action, struct utrace_engine *engine, unsigned long event)
{
	return pt_resume_point(engine->data);
}

static u32 pt_report_signal(u32 action, struct utrace_engine *engine, struct pt_regs *regs,
			    kernel_siginfo_t *info, const struct k_sigaction *orig_ka,
			    struct k_sigaction *return_ka)
{
	struct pt_ctx *ctx = engine->data;
	u32 disposition = utrace_signal_action(action);

	if (disposition == UTRACE_SIGNAL_REPORT || disposition == UTRACE_SIGNAL_HANDLER) {
		if (pt_in_stop(ctx))
			return disposition | UTRACE_STOP;
		/*
		 * A handler was set up while stepping: signal_delivered()'s
		 * ptrace_notify(SIGTRAP) stop, before its first instruction.
		 */
		if (disposition == UTRACE_SIGNAL_HANDLER && pt_go(ctx) != UTRACE_RESUME)
			return disposition | pt_event_stop(ctx, 0, 0);
		return disposition | pt_resume_point(ctx);
	}

	/* get_signal(): a forced fatal signal (SA_IMMUTABLE) is no ptrace stop. */
	if (orig_ka && (orig_ka->sa.sa_flags & SA_IMMUTABLE))
		return disposition | pt_go(ctx);
	spin_lock(&pt_lock);
	if (valid_signal(info->si_signo) && info->si_signo &&
	    sigismember(&ctx->inject, info->si_signo)) {
		/* What the tracer resumed with: delivered as it is. */
		sigdelset(&ctx->inject, info->si_signo);
		spin_unlock(&pt_lock);
		return disposition | pt_go(ctx);
	}
	spin_unlock(&pt_lock);
	if (pt_stop(ctx, PT_STOP_SIGNAL, info->si_signo, info, 0) != UTRACE_STOP)
		return disposition | pt_go(ctx);
	return UTRACE_SIGNAL_IGN | UTRACE_STOP;
}

/*
 * get_signal()'s notification of the group leader's tracer of the group's
 * continue (or of a stop cut short, @why CLD_STOPPED), unless it is the
 * real parent, which the kernel tells.
 */
static void pt_notify_leader_tracer(int why)
{
	struct task_struct *leader = current->group_leader, *tracer = NULL;
	struct pt_ctx *ctx;
	bool reparented;

	spin_lock(&pt_lock);
	ctx = __pt_lookup(leader, NULL);
	if (ctx) {
		tracer = ctx->tracer;
		get_task_struct(tracer);
	}
	spin_unlock(&pt_lock);
	if (!tracer)
		return;
	rcu_read_lock();
	reparented = !same_thread_group(rcu_dereference(leader->real_parent), tracer);
	rcu_read_unlock();
	if (reparented)
		pt_notify(leader, tracer, why,
			  why == CLD_CONTINUED ? SIGCONT : leader->signal->group_exit_code & 0x7f);
	put_task_struct(tracer);
}

/*
 * Job control.  CLD_STOPPED: the tracee takes part in a group stop (or is
 * re-trapped in one, pt_attach()): a group stop, as do_jobctl_trap(): for
 * a seized tracee PTRACE_EVENT_STOP with the stop signal and a siginfo,
 * else the stop signal with no siginfo (GETSIGINFO: EINVAL).  The answer is
 * a JCTL stop; the real parent is not told again when it is the tracer
 * (ptrace_stop(): !ptrace_reparented()).
 * CLD_CONTINUED with @notify 0: a SIGCONT came while the tracee was stopped
 * (prepare_signal()'s ptrace_trap_notify() of a seized tracee): listening,
 * it traps at once, else once resumed.  CLD_CONTINUED with @notify: the
 * group's continue, which the tracer of the group leader hears of too if
 * it is not the real parent (get_signal()).
 */
static u32 pt_report_jctl(u32 action, struct utrace_engine *engine, int type, int notify)
{
	struct pt_ctx *ctx = engine->data;
	kernel_siginfo_t info;
	bool parent, listening, trapped;
	int code;

	if (type == CLD_STOPPED) {
		int signr = (current->jobctl & JOBCTL_STOP_SIGMASK) ?: SIGSTOP;

		rcu_read_lock();
		parent = same_thread_group(rcu_dereference(current->group_leader->real_parent),
					   ctx->tracer);
		rcu_read_unlock();
		if (!ctx->seized) {
			if (pt_stop(ctx, PT_STOP_GROUP, signr, NULL, 0) != UTRACE_STOP)
				return pt_go(ctx);
		} else {
			code = signr | (PTRACE_EVENT_STOP << 8);
			pt_trap_info(&info, code);
			info.si_signo = signr;
			if (pt_stop(ctx, PT_STOP_GROUP, code, &info, 0) != UTRACE_STOP)
				return pt_go(ctx);
		}
		return UTRACE_STOP | (parent ? UTRACE_JCTL_NOTIFIED : 0);
	}
	if (notify) {
		pt_notify_leader_tracer(notify);
	} else if (ctx->seized) {
		spin_lock(&pt_lock);
		listening = ctx->listening;
		trapped = ctx->notify_trapped;
		ctx->notify_trapped = false;
		if (!listening && !trapped)
			ctx->interrupt = true;
		spin_unlock(&pt_lock);
		/* A trap since the SIGCONT took its place (pt_trap_listener()). */
		if (trapped)
			return pt_in_stop(ctx) ? UTRACE_STOP : pt_go(ctx);
		if (listening) {
			pt_jobctl_trap_info(current, &info, &code);
			return pt_stop(ctx, PT_STOP_EVENT, code, &info, 0);
		}
		/* Resumed already: the trap comes from the resume point. */
		return pt_in_stop(ctx) ? UTRACE_STOP : UTRACE_INTERRUPT;
	}
	return pt_in_stop(ctx) ? UTRACE_STOP : pt_go(ctx);
}

/* A syscall stop: SIGTRAP, | 0x80 with PTRACE_O_TRACESYSGOOD. */
static u32 pt_syscall_stop(struct pt_ctx *ctx, enum pt_stop kind, unsigned long msg)
{
	int code = SIGTRAP | ((ctx->options & PTRACE_O_TRACESYSGOOD) ? 0x80 : 0);

	return pt_stop(ctx, kind, code, PT_TRAP_INFO, msg);
}

/*
 * PTRACE_SYSCALL and PTRACE_SYSEMU* stop here.  Under SYSEMU the call is
 * skipped whatever the tracer resumes with (syscall_trace_enter() decides
 * from the work bits it read before the stop), and its registers are left
 * as they are: the return value is what the tracer set.
 */
static u32 pt_report_syscall_entry(u32 action, struct utrace_engine *engine, struct pt_regs *regs)
{
	struct pt_ctx *ctx = engine->data;
	u32 ret;

	if (!(action & UTRACE_SYSCALL_RESUMED)) {
		ctx->sysemu_skip = READ_ONCE(ctx->sysemu);
		if (ctx->sysemu_skip || READ_ONCE(ctx->syscall_trace))
			ret = pt_syscall_stop(ctx, PT_STOP_SYSCALL_ENTRY,
					      PTRACE_EVENTMSG_SYSCALL_ENTRY);
		else
			ret = pt_go(ctx);
	} else {
		/* Another engine's second report: ours was made. */
		ret = pt_go(ctx);
	}
	return (ctx->sysemu_skip ? UTRACE_SYSCALL_ABORT : utrace_syscall_action(action)) | ret;
}

static u32 pt_report_syscall_exit(u32 action, struct utrace_engine *engine, struct pt_regs *regs)
{
	struct pt_ctx *ctx = engine->data;

	/*
	 * Native: VFORK_DONE in kernel_clone(), then the exit stop if the
	 * tracer resumed it with PTRACE_SYSCALL (pt_resume(): late_exit).
	 */
	if (READ_ONCE(ctx->vfork_done) && pt_vfork_done_stop(ctx) == UTRACE_STOP)
		return UTRACE_STOP;
	if (!READ_ONCE(ctx->syscall_trace))
		return pt_go(ctx);
	return pt_syscall_stop(ctx, PT_STOP_SYSCALL_EXIT, PTRACE_EVENTMSG_SYSCALL_EXIT);
}

/*
 * Auto-attach (ptrace_init_task()): @child gets our tracer and options; a
 * SIGSTOP is pending for it, or for a seized one a PTRACE_EVENT_STOP.
 */
static void pt_auto_attach(struct pt_ctx *ctx, struct task_struct *child)
{
	struct pt_ctx *found;
	unsigned long flags;

	mutex_lock(&pt_mutex);
	/* ptrace_init_task(): the parent tracee's ptracer credentials. */
	if (pt_link(child, ctx->tracer, READ_ONCE(ctx->options), ctx->seized, ctx->ptracer_cred)) {
		mutex_unlock(&pt_mutex);
		return;
	}
	mutex_unlock(&pt_mutex);
	if (!ctx->seized) {
		spin_lock_irqsave(&child->sighand->siglock, flags);
		sigaddset(&child->pending.signal, SIGSTOP);
		set_tsk_thread_flag(child, TIF_SIGPENDING);
		spin_unlock_irqrestore(&child->sighand->siglock, flags);
		return;
	}
	spin_lock(&pt_lock);
	found = __pt_lookup(child, NULL);
	if (found) {
		found->interrupt = true;
		utrace_engine_get(found->engine);
	}
	spin_unlock(&pt_lock);
	if (found) {
		if (utrace_control(child, found->engine, UTRACE_INTERRUPT) < 0)
			pr_debug("cannot interrupt new tracee %d\n", task_pid_nr(child));
		utrace_engine_put(found->engine);
	}
}

/*
 * In the parent, after copy_process(), before the child runs.  As
 * kernel_clone() and ptrace_init_task(): the event is the one the clone's
 * flags and exit signal ask for, reported if its option is set and the
 * flags lack CLONE_UNTRACED; the child is linked to our tracer when the
 * event is reported or the flags have CLONE_PTRACE.  VFORK_DONE is
 * reported with its option alone, whatever became of the child.
 */
static u32 pt_report_clone(u32 action, struct utrace_engine *engine, unsigned long clone_flags,
			   struct task_struct *child)
{
	struct pt_ctx *ctx = engine->data;
	unsigned long msg, options = READ_ONCE(ctx->options);
	bool trace;
	int event;

	if (clone_flags & CLONE_VFORK)
		event = PTRACE_EVENT_VFORK;
	else if ((clone_flags & CSIGNAL) != SIGCHLD)
		event = PTRACE_EVENT_CLONE;
	else
		event = PTRACE_EVENT_FORK;
	trace = !(clone_flags & CLONE_UNTRACED) && (options & (1UL << event));
	rcu_read_lock();
	msg = task_pid_nr_ns(child, task_active_pid_ns(ctx->tracer));
	rcu_read_unlock();
	if (event == PTRACE_EVENT_VFORK && (options & PTRACE_O_TRACEVFORKDONE)) {
		/* Reported after the vfork wait (pt_report_quiesce/_syscall_exit). */
		spin_lock(&pt_lock);
		ctx->vfork_done = msg;
		spin_unlock(&pt_lock);
		action = UTRACE_REPORT;
	} else {
		action = pt_go(ctx);
	}
	if (trace || (clone_flags & CLONE_PTRACE))
		pt_auto_attach(ctx, child);
	if (!trace)
		return action;
	return pt_event_stop(ctx, event, msg);
}

/* On the way back to user mode after a successful exec. */
static u32 pt_report_exec(u32 action, struct utrace_engine *engine, const struct linux_binfmt *fmt,
			  const struct linux_binprm *bprm, struct pt_regs *regs)
{
	struct pt_ctx *ctx = engine->data;
	pid_t old_vpid = ctx->vpid;
	struct pid *pid = get_task_pid(current, PIDTYPE_PID), *old;

	/* A non-leader thread that execs takes the leader's pid: wait by it. */
	rcu_read_lock();
	ctx->vpid = task_pid_nr_ns(current, task_active_pid_ns(ctx->tracer));
	rcu_read_unlock();
	spin_lock(&pt_lock);
	old = ctx->pid;
	ctx->pid = pid;
	spin_unlock(&pt_lock);
	put_pid(old);
	if (READ_ONCE(ctx->options) & PTRACE_O_TRACEEXEC)
		return pt_event_stop(ctx, PTRACE_EVENT_EXEC, old_vpid);
	/* The legacy SIGTRAP after exec of a tracee that was not seized. */
	if (!ctx->seized)
		send_sig(SIGTRAP, current, 0);
	return pt_go(ctx);
}

static u32 pt_report_exit(u32 action, struct utrace_engine *engine, long orig_code, long *code)
{
	struct pt_ctx *ctx = engine->data;

	if (!(READ_ONCE(ctx->options) & PTRACE_O_TRACEEXIT))
		return pt_go(ctx);
	return pt_event_stop(ctx, PTRACE_EVENT_EXIT, orig_code);
}

/* The status wait reports for a dead tracee, as recorded at its death. */
static int pt_death_status(struct task_struct *t)
{
	return (t->signal->flags & SIGNAL_GROUP_EXIT) ? t->signal->group_exit_code :
							 READ_ONCE(t->exit_code);
}

/*
 * Atomic (sched_process_exit): no sleeping.  A child tracee's death is
 * reported by the kernel's wait to its parent, our tracer: the relationship
 * stays until it is reaped (KILL still works on the zombie, as natively).
 * Any other tracee (a non-child, a thread that is not the leader) is
 * reported by the tracer's wait once, after SIGCHLD (do_notify_parent()).
 */
static u32 pt_report_death(struct utrace_engine *engine, bool group_dead, int signal)
{
	struct pt_ctx *ctx = engine->data;
	struct task_struct *tracer;
	bool child;

	spin_lock(&pt_lock);
	if (!ctx->linked) {
		spin_unlock(&pt_lock);
		return UTRACE_DETACH;
	}
	ctx->death_seen = true;
	ctx->stop = PT_STOP_NONE;
	ctx->exit_code = 0;
	ctx->have_info = false;
	rcu_read_lock();
	child = same_thread_group(rcu_dereference(current->real_parent), ctx->tracer);
	rcu_read_unlock();
	if (child && thread_group_leader(current)) {
		ctx->zombie = true;
		/* Not autoreaped, even if its parent ignores SIGCHLD: pt_keep_zombie(). */
		ctx->hold = PT_HOLD_CHILD;
		atomic_inc(&pt_holds);
		spin_unlock(&pt_lock);
		/* Its waits poll the zombie with __WALL from now on. */
		pt_wake_tracer(current, ctx->tracer);
		return UTRACE_RESUME;
	}
	ctx->exit_status = pt_death_status(current);
	WRITE_ONCE(ctx->dead, true);
	if (thread_group_leader(current)) {
		/* Its zombie is the tracer's first: pt_hold_zombie(). */
		atomic_inc(&pt_holds);
		WRITE_ONCE(ctx->hold, PT_HOLD_CANDIDATE);
	}
	tracer = ctx->tracer;
	get_task_struct(tracer);
	spin_unlock(&pt_lock);
	/* exit_notify()'s do_notify_parent() to a tracer: SIGCHLD, and its waits woken. */
	utrace_notify_death(current, NULL, tracer, SIGCHLD, true);
	put_task_struct(tracer);
	return UTRACE_RESUME;
}

/*
 * Workqueue.  A zombie child was reaped: the relationship ends.  Or a
 * tracee linked after its death report point (the sched_process_exit
 * tracepoint), before exit_notify() made it a zombie, as ptrace_attach()
 * allows: natively exit_notify() tells its tracer, so its death is reported
 * now, as pt_report_death() reports it (it was released: the tracer's wait
 * matches it by number).  A child group leader of the tracer was reported
 * by the kernel's wait already.
 */
static void pt_report_reap(struct utrace_engine *engine, struct task_struct *task)
{
	struct pt_ctx *ctx = engine->data;
	struct task_struct *tracer = NULL;
	bool keep, child;

	spin_lock(&pt_lock);
	/* exit_state: released, not a live task's REAP at unload */
	if (ctx->linked && !ctx->death_seen && READ_ONCE(task->exit_state)) {
		ctx->death_seen = true;
		rcu_read_lock();
		child = same_thread_group(rcu_dereference(task->real_parent), ctx->tracer);
		rcu_read_unlock();
		if (!child || !thread_group_leader(task)) {
			ctx->stop = PT_STOP_NONE;
			ctx->exit_code = 0;
			ctx->have_info = false;
			ctx->dead = true;
			ctx->exit_status = pt_death_status(task);
			tracer = ctx->tracer;
			get_task_struct(tracer);
		}
	}
	keep = ctx->dead;	/* its tracer's wait has yet to report it */
	spin_unlock(&pt_lock);
	if (tracer) {
		/* exit_notify()'s do_notify_parent() to a tracer */
		utrace_notify_death(task, ctx->pid, tracer, SIGCHLD, true);
		put_task_struct(tracer);
	}
	if (!keep)
		pt_unlink_put(ctx);
}

static const struct utrace_engine_ops pt_ops = {
	.report_quiesce = pt_report_quiesce,
	.report_signal = pt_report_signal,
	.report_syscall_entry = pt_report_syscall_entry,
	.report_syscall_exit = pt_report_syscall_exit,
	.report_clone = pt_report_clone,
	.report_jctl = pt_report_jctl,
	.report_exec = pt_report_exec,
	.report_exit = pt_report_exit,
	.report_death = pt_report_death,
	.report_reap = pt_report_reap,
	.release = pt_release,
};

/*
 * Requests, in the tracer
 */

/*
 * Whether the stop @ctx records is one the tracee is really in, and off its
 * CPU (ptrace_check_attach()'s wait_task_inactive()): 0 yes, -EAGAIN not yet
 * (between its callback's answer and the core's stop, or held by another
 * engine's report), -ESRCH no stop (or gone, dying).
 */
static int pt_stop_settled(struct pt_ctx *ctx, bool recorded)
{
	struct utrace_examiner exam;
	int ret;

	if (!recorded) {
		spin_lock(&pt_lock);
		recorded = __pt_stop_recorded(ctx);
		spin_unlock(&pt_lock);
	}
	if (!recorded || fatal_signal_pending(ctx->tracee))
		return -ESRCH;
	ret = utrace_prepare_examine(ctx->tracee, ctx->engine, &exam);
	if (ret == -EINVAL || ret == -EAGAIN)
		return -EAGAIN;
	return ret ? -ESRCH : 0;
}

/*
 * A request's wait until the tracee is really in the stop its ctx records:
 * 0, or -ESRCH.  Natively ptrace_check_attach() fails at once with ESRCH
 * when the tracee is not in TASK_TRACED, and wait_task_inactive() waits
 * only for it to leave the CPU.  Here the tracee may be between its
 * callback's answer and the core's stop (a moment: cond_resched() rounds,
 * then sleeps of a jiffy), or held there by another engine's report (a
 * /dev/utrace engine that does not reply) for as long as that lasts: the
 * wait is killable and gives up with ESRCH after PT_SETTLE_JIFFIES, as
 * for a tracee that is not stopped.  @recorded: __pt_stop_recorded() was
 * true when the caller looked (pt_find_recorded()), else it is looked at.
 */
int pt_check_stopped(struct pt_ctx *ctx, bool recorded)
{
	unsigned int i;
	int ret;

	for (i = 0;; i++) {
		ret = pt_stop_settled(ctx, recorded && !i);
		if (ret != -EAGAIN)
			return ret;
		if (fatal_signal_pending(current) || i >= PT_SETTLE_SPINS + PT_SETTLE_JIFFIES)
			return -ESRCH;
		if (i < PT_SETTLE_SPINS)
			cond_resched();
		else
			schedule_timeout_killable(1);
	}
}

static bool pt_sig_pending(struct task_struct *t, int sig)
{
	struct sighand_struct *sighand;
	unsigned long flags;
	bool pending;

	sighand = utrace_lock_sighand(t, &flags);
	if (!sighand)
		return false;
	pending = sigismember(&t->pending.signal, sig);
	spin_unlock_irqrestore(&sighand->siglock, flags);
	return pending;
}

/*
 * The tracer resumes a signal-delivery stop with @sig: put it at the head
 * of the (stopped) tracee's own queue, with the stop's siginfo if it is the
 * same signal, else as SI_USER from the tracer (ptrace_signal()).  Unless it
 * is blocked, the tracee delivers it without another stop (inject), and
 * before any other pending signal (utrace_signal_next()), as ptrace_signal()
 * returns it for delivery at once; a blocked one stays pending and stops
 * again when it is dequeued, as native ptrace requeues it.
 */
static void pt_inject(struct pt_ctx *ctx, int sig)
{
	struct task_struct *t = ctx->tracee;
	struct sighand_struct *sighand;
	struct sigqueue *q;
	kernel_siginfo_t info;
	unsigned long flags;
	bool blocked;

	spin_lock(&pt_lock);
	info = *pt_info(ctx);
	spin_unlock(&pt_lock);
	if (info.si_signo != sig) {
		clear_siginfo(&info);
		info.si_signo = sig;
		info.si_code = SI_USER;
		rcu_read_lock();
		info.si_pid = task_pid_nr_ns(current, task_active_pid_ns(t));
		info.si_uid = from_kuid_munged(task_cred_xxx(t, user_ns), task_uid(current));
		rcu_read_unlock();
	}
	q = utrace_kcall(sigqueue_alloc)();
	sighand = utrace_lock_sighand(t, &flags);
	if (!sighand) {
		if (q)
			utrace_kcall(sigqueue_free)(q);
		return;
	}
	if (q && (sig >= SIGRTMIN || !sigismember(&t->pending.signal, sig))) {
		q->flags = 0;	/* an ordinary entry, freed by whoever dequeues it */
		copy_siginfo(&q->info, &info);
		list_add(&q->list, &t->pending.list);
		q = NULL;
	}
	sigaddset(&t->pending.signal, sig);
	blocked = sigismember(&t->blocked, sig);
	if (!blocked) {
		set_tsk_thread_flag(t, TIF_SIGPENDING);
		utrace_signal_next(t, sig);
	}
	spin_unlock_irqrestore(&sighand->siglock, flags);
	if (q)
		utrace_kcall(sigqueue_free)(q);
	if (!blocked) {
		spin_lock(&pt_lock);
		sigaddset(&ctx->inject, sig);
		spin_unlock(&pt_lock);
	}
}

/* What becomes of the signal a stop is resumed (or detached) with. */
static void pt_resume_signal(struct pt_ctx *ctx, enum pt_stop stop, int sig)
{
	if (!sig)
		return;
	switch (stop) {
	case PT_STOP_SIGNAL:
		pt_inject(ctx, sig);
		break;
	case PT_STOP_SYSCALL_ENTRY:
	case PT_STOP_SYSCALL_EXIT:
		/* ptrace_report_syscall(): send_sig(exit_code, current, 1) */
		send_sig(sig, ctx->tracee, 1);
		break;
	default:
		/* event and group stops: the signal is ignored */
		break;
	}
}

/*
 * Leave the stop: what wait saw is gone.  Returns the stop it was, and in
 * *@code its siginfo's si_code (an event stop's event).
 */
static enum pt_stop pt_end_stop(struct pt_ctx *ctx, int *code)
{
	enum pt_stop stop;

	spin_lock(&pt_lock);
	stop = ctx->stop;
	*code = ctx->info.si_code;
	ctx->stop = PT_STOP_NONE;
	ctx->exit_code = 0;
	ctx->have_info = false;
	spin_unlock(&pt_lock);
	return stop;
}

/* Whether @stop with @code is PTRACE_EVENT @event's stop. */
static bool pt_stop_is_event(enum pt_stop stop, int code, int event)
{
	return stop == PT_STOP_EVENT && code == (SIGTRAP | (event << 8));
}

/*
 * Whether a stop (@stop, @code: pt_end_stop()) is inside a system call,
 * before its exit: a syscall-entry stop or a fork, vfork or clone event
 * stop.  A step turned on there traps at the call's exit (the core turns
 * it on at once).
 */
static bool pt_stop_in_syscall(enum pt_stop stop, int code)
{
	return stop == PT_STOP_SYSCALL_ENTRY || pt_stop_is_event(stop, code, PTRACE_EVENT_FORK) ||
	       pt_stop_is_event(stop, code, PTRACE_EVENT_VFORK) ||
	       pt_stop_is_event(stop, code, PTRACE_EVENT_CLONE);
}

/*
 * ptrace_resume(): the request sets what the tracee stops for (syscall
 * events only while SYSCALL or SYSEMU asks: untraced syscalls stay on the
 * fast path) and its step, which every callback answers from then on.
 */
static long pt_resume(struct pt_ctx *ctx, long request, unsigned long data)
{
	enum utrace_resume_action action, step = UTRACE_RESUME;
	unsigned long events = PT_EVENTS;
	bool sysemu = false;
	enum pt_stop stop;
	int ret, code;

	if (!valid_signal(data))
		return -EIO;
	switch (request) {
	case PTRACE_SINGLESTEP:
		if (!arch_has_single_step())
			return -EIO;
		step = UTRACE_SINGLESTEP;
		break;
	case PTRACE_SINGLEBLOCK:
		if (!arch_has_block_step())
			return -EIO;
		step = UTRACE_BLOCKSTEP;
		break;
	case PTRACE_SYSCALL:
		events |= UTRACE_EVENT_SYSCALL;
		break;
#ifdef PTRACE_SYSEMU
	case PTRACE_SYSEMU_SINGLESTEP:
		if (!arch_has_single_step())
			return -EIO;
		step = UTRACE_SINGLESTEP;
		fallthrough;
	case PTRACE_SYSEMU:
		/*
		 * Exit reports too, though they never stop: that keeps the
		 * syscall exit slow path on, as TIF_SYSCALL_EMU does on powerpc,
		 * whose do_syscall_trace_leave() gives the step trap there.
		 */
		sysemu = true;
		events |= UTRACE_EVENT_SYSCALL;
		break;
#endif
	case PTRACE_CONT:
		break;
	default:
		return -EIO;
	}
	WRITE_ONCE(ctx->syscall_trace, request == PTRACE_SYSCALL);
	WRITE_ONCE(ctx->sysemu, sysemu);
	WRITE_ONCE(ctx->step, step);
	/* Gone or dying since pt_check_stopped(): nothing to resume, no error. */
	ret = pt_set_events(ctx, events);
	if (ret && ret != -EINPROGRESS)
		return 0;
	/* One look at the stop: what follows acts on the stop it was. */
	stop = pt_end_stop(ctx, &code);
	action = step;
	/*
	 * x86: no step trap at the exit of a call that leaves under SYSEMU
	 * (report_single_step()): the step begins with the next instruction,
	 * so it is turned on at the resume point, after the exit, where
	 * report_quiesce answers it.
	 */
	if (IS_ENABLED(CONFIG_X86) && sysemu && step != UTRACE_RESUME &&
	    pt_stop_in_syscall(stop, code))
		action = UTRACE_REPORT;
	/* A VFORK_DONE or late exit stop is still to come (pt_resume_point()). */
	if (action == UTRACE_RESUME && (READ_ONCE(ctx->vfork_done) || READ_ONCE(ctx->late_exit)))
		action = UTRACE_REPORT;
	/*
	 * VFORK_DONE is inside the vfork call natively: the call's exit stop
	 * follows if this request traces it.  Here the call's exit is over
	 * (VFORK_DONE is made at its exit report or later): the exit stop is
	 * made at the resume point (pt_resume_point()).
	 */
	if (pt_stop_is_event(stop, code, PTRACE_EVENT_VFORK_DONE)) {
		WRITE_ONCE(ctx->late_exit, request == PTRACE_SYSCALL);
		/* report_single_step(): no trap under SYSEMU */
		WRITE_ONCE(ctx->step_trap, step != UTRACE_RESUME && !sysemu);
		/* The step is the resume point's answer (pt_go()). */
		if (request == PTRACE_SYSCALL || ctx->step_trap)
			action = UTRACE_REPORT;
	}
	pt_resume_signal(ctx, stop, data);
	/*
	 * The stop is over: ptrace_resume() cannot fail once
	 * ptrace_check_attach() found the tracee stopped.  A tracee that
	 * dies meanwhile (the SIGKILL given at a syscall stop, or anyone's)
	 * has its engine gone or dying (-ESRCH, -EALREADY), which is no
	 * error of the request.
	 */
	ret = utrace_control(ctx->tracee, ctx->engine, action);
	/*
	 * The INTERRUPT leaves the engine's wishes: the tracee, running now,
	 * may already be asking for its next stop (pt_interrupt()).
	 */
	if (ret == 0 && READ_ONCE(ctx->interrupt))
		ret = utrace_interrupt(ctx->tracee, ctx->engine);
	if (ret && ret != -EINPROGRESS)
		pr_debug("resume of %d: the tracee is gone (%d)\n", task_pid_nr(ctx->tracee), ret);
	return 0;
}

/*
 * __ptrace_unlink(): a tracee let go while its group is stopped or stopping
 * goes back to the group stop (JOBCTL_STOP_PENDING, counted once already),
 * as soon as the detach wakes it or, running, at its next get_signal().
 */
static void pt_rejoin_group_stop(struct task_struct *t)
{
	struct sighand_struct *sighand;
	unsigned long flags;

	sighand = utrace_lock_sighand(t, &flags);
	if (!sighand)
		return;
	if (!(t->flags & PF_EXITING) &&
	    ((t->signal->flags & SIGNAL_STOP_STOPPED) || t->signal->group_stop_count)) {
		t->jobctl |= JOBCTL_STOP_PENDING;
		if (!(t->jobctl & JOBCTL_STOP_SIGMASK))
			t->jobctl |= SIGSTOP;
		utrace_kcall(signal_wake_up_state)(t, 0);
	}
	spin_unlock_irqrestore(&sighand->siglock, flags);
}

/* The relationship ends (DETACH, the tracer's exit): the tracee resumes. */
static int pt_let_go(struct pt_ctx *ctx)
{
	int ret;

	pt_unlink_put(ctx);
	pt_rejoin_group_stop(ctx->tracee);
	ret = pt_detach_engine(ctx);
	return ret;
}

static long pt_detach(struct pt_ctx *ctx, unsigned long data)
{
	enum pt_stop stop;
	int sig;

	if (!valid_signal(data))
		return -EIO;
	spin_lock(&pt_lock);
	stop = ctx->stop;
	spin_unlock(&pt_lock);
	/*
	 * ptrace_detach(): the relationship ends first, then the tracee acts
	 * on @data as it leaves the stop, so a death that signal causes is
	 * not reported to the former tracer.  And the request cannot fail
	 * once the tracee was found stopped: if it dies meanwhile (a SIGKILL
	 * given here wakes it at once), its engine may be gone before ours is
	 * detached, which is no error.
	 */
	pt_unlink_put(ctx);
	pt_resume_signal(ctx, stop, data);
	spin_lock(&pt_lock);
	sig = data && sigismember(&ctx->inject, data) ? data : 0;
	spin_unlock(&pt_lock);
	if (sig)
		pt_parting_add(ctx->tracee, sig);
	pt_let_go(ctx);
	return 0;
}

/*
 * A listening tracee traps again (asleep in its stop: recorded for it):
 * PTRACE_EVENT_STOP as do_jobctl_trap() would make it.  A SIGCONT that came
 * before, whose report is still pending (it came while not listening), is
 * consumed by this trap, as ptrace_stop() of a PTRACE_EVENT_STOP clears
 * JOBCTL_TRAP_NOTIFY: natively a tracee given PTRACE_INTERRUPT, then
 * SIGCONT, then PTRACE_LISTEN (strace -f's start) traps once, not twice.
 * (One SIGCONT after the look and before that report is folded into it.)
 */
static void pt_trap_listener(struct pt_ctx *ctx)
{
	kernel_siginfo_t info;
	int code;

	utrace_jctl_listen(ctx->tracee, false);
	if (utrace_jctl_continued(ctx->tracee)) {
		spin_lock(&pt_lock);
		ctx->notify_trapped = true;
		spin_unlock(&pt_lock);
	}
	pt_jobctl_trap_info(ctx->tracee, &info, &code);
	pt_record_stop(ctx, ctx->tracee, PT_STOP_EVENT, code, &info, 0);
}

/*
 * PTRACE_LISTEN, at a PTRACE_EVENT_STOP stop of a seized tracee (a group
 * stop or an INTERRUPT): the tracee stays stopped, but wait and requests no
 * longer see it until it traps again, for a job control event (SIGCONT:
 * pt_report_jctl()) or INTERRUPT.  One that came since the stop began
 * (JOBCTL_TRAP_NOTIFY) makes it trap again at once.
 */
static long pt_listen(struct pt_ctx *ctx)
{
	bool retrap;

	if (!ctx->seized)
		return -EIO;
	spin_lock(&pt_lock);
	if (!ctx->have_info || (ctx->info.si_code >> 8) != PTRACE_EVENT_STOP) {
		spin_unlock(&pt_lock);
		return -EIO;
	}
	ctx->listening = true;
	retrap = ctx->interrupt;
	spin_unlock(&pt_lock);
	if (retrap)
		pt_trap_listener(ctx);
	else
		utrace_jctl_listen(ctx->tracee, true);
	return 0;
}

static long pt_interrupt(struct pt_ctx *ctx)
{
	bool stopped, listening;
	int ret;

	if (!ctx->seized)
		return -EIO;
	spin_lock(&pt_lock);
	ctx->interrupt = true;
	stopped = ctx->stop != PT_STOP_NONE;
	listening = ctx->listening;
	spin_unlock(&pt_lock);
	if (listening) {
		pt_trap_listener(ctx);
		return 0;
	}
	/* In a stop already: it traps again when resumed (pt_resume). */
	if (stopped)
		return 0;
	/*
	 * Not utrace_control(UTRACE_INTERRUPT), which withdraws the engine's
	 * stop: the tracee may be between recording a stop (a syscall stop
	 * the tracer asked for, after the look above) and the core's record
	 * of the callback's UTRACE_STOP, and would leave that stop at once,
	 * the system call run behind the tracer's back.  Natively the stop
	 * consumes the INTERRUPT (ptrace_stop()); here pt_record_stop() does.
	 */
	ret = utrace_interrupt(ctx->tracee, ctx->engine);
	/*
	 * Dying (-EALREADY): no trap will come, its death is reported, and
	 * the request succeeds as natively (task_set_jobctl_pending() refuses
	 * PF_EXITING silently).
	 */
	return ret && ret != -EINPROGRESS && ret != -EALREADY ? -ESRCH : 0;
}

static int pt_check_options(unsigned long data)
{
	if (data & ~(unsigned long)PTRACE_O_MASK)
		return -EINVAL;
	/*
	 * check_ptrace_options().  PTRACE_O_SUSPEND_SECCOMP takes effect in
	 * utrace_pt_secure_computing().
	 */
	if (data & PTRACE_O_SUSPEND_SECCOMP) {
		if (!IS_ENABLED(CONFIG_CHECKPOINT_RESTORE) || !IS_ENABLED(CONFIG_SECCOMP))
			return -EINVAL;
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (current->seccomp.mode != SECCOMP_MODE_DISABLED ||
		    (current->ptrace & PT_SUSPEND_SECCOMP))
			return -EPERM;
	}
	return 0;
}

/*
 * The requests this module serves that read or write the caller's memory do
 * it in the caller's layout: an ia32 caller (pt_ia32()) gets
 * compat_ptrace_request()'s, a 32-bit word for PEEK and POKE and
 * GETEVENTMSG, a compat siginfo for GETSIGINFO and SETSIGINFO, and
 * compat_arch_ptrace() for the rest.  GET_SYSCALL_INFO's layout is the same
 * for both, and every other argument is a number, which pt_arg() already
 * zero-extended as the compat entry does.
 */
static long pt_peek(struct task_struct *child, unsigned long addr, unsigned long data)
{
	unsigned long tmp;
	u32 word;

	if (pt_ia32()) {
		if (access_process_vm(child, addr, &word, sizeof(word), FOLL_FORCE) != sizeof(word))
			return -EIO;
		return put_user(word, (u32 __user *)data);
	}
	if (access_process_vm(child, addr, &tmp, sizeof(tmp), FOLL_FORCE) != sizeof(tmp))
		return -EIO;
	return put_user(tmp, (unsigned long __user *)data);
}

static long pt_poke(struct task_struct *child, unsigned long addr, unsigned long data)
{
	u32 word = data;

	if (pt_ia32())
		return access_process_vm(child, addr, &word, sizeof(word),
					 FOLL_FORCE | FOLL_WRITE) == sizeof(word) ? 0 : -EIO;
	if (access_process_vm(child, addr, &data, sizeof(data), FOLL_FORCE | FOLL_WRITE) !=
	    sizeof(data))
		return -EIO;
	return 0;
}

static int pt_put_eventmsg(unsigned long msg, unsigned long data)
{
	if (pt_ia32())
		return put_user((u32)msg, (u32 __user *)data);
	return put_user(msg, (unsigned long __user *)data);
}

static int pt_siginfo_to_user(unsigned long data, const kernel_siginfo_t *info)
{
#ifdef CONFIG_IA32_EMULATION
	if (pt_ia32())
		return utrace_kcall(copy_siginfo_to_user32)(compat_ptr(data), info);
#endif
	return utrace_kcall(copy_siginfo_to_user)((siginfo_t __user *)data, info);
}

static int pt_siginfo_from_user(kernel_siginfo_t *info, unsigned long data)
{
#ifdef CONFIG_IA32_EMULATION
	if (pt_ia32())
		return utrace_kcall(copy_siginfo_from_user32)(info, compat_ptr(data));
#endif
	return utrace_kcall(copy_siginfo_from_user)(info, (siginfo_t __user *)data);
}

/* The kernel's own arch_ptrace(), or compat_arch_ptrace() for an ia32 caller. */
static long pt_arch_ptrace(struct task_struct *child, long request, unsigned long addr,
			   unsigned long data)
{
#ifdef CONFIG_IA32_EMULATION
	if (pt_ia32())
		return utrace_kcall(compat_arch_ptrace)(child, request, addr, data);
#endif
	return utrace_kcall(arch_ptrace)(child, request, addr, data);
}

/*
 * ptrace_access_vm()'s check: a non-dumpable tracee needs a tracer that had
 * CAP_SYS_PTRACE over its mm when the relationship began (ptracer_capable():
 * the credentials ptrace_link() recorded, not the tracer's current ones).
 */
static bool pt_may_access_vm(struct pt_ctx *ctx)
{
	struct mm_struct *mm = get_task_mm(ctx->tracee);
	bool ok;

	if (!mm)
		return false;
	ok = get_dumpable(mm) == SUID_DUMP_USER || !ctx->ptracer_cred ||
	     utrace_kcall(security_capable)(ctx->ptracer_cred, mm->user_ns, CAP_SYS_PTRACE,
					    CAP_OPT_NOAUDIT) == 0;
	mmput(mm);
	return ok;
}

/* ptrace_get_syscall_info() on our stop state. */
static long pt_get_syscall_info(struct pt_ctx *ctx, unsigned long user_size,
				void __user *datavp)
{
	struct task_struct *child = ctx->tracee;
	struct pt_regs *regs = task_pt_regs(child);
	struct ptrace_syscall_info info = {
		.op = PTRACE_SYSCALL_INFO_NONE,
		.arch = syscall_get_arch(child),
		.instruction_pointer = instruction_pointer(regs),
		.stack_pointer = user_stack_pointer(regs),
	};
	unsigned long actual_size = offsetof(struct ptrace_syscall_info, entry);
	unsigned long args[ARRAY_SIZE(info.entry.args)];
	unsigned long msg;
	int code, i;

	spin_lock(&pt_lock);
	code = ctx->have_info ? ctx->info.si_code : 0;
	msg = ctx->eventmsg;
	spin_unlock(&pt_lock);

	if ((code == (SIGTRAP | 0x80) && msg == PTRACE_EVENTMSG_SYSCALL_ENTRY) ||
	    code == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
		info.op = PTRACE_SYSCALL_INFO_ENTRY;
		info.entry.nr = syscall_get_nr(child, regs);
		syscall_get_arguments(child, regs, args);
		for (i = 0; i < ARRAY_SIZE(args); i++)
			info.entry.args[i] = args[i];
		actual_size = offsetofend(struct ptrace_syscall_info, entry.args);
		if (code != (SIGTRAP | 0x80)) {
			/* ptrace_get_syscall_info_seccomp(): entry, and the message */
			info.op = PTRACE_SYSCALL_INFO_SECCOMP;
			info.seccomp.ret_data = msg;
			actual_size = offsetofend(struct ptrace_syscall_info, seccomp.ret_data);
		}
	} else if (code == (SIGTRAP | 0x80) && msg == PTRACE_EVENTMSG_SYSCALL_EXIT) {
		info.op = PTRACE_SYSCALL_INFO_EXIT;
		info.exit.rval = syscall_get_error(child, regs);
		info.exit.is_error = !!info.exit.rval;
		if (!info.exit.is_error)
			info.exit.rval = syscall_get_return_value(child, regs);
		actual_size = offsetofend(struct ptrace_syscall_info, exit.is_error);
	}
	return copy_to_user(datavp, &info, min(actual_size, user_size)) ? -EFAULT : actual_size;
}

/*
 * A request on the tracee's registers or thread state.  Natively
 * ptrace_check_attach() freezes the tracee (ptrace_freeze_traced()): not even
 * SIGKILL wakes it until the request is over.  A utrace stop ends at once for
 * SIGKILL, and the tracee would run through do_exit() and free its kernel
 * stack (its pt_regs) under the request: so the stop is held for it.  ESRCH
 * if the tracee is killed or resumed since pt_check_stopped(), as natively.
 */
static long pt_examine(struct pt_ctx *ctx, long request, unsigned long addr, unsigned long data)
{
	struct utrace *hold = utrace_hold_stop(ctx->tracee, ctx->engine);
	long ret;

	if (IS_ERR(hold))
		return PTR_ERR(hold);
	if (request == PTRACE_GET_SYSCALL_INFO)
		ret = pt_get_syscall_info(ctx, addr, (void __user *)data);
	else
		ret = pt_arch_ptrace(ctx->tracee, request, addr, data);
	utrace_release_stop(hold);
	return ret;
}

/*
 * The siginfo requests, apart from pt_request(): a local is zeroed where it
 * is declared (CONFIG_INIT_STACK_ALL_ZERO), and a siginfo there cost every
 * request, PTRACE_SYSCALL's too, 48 bytes of stores.
 */
static long pt_getsiginfo(struct pt_ctx *ctx, unsigned long data)
{
	kernel_siginfo_t info;
	long ret;

	spin_lock(&pt_lock);
	ret = ctx->have_info ? 0 : -EINVAL;
	info = *pt_info(ctx);
	spin_unlock(&pt_lock);
	if (!ret)
		ret = pt_siginfo_to_user(data, &info);
	return ret;
}

static long pt_setsiginfo(struct pt_ctx *ctx, unsigned long data)
{
	kernel_siginfo_t info;
	long ret;

	ret = pt_siginfo_from_user(&info, data);
	if (ret)
		return ret;
	spin_lock(&pt_lock);
	ret = ctx->have_info ? 0 : -EINVAL;
	if (!ret) {
		ctx->info = info;
		ctx->info_lazy = false;
	}
	spin_unlock(&pt_lock);
	return ret;
}

static long pt_request(struct pt_ctx *ctx, long request, unsigned long addr, unsigned long data)
{
	struct task_struct *child = ctx->tracee;
	long ret;

	switch (request) {
	case PTRACE_PEEKTEXT:
	case PTRACE_PEEKDATA:
		return pt_may_access_vm(ctx) ? pt_peek(child, addr, data) : -EIO;
	case PTRACE_POKETEXT:
	case PTRACE_POKEDATA:
		return pt_may_access_vm(ctx) ? pt_poke(child, addr, data) : -EIO;
#ifdef PTRACE_OLDSETOPTIONS
	case PTRACE_OLDSETOPTIONS:
#endif
	case PTRACE_SETOPTIONS:
		ret = pt_check_options(data);
		if (!ret)
			WRITE_ONCE(ctx->options, data);
		return ret;
	case PTRACE_GETEVENTMSG:
		spin_lock(&pt_lock);
		ret = ctx->eventmsg;
		spin_unlock(&pt_lock);
		return pt_put_eventmsg(ret, data);
	case PTRACE_GETSIGINFO:
		return pt_getsiginfo(ctx, data);
	case PTRACE_SETSIGINFO:
		return pt_setsiginfo(ctx, data);
	case PTRACE_GET_SYSCALL_INFO:
		return pt_examine(ctx, request, addr, data);
	case PTRACE_INTERRUPT:
		return pt_interrupt(ctx);
	case PTRACE_LISTEN:
		return pt_listen(ctx);
	case PTRACE_DETACH:
		return pt_detach(ctx, data);
	case PTRACE_KILL:
		send_sig_info(SIGKILL, SEND_SIG_NOINFO, child);
		return 0;
	case PTRACE_SINGLESTEP:
	case PTRACE_SINGLEBLOCK:
	case PTRACE_SYSEMU:
	case PTRACE_SYSEMU_SINGLESTEP:
	case PTRACE_SYSCALL:
	case PTRACE_CONT:
		return pt_resume(ctx, request, data);
	default:
		/*
		 * Registers, regsets, signal masks, PEEKSIGINFO, seccomp
		 * filters, arch requests: the kernel's arch_ptrace() (or
		 * compat_arch_ptrace()) does not look at the ptrace link for
		 * those.
		 */
		return pt_examine(ctx, request, addr, data);
	}
}

static long pt_traceme(void)
{
	struct task_struct *parent;
	long ret;

	mutex_lock(&pt_mutex);
	rcu_read_lock();
	parent = rcu_dereference(current->real_parent);
	get_task_struct(parent);
	rcu_read_unlock();
	/*
	 * ptrace_traceme(): the LSMs are asked (Yama's scopes, AppArmor,
	 * SELinux, ...); a parent past exit_ptrace() "untraces us at once".
	 */
	if (pt_traced(current))
		ret = -EPERM;
	else
		ret = utrace_kcall(security_ptrace_traceme)(parent);
	/* ptrace_link() from ptrace_traceme(): the tracee's own credentials */
	if (!ret && !(parent->flags & PF_EXITING))
		ret = pt_link(current, parent, 0, false, current_cred());
	put_task_struct(parent);
	mutex_unlock(&pt_mutex);
	return ret;
}

/*
 * ptrace_attach() waits (JOBCTL_TRAPPING) until a tracee that was in a group
 * stop has trapped for the tracer, so that even WNOHANG finds it stopped:
 * until its re-trap is recorded, or it will not come (killed, detached).
 */
static void pt_wait_retrap(struct task_struct *task)
{
	struct pt_ctx *ctx = pt_find(task, current);
	unsigned int grace = 0;

	if (!ctx)
		return;
	while (!pt_in_stop(ctx) && !fatal_signal_pending(current) &&
	       !(READ_ONCE(task->flags) & PF_EXITING) && READ_ONCE(ctx->linked)) {
		/* Reported, not yet recorded: a moment at most. */
		if (!utrace_jctl_retrap_pending(task) && ++grace > 10)
			break;
		/* pt_record_stop()'s SIGCHLD wakes our group's waits. */
		wait_event_killable_timeout(current->signal->wait_chldexit, pt_in_stop(ctx), 1);
	}
	utrace_engine_put(ctx->engine);
}

static long pt_attach(struct task_struct *task, long request, unsigned long addr,
		      unsigned long flags)
{
	bool seize = request == PTRACE_SEIZE, retrap = false;
	long ret;

	if (seize) {
		if (addr != 0 || (flags & ~(unsigned long)PTRACE_O_MASK))
			return -EIO;
		ret = pt_check_options(flags);
		if (ret)
			return ret;
	} else {
		flags = 0;
	}
	if (unlikely(task->flags & PF_KTHREAD) || same_thread_group(task, current))
		return -EPERM;
	if (mutex_lock_interruptible(&task->signal->cred_guard_mutex))
		return -ERESTARTNOINTR;
	ret = -EPERM;
	if (!utrace_kcall(ptrace_may_access)(task, PTRACE_MODE_ATTACH_REALCREDS))
		goto out;
	if (task->exit_state)
		goto out;
	mutex_lock(&pt_mutex);
	ret = pt_link(task, current, flags, seize, current_cred());
	mutex_unlock(&pt_mutex);
	if (!ret && !seize)
		send_sig_info(SIGSTOP, SEND_SIG_PRIV, task);
	/* Already in a group stop: it traps for the tracer at once. */
	if (!ret)
		retrap = utrace_jctl_retrap(task);
out:
	mutex_unlock(&task->signal->cred_guard_mutex);
	if (retrap)
		pt_wait_retrap(task);
	return ret;
}

/* A request that may make a native relationship: the switch waits for it. */
static bool pt_request_links(long request)
{
	return request == PTRACE_TRACEME || request == PTRACE_ATTACH || request == PTRACE_SEIZE;
}

/* ptrace(2) when the backend is on. */
static long pt_sys_ptrace(long request, long pid, unsigned long addr, unsigned long data)
{
	struct task_struct *child;
	struct pt_ctx *ctx;
	bool recorded;
	long ret;

	if (request == PTRACE_TRACEME) {
		ret = pt_traceme();
		goto out;
	}
	rcu_read_lock();
	child = pid_task(find_vpid(pid), PIDTYPE_PID);
	if (child)
		get_task_struct(child);
	rcu_read_unlock();
	if (!child)
		return -ESRCH;
	if (request == PTRACE_ATTACH || request == PTRACE_SEIZE) {
		ret = pt_attach(child, request, addr, data);
		goto out_put;
	}
	ctx = pt_find_recorded(child, current, &recorded);
	ret = -ESRCH;
	if (!ctx)
		goto out_put;
	if (request != PTRACE_KILL && request != PTRACE_INTERRUPT)
		ret = pt_check_stopped(ctx, recorded);
	else
		ret = 0;
	if (!ret)
		ret = pt_request(ctx, request, addr, data);
	utrace_engine_put(ctx->engine);
out_put:
	put_task_struct(child);
out:
	/*
	 * Switched off between the filter and pt_link(): the call restarts and
	 * goes to the kernel's own (pt_native_link()).
	 */
	if (ret == -EAGAIN && pt_request_links(request) && !READ_ONCE(pt_backend)) {
		set_tsk_thread_flag(current, TIF_NOTIFY_SIGNAL);
		ret = -ERESTARTNOINTR;
	}
	return ret;
}

/* A linked relationship of @tracer on its group's list, engine referenced, or NULL. */
static struct pt_ctx *pt_first_of(struct task_struct *tracer)
{
	struct pt_ctx *ctx, *found = NULL;
	struct pt_group *g;

	rcu_read_lock();
	g = pt_group_lookup(tracer->signal);
	if (g) {
		list_for_each_entry_rcu(ctx, &g->tracees, node) {
			if (ctx->tracer != tracer)
				continue;
			spin_lock(&pt_lock);
			if (ctx->linked) {
				utrace_engine_get(ctx->engine);
				found = ctx;
			}
			spin_unlock(&pt_lock);
			if (found)
				break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * A tracer thread exits: its tracees are detached (exit_ptrace()).  The
 * do_exit() hook calls this while utrace has engines, and it still does
 * after utrace_ptrace_exit() destroyed the tables at unload (the hook goes
 * with utrace_hooks_exit(), later): with no relationship left, which
 * unloading requires and which none can be made after, nothing is looked
 * up.  A relationship is counted under pt_lock while it is linked.
 */
void utrace_ptrace_exit_tracer(void)
{
	struct pt_ctx *ctx;

	if (!utrace_ptrace_active())
		return;
	for (;;) {
		ctx = pt_first_of(current);
		if (!ctx)
			return;
		if (ctx->options & PTRACE_O_EXITKILL)
			send_sig_info(SIGKILL, SEND_SIG_PRIV, ctx->tracee);
		pt_let_go(ctx);
		utrace_engine_put(ctx->engine);
	}
}

/*
 * The syscall hooks.  The filters run in the ftrace callback and take a
 * module reference for the call they redirect, unless the call never
 * sleeps here without one (ptrace()'s other requests, below).
 */

/*
 * ptrace(): every call while the backend is on; while it is off, only
 * TRACEME, ATTACH and SEIZE (pt_native_link()).  @arg0 is the entry's
 * registers.  The cost to native ptrace with the module loaded and the
 * backend off: this test on every call; for those three requests a module
 * reference and an uncontended rwsem read lock around the kernel's call.
 * No other hook is enabled while nothing is traced (pt_hooks_enable()), and
 * the wait hooks redirect only groups that trace through the backend.
 *
 * The other requests take no module reference: they act on a relationship,
 * and sleep only while they hold its engine (pt_find()), whose release
 * drops the relationship's reference (pt_release()); without one they
 * fail with ESRCH at once, and the unload's utrace_fhook_sync() waits for
 * a task that has not slept.  Once unload has begun they go to the kernel,
 * as a refused try_module_get() sends the others: a TRACEME made then is
 * native, and so must be its tracer's requests.  utrace_pt_sys_ptrace()
 * restarts such a call if the backend went off or unload began meanwhile,
 * rather than run the kernel's there.
 */
static bool pt_serves_requests(void)
{
	return READ_ONCE(pt_backend) && module_is_live(THIS_MODULE);
}

bool pt_filter(unsigned long arg0)
{
	const struct pt_regs *regs = (const struct pt_regs *)arg0;

	if (pt_request_links(pt_arg(regs, 0)))
		return try_module_get(THIS_MODULE);
	return pt_serves_requests();
}

/*
 * wait4, waitid, waitpid: only a group that traces something through the
 * backend waits here (ptrace_wait.c); any other runs the kernel's own wait
 * untouched.  A group that gets its first tracee while one of its threads
 * is already in the kernel's wait makes that wait restart
 * (pt_kick_waiters(), whose barrier pairs with this one).
 */
bool pt_wait_filter(void)
{
	struct pt_group *g;
	bool want;

	if (!READ_ONCE(pt_backend))
		return false;
	smp_mb();	/* in the wait call before we look: pairs with pt_kick_waiters() */
	rcu_read_lock();
	g = pt_group_lookup(current->signal);
	want = g && READ_ONCE(g->count);
	rcu_read_unlock();
	return want && try_module_get(THIS_MODULE);
}

#ifdef CONFIG_X86_64
#define PT_SYS(name)	"__x64_sys_" #name
#else
#define PT_SYS(name)	"sys_" #name
#endif

UTRACE_DECLARE_REPLACEMENT(utrace_pt_sys_ptrace);
UTRACE_DECLARE_REPLACEMENT(utrace_pt_sys_wait4);
UTRACE_DECLARE_REPLACEMENT(utrace_pt_sys_waitid);
UTRACE_DECLARE_REPLACEMENT(utrace_pt_sys_waitpid);

/*
 * The ptrace entries stay hooked while the module is loaded: native calls
 * that link go through pt_native_link() while the backend is off.  The
 * others only while relationships exist (pt_hooks_enable()), but for the
 * direct hooks among them (x86_64's wait4 and waitid, pt_hook_lazy()).
 */
enum {
	PT_HOOK_PTRACE,
#ifdef CONFIG_IA32_EMULATION
	PT_HOOK_IA32_PTRACE,
#endif
	PT_HOOK_LAZY,
	PT_HOOK_WAIT4 = PT_HOOK_LAZY,
	PT_HOOK_WAITID,
#ifdef CONFIG_PPC64
	PT_HOOK_WAITPID,
#endif
#ifdef CONFIG_IA32_EMULATION
	PT_HOOK_IA32_WAIT4,
	PT_HOOK_IA32_WAITID,
	PT_HOOK_IA32_WAITPID,
#endif
	PT_HOOK_NOTIFY_PARENT,
	PT_NHOOKS
};

static struct utrace_fhook pt_hooks[PT_NHOOKS];
UTRACE_DECLARE_REPLACEMENT(utrace_pt_do_notify_parent);

/*
 * The originals the replacements call (kcall.h): the kernel's ptrace entries
 * (pt_native_link()), wait entries (pt_orig_wait()) and do_notify_parent().
 * A system call entry takes the pt_regs of the call.
 */
typedef long pt_syscall_t(const struct pt_regs *regs);
UTRACE_KCALL_DEFINE(orig_sys_ptrace, pt_syscall_t);
UTRACE_KCALL_DEFINE(orig_sys_wait4, pt_syscall_t);
UTRACE_KCALL_DEFINE(orig_sys_waitid, pt_syscall_t);
#ifdef CONFIG_PPC64
UTRACE_KCALL_DEFINE(orig_sys_waitpid, pt_syscall_t);
#endif
#ifdef CONFIG_IA32_EMULATION
UTRACE_KCALL_DEFINE(orig_ia32_ptrace, pt_syscall_t);
UTRACE_KCALL_DEFINE(orig_ia32_wait4, pt_syscall_t);
UTRACE_KCALL_DEFINE(orig_ia32_waitid, pt_syscall_t);
UTRACE_KCALL_DEFINE(orig_ia32_waitpid, pt_syscall_t);
#endif
UTRACE_KCALL_DEFINE(orig_do_notify_parent, do_notify_parent);

/*
 * A dead child leader of its tracer (PT_HOLD_CHILD) whose group has a
 * traced thread that died and is not reaped (pt_threads_unreaped()):
 * natively that zombie is still in the group, and delay_group_leader()
 * keeps the leader from its parent's (the tracer's) wait until the tracer
 * reaped it; gdb counts on that order to tell a thread's exit from the
 * process's.  Here the thread was released at its death and the kernel's
 * wait would report the leader first: it waits in EXIT_TRACE, unnotified,
 * until pt_release_leader() gives it back.  The checks of the threads and
 * the cmpxchg()es order against pt_release_leader()'s (->linked, ->hold):
 * one of the two sees the other.  Under tasklist_lock, irqs off: RCU only.
 */
static bool pt_hold_child(struct task_struct *tsk, struct pt_ctx *ctx)
{
	struct pt_group *g = READ_ONCE(ctx->group);

	if (!g || !pt_threads_unreaped(g, tsk))
		return false;
	WRITE_ONCE(tsk->exit_state, EXIT_TRACE);
	if (cmpxchg(&ctx->hold, PT_HOLD_CHILD, PT_HOLD_CHILD_HELD) != PT_HOLD_CHILD) {
		WRITE_ONCE(tsk->exit_state, EXIT_ZOMBIE);
		return false;
	}
	/* The last thread reaped meanwhile: notified as usual, unless taken. */
	if (!pt_threads_unreaped(g, tsk) &&
	    cmpxchg(&ctx->hold, PT_HOLD_CHILD_HELD, PT_HOLD_CHILD) == PT_HOLD_CHILD_HELD) {
		WRITE_ONCE(tsk->exit_state, EXIT_ZOMBIE);
		return false;
	}
	return true;
}

/*
 * A dead group leader traced by a non-child: native exit_notify() sends
 * ptrace_reparented() zombies' notification to the tracer only, and the
 * real parent's wait passes over them (wait_consider_task(): "a zombie
 * ptracee is only visible to its ptracer") until the tracer reaped it.
 * Here ->ptrace is 0: the kernel would notify the real parent and let its
 * wait reap the zombie at once.  So its do_notify_parent() (exit_notify(),
 * or release_task() of the group's last thread) does not notify: the
 * zombie goes to EXIT_TRACE, the state wait_task_zombie() gives it while
 * the tracer reaps, in which the real parent's wait sees it but waits (and
 * /proc shows Z); pt_release_hold() gives it back.  Under tasklist_lock,
 * irqs off: no pt_lock here (it is not irq-safe), the lookup is RCU, and
 * only the tracer's group is woken.
 */
static bool pt_hold_zombie(struct task_struct *tsk)
{
	struct pt_ctx *ctx;
	bool held = false;
	int hold;

	if (READ_ONCE(tsk->exit_state) != EXIT_ZOMBIE || !thread_group_leader(tsk) ||
	    tsk->ptrace)
		return false;
	rcu_read_lock();
	ctx = rhashtable_lookup(&pt_tracees, &tsk, pt_tracee_params);
	hold = ctx ? READ_ONCE(ctx->hold) : PT_HOLD_NONE;
	if (hold == PT_HOLD_CHILD) {
		held = pt_hold_child(tsk, ctx);
		rcu_read_unlock();
		return held;
	}
	if (hold != PT_HOLD_CANDIDATE && hold != PT_HOLD_HELD) {
		rcu_read_unlock();
		return false;
	}
	/* Nobody looks at it meanwhile: the waits need tasklist_lock. */
	WRITE_ONCE(tsk->exit_state, EXIT_TRACE);
	smp_mb();	/* pairs with the xchg() in pt_release_hold() */
	held = cmpxchg(&ctx->hold, PT_HOLD_CANDIDATE, PT_HOLD_HELD) == PT_HOLD_CANDIDATE;
	if (!held)
		WRITE_ONCE(tsk->exit_state, EXIT_ZOMBIE);
	if (held) {
		/* do_notify_pidfd(): it has exited */
		wake_up_all(&task_pid(tsk)->wait_pidfd);
	}
	/*
	 * From release_task() of the group's last thread: the leader died
	 * before it, and the tracer, natively its ->parent, is told now that
	 * the group is gone (its wait can report it).  Else the tracer's wait
	 * reports a dead leader from now on (pt_dead_ready()): woken.  The
	 * tracer is put after a grace period (pt_free_rcu()).
	 */
	if (held && tsk != current)
		utrace_notify_death(tsk, NULL, ctx->tracer, SIGCHLD, true);
	else
		pt_wake_tracer(tsk, ctx->tracer);
	rcu_read_unlock();
	return held;
}

/*
 * A dead child leader of its tracer (PT_HOLD_CHILD): exit_notify() computes
 * no autoreap for a traced task (do_notify_parent(): !tsk->ptrace), so a
 * tracer that ignores SIGCHLD or has SA_NOCLDWAIT still reaps it with wait.
 * Under tasklist_lock, irqs off: RCU only.
 */
static bool pt_keep_zombie(struct task_struct *tsk)
{
	struct pt_ctx *ctx;
	bool keep;

	rcu_read_lock();
	ctx = rhashtable_lookup(&pt_tracees, &tsk, pt_tracee_params);
	keep = ctx && READ_ONCE(ctx->hold) == PT_HOLD_CHILD;
	rcu_read_unlock();
	return keep;
}

static bool pt_hold_filter(void)
{
	return atomic_read(&pt_holds) && try_module_get(THIS_MODULE);
}

bool utrace_pt_do_notify_parent(struct task_struct *tsk, int sig)
{
	bool autoreap = false;

	if (!pt_hold_zombie(tsk))
		autoreap = utrace_kcall(orig_do_notify_parent)(tsk, sig) && !pt_keep_zombie(tsk);
	module_put(THIS_MODULE);
	return autoreap;
}

static struct utrace_fhook pt_hooks[PT_NHOOKS] = {
	[PT_HOOK_PTRACE] = { .name = PT_SYS(ptrace),
			     .replacement = UTRACE_REPLACEMENT(utrace_pt_sys_ptrace),
			     .filter_arg = pt_filter,
			     UTRACE_FHOOK_DIRECT(sys_ptrace),
			     UTRACE_FHOOK_ORIG(orig_sys_ptrace) },
	[PT_HOOK_WAIT4] = { .name = PT_SYS(wait4),
			    .replacement = UTRACE_REPLACEMENT(utrace_pt_sys_wait4),
			    .filter = pt_wait_filter,
			    UTRACE_FHOOK_DIRECT(sys_wait4),
			    UTRACE_FHOOK_ORIG(orig_sys_wait4) },
	[PT_HOOK_WAITID] = { .name = PT_SYS(waitid),
			     .replacement = UTRACE_REPLACEMENT(utrace_pt_sys_waitid),
			     .filter = pt_wait_filter,
			     UTRACE_FHOOK_DIRECT(sys_waitid),
			     UTRACE_FHOOK_ORIG(orig_sys_waitid) },
#ifdef CONFIG_PPC64
	[PT_HOOK_WAITPID] = { .name = PT_SYS(waitpid),
			      .replacement = UTRACE_REPLACEMENT(utrace_pt_sys_waitpid),
			      .filter = pt_wait_filter,
			      UTRACE_FHOOK_ORIG(orig_sys_waitpid) },
#endif
#ifdef CONFIG_IA32_EMULATION
	/*
	 * The ia32 entries (syscall_32.tbl) reach the same replacements: they
	 * read the arguments and write memory as pt_ia32() says.
	 */
	[PT_HOOK_IA32_PTRACE] = { .name = "__ia32_compat_sys_ptrace",
				  .replacement = UTRACE_REPLACEMENT(utrace_pt_sys_ptrace),
				  .filter_arg = pt_filter,
				  UTRACE_FHOOK_ORIG(orig_ia32_ptrace) },
	[PT_HOOK_IA32_WAIT4] = { .name = "__ia32_compat_sys_wait4",
				 .replacement = UTRACE_REPLACEMENT(utrace_pt_sys_wait4),
				 .filter = pt_wait_filter,
				 UTRACE_FHOOK_ORIG(orig_ia32_wait4) },
	[PT_HOOK_IA32_WAITID] = { .name = "__ia32_compat_sys_waitid",
				  .replacement = UTRACE_REPLACEMENT(utrace_pt_sys_waitid),
				  .filter = pt_wait_filter,
				  UTRACE_FHOOK_ORIG(orig_ia32_waitid) },
	[PT_HOOK_IA32_WAITPID] = { .name = "__ia32_sys_waitpid",
				   .replacement = UTRACE_REPLACEMENT(utrace_pt_sys_waitpid),
				   .filter = pt_wait_filter,
				   UTRACE_FHOOK_ORIG(orig_ia32_waitpid) },
#endif
	[PT_HOOK_NOTIFY_PARENT] = { .name = "do_notify_parent",
				    .replacement = UTRACE_REPLACEMENT(utrace_pt_do_notify_parent),
				    .filter = pt_hold_filter,
				    UTRACE_FHOOK_ORIG(orig_do_notify_parent) },
};

/* The syscall entries' replacements have their wrappers' (pt_regs) ABI. */
UTRACE_CHECK_REPLACEMENT(do_notify_parent, utrace_pt_do_notify_parent);

/*
 * The hooks from PT_HOOK_LAZY on (but direct ones: pt_hook_lazy()), and the
 * tracee's (pt_tracee_lazy_hooks()), are enabled while relationships
 * exist, and a while after the last ended (PT_HOOKS_LINGER, so that a
 * tracer run after tracer pays the code updates once): every task passes
 * their functions, and without them an untraced one
 * never enters the module there (B1.seccomp).  Each filter turns away every
 * call while no relationship exists, so the hooks may stay enabled longer:
 * the first link enables them under pt_mutex before its relationship is
 * visible, and pt_hooks_off() disables them under pt_mutex once none is
 * left.  A wait already in the kernel's own when its group gets its first
 * tracee restarts through the hook (pt_kick_waiters()).  A dead leader held
 * for its tracer (pt_holds) keeps do_notify_parent() hooked after its
 * relationship ended.
 */
#define PT_HOOKS_LINGER	HZ

/*
 * Whether hook @i comes and goes with relationships.  A direct hook (x86_64's
 * wait4 and waitid) stays from load to unload: unregistering a direct call's
 * ftrace_ops waits for Tasks RCU grace periods, which pt_hooks_off() would do
 * under pt_mutex, holding up the next attach for as long; and an untraced
 * wait passes only its trampoline and the filter's first test (the backend
 * is off, or the group traces nothing), no ftrace callback.
 */
static bool pt_hook_lazy(unsigned int i)
{
	return i >= PT_HOOK_LAZY && !pt_hooks[i].direct;
}

static bool pt_hooks_on;	/* pt_mutex */
static void pt_hooks_off(struct work_struct *work);
static DECLARE_DELAYED_WORK(pt_hooks_off_work, pt_hooks_off);

/* The hooks that come and go with relationships, ours and the tracee's: counted. */
static unsigned int pt_lazy_hooks(struct utrace_fhook **hooks)
{
	unsigned int i, n = 0;

	for (i = PT_HOOK_LAZY; i < PT_NHOOKS; i++)
		if (pt_hook_lazy(i))
			hooks[n++] = &pt_hooks[i];
	return n + pt_tracee_lazy_hooks(hooks + n);
}

#define PT_LAZY_MAX	(PT_NHOOKS + PT_TRACEE_NHOOKS_MAX)

/* Together: one code update (utrace_fhooks_enable()). */
static int pt_hooks_enable(void)
{
	struct utrace_fhook *hooks[PT_LAZY_MAX];
	unsigned int n;
	int ret;

	BUILD_BUG_ON(PT_LAZY_MAX > UTRACE_FHOOK_BATCH);
	lockdep_assert_held(&pt_mutex);
	if (pt_hooks_on)
		return 0;
	n = pt_lazy_hooks(hooks);
	ret = utrace_fhooks_enable(hooks, n);
	if (ret) {
		utrace_fhooks_remove(hooks, n);
		return ret;
	}
	pt_hooks_on = true;
	pt_tracee_hooks_on();
	return 0;
}

/* No relationship is left, or a first link failed: any context. */
static void pt_hooks_idle(void)
{
	queue_delayed_work(system_wq, &pt_hooks_off_work, PT_HOOKS_LINGER);
}

static void pt_hooks_off(struct work_struct *work)
{
	struct utrace_fhook *hooks[PT_LAZY_MAX];
	bool idle, held;

	mutex_lock(&pt_mutex);
	/* A hold is made by a linked relationship, under pt_lock. */
	spin_lock(&pt_lock);
	idle = !atomic_read(&pt_count);
	held = atomic_read(&pt_holds);
	spin_unlock(&pt_lock);
	/* A seccomp window still open keeps them too (pt_tracee_hooks_may_go()). */
	if (idle && !held && pt_hooks_on && !pt_tracee_hooks_may_go())
		held = true;
	if (idle && !held && pt_hooks_on) {
		utrace_fhooks_remove(hooks, pt_lazy_hooks(hooks));
		pt_hooks_on = false;
	}
	mutex_unlock(&pt_mutex);
	if (idle && held)
		pt_hooks_idle();	/* until held zombies are released, windows closed */
}

/* For ptrace_wait.c: the kernel's own wait4/waitid/waitpid, of the caller's entry. */
long pt_orig_wait(const struct pt_regs *regs, int kind)
{
#ifdef CONFIG_IA32_EMULATION
	if (pt_ia32())
		return kind == PT_WAITID ? utrace_kcall(orig_ia32_waitid)(regs) :
		       kind == PT_WAITPID ? utrace_kcall(orig_ia32_waitpid)(regs) :
		       utrace_kcall(orig_ia32_wait4)(regs);
#endif
#ifdef CONFIG_PPC64
	if (kind == PT_WAITPID)
		return utrace_kcall(orig_sys_waitpid)(regs);
#endif
	return kind == PT_WAITID ? utrace_kcall(orig_sys_waitid)(regs) :
	       utrace_kcall(orig_sys_wait4)(regs);
}

/* The kernel's own sys_ptrace(), of the caller's entry. */
static long pt_orig_ptrace(const struct pt_regs *regs)
{
#ifdef CONFIG_IA32_EMULATION
	if (pt_ia32())
		return utrace_kcall(orig_ia32_ptrace)(regs);
#endif
	return utrace_kcall(orig_sys_ptrace)(regs);
}

/*
 * The backend is off: the kernel's own sys_ptrace() (or the ia32 entry's),
 * for a request that may link under pt_switch_rwsem's read side, so that
 * switching on waits for it (pt_switch_on()).  False if the backend is on
 * after all (switched on meanwhile): the caller serves the call.
 */
static bool pt_native_link(const struct pt_regs *regs, long *ret)
{
	if (down_read_killable(&pt_switch_rwsem)) {
		*ret = -EINTR;	/* SIGKILL: the caller does not return */
		return true;
	}
	if (READ_ONCE(pt_backend)) {
		up_read(&pt_switch_rwsem);
		return false;
	}
	*ret = pt_orig_ptrace(regs);
	up_read(&pt_switch_rwsem);
	return true;
}

long utrace_pt_sys_ptrace(const struct pt_regs *regs)
{
	long request = pt_arg(regs, 0);
	bool links = pt_request_links(request);	/* else no module reference */
	long ret;

	if (!links && !pt_serves_requests()) {
		/* Switched off or unloading since the filter: the kernel's, by a restart. */
		set_tsk_thread_flag(current, TIF_NOTIFY_SIGNAL);
		return -ERESTARTNOINTR;
	}
	if (!links || READ_ONCE(pt_backend) || !pt_native_link(regs, &ret))
		ret = pt_sys_ptrace(request, pt_arg(regs, 1), pt_arg(regs, 2), pt_arg(regs, 3));
	if (links)
		module_put(THIS_MODULE);
	return ret;
}

long utrace_pt_sys_wait4(const struct pt_regs *regs)
{
	long ret = pt_wait(regs, PT_WAIT4);

	module_put(THIS_MODULE);
	return ret;
}

long utrace_pt_sys_waitid(const struct pt_regs *regs)
{
	long ret = pt_wait(regs, PT_WAITID);

	module_put(THIS_MODULE);
	return ret;
}

#if defined(CONFIG_PPC64) || defined(CONFIG_IA32_EMULATION)
long utrace_pt_sys_waitpid(const struct pt_regs *regs)
{
	long ret = pt_wait(regs, PT_WAITPID);

	module_put(THIS_MODULE);
	return ret;
}
#endif

int utrace_ptrace_init(void)
{
	unsigned int i;
	int ret;

	ret = rhashtable_init(&pt_tracees, &pt_tracee_params);
	if (ret)
		return ret;
	ret = rhashtable_init(&pt_groups, &pt_group_params);
	if (ret)
		goto out_tracees;
	for (i = 0; i < ARRAY_SIZE(pt_hooks); i++) {
		ret = utrace_fhook_resolve(&pt_hooks[i]);
		if (ret)
			goto out_groups;
	}
	for (i = 0; i < PT_NHOOKS; i++) {
		if (pt_hook_lazy(i))
			continue;
		ret = utrace_fhook_enable(&pt_hooks[i]);
		if (ret)
			goto out_hooks;
	}
	ret = pt_tracee_init();
	if (!ret)
		return 0;
out_hooks:
	while (i--)
		utrace_fhook_remove(&pt_hooks[i]);
	utrace_fhook_sync();
out_groups:
	rhashtable_destroy(&pt_groups);
out_tracees:
	rhashtable_destroy(&pt_tracees);
	return ret;
}

/*
 * No relationship is left: each holds a module reference.  After the hooks'
 * removal, utrace_fhook_sync() waits for their callers to leave, so nothing looks the
 * (empty) tables up any more; utrace_core_exit()'s rcu_barrier() runs the
 * last pt_free_rcu() callbacks.
 */
void utrace_ptrace_exit(void)
{
	unsigned int i = ARRAY_SIZE(pt_hooks);

	cancel_delayed_work_sync(&pt_hooks_off_work);
	pt_tracee_exit();
	while (i--)
		utrace_fhook_remove(&pt_hooks[i]);
	utrace_fhook_sync();
	pt_parting_free();
	rhashtable_destroy(&pt_groups);
	rhashtable_destroy(&pt_tracees);
}
