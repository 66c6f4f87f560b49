/* SPDX-License-Identifier: GPL-2.0 */
/*
 * utrace core (utrace.c): the syscall reports, inline in the arch hooks
 * (arch_x86.c, arch_powerpc.c) that every system call of a traced task
 * passes.
 */
#ifndef _UTRACE_SYSCALL_H
#define _UTRACE_SYSCALL_H

#include <asm/syscall.h>

#include "utrace_internal.h"
#include "utrace_trace.h"

void utrace_splice_attaching(struct utrace *utrace);
/*
 * Before a report pass: splice in new engines.  The task is the only one
 * walking the list; an engine attached while this looks joins the next
 * report (the attach raced the report, it may as well have come after it).
 */
static inline void utrace_start_report(struct utrace *utrace)
{
	if (unlikely(!list_empty(&utrace->attaching)))
		utrace_splice_attaching(utrace);
}

bool utrace_syscall_report_rest(struct utrace *utrace, unsigned long event, struct pt_regs *regs,
				struct list_head *pos, u32 result, u32 ret, bool answered);

/**
 * struct utrace_exit_hint - what a syscall-entry report learnt of the exit
 * @gen:	utrace->exit_gen before the report
 * @skip:	every engine that wants %SYSCALL_EXIT reports has a syscall
 *		filter that leaves the call out, and the report was the common
 *		pass: the arch may leave this call's exit hook out.  Anything
 *		that may want that exit report after all (an engine's events or
 *		filter, a new engine, utrace_control()) changes @gen first:
 *		utrace_syscall_exit_rearm().
 */
struct utrace_exit_hint {
	unsigned int gen;
	bool skip;
};

/*
 * Whether @engine's syscall filter leaves the current call out.  Only for
 * an engine with one (a look at the pointer first): a filtered call then
 * costs a bit test, no callback.  An RCU-sched read side: a replaced filter
 * is freed after a grace period (utrace_set_syscall_filter()); an engine
 * detached meanwhile has no events, its callbacks are not called anyway.
 */
static __always_inline bool utrace_syscall_filtered_out(struct utrace_engine *engine,
							struct pt_regs *regs)
{
	const struct utrace_syscall_filter *f;
	long nr = syscall_get_nr(current, regs);
	bool out;

	rcu_read_lock_sched_notrace();
	f = rcu_dereference_sched(engine->syscall_filter);
	out = f && (nr < 0 || nr >= f->nr || in_compat_syscall() || !test_bit(nr, f->bits));
	rcu_read_unlock_sched_notrace();
	return out;
}

/*
 * The syscall reports run on every system call of a traced task.  Their
 * common case, each engine answering RESUME with nothing left to do, is
 * utrace_syscall_pass(): the report's state in registers, no lock, each callback
 * called directly.  The first engine for which that is not so (detached, or
 * its answer is another action or leaves a wish) hands the pass over to the
 * generic code, utrace_syscall_report_rest(), at that engine.
 *
 * With @noexit (an entry report of a task that has syscall filters,
 * utrace->syscall_filters), the engines' filters are tested, and *@noexit
 * says whether no engine wants the call's exit.  Without, neither costs a
 * task whose engines have no filter anything.
 */
