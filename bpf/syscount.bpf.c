// SPDX-License-Identifier: GPL-2.0
/*
 * Count the system call entries and exits of one thread group.
 *
 * Raw tracepoints sys_enter/sys_exit: they run in the calling task, preemption
 * disabled, for every task in the system once attached.  The tgid filter is
 * read-only data set before load (target_tgid), so the comparison is all an
 * unrelated task pays.  Only the context's scalar arguments are used, no
 * kernel structure, so the object needs no kernel BTF.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "syscount.h"

const volatile __u32 target_tgid;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCOUNT_NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline int count(__u32 slot)
{
	__u64 *val;

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	val = bpf_map_lookup_elem(&counts, &slot);
	if (val)
		(*val)++;
	return 0;
}

SEC("raw_tp/sys_enter")
int syscount_enter(struct bpf_raw_tracepoint_args *ctx)
{
	return count(SYSCOUNT_ENTER);
}

SEC("raw_tp/sys_exit")
int syscount_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return count(SYSCOUNT_EXIT);
}

char LICENSE[] SEC("license") = "GPL";
