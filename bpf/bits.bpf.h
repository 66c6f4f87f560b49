/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the BPF programs: log2 bucketing for histograms.
 * Branch-free shifts (after libbpf-tools' bits.bpf.h): the verifier sees no
 * loop.
 */
#ifndef UTRACE_BPF_BITS_H
#define UTRACE_BPF_BITS_H

#include <linux/types.h>

static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 shift, r;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

/* floor(log2(v)), 0 for v == 0; 64 bits wide so the verifier keeps bounds. */
static __always_inline __u64 log2_u64(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? (__u64)log2_u32(hi) + 32 : (__u64)log2_u32((__u32)v);
}

#endif
