// SPDX-License-Identifier: GPL-2.0
/*
 * Redirecting a kernel function to a replacement in this module with ftrace
 * (FTRACE_OPS_FL_IPMODIFY), the way livepatch does.
 *
 * The ftrace callback runs at the traced function's entry, before its
 * prologue, with preemption disabled; it only rewrites the return address
 * of the ftrace trampoline (arch: utrace_arch_redirect()).  The replacement
 * then runs in the caller's context, with the function's arguments, and may
 * sleep if the caller may.  A call to the original from the replacement
 * reaches the callback again, which lets it through because the caller is
 * this module (within_module(parent_ip)): a direct call (a static call,
 * kcall.h), never a tail call (Kbuild).  A hook with a filter redirects
 * only the calls for which the filter, called from the callback in the
 * calling task, returns true: the others never enter this module.  A
 * filter_arg is given the function's first argument (the system call's
 * registers, for a syscall entry).
 *
 * What breaks if the kernel changes: a renamed or inlined function (install
 * fails with -ENOENT), a function that becomes notrace (-EINVAL from ftrace).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "utrace_internal.h"

struct utrace_fhook_ops {
	struct ftrace_ops ops;
	struct utrace_fhook *hook;
};

static void notrace utrace_fhook_thunk(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct utrace_fhook_ops *fo = container_of(ops, struct utrace_fhook_ops, ops);
	struct pt_regs *regs = ftrace_get_regs(fregs);

	if (within_module(parent_ip, THIS_MODULE))
		return;
	if (fo->hook->filter && !fo->hook->filter())
		return;
	if (fo->hook->filter_arg && !fo->hook->filter_arg(utrace_arch_arg0(regs)))
		return;
	utrace_arch_redirect(regs, fo->hook->replacement);
}

int utrace_fhook_install(struct utrace_fhook *hook)
{
	struct utrace_fhook_ops *fo;
	int ret;

	hook->addr = utrace_lookup_name(hook->name);
	if (!hook->addr) {
		pr_err("cannot hook %s: no such kernel symbol\n", hook->name);
		return -ENOENT;
	}
	/* only a replacement that calls the original has the static call */
	if (hook->orig.key) {
		hook->orig.name = hook->name;
		ret = utrace_kcall_set(&hook->orig, hook->addr);
		if (ret)
			return ret;
	}

	fo = kzalloc(sizeof(*fo), GFP_KERNEL);
	if (!fo)
		return -ENOMEM;
	fo->hook = hook;
	fo->ops.func = utrace_fhook_thunk;
	fo->ops.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
			FTRACE_OPS_FL_IPMODIFY;

	/* By name: on powerpc the ftrace site is not the symbol's address. */
	ret = ftrace_set_filter(&fo->ops, (unsigned char *)hook->name, strlen(hook->name), 1);
	if (ret) {
		pr_err("cannot hook %s: ftrace_set_filter: %d\n", hook->name, ret);
		goto out_free;
	}
	ret = register_ftrace_function(&fo->ops);
	if (ret) {
		pr_err("cannot hook %s: register_ftrace_function: %d\n", hook->name, ret);
		goto out_filter;
	}
	hook->ops = &fo->ops;
	return 0;

out_filter:
	ftrace_free_filter(&fo->ops);
out_free:
	kfree(fo);
	return ret;
}

void utrace_fhook_remove(struct utrace_fhook *hook)
{
	struct utrace_fhook_ops *fo;

	if (!hook->ops)
		return;
	fo = container_of(hook->ops, struct utrace_fhook_ops, ops);
	unregister_ftrace_function(&fo->ops);
	ftrace_free_filter(&fo->ops);
	kfree(fo);
	hook->ops = NULL;
}
