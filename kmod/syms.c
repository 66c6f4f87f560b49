// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel functions utrace needs that 6.1 does not export.
 *
 * kallsyms_lookup_name() itself is not exported since 5.7; a kprobe
 * registered on it by name tells its address, and it then resolves the
 * rest.  Process context at module init only.  If the kernel renames or
 * inlines one of these, loading fails with -ENOENT and a message naming it.
 * Each is called as a static call (kcall.h): a direct call on x86_64, which
 * IBT requires (most of these functions lose their ENDBR64 at boot).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/cn_proc.h>
#include <linux/compat.h>
#include <linux/coredump.h>
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/resource.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/task_work.h>
#include <linux/tty.h>

#include "utrace_internal.h"

DEFINE_STATIC_CALL_NULL(utrace_kc_kallsyms_lookup_name, kallsyms_lookup_name);
static struct utrace_kcall utrace_kc_lookup = UTRACE_KCALL_INIT(kallsyms_lookup_name,
							       "kallsyms_lookup_name");

unsigned long utrace_lookup_name(const char *name)
{
	return utrace_kcall(kallsyms_lookup_name)(name);
}

UTRACE_KCALL_DEFINE(wake_up_state, utrace_wake_up_state_t);
UTRACE_KCALL_DEFINE(wait_task_inactive, utrace_wait_task_inactive_t);
UTRACE_KCALL_DEFINE(user_enable_single_step, utrace_user_enable_single_step_t);
UTRACE_KCALL_DEFINE(user_enable_block_step, utrace_user_enable_block_step_t);
UTRACE_KCALL_DEFINE(user_disable_single_step, utrace_user_disable_single_step_t);
UTRACE_KCALL_DEFINE(task_work_cancel, utrace_task_work_cancel_t);
UTRACE_KCALL_DEFINE(ptrace_may_access, utrace_ptrace_may_access_t);
UTRACE_KCALL_DEFINE(security_capable, utrace_security_capable_t);
UTRACE_KCALL_DEFINE(ptrace_notify, utrace_ptrace_notify_t);
UTRACE_KCALL_DEFINE(task_work_run, utrace_task_work_run_t);
UTRACE_KCALL_DEFINE(ftrace_location, utrace_ftrace_location_t);
UTRACE_KCALL_DEFINE(do_group_exit, utrace_do_group_exit_t);
UTRACE_KCALL_DEFINE(do_coredump, utrace_do_coredump_t);
UTRACE_KCALL_DEFINE(proc_coredump_connector, utrace_proc_coredump_connector_t);
UTRACE_KCALL_DEFINE(is_current_pgrp_orphaned, utrace_is_current_pgrp_orphaned_t);
UTRACE_KCALL_DEFINE(sigqueue_alloc, utrace_sigqueue_alloc_t);
UTRACE_KCALL_DEFINE(sigqueue_free, utrace_sigqueue_free_t);
UTRACE_KCALL_DEFINE(cgroup_leave_frozen, utrace_cgroup_leave_frozen_t);
UTRACE_KCALL_DEFINE(do_signal_stop, utrace_do_signal_stop_t);
UTRACE_KCALL_DEFINE(task_set_jobctl_pending, utrace_task_set_jobctl_pending_t);
UTRACE_KCALL_DEFINE(task_clear_jobctl_pending, utrace_task_clear_jobctl_pending_t);
UTRACE_KCALL_DEFINE(signal_wake_up_state, utrace_signal_wake_up_state_t);
UTRACE_KCALL_DEFINE(walk_process_tree, utrace_walk_process_tree_t);
UTRACE_KCALL_DEFINE(arch_ptrace, utrace_arch_ptrace_t);
UTRACE_KCALL_DEFINE(copy_siginfo_to_user, utrace_copy_siginfo_to_user_t);
UTRACE_KCALL_DEFINE(copy_siginfo_from_user, utrace_copy_siginfo_from_user_t);
UTRACE_KCALL_DEFINE(getrusage, utrace_getrusage_t);
UTRACE_KCALL_DEFINE(security_ptrace_traceme, utrace_security_ptrace_traceme_t);
UTRACE_KCALL_DEFINE(kernel_waitid, utrace_kernel_waitid_t);
UTRACE_KCALL_DEFINE(release_task, utrace_release_task_t);
UTRACE_KCALL_DEFINE(put_task_stack, utrace_put_task_stack_t);
#ifdef CONFIG_VIRT_CPU_ACCOUNTING_GEN
UTRACE_KCALL_DEFINE(task_cputime, task_cputime);
#endif
#ifdef CONFIG_IA32_EMULATION
UTRACE_KCALL_DEFINE(compat_arch_ptrace, utrace_compat_arch_ptrace_t);
UTRACE_KCALL_DEFINE(copy_siginfo_to_user32, utrace_copy_siginfo_to_user32_t);
UTRACE_KCALL_DEFINE(copy_siginfo_from_user32, utrace_copy_siginfo_from_user32_t);
UTRACE_KCALL_DEFINE(put_compat_rusage, utrace_put_compat_rusage_t);
#endif

