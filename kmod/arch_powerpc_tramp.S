/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trampolines from an ftrace-redirected kernel function to its replacement
 * in this module (see arch_powerpc.c).  Entered by ftrace's bctr with the
 * function's arguments in r3-r10, the original return address in LR and
 * the kernel TOC in r2.  ftrace_caller restores no more than that (the
 * shared ops asks for no full register save, UTRACE_FHOOK_OPS_REGS), so
 * r12 is not our address: the trampoline finds it itself (bcl 20,31, the
 * form that leaves the return-address predictor alone).
 */
#include <asm/ppc_asm.h>

.macro UTRACE_TRAMP name, target
	.globl \name
	.type \name, @function
	.balign 8
\name:
	mflr	r0
	bcl	20, 31, 1f
1:	mflr	r12
	std	r0, 16(r1)
	std	r2, 24(r1)
	stdu	r1, -32(r1)
	addis	r2, r12, (.TOC. - 1b)@ha
	addi	r2, r2, (.TOC. - 1b)@l
	bl	\target
	nop
	addi	r1, r1, 32
	ld	r2, 24(r1)
	ld	r0, 16(r1)
	mtlr	r0
	blr
	.size \name, . - \name
.endm

	.text
UTRACE_TRAMP utrace_ppc_tramp_utrace_ppc_syscall_enter, utrace_ppc_syscall_enter
UTRACE_TRAMP utrace_ppc_tramp_utrace_ppc_syscall_leave, utrace_ppc_syscall_leave
UTRACE_TRAMP utrace_ppc_tramp_utrace_wake_up_new_task, utrace_wake_up_new_task
UTRACE_TRAMP utrace_ppc_tramp_utrace_do_exit, utrace_do_exit
UTRACE_TRAMP utrace_ppc_tramp_utrace_proc_exec_connector, utrace_proc_exec_connector
UTRACE_TRAMP utrace_ppc_tramp_utrace_get_signal, utrace_get_signal
UTRACE_TRAMP utrace_ppc_tramp_utrace_send_signal_locked, utrace_send_signal_locked
UTRACE_TRAMP utrace_ppc_tramp_utrace_dequeue_signal, utrace_dequeue_signal
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_sys_ptrace, utrace_pt_sys_ptrace
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_sys_wait4, utrace_pt_sys_wait4
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_sys_waitid, utrace_pt_sys_waitid
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_sys_waitpid, utrace_pt_sys_waitpid
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_secure_computing, utrace_pt_secure_computing
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_notify, utrace_pt_notify
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_bprm_creds_from_file, utrace_pt_bprm_creds_from_file
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_bprm_creds_for_exec, utrace_pt_bprm_creds_for_exec
UTRACE_TRAMP utrace_ppc_tramp_utrace_pt_do_notify_parent, utrace_pt_do_notify_parent
