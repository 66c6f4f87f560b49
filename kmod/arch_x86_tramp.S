/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ftrace direct trampolines of x86_64's syscall hooks (arch_x86.c, fhook.c).
 *
 * The hooked function's ftrace site calls one directly (or ftrace's
 * regs_caller returns into it when another ftrace user shares the site),
 * with the function's arguments in their registers, the return address
 * into the function's body (past the site) at 0(%rsp) and the return
 * address into the function's caller at 8(%rsp).  The trampoline drops the
 * first and jumps to the replacement, which runs as if the caller had
 * called it and returns to the caller: the original is skipped, as a BPF
 * trampoline's BPF_TRAMP_F_SKIP_FRAME does.  No register is saved: the
 * replacement has the original's prototype.  The replacement reaches the
 * original past its ftrace site (fhook.c), so never this trampoline again.
 */
#include <linux/linkage.h>
#include <asm/unwind_hints.h>

	.text
SYM_FUNC_START(utrace_x86_direct_syscall_user_dispatch)
	addq	$8, %rsp
	UNWIND_HINT_FUNC
	jmp	utrace_syscall_user_dispatch
SYM_FUNC_END(utrace_x86_direct_syscall_user_dispatch)

SYM_FUNC_START(utrace_x86_direct_user_single_step_report)
	addq	$8, %rsp
	UNWIND_HINT_FUNC
	jmp	utrace_user_single_step_report
SYM_FUNC_END(utrace_x86_direct_user_single_step_report)
