// SPDX-License-Identifier: GPL-2.0
/*
 * PTRACE_{GET,SET}_SYSCALL_USER_DISPATCH_CONFIG (6.11 on): the kernel's
 * syscall_user_dispatch_{get,set}_config(), which ptrace_request() calls.
 */
#include <linux/build_bug.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/syscall_user_dispatch.h>

static_assert(__same_type(&syscall_user_dispatch_get_config,
			  int (*)(struct task_struct *task, unsigned long size,
				  void __user *data)));
static_assert(__same_type(&syscall_user_dispatch_set_config,
			  int (*)(struct task_struct *task, unsigned long size,
				  void __user *data)));
static_assert(sizeof(struct ptrace_sud_config) == 32);