/* Each static call must have the type of the kernel function it calls. */
#define UTRACE_SYM_TYPE(sym, kfn) __same_type(&STATIC_CALL_TRAMP(utrace_kc_##sym), &(kfn))
static void __init_or_module utrace_syms_check_types(void)
{
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(wake_up_state, wake_up_state));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(wait_task_inactive, wait_task_inactive));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(user_enable_single_step, user_enable_single_step));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(user_enable_block_step, user_enable_block_step));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(user_disable_single_step, user_disable_single_step));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(task_work_cancel, task_work_cancel));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(ptrace_may_access, ptrace_may_access));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(security_capable, security_capable));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(ptrace_notify, ptrace_notify));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(task_work_run, task_work_run));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(ftrace_location, ftrace_location));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(do_coredump, do_coredump));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(proc_coredump_connector, proc_coredump_connector));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(is_current_pgrp_orphaned, is_current_pgrp_orphaned));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(sigqueue_alloc, sigqueue_alloc));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(sigqueue_free, sigqueue_free));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(cgroup_leave_frozen, cgroup_leave_frozen));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(walk_process_tree, walk_process_tree));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(arch_ptrace, arch_ptrace));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(copy_siginfo_to_user, copy_siginfo_to_user));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(copy_siginfo_from_user, copy_siginfo_from_user));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(getrusage, getrusage));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(security_ptrace_traceme, security_ptrace_traceme));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(release_task, release_task));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(put_task_stack, put_task_stack));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(task_set_jobctl_pending, task_set_jobctl_pending));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(task_clear_jobctl_pending, task_clear_jobctl_pending));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(signal_wake_up_state, signal_wake_up_state));
#ifdef CONFIG_VIRT_CPU_ACCOUNTING_GEN
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(task_cputime, task_cputime));
#endif
#ifdef CONFIG_IA32_EMULATION
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(compat_arch_ptrace, compat_arch_ptrace));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(copy_siginfo_to_user32, copy_siginfo_to_user32));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(copy_siginfo_from_user32, copy_siginfo_from_user32));
	BUILD_BUG_ON(!UTRACE_SYM_TYPE(put_compat_rusage, put_compat_rusage));
#endif
	/*
	 * do_signal_stop() is static in kernel/signal.c, kernel_waitid() in
	 * kernel/exit.c: no declaration to check.
	 */
}

