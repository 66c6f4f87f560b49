// SPDX-License-Identifier: GPL-2.0
/*
 * PF_USER_WORKER (6.4 on): the flag of every task the kernel clones from a
 * user thread to run kernel code for it, vhost's workers (vhost_task.c) and
 * io_uring's (which also carry PF_IO_WORKER).
 */
#include <linux/build_bug.h>
#include <linux/sched.h>

static_assert(PF_USER_WORKER != 0 && PF_USER_WORKER != PF_IO_WORKER);
