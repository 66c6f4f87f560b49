// SPDX-License-Identifier: GPL-2.0
/*
 * x86_64: the syscall slow path of a traced task, and ftrace redirection.
 *
 * 6.1's generic entry calls syscall_trace_enter() when the task's
 * syscall_work has any SYSCALL_WORK_ENTER bit, and syscall_exit_work() for
 * SYSCALL_WORK_EXIT bits.  Neither is hookable by name (static, one inlined),
 * but each calls a global function only for a bit ptrace does not use:
 *
 *  entry: SYSCALL_WORK_SYSCALL_USER_DISPATCH makes syscall_trace_enter()
 *	call syscall_user_dispatch(regs) first thing, before seccomp, with
 *	interrupts on and sleeping allowed.  Our replacement reports, and
 *	returns true to skip the call (-1 from syscall_trace_enter); it calls
 *	the real one only if the task uses syscall user dispatch itself.
 *  exit: SYSCALL_WORK_SYSCALL_EXIT_TRAP makes syscall_exit_work() call
 *	ptrace_report_syscall_exit(regs, step=1), which calls
 *	user_single_step_report(regs), after audit and the sys_exit
 *	tracepoint and before signals are handled.  Our replacement reports,
 *	and sends the native single-step SIGTRAP only if the task was really
 *	single-stepping (TIF_SINGLESTEP) before the report and still is after
 *	it: that bit is also how user_enable_single_step() asks for that trap,
 *	and the kernel decides it before its own syscall-exit stop, so a step
 *	asked for at a syscall-exit stop begins with the next instruction, as
 *	under native ptrace (kernel/entry/common.c, syscall_exit_work()).  A step
 *	turned on at a syscall-entry stop traps here.  With step=1 the kernel
 *	skips native ptrace's syscall-exit stop, so for a task that is also
 *	under native PTRACE_SYSCALL we make that stop ourselves, as
 *	ptrace_report_syscall() does.  user_disable_single_step() clears
 *	SYSCALL_EXIT_TRAP (native ptrace calls it at every PTRACE_CONT or
 *	PTRACE_SYSCALL): our replacement sets it again for a traced task.
 *
 * Only tasks with syscall-event engines have these bits: untraced tasks stay
 * on the fast path.  begin_new_exec() clears the dispatch bit: the exec
 * hook sets it again.  A traced task that enables syscall user dispatch and
 * then disables it clears our entry bit: documented in docs/DESIGN.md.
 */
#include <linux/entry-common.h>
#include <linux/ftrace.h>
#include <linux/ptrace.h>
#include <linux/sched.h>

#include "utrace_internal.h"

static bool utrace_syscall_user_dispatch(struct pt_regs *regs);
static void utrace_user_single_step_report(struct pt_regs *regs);
static void utrace_user_disable_single_step(struct task_struct *task);

/* syscall_user_dispatch() is declared in kernel/entry/ only. */
typedef bool utrace_syscall_user_dispatch_t(struct pt_regs *regs);
UTRACE_KCALL_DEFINE(orig_syscall_user_dispatch, utrace_syscall_user_dispatch_t);
UTRACE_KCALL_DEFINE(orig_user_single_step_report, user_single_step_report);
UTRACE_KCALL_DEFINE(orig_user_disable_single_step, user_disable_single_step);

struct utrace_fhook utrace_arch_hooks[] = {
	{ .name = "syscall_user_dispatch", .replacement = utrace_syscall_user_dispatch,
	  UTRACE_FHOOK_ORIG(orig_syscall_user_dispatch) },
	{ .name = "user_single_step_report", .replacement = utrace_user_single_step_report,
	  UTRACE_FHOOK_ORIG(orig_user_single_step_report) },
	{ .name = "user_disable_single_step", .replacement = utrace_user_disable_single_step,
	  UTRACE_FHOOK_ORIG(orig_user_disable_single_step) },
};

const unsigned int utrace_arch_nhooks = ARRAY_SIZE(utrace_arch_hooks);

/* syscall_user_dispatch() is declared in kernel/entry/ only: not checked. */
UTRACE_CHECK_REPLACEMENT(user_single_step_report, utrace_user_single_step_report);
UTRACE_CHECK_REPLACEMENT(user_disable_single_step, utrace_user_disable_single_step);

static bool task_uses_sud(struct task_struct *task)
{
	struct syscall_user_dispatch *sd = &task->syscall_dispatch;

	return sd->selector || sd->offset || sd->len;
}

