/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels utrace builds for (Debian 12's 6.1,
 * Debian 13's and bookworm-backports' 6.12), in one place.  Each difference
 * is decided by a Kbuild-time feature probe (kmod/probes/<name>.c defines
 * UTRACE_HAVE_<NAME> in the generated compat_probes.h when it compiles),
 * never by LINUX_VERSION_CODE: stable kernels backport changes (6.1.192 has
 * 6.11's task_work_cancel()).
 *
 * A replacement of a redirected kernel function must keep the kernel's
 * prototype, or its arguments arrive shifted: UTRACE_CHECK_REPLACEMENT()
 * (utrace_internal.h) checks each against the kernel's declaration.
 */
#ifndef UTRACE_COMPAT_H
#define UTRACE_COMPAT_H

#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "compat_probes.h"

/*
 * dequeue_signal(): 6.11 dropped its task argument, which was always
 * current.  utrace_dequeue_current() dequeues from current on both.  The
 * replacement (signal.c) has the kernel's prototype: with the task where
 * UTRACE_HAVE_DEQUEUE_SIGNAL_TASK, without it elsewhere.
 */
static inline int utrace_dequeue_current(sigset_t *mask, kernel_siginfo_t *info,
					 enum pid_type *type)
{
#ifdef UTRACE_HAVE_DEQUEUE_SIGNAL_TASK
	return dequeue_signal(current, mask, info, type);
#else
	return dequeue_signal(mask, info, type);
#endif
}

/*
 * The module's text, where its calls of hooked originals come from
 * (fhook.c): one range, mem[MOD_TEXT] from 6.4 on, the start of
 * core_layout before.
 */
static inline void utrace_module_text(struct module *mod, unsigned long *base,
				      unsigned long *size)
{
#ifdef UTRACE_HAVE_MODULE_MEM
	*base = (unsigned long)mod->mem[MOD_TEXT].base;
	*size = mod->mem[MOD_TEXT].size;
#else
	*base = (unsigned long)mod->core_layout.base;
	*size = mod->core_layout.text_size;
#endif
}

/*
 * security_bprm_creds_from_file() takes a const file from 6.8 on: the
 * qualifier of its replacement's file parameter (ptrace_tracee.c).
 */
#ifdef UTRACE_HAVE_BPRM_CREDS_FROM_CONST_FILE
#define UTRACE_BPRM_FILE_CONST const
#else
#define UTRACE_BPRM_FILE_CONST
#endif

/*
 * PTRACE_{GET,SET}_SYSCALL_USER_DISPATCH_CONFIG (6.11 on): where
 * UTRACE_HAVE_SUD_CONFIG, x86_64 (arch_x86.c) also redirects the kernel's
 * syscall_user_dispatch_{get,set}_config(), which read and set the
 * dispatch work bit the module's syscall-entry hook shares.  Without them
 * ptrace_request() answers EIO, natively and under the backend alike.
 */

/*
 * User workers: tasks the kernel clones from a user thread to run kernel
 * code in its name, never returning to user mode.  6.1 has io_uring's
 * (iou-wrk-*, PF_IO_WORKER; its vhost workers are kernel threads); from 6.4
 * on vhost's (vhost-<pid>, kernel/vhost_task.c) are too, and every user
 * worker carries PF_USER_WORKER (io_uring's both flags).  No engine attaches
 * to one (EPERM), and one takes a fatal signal by returning from
 * get_signal(), not by do_group_exit(): its caller cleans up.
 */
#ifdef UTRACE_HAVE_PF_USER_WORKER
#define UTRACE_PF_USER_WORKER (PF_USER_WORKER | PF_IO_WORKER)
#else
#define UTRACE_PF_USER_WORKER PF_IO_WORKER
#endif

/*
 * ftrace_free_filter() frees an ops' filter hashes but leaves the ops
 * pointing at them (6.1): a later ftrace_set_filter_ip() on the same ops,
 * a hook enabled again, would copy the freed hash.  Empty, as a zeroed ops
 * starts, they are allocated anew.  The ops is not registered.
 */
#include <linux/ftrace.h>

static inline void utrace_ftrace_reset_filter(struct ftrace_ops *ops)
{
	ftrace_free_filter(ops);
	ops->func_hash->filter_hash = NULL;
	ops->func_hash->notrace_hash = NULL;
}

/*
 * ftrace direct calls (fhook.c, x86_64's syscall hooks): registered by
 * ftrace_ops, with every site in the ops' filter calling @addr.  6.1 names
 * that register_ftrace_direct_multi() (its register_ftrace_direct() takes
 * one ip); from 6.6 on it is register_ftrace_direct(), whose unregister
 * frees the filter when asked.  UTRACE_HAVE_FTRACE_DIRECT_OPS: the latter.
 */
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS

static inline int utrace_register_ftrace_direct(struct ftrace_ops *ops, unsigned long addr)
{
#ifdef UTRACE_HAVE_FTRACE_DIRECT_OPS
	return register_ftrace_direct(ops, addr);
#else
	return register_ftrace_direct_multi(ops, addr);
#endif
}

/* Unregisters @ops and empties its filter. */
static inline int utrace_unregister_ftrace_direct(struct ftrace_ops *ops, unsigned long addr)
{
#ifdef UTRACE_HAVE_FTRACE_DIRECT_OPS
	int ret = unregister_ftrace_direct(ops, addr, false);
#else
	int ret = unregister_ftrace_direct_multi(ops, addr);
#endif

	if (!ret)
		utrace_ftrace_reset_filter(ops);
	return ret;
}
#endif

#endif /* UTRACE_COMPAT_H */