static __always_inline struct list_head *utrace_syscall_pass(struct utrace *utrace,
							     unsigned long event,
							     struct pt_regs *regs, u32 *result,
							     u32 *ret, bool *answered, bool *noexit)
{
	const bool entry = event == UTRACE_EVENT(SYSCALL_ENTRY);
	struct list_head *head = &utrace->attached, *pos;
	const struct utrace_engine_ops *ops;
	struct utrace_engine *engine;
	unsigned long flags;
	u32 r;

	*result = 0;
	if (noexit)
		*noexit = true;
	*answered = false;
	utrace_start_report(utrace);
	pos = entry ? head->prev : head->next;
	/* The report tracepoints time each callback: the generic code does. */
	if (unlikely(utrace_trace_reports_on()))
		return pos;
	/* Entry in reverse attach order, exit in attach order, as reported. */
	for (; pos != head; pos = entry ? pos->prev : pos->next) {
		engine = list_entry(pos, struct utrace_engine, entry);
		/*
		 * A detached engine has no events: the task unlinks it at its
		 * resume point (utrace_control()), no report need see it.
		 */
		flags = READ_ONCE(engine->flags);
		if (!(flags & event)) {
			if (noexit && (flags & UTRACE_EVENT(SYSCALL_EXIT)))
				*noexit = false;
			continue;
		}
		/*
		 * A call its filter leaves out: as if it had not the event, and
		 * it wants no exit (its filter leaves that out too).  Unless a
		 * wish (a stop) waits for its callback's answer.
		 */
		if (noexit) {
			if (rcu_access_pointer(engine->syscall_filter) &&
			    !(flags & ENGINE_WISHES) && utrace_syscall_filtered_out(engine, regs))
				continue;
			if (flags & UTRACE_EVENT(SYSCALL_EXIT))
				*noexit = false;
		}
		/*
		 * start_callback()'s publication and second look.  The events
		 * tell a detach too: it clears them before its barrier.  Ops a
		 * detach changed after this look are the detached ops, which
		 * have no callbacks.
		 */
		WRITE_ONCE(utrace->reporting, engine);
		smp_mb();	/* pairs with the detacher's */
		if (unlikely(!(READ_ONCE(engine->flags) & event))) {
			smp_store_release(&utrace->reporting, NULL);	/* no callback */
			break;
		}
		ops = READ_ONCE(engine->ops);
		r = UTRACE_RESUME;
		if (entry && ops->report_syscall_entry)
			r = ops->report_syscall_entry(*result | UTRACE_RESUME, engine, regs);
		else if (!entry && ops->report_syscall_exit)
			r = ops->report_syscall_exit(UTRACE_RESUME, engine, regs);
		/*
		 * A wish, a detach (which clears the events first) or another
		 * event mask since: finish_callback() sorts it out.
		 */
		if (unlikely(utrace_resume_action(r) != UTRACE_RESUME ||
			     (READ_ONCE(engine->flags) & (ENGINE_WISHES | event)) != event)) {
			*ret = r;
			*answered = true;
			break;
		}
		/* What the next entry callback is given; exit callbacks get none. */
		if (entry)
			*result = r & ~UTRACE_RESUME_MASK;
		/* The callback's effects before utrace_barrier() sees it end. */
		smp_store_release(&utrace->reporting, NULL);
	}
	return pos;
}

/**
 * __utrace_report_syscall - report a system call about to run or returned
 * @utrace:	the task's utrace, looked up by the caller (NULL: not traced)
 * @event:	UTRACE_EVENT(SYSCALL_ENTRY) or UTRACE_EVENT(SYSCALL_EXIT)
 * @regs:	the task's user registers (at exit, return value in place)
 * @hint:	NULL, or at the entry of a task with syscall filters
 *		(utrace->syscall_filters), where to say whether the exit
 *		report may be left out (struct utrace_exit_hint)
 *
 * Called by the arch hook on the syscall slow path, sleepable: at entry
 * before seccomp and the call, engines in reverse attach order; at exit
 * before any signal is handled.  A stop takes effect at once.  Returns true
 * if the call must not run (at entry: an engine returned
 * UTRACE_SYSCALL_ABORT, or a fatal signal ended the stop).
 */
static __always_inline bool __utrace_report_syscall(struct utrace *utrace, unsigned long event,
						    struct pt_regs *regs,
						    struct utrace_exit_hint *hint)
{
	struct list_head *pos;
	bool answered, noexit;
	u32 result, ret;

	if (hint) {
		hint->skip = false;
		hint->gen = READ_ONCE(utrace->exit_gen);
		smp_rmb();	/* @exit_gen before the engines and their filters */
	}
	if (!utrace || !(utrace->flags & event))
		return false;
	pos = utrace_syscall_pass(utrace, event, regs, &result, &ret, &answered,
				  hint ? &noexit : NULL);
	/* The rest, or finish_report()'s work for a resume asked meanwhile */
	if (unlikely(pos != &utrace->attached || READ_ONCE(utrace->resume) != UTRACE_RESUME))
		return utrace_syscall_report_rest(utrace, event, regs, pos, result, ret, answered);
	if (hint)
		hint->skip = noexit && utrace_syscall_action(result) == UTRACE_SYSCALL_RUN;
	return utrace_syscall_action(result) == UTRACE_SYSCALL_ABORT;
}

#endif /* _UTRACE_SYSCALL_H */
