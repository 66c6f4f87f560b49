/* SPDX-License-Identifier: GPL-2.0 */
/*
 * syscount: counts one process's system calls on the raw syscall tracepoints.
 * Shared by syscount.bpf.c and its user-space readers.
 *
 * It is the BPF baseline of benchmark B2 (the counting engine against BPF)
 * and the guests' proof that BPF programs load and run.
 *
 * Map "counts": per-CPU array, key = enum syscount_slot, value = __u64 count.
 */
#ifndef UTRACE_BPF_SYSCOUNT_H
#define UTRACE_BPF_SYSCOUNT_H

enum syscount_slot {
	SYSCOUNT_ENTER = 0,
	SYSCOUNT_EXIT = 1,
	SYSCOUNT_NR_SLOTS,
};

#endif
