/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ftrace direct trampolines of x86_64's hooks (fhook.c): the syscall hooks
 * (arch_x86.c), and the hooks of calls every native ptrace stop or request
 * makes, or that the backend serves (ptrace.c, ptrace_tracee.c).
 *
 * The hooked function's ftrace site calls one directly (or ftrace's
 * regs_caller returns into it when another ftrace user shares the site),
 * with the function's arguments in their registers, the return address
 * into the function's body (past the site) at 0(%rsp) and the return
 * address into the function's caller at 8(%rsp).
 *
 * UTRACE_DIRECT: the trampoline drops the first and jumps to the
 * replacement, which runs as if the caller had called it and returns to the
 * caller: the original is skipped, as a BPF trampoline's
 * BPF_TRAMP_F_SKIP_FRAME does.  No register is saved: the replacement has
 * the original's prototype.  The replacement reaches the original past its
 * ftrace site (fhook.c), so never this trampoline again.
 *
 * UTRACE_DIRECT_FILTERED: first the hook's filter is called, with the
 * function's arguments (the first is a filter_arg's), which are kept: if
 * it returns false, the trampoline returns into the function's body, which
 * runs as if never hooked; else it goes on as UTRACE_DIRECT.  The filter
 * runs in the caller's context, preemptible if the caller is; it must not
 * sleep (ftrace's unregistration waits for tasks in the trampoline with
 * Tasks RCU, for which a voluntary sleep is a quiescent state).
 */
#include <linux/linkage.h>
#include <asm/unwind_hints.h>

.macro UTRACE_DIRECT name replacement
SYM_FUNC_START(utrace_x86_direct_\name)
	addq	$8, %rsp
	UNWIND_HINT_FUNC
	jmp	\replacement
SYM_FUNC_END(utrace_x86_direct_\name)
.endm

.macro UTRACE_DIRECT_FILTERED name filter replacement
SYM_FUNC_START(utrace_x86_direct_\name)
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%r8
	pushq	%r9
	call	\filter
	popq	%r9
	popq	%r8
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	testb	%al, %al
	jnz	1f
	RET
1:	addq	$8, %rsp
	UNWIND_HINT_FUNC
	jmp	\replacement
SYM_FUNC_END(utrace_x86_direct_\name)
.endm

	.text
UTRACE_DIRECT syscall_user_dispatch utrace_syscall_user_dispatch
UTRACE_DIRECT user_single_step_report utrace_user_single_step_report
UTRACE_DIRECT user_disable_single_step utrace_user_disable_single_step
UTRACE_DIRECT_FILTERED sys_ptrace pt_filter utrace_pt_sys_ptrace
UTRACE_DIRECT_FILTERED sys_wait4 pt_wait_filter utrace_pt_sys_wait4
UTRACE_DIRECT_FILTERED sys_waitid pt_wait_filter utrace_pt_sys_waitid
UTRACE_DIRECT_FILTERED ptrace_notify pt_notify_filter utrace_pt_notify