static bool utrace_syscall_user_dispatch(struct pt_regs *regs)
{
	struct utrace *utrace;
	bool skip;

	utrace_inflight_get();
	utrace = utrace_lookup(current);
	skip = utrace && __utrace_report_syscall_entry(utrace, regs);
	if (!skip && (!utrace || utrace->arch_flag || task_uses_sud(current)))
		skip = utrace_kcall(orig_syscall_user_dispatch)(regs);
	utrace_inflight_put();
	return skip;
}

/* ptrace_report_syscall(PTRACE_EVENTMSG_SYSCALL_EXIT), which is inline. */
static void native_ptrace_syscall_exit(void)
{
	int ptrace = current->ptrace;
	int signr;

	if (!(ptrace & PT_PTRACED) || !test_syscall_work(SYSCALL_TRACE))
		return;
	signr = utrace_kcall(ptrace_notify)(SIGTRAP | ((ptrace & PT_TRACESYSGOOD) ? 0x80 : 0),
					    PTRACE_EVENTMSG_SYSCALL_EXIT);
	if (signr)
		send_sig(signr, current, 1);
}

static void utrace_user_single_step_report(struct pt_regs *regs)
{
	/* What syscall_exit_work() read before any report: the call was stepped. */
	bool step = test_thread_flag(TIF_SINGLESTEP);

	utrace_inflight_get();
	utrace_report_syscall_exit(regs);
	if (!step)
		native_ptrace_syscall_exit();
	else if (test_thread_flag(TIF_SINGLESTEP) && !utrace_unload_step_off())
		utrace_kcall(orig_user_single_step_report)(regs);
	utrace_inflight_put();
}

static void utrace_user_disable_single_step(struct task_struct *task)
{
	struct utrace *utrace;

	utrace_kcall(orig_user_disable_single_step)(task);
	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace && READ_ONCE(utrace->syscall_work))
		set_task_syscall_work(task, SYSCALL_EXIT_TRAP);
	rcu_read_unlock();
}

/* utrace->lock held. */
void utrace_arch_set_syscall_work(struct utrace *utrace)
{
	struct task_struct *task = utrace->task;

	if (!utrace->syscall_work)
		utrace->arch_flag = test_task_syscall_work(task, SYSCALL_USER_DISPATCH);
	set_task_syscall_work(task, SYSCALL_USER_DISPATCH);
	set_task_syscall_work(task, SYSCALL_EXIT_TRAP);
	utrace->syscall_work = true;
}

/* utrace->lock held. */
void utrace_arch_clear_syscall_work(struct utrace *utrace)
{
	struct task_struct *task = utrace->task;

	if (!utrace->arch_flag && !task_uses_sud(task))
		clear_task_syscall_work(task, SYSCALL_USER_DISPATCH);
	if (!test_tsk_thread_flag(task, TIF_SINGLESTEP))
		clear_task_syscall_work(task, SYSCALL_EXIT_TRAP);
	utrace->syscall_work = false;
}

void utrace_arch_redirect(struct pt_regs *regs, void *replacement)
{
	regs->ip = (unsigned long)replacement;
}

unsigned long utrace_arch_arg0(struct pt_regs *regs)
{
	return regs_get_kernel_argument(regs, 0);
}

/*
 * The trap x86 gives at a system call's exit when stepping was turned on
 * inside the call (syscall_exit_work(): report_single_step(), then
 * user_single_step_report(): SIGTRAP TRAP_BRKPT at the next instruction),
 * for a stop the ptrace backend can only make after the call's exit work.
 */
void utrace_arch_syscall_exit_step_trap(struct pt_regs *regs)
{
	utrace_kcall(orig_user_single_step_report)(regs);
}

/* A kprobe's address is the function's. */
unsigned long utrace_arch_func_entry(unsigned long probe_addr)
{
	return probe_addr;
}

void utrace_arch_set_syscall_nr(struct pt_regs *regs, long nr)
{
	regs->orig_ax = nr;
}

void utrace_arch_set_return_value(struct pt_regs *regs, long val)
{
	regs->ax = val;
}

/* The inverse of syscall_get_arguments(), which 6.1 lacks. */
void utrace_arch_set_syscall_args(struct pt_regs *regs, const unsigned long *args)
{
#ifdef CONFIG_IA32_EMULATION
	if (current_thread_info()->status & TS_COMPAT) {
		regs->bx = args[0];
		regs->cx = args[1];
		regs->dx = args[2];
		regs->si = args[3];
		regs->di = args[4];
		regs->bp = args[5];
		return;
	}
#endif
	regs->di = args[0];
	regs->si = args[1];
	regs->dx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
}
