// SPDX-License-Identifier: GPL-2.0
/*
 * Metrics of utrace engines from the module's tracepoints (kmod/utrace_trace.h):
 * report latency per engine type and event, answers per action, stop counts
 * per reason, stop durations.  Map layout: utrace_metrics.h.
 *
 * Each program exists twice, with one body: "tp_btf/" (typed by the module's
 * BTF, x86_64) and "raw_tp/" (scalar raw arguments; Debian's ppc64el kernel
 * has no BTF, so its module has none).  The loader (libutrace) enables one
 * set: tp_btf where /sys/kernel/btf/utrace exists, raw_tp elsewhere.  The
 * tracepoints' arguments are all scalars, so both read the same values and
 * no CO-RE relocation against a kernel structure is needed.
 *
 * Context: the tracepoints fire in the traced task (report_end, stop,
 * resume; DEATH atomic, REAP in a worker) with preemption disabled, so the
 * per-CPU values need no atomics.  The kernel measures the durations and
 * passes them as arguments, so no program keeps per-thread state: one
 * report costs one program run and a few array updates.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"
#include "utrace_metrics.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UM_NR_TYPES * UM_NR_EVENTS);
	__type(key, __u32);
	__type(value, struct um_hist);
} report_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UM_NR_TYPES * UM_NR_EVENTS * UM_NR_ACTIONS);
	__type(key, __u32);
	__type(value, __u64);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UM_NR_TYPES * UM_NR_EVENTS);
	__type(key, __u32);
	__type(value, __u64);
} stops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UM_NR_TYPES * UM_NR_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} resumes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UM_NR_TYPES);
	__type(key, __u32);
	__type(value, struct um_hist);
} stop_hist SEC(".maps");

static __always_inline __u32 clamp_type(__u32 type)
{
	return type < UM_NR_TYPES ? type : 0;
}

static __always_inline __u32 clamp_event(__u32 event)
{
	return event < UM_NR_EVENTS ? event : UM_NR_EVENTS - 1;
}

static __always_inline void count(void *map, __u32 key)
{
	__u64 *val = bpf_map_lookup_elem(map, &key);

	if (val)
		(*val)++;
}

static __always_inline void observe(void *map, __u32 key, __u64 ns)
{
	struct um_hist *h = bpf_map_lookup_elem(map, &key);
	__u64 slot;

	if (!h)
		return;
	slot = log2_u64(ns);
	/*
	 * Keep the bound check 64 bits wide: clang would narrow it to 32, and
	 * 6.1's verifier then loses the upper bits' bounds for the index.
	 */
	asm volatile("" : "+r"(slot));
	if (slot >= UM_NR_SLOTS)
		slot = UM_NR_SLOTS - 1;
	h->slots[slot]++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

static __always_inline int on_report_end(__u32 type, __u32 event, __u32 ret, __u64 ns)
{
	__u32 key = clamp_type(type) * UM_NR_EVENTS + clamp_event(event);

	count(&events, key * UM_NR_ACTIONS + (ret & (UM_NR_ACTIONS - 1)));
	observe(&report_hist, key, ns);
	return 0;
}

static __always_inline int on_stop(__u32 type, __u32 reason)
{
	count(&stops, clamp_type(type) * UM_NR_EVENTS + clamp_event(reason));
	return 0;
}

static __always_inline int on_resume(__u32 type, __u32 reason, __u64 ns)
{
	type = clamp_type(type);
	count(&resumes, type * UM_NR_REASONS + (reason < UM_NR_REASONS ? reason : 0));
	observe(&stop_hist, type, ns);
	return 0;
}

/*
 * The tracepoints' prototypes (kmod/utrace_trace.h); utrace_report_begin is
 * not needed here.
 *   utrace_report_end(u64 engine_id, unsigned int engine_type,
 *                     unsigned int event, u32 ret, u64 duration_ns)
 *   utrace_stop(u64 engine_id, unsigned int engine_type, unsigned int reason)
 *   utrace_resume(u64 engine_id, unsigned int engine_type, unsigned int reason,
 *                 u64 duration_ns)
 */
#define UM_PROGRAMS(kind)							\
SEC(#kind "/utrace_report_end")							\
int BPF_PROG(kind##_report_end, __u64 id, __u32 type, __u32 event, __u32 ret,	\
	     __u64 ns)								\
{										\
	return on_report_end(type, event, ret, ns);				\
}										\
SEC(#kind "/utrace_stop")							\
int BPF_PROG(kind##_stop, __u64 id, __u32 type, __u32 reason)			\
{										\
	return on_stop(type, reason);						\
}										\
SEC(#kind "/utrace_resume")							\
int BPF_PROG(kind##_resume, __u64 id, __u32 type, __u32 reason, __u64 ns)	\
{										\
	return on_resume(type, reason, ns);					\
}

UM_PROGRAMS(tp_btf)
UM_PROGRAMS(raw_tp)

char LICENSE[] SEC("license") = "GPL";
