/* SPDX-License-Identifier: GPL-2.0 */
/*
 * utrace_metrics: what bpf/utrace_metrics.bpf.c keeps in its maps, read by
 * libutrace (controller/lib/bpf_metrics.cpp) for utracectl stats/top/serve.
 *
 * Labels are low-cardinality numbers, never a pid: engine type
 * (< UM_NR_TYPES, <uapi/utrace.h>), event (< UM_NR_EVENTS: the
 * _UTRACE_EVENT_* numbers, and UTRACE_STOP_REQUESTED as a stop reason),
 * resume action (< UM_NR_ACTIONS), resume reason (< UM_NR_REASONS).
 * Every map is a per-CPU array of fixed size (readers sum the CPUs; a
 * histogram's max is the largest of them); durations come from the
 * tracepoints, so there is no per-thread state.
 *
 *  report_hist  [type * UM_NR_EVENTS + event]          struct um_hist
 *               callback latency (utrace_report_end's duration)
 *  events       [(type * UM_NR_EVENTS + event) * UM_NR_ACTIONS + action]
 *               __u64: callbacks that answered that resume action
 *  stops        [type * UM_NR_EVENTS + reason]         __u64
 *  resumes      [type * UM_NR_REASONS + reason]        __u64
 *  stop_hist    [type]                                 struct um_hist
 *               stop duration (utrace_resume's duration)
 */
#ifndef UTRACE_BPF_METRICS_H
#define UTRACE_BPF_METRICS_H

#define UM_NR_TYPES	8	/* UTRACE_METRICS_NR_TYPES */
#define UM_NR_EVENTS	16	/* 14 events, UTRACE_STOP_REQUESTED, spare */
#define UM_NR_ACTIONS	8	/* UTRACE_STOP .. UTRACE_DETACH */
#define UM_NR_REASONS	4	/* enum utrace_resume_reason */
/* Slot i counts [2^i, 2^(i+1)) ns; the last slot also everything longer. */
#define UM_NR_SLOTS	40

struct um_hist {
	__u64 slots[UM_NR_SLOTS];
	__u64 sum_ns;
	__u64 max_ns;
};

#endif
