/* SPDX-License-Identifier: GPL-2.0 */
/*
 * utrace tracepoints: what the BPF metrics (bpf/utrace_metrics.bpf.c) and
 * any tracer see of reports and stops.
 *
 *  utrace_report_begin	an engine's callback is about to run
 *  utrace_report_end	it returned @ret (resume action | event bits) after
 *			@duration_ns
 *  utrace_stop		a thread goes into a utrace stop; @engine_id and
 *			@engine_type name the first engine (attach order)
 *			that wants it stopped, @reason is the event it
 *			answered UTRACE_STOP to, or UTRACE_STOP_REQUESTED
 *  utrace_resume	the thread leaves that stop (same engine) after
 *			@duration_ns, @reason is enum utrace_resume_reason
 *
 * The kernel measures the durations (ktime_get_ns() on the task's own
 * stack, only while a tracepoint is on), so a consumer needs no table of
 * start times keyed by thread: the BPF programs are a few per-CPU counter
 * updates per report.
 *
 * Every argument is a scalar, so BPF programs read them as raw tracepoint
 * arguments without any kernel BTF (Debian's ppc64el kernel has none), and
 * with BTF (tp_btf) where the module has it.  Events are numbers (the
 * _UTRACE_EVENT_* of <linux/utrace.h>), engine types and reasons are the
 * values in <uapi/utrace.h>.
 *
 * Context: the traced task, except DEATH (atomic) and REAP (a worker);
 * utrace_stop fires with utrace->lock held.  With nothing attached, each
 * tracepoint is a static branch that is never taken.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM utrace

#if !defined(_UTRACE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _UTRACE_TRACE_H

#include <linux/tracepoint.h>

/*
 * The report and stop tracepoints turn utrace_trace_key on while any of
 * them has a probe (trace.c): one static branch for the syscall reports'
 * fast pass, which leaves every report to the generic code then.
 */
int utrace_trace_key_get(void);
void utrace_trace_key_put(void);

TRACE_EVENT_FN(utrace_report_begin,
	       TP_PROTO(u64 engine_id, unsigned int engine_type, unsigned int event),
	       TP_ARGS(engine_id, engine_type, event),
	       TP_STRUCT__entry(__field(u64, engine_id)
				__field(unsigned int, engine_type)
				__field(unsigned int, event)),
	       TP_fast_assign(__entry->engine_id = engine_id;
			      __entry->engine_type = engine_type;
			      __entry->event = event;),
	       TP_printk("engine=%llu type=%u event=%u", __entry->engine_id,
			 __entry->engine_type, __entry->event),
	       utrace_trace_key_get, utrace_trace_key_put);

TRACE_EVENT_FN(utrace_report_end,
	       TP_PROTO(u64 engine_id, unsigned int engine_type, unsigned int event, u32 ret,
			u64 duration_ns),
	       TP_ARGS(engine_id, engine_type, event, ret, duration_ns),
	       TP_STRUCT__entry(__field(u64, engine_id)
				__field(unsigned int, engine_type)
				__field(unsigned int, event)
				__field(u32, ret)
				__field(u64, duration_ns)),
	       TP_fast_assign(__entry->engine_id = engine_id;
			      __entry->engine_type = engine_type;
			      __entry->event = event;
			      __entry->ret = ret;
			      __entry->duration_ns = duration_ns;),
	       TP_printk("engine=%llu type=%u event=%u ret=0x%x duration_ns=%llu",
			 __entry->engine_id, __entry->engine_type, __entry->event, __entry->ret,
			 __entry->duration_ns),
	       utrace_trace_key_get, utrace_trace_key_put);

TRACE_EVENT_FN(utrace_stop,
	       TP_PROTO(u64 engine_id, unsigned int engine_type, unsigned int reason),
	       TP_ARGS(engine_id, engine_type, reason),
	       TP_STRUCT__entry(__field(u64, engine_id)
				__field(unsigned int, engine_type)
				__field(unsigned int, reason)),
	       TP_fast_assign(__entry->engine_id = engine_id;
			      __entry->engine_type = engine_type;
			      __entry->reason = reason;),
	       TP_printk("engine=%llu type=%u reason=%u", __entry->engine_id,
			 __entry->engine_type, __entry->reason),
	       utrace_trace_key_get, utrace_trace_key_put);

