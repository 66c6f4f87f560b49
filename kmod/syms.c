// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel functions utrace needs that 6.1 does not export.
 *
 * kallsyms_lookup_name() itself is not exported since 5.7; a kprobe
 * registered on it by name tells its address, and it then resolves the
 * rest.  Process context at module init only.  If the kernel renames or
 * inlines one of these, loading fails with -ENOENT and a message naming it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/cn_proc.h>
#include <linux/compat.h>
#include <linux/coredump.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/resource.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/task_work.h>
#include <linux/tty.h>

#include "utrace_internal.h"

struct utrace_syms utrace_syms;

static unsigned long (*utrace_kallsyms_lookup_name)(const char *name);

unsigned long utrace_lookup_name(const char *name)
{
	return utrace_kallsyms_lookup_name(name);
}

static int utrace_resolve(const char *name, void **slot)
{
	unsigned long addr = utrace_kallsyms_lookup_name(name);

	if (!addr) {
		pr_err("kernel symbol %s not found\n", name);
		return -ENOENT;
	}
	*slot = (void *)addr;
	return 0;
}

/* Each utrace_syms member must have the type of the kernel function it holds. */
static void __init_or_module utrace_syms_check_types(void)
{
	BUILD_BUG_ON(!__same_type(utrace_syms.wake_up_state, &wake_up_state));
	BUILD_BUG_ON(!__same_type(utrace_syms.wait_task_inactive, &wait_task_inactive));
	BUILD_BUG_ON(!__same_type(utrace_syms.user_enable_single_step, &user_enable_single_step));
	BUILD_BUG_ON(!__same_type(utrace_syms.user_enable_block_step, &user_enable_block_step));
	BUILD_BUG_ON(!__same_type(utrace_syms.user_disable_single_step,
				  &user_disable_single_step));
	BUILD_BUG_ON(!__same_type(utrace_syms.task_work_cancel, &task_work_cancel));
	BUILD_BUG_ON(!__same_type(utrace_syms.ptrace_may_access, &ptrace_may_access));
	BUILD_BUG_ON(!__same_type(utrace_syms.security_capable, &security_capable));
	BUILD_BUG_ON(!__same_type(utrace_syms.ptrace_notify, &ptrace_notify));
	BUILD_BUG_ON(!__same_type(utrace_syms.task_work_run, &task_work_run));
	BUILD_BUG_ON(!__same_type(utrace_syms.do_coredump, &do_coredump));
	BUILD_BUG_ON(!__same_type(utrace_syms.proc_coredump_connector,
				  &proc_coredump_connector));
	BUILD_BUG_ON(!__same_type(utrace_syms.is_current_pgrp_orphaned,
				  &is_current_pgrp_orphaned));
	BUILD_BUG_ON(!__same_type(utrace_syms.sigqueue_alloc, &sigqueue_alloc));
	BUILD_BUG_ON(!__same_type(utrace_syms.sigqueue_free, &sigqueue_free));
	BUILD_BUG_ON(!__same_type(utrace_syms.cgroup_leave_frozen, &cgroup_leave_frozen));
	BUILD_BUG_ON(!__same_type(utrace_syms.walk_process_tree, &walk_process_tree));
	BUILD_BUG_ON(!__same_type(utrace_syms.arch_ptrace, &arch_ptrace));
	BUILD_BUG_ON(!__same_type(utrace_syms.copy_siginfo_to_user, &copy_siginfo_to_user));
	BUILD_BUG_ON(!__same_type(utrace_syms.copy_siginfo_from_user, &copy_siginfo_from_user));
	BUILD_BUG_ON(!__same_type(utrace_syms.getrusage, &getrusage));
	BUILD_BUG_ON(!__same_type(utrace_syms.security_ptrace_traceme, &security_ptrace_traceme));
	BUILD_BUG_ON(!__same_type(utrace_syms.release_task, &release_task));
	BUILD_BUG_ON(!__same_type(utrace_syms.task_set_jobctl_pending, &task_set_jobctl_pending));
	BUILD_BUG_ON(!__same_type(utrace_syms.task_clear_jobctl_pending,
				  &task_clear_jobctl_pending));
	BUILD_BUG_ON(!__same_type(utrace_syms.signal_wake_up_state, &signal_wake_up_state));
#ifdef CONFIG_IA32_EMULATION
	BUILD_BUG_ON(!__same_type(utrace_syms.compat_arch_ptrace, &compat_arch_ptrace));
	BUILD_BUG_ON(!__same_type(utrace_syms.copy_siginfo_to_user32, &copy_siginfo_to_user32));
	BUILD_BUG_ON(!__same_type(utrace_syms.copy_siginfo_from_user32,
				  &copy_siginfo_from_user32));
	BUILD_BUG_ON(!__same_type(utrace_syms.put_compat_rusage, &put_compat_rusage));
#endif
	/*
	 * do_signal_stop() is static in kernel/signal.c, kernel_waitid() in
	 * kernel/exit.c: no declaration to check.
	 */
}

