// SPDX-License-Identifier: GPL-2.0
/*
 * utrace tracepoints: the one file that creates them (CREATE_TRACE_POINTS),
 * and the part of the stop tracepoint that walks the engine lists.  The
 * tracepoints and their contract are described in utrace_trace.h.
 */
#include <linux/jump_label.h>
#include <linux/list.h>

#define CREATE_TRACE_POINTS
#include "utrace_trace.h"

/* On while a report or stop tracepoint has a probe (their regfunc/unregfunc). */
DEFINE_STATIC_KEY_FALSE(utrace_trace_key);

int utrace_trace_key_get(void)
{
	static_branch_inc(&utrace_trace_key);
	return 0;
}

void utrace_trace_key_put(void)
{
	static_branch_dec(&utrace_trace_key);
}

/*
 * The first engine that wants @utrace's task stopped (attached engines in
 * attach order, then attaching ones) names the stop; its stop_event, noted
 * by utrace_trace_report_end(), is the reason, and is used up here.
 * Called by the task itself, with utrace->lock held (which keeps both lists
 * still), only while the utrace_stop tracepoint is on.
 */
void __utrace_trace_stop(struct utrace *utrace, struct utrace_stop_trace *st)
{
	struct utrace_engine *engine, *found = NULL;
	unsigned int reason = UTRACE_STOP_REQUESTED;

	list_for_each_entry(engine, &utrace->attached, entry)
		if (engine->flags & ENGINE_STOP) {
			found = engine;
			break;
		}
	if (!found)
		list_for_each_entry(engine, &utrace->attaching, entry)
			if (engine->flags & ENGINE_STOP) {
				found = engine;
				break;
			}
	if (!found)
		return;
	if (found->stop_event)
		reason = ilog2(found->stop_event);
	found->stop_event = 0;
	st->engine_id = found->id;
	st->engine_type = found->type;
	st->traced = true;
	st->start_ns = ktime_get_ns();
	trace_utrace_stop(st->engine_id, st->engine_type, reason);
}