TRACE_EVENT(utrace_resume,
	    TP_PROTO(u64 engine_id, unsigned int engine_type, unsigned int reason,
		     u64 duration_ns),
	    TP_ARGS(engine_id, engine_type, reason, duration_ns),
	    TP_STRUCT__entry(__field(u64, engine_id)
			     __field(unsigned int, engine_type)
			     __field(unsigned int, reason)
			     __field(u64, duration_ns)),
	    TP_fast_assign(__entry->engine_id = engine_id;
			   __entry->engine_type = engine_type;
			   __entry->reason = reason;
			   __entry->duration_ns = duration_ns;),
	    TP_printk("engine=%llu type=%u reason=%u duration_ns=%llu", __entry->engine_id,
		      __entry->engine_type, __entry->reason, __entry->duration_ns));

#endif /* _UTRACE_TRACE_H */

#ifndef _UTRACE_TRACE_HELPERS_H
#define _UTRACE_TRACE_HELPERS_H

#include <linux/jump_label.h>
#include <linux/log2.h>
#include <linux/timekeeping.h>
#include "uapi/utrace.h"
#include "utrace_internal.h"

/*
 * What utrace_stop() remembers of the stop it traced, so that the resume
 * names the same engine even if that engine is detached (and freed) while
 * the thread is stopped.  On utrace_stop()'s stack.
 */
struct utrace_stop_trace {
	u64 engine_id;
	unsigned int engine_type;
	bool traced;
	u64 start_ns;
};

void __utrace_trace_stop(struct utrace *utrace, struct utrace_stop_trace *st);

DECLARE_STATIC_KEY_FALSE(utrace_trace_key);

/* Whether a report or stop tracepoint is on (the syscall reports' fast pass). */
static __always_inline bool utrace_trace_reports_on(void)
{
	return static_branch_unlikely(&utrace_trace_key);
}

/*
 * Before @engine's callback for @event (one UTRACE_EVENT() bit): the start
 * time to give utrace_trace_report_end(), 0 while no report tracepoint is on.
 */
static inline u64 utrace_trace_report_begin(struct utrace_engine *engine, unsigned long event)
{
	if (!trace_utrace_report_begin_enabled() && !trace_utrace_report_end_enabled())
		return 0;
	trace_utrace_report_begin(engine->id, engine->type, ilog2(event));
	return ktime_get_ns();
}

/*
 * After @engine's callback returned @ret for @event, begun at @start.
 * While the stop tracepoint is on, remember the event an engine answered
 * UTRACE_STOP to: it is the reason utrace_stop gives.  Only the task itself
 * touches engine->stop_event.
 */
static inline void utrace_trace_report_end(struct utrace_engine *engine, unsigned long event,
					   u32 ret, u64 start)
{
	if (trace_utrace_stop_enabled() && utrace_resume_action(ret) == UTRACE_STOP)
		engine->stop_event = event;
	if (start)
		trace_utrace_report_end(engine->id, engine->type, ilog2(event), ret,
					ktime_get_ns() - start);
}

/* The task is going to sleep in a stop; utrace->lock held. */
static inline void utrace_trace_stop(struct utrace *utrace, struct utrace_stop_trace *st)
{
	if (trace_utrace_stop_enabled() && !st->traced)
		__utrace_trace_stop(utrace, st);
}

/* The task leaves the stop utrace_trace_stop() traced, for @reason. */
static inline void utrace_trace_resume(struct utrace_stop_trace *st,
				       enum utrace_resume_reason reason)
{
	if (st->traced)
		trace_utrace_resume(st->engine_id, st->engine_type, reason,
				    ktime_get_ns() - st->start_ns);
}

#endif /* _UTRACE_TRACE_HELPERS_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE utrace_trace
#include <trace/define_trace.h>