static struct utrace_kcall utrace_sym_table[] = {
	UTRACE_KCALL_INIT(wake_up_state, "wake_up_state"),
	UTRACE_KCALL_INIT(wait_task_inactive, "wait_task_inactive"),
	UTRACE_KCALL_INIT(user_enable_single_step, "user_enable_single_step"),
	UTRACE_KCALL_INIT(user_enable_block_step, "user_enable_block_step"),
	UTRACE_KCALL_INIT(user_disable_single_step, "user_disable_single_step"),
	UTRACE_KCALL_INIT(task_work_cancel, "task_work_cancel"),
	UTRACE_KCALL_INIT(ptrace_may_access, "ptrace_may_access"),
	UTRACE_KCALL_INIT(security_capable, "security_capable"),
	UTRACE_KCALL_INIT(ptrace_notify, "ptrace_notify"),
	UTRACE_KCALL_INIT(task_work_run, "task_work_run"),
	/* fhook.c: a hook's ftrace site */
	UTRACE_KCALL_INIT(ftrace_location, "ftrace_location"),
	UTRACE_KCALL_INIT(do_group_exit, "do_group_exit"),
	UTRACE_KCALL_INIT(do_coredump, "do_coredump"),
	UTRACE_KCALL_INIT(proc_coredump_connector, "proc_coredump_connector"),
	UTRACE_KCALL_INIT(is_current_pgrp_orphaned, "is_current_pgrp_orphaned"),
	UTRACE_KCALL_INIT(sigqueue_alloc, "sigqueue_alloc"),
	UTRACE_KCALL_INIT(sigqueue_free, "sigqueue_free"),
	UTRACE_KCALL_INIT(cgroup_leave_frozen, "cgroup_leave_frozen"),
	UTRACE_KCALL_INIT(do_signal_stop, "do_signal_stop"),
	UTRACE_KCALL_INIT(task_set_jobctl_pending, "task_set_jobctl_pending"),
	UTRACE_KCALL_INIT(task_clear_jobctl_pending, "task_clear_jobctl_pending"),
	UTRACE_KCALL_INIT(signal_wake_up_state, "signal_wake_up_state"),
	UTRACE_KCALL_INIT(walk_process_tree, "walk_process_tree"),
	UTRACE_KCALL_INIT(arch_ptrace, "arch_ptrace"),
	UTRACE_KCALL_INIT(copy_siginfo_to_user, "copy_siginfo_to_user"),
	UTRACE_KCALL_INIT(copy_siginfo_from_user, "copy_siginfo_from_user"),
	UTRACE_KCALL_INIT(getrusage, "getrusage"),
	UTRACE_KCALL_INIT(security_ptrace_traceme, "security_ptrace_traceme"),
	UTRACE_KCALL_INIT(kernel_waitid, "kernel_waitid"),
	UTRACE_KCALL_INIT(release_task, "release_task"),
	UTRACE_KCALL_INIT(put_task_stack, "put_task_stack"),
#ifdef CONFIG_VIRT_CPU_ACCOUNTING_GEN
	/* static inline without it */
	UTRACE_KCALL_INIT(task_cputime, "task_cputime"),
#endif
#ifdef CONFIG_IA32_EMULATION
	UTRACE_KCALL_INIT(compat_arch_ptrace, "compat_arch_ptrace"),
	/* x86's own with CONFIG_X86_X32_ABI, else the generic one: the macro says */
	UTRACE_KCALL_INIT(copy_siginfo_to_user32, __stringify(copy_siginfo_to_user32)),
	UTRACE_KCALL_INIT(copy_siginfo_from_user32, "copy_siginfo_from_user32"),
	UTRACE_KCALL_INIT(put_compat_rusage, "put_compat_rusage"),
#endif
};

int utrace_syms_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	unsigned int i;
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("cannot find kallsyms_lookup_name: %d\n", ret);
		return ret;
	}
	addr = utrace_arch_func_entry((unsigned long)kp.addr);
	unregister_kprobe(&kp);
	ret = utrace_kcall_set(&utrace_kc_lookup, addr);
	if (ret)
		return ret;

	utrace_syms_check_types();
	for (i = 0; i < ARRAY_SIZE(utrace_sym_table); i++) {
		struct utrace_kcall *kc = &utrace_sym_table[i];

		addr = utrace_lookup_name(kc->name);
		if (!addr) {
			pr_err("kernel symbol %s not found\n", kc->name);
			return -ENOENT;
		}
		ret = utrace_kcall_set(kc, addr);
		if (ret)
			return ret;
	}
	return 0;
}