static const struct {
	const char *name;
	void **slot;
} utrace_sym_table[] = {
	{ "wake_up_state", (void **)&utrace_syms.wake_up_state },
	{ "wait_task_inactive", (void **)&utrace_syms.wait_task_inactive },
	{ "user_enable_single_step", (void **)&utrace_syms.user_enable_single_step },
	{ "user_enable_block_step", (void **)&utrace_syms.user_enable_block_step },
	{ "user_disable_single_step", (void **)&utrace_syms.user_disable_single_step },
	{ "task_work_cancel", (void **)&utrace_syms.task_work_cancel },
	{ "ptrace_may_access", (void **)&utrace_syms.ptrace_may_access },
	{ "security_capable", (void **)&utrace_syms.security_capable },
	{ "ptrace_notify", (void **)&utrace_syms.ptrace_notify },
	{ "task_work_run", (void **)&utrace_syms.task_work_run },
	{ "do_group_exit", (void **)&utrace_syms.do_group_exit },
	{ "do_coredump", (void **)&utrace_syms.do_coredump },
	{ "proc_coredump_connector", (void **)&utrace_syms.proc_coredump_connector },
	{ "is_current_pgrp_orphaned", (void **)&utrace_syms.is_current_pgrp_orphaned },
	{ "sigqueue_alloc", (void **)&utrace_syms.sigqueue_alloc },
	{ "sigqueue_free", (void **)&utrace_syms.sigqueue_free },
	{ "cgroup_leave_frozen", (void **)&utrace_syms.cgroup_leave_frozen },
	{ "do_signal_stop", (void **)&utrace_syms.do_signal_stop },
	{ "task_set_jobctl_pending", (void **)&utrace_syms.task_set_jobctl_pending },
	{ "task_clear_jobctl_pending", (void **)&utrace_syms.task_clear_jobctl_pending },
	{ "signal_wake_up_state", (void **)&utrace_syms.signal_wake_up_state },
	{ "walk_process_tree", (void **)&utrace_syms.walk_process_tree },
	{ "arch_ptrace", (void **)&utrace_syms.arch_ptrace },
	{ "copy_siginfo_to_user", (void **)&utrace_syms.copy_siginfo_to_user },
	{ "copy_siginfo_from_user", (void **)&utrace_syms.copy_siginfo_from_user },
	{ "getrusage", (void **)&utrace_syms.getrusage },
	{ "security_ptrace_traceme", (void **)&utrace_syms.security_ptrace_traceme },
	{ "kernel_waitid", (void **)&utrace_syms.kernel_waitid },
	{ "release_task", (void **)&utrace_syms.release_task },
#ifdef CONFIG_IA32_EMULATION
	{ "compat_arch_ptrace", (void **)&utrace_syms.compat_arch_ptrace },
	/* x86's own with CONFIG_X86_X32_ABI, else the generic one: the macro says */
	{ __stringify(copy_siginfo_to_user32), (void **)&utrace_syms.copy_siginfo_to_user32 },
	{ "copy_siginfo_from_user32", (void **)&utrace_syms.copy_siginfo_from_user32 },
	{ "put_compat_rusage", (void **)&utrace_syms.put_compat_rusage },
#endif
};

int utrace_syms_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned int i;
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("cannot find kallsyms_lookup_name: %d\n", ret);
		return ret;
	}
	utrace_kallsyms_lookup_name = (void *)utrace_arch_func_entry((unsigned long)kp.addr);
	unregister_kprobe(&kp);

	utrace_syms_check_types();
	for (i = 0; i < ARRAY_SIZE(utrace_sym_table); i++) {
		ret = utrace_resolve(utrace_sym_table[i].name, utrace_sym_table[i].slot);
		if (ret)
			break;
	}
	return ret;
}
