// SPDX-License-Identifier: GPL-2.0
/* Compiles on every kernel: the probes' flags and headers work. */
#include <linux/build_bug.h>
#include <linux/sched/signal.h>

static_assert(__same_type(int, int));
