// SPDX-License-Identifier: GPL-2.0
/* dequeue_signal() takes the task (always current); 6.11 dropped it. */
#include <linux/build_bug.h>
#include <linux/sched/signal.h>

static_assert(__same_type(&dequeue_signal,
			  int (*)(struct task_struct *task, sigset_t *mask,
				  kernel_siginfo_t *info, enum pid_type *type)));
