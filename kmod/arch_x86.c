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
 * on the fast path.  A call that every engine's syscall filter leaves out
 * runs without the exit bit: exit_trap_for_call().  begin_new_exec() clears
 * the dispatch bit: the exec hook sets it again.
 *
 * The dispatch bit is then two things at once: ours, and the task's own
 * syscall user dispatch (SUD: prctl(PR_SET_SYSCALL_USER_DISPATCH), and from
 * 6.12 a tracer's PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG).  While we hold
 * it (utrace->syscall_work), utrace->arch_flag is the task's own mode (ON or
 * OFF), and the bit is always syscall_work || arch_flag, under utrace->lock:
 *  - every way the task's mode is set, set_syscall_user_dispatch() and
 *    syscall_user_dispatch_set_config(), is redirected: the kernel's own sets
 *    or clears the bit, then sud_set_done() records the mode and sets the
 *    bit again if it is ours too.  The task is not at a syscall entry
 *    meanwhile (it is in prctl(), or stopped for its tracer);
 *  - PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG (syscall_user_dispatch_get_config(),
 *    redirected) reports the task's own mode, not the bit;
 *  - the dispatch itself (syscall_user_dispatch(), the kernel's) runs when
 *    the task's own mode is ON, whatever its selector, offset and length
 *    (ON with none of them dispatches every call), and first, as natively:
 *    a dispatched call (SIGSYS) is not a system call, and no engine hears
 *    of it, as no native tracer does;
 *  - begin_new_exec() turns the task's own SUD off (it clears the bit):
 *    utrace_arch_set_syscall_work() finds the bit clear and records OFF.
 * Without syscall_work the bit is the task's alone.
 */
#include <linux/entry-common.h>
#include <linux/ftrace.h>
#include <linux/prctl.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/syscall_user_dispatch.h>
#include <linux/uaccess.h>

#include "utrace_internal.h"
#include "utrace_syscall.h"

static int utrace_set_syscall_user_dispatch(unsigned long mode, unsigned long offset,
					    unsigned long len, char __user *selector);
#ifdef UTRACE_HAVE_SUD_CONFIG
static int utrace_sud_get_config(struct task_struct *task, unsigned long size,
				 void __user *data);
static int utrace_sud_set_config(struct task_struct *task, unsigned long size,
				 void __user *data);
#endif

enum {
	HOOK_SUD,
	HOOK_STEP_REPORT,
	HOOK_DISABLE_STEP,
	HOOK_SUD_SET,
#ifdef UTRACE_HAVE_SUD_CONFIG
	HOOK_SUD_GET_CONFIG,
	HOOK_SUD_SET_CONFIG,
#endif
};

/* syscall_user_dispatch() is declared in kernel/entry/ only. */
typedef bool utrace_syscall_user_dispatch_t(struct pt_regs *regs);
UTRACE_KCALL_DEFINE(orig_syscall_user_dispatch, utrace_syscall_user_dispatch_t);
UTRACE_KCALL_DEFINE(orig_user_single_step_report, user_single_step_report);
UTRACE_KCALL_DEFINE(orig_user_disable_single_step, user_disable_single_step);
UTRACE_KCALL_DEFINE(orig_set_syscall_user_dispatch, set_syscall_user_dispatch);
#ifdef UTRACE_HAVE_SUD_CONFIG
UTRACE_KCALL_DEFINE(orig_syscall_user_dispatch_set_config, syscall_user_dispatch_set_config);
#endif

/*
 * The two hooks every system call of a traced task passes, and the one every
 * native ptrace resume request passes, are ftrace direct calls
 * (arch_x86_tramp.S): no pt_regs save, no callback, no lookup of the hook.
 */
struct utrace_fhook utrace_arch_hooks[] = {
	[HOOK_SUD] = { .name = "syscall_user_dispatch",
		       .replacement = utrace_syscall_user_dispatch,
		       UTRACE_FHOOK_DIRECT(syscall_user_dispatch),
		       UTRACE_FHOOK_ORIG(orig_syscall_user_dispatch) },
	[HOOK_STEP_REPORT] = { .name = "user_single_step_report",
			       .replacement = utrace_user_single_step_report,
			       UTRACE_FHOOK_DIRECT(user_single_step_report),
			       UTRACE_FHOOK_ORIG(orig_user_single_step_report) },
	[HOOK_DISABLE_STEP] = { .name = "user_disable_single_step",
				.replacement = utrace_user_disable_single_step,
				UTRACE_FHOOK_DIRECT(user_disable_single_step),
				UTRACE_FHOOK_ORIG(orig_user_disable_single_step) },
	[HOOK_SUD_SET] = { .name = "set_syscall_user_dispatch",
			   .replacement = utrace_set_syscall_user_dispatch,
			   UTRACE_FHOOK_ORIG(orig_set_syscall_user_dispatch) },
#ifdef UTRACE_HAVE_SUD_CONFIG
	/* GET does not call the kernel's: it is the kernel's, with the own mode. */
	[HOOK_SUD_GET_CONFIG] = { .name = "syscall_user_dispatch_get_config",
				  .replacement = utrace_sud_get_config },
	[HOOK_SUD_SET_CONFIG] = { .name = "syscall_user_dispatch_set_config",
				  .replacement = utrace_sud_set_config,
				  UTRACE_FHOOK_ORIG(orig_syscall_user_dispatch_set_config) },
#endif
};

const unsigned int utrace_arch_nhooks = ARRAY_SIZE(utrace_arch_hooks);

/* syscall_user_dispatch() is declared in kernel/entry/ only: not checked. */
UTRACE_CHECK_REPLACEMENT(user_single_step_report, utrace_user_single_step_report);
UTRACE_CHECK_REPLACEMENT(user_disable_single_step, utrace_user_disable_single_step);
UTRACE_CHECK_REPLACEMENT(set_syscall_user_dispatch, utrace_set_syscall_user_dispatch);
#ifdef UTRACE_HAVE_SUD_CONFIG
UTRACE_CHECK_REPLACEMENT(syscall_user_dispatch_get_config, utrace_sud_get_config);
UTRACE_CHECK_REPLACEMENT(syscall_user_dispatch_set_config, utrace_sud_set_config);
#endif

/*
 * The task's own SUD mode is ON (see the header).  utrace->lock held, or
 * the task itself at its syscall entry, without the lock: the syscall-work
 * bits, @syscall_work and @arch_flag change together only under the lock,
 * in an order (utrace_arch_set_syscall_work() and _clear_) that lets the
 * task read them unlocked in the reverse order: it came here because a bit
 * was set; if @syscall_work reads true, @arch_flag is the mode; if false,
 * the bit is the task's alone.
 */
static bool sud_own_on(struct utrace *utrace)
{
	if (READ_ONCE(utrace->syscall_work)) {
		smp_rmb();	/* @syscall_work before @arch_flag */
		return READ_ONCE(utrace->arch_flag);
	}
	smp_rmb();	/* @syscall_work before the bit */
	return test_task_syscall_work(utrace->task, SYSCALL_USER_DISPATCH);
}

/*
 * The kernel's own set the task's SUD @mode (it returned 0): record it, and
 * set the bit again if it is ours too.  If the task got a utrace meanwhile,
 * its utrace_arch_set_syscall_work() read the bit before or after that set:
 * this corrects the first case.
 */
static void sud_set_done(struct task_struct *task, unsigned long mode)
{
	struct utrace *utrace;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace) {
		spin_lock(&utrace->lock);
		WRITE_ONCE(utrace->arch_flag, mode == PR_SYS_DISPATCH_ON);
		if (utrace->syscall_work || utrace->arch_flag)
			set_task_syscall_work(task, SYSCALL_USER_DISPATCH);
		else
			clear_task_syscall_work(task, SYSCALL_USER_DISPATCH);
		spin_unlock(&utrace->lock);
	}
	rcu_read_unlock();
}

/*
 * At a system call's entry, after the report, for a task with syscall
 * filters (the bit is never cleared without): the exit trap bit for this
 * call.  The report found that no engine wants the call's exit (@hint):
 * clear the bit, and the exit costs syscall_exit_work() alone, not our
 * hook and its report (a call every engine's syscall filter leaves out).
 * Not when the task is single-stepping: the bit is also the step's trap
 * (enable_single_step()), and a tracer that turns stepping on later sets
 * it again.  Set again at the next entry that needs it.
 *
 * Whatever may want the exit after all changes utrace->exit_gen, then sets
 * the bit (utrace_syscall_exit_rearm()): either it comes after our clear,
 * or we see its generation after the clear and set the bit ourselves.  The
 * bit is set only under utrace->lock and with @syscall_work, so it is never
 * left behind by a task whose last syscall engine has gone
 * (utrace_arch_clear_syscall_work(); unloading would leave the kernel's
 * single-step trap at every call's exit).
 */
static void exit_trap_for_call(struct utrace *utrace, const struct utrace_exit_hint *hint)
{
	const bool set = test_syscall_work(SYSCALL_EXIT_TRAP);

	if (hint->skip) {
		if (!set || test_thread_flag(TIF_SINGLESTEP))
			return;
		clear_task_syscall_work(current, SYSCALL_EXIT_TRAP);
		smp_mb__after_atomic();	/* the bit before @exit_gen */
		if (likely(READ_ONCE(utrace->exit_gen) == hint->gen))
			return;
	} else if (set) {
		return;
	}
	spin_lock(&utrace->lock);
	if (utrace->syscall_work)
		set_task_syscall_work(current, SYSCALL_EXIT_TRAP);
	spin_unlock(&utrace->lock);
}

/*
 * The entry report of a task with syscall filters, and its exit bit; out
 * of line, so that the other tasks' path keeps its registers and frame.
 */
static noinline notrace bool report_entry_filtered(struct utrace *utrace, struct pt_regs *regs,
						   bool skip)
{
	struct utrace_exit_hint hint = { .skip = false };

	if (!skip)
		skip = __utrace_report_syscall(utrace, UTRACE_EVENT(SYSCALL_ENTRY), regs, &hint);
	if (READ_ONCE(utrace->syscall_work))
		exit_trap_for_call(utrace, &hint);
	return skip;
}

/*
 * The hook of every system call of a traced task (or of one with its own
 * SUD): notrace, as ftrace's own entry code, to spare the hot path its
 * mcount site.
 */
notrace bool utrace_syscall_user_dispatch(struct pt_regs *regs)
{
	struct utrace *utrace;
	bool own = true;
	bool skip;

	utrace_inflight_get();
	/* Tasks with their own SUD only are rare: traced ones find their slot. */
	utrace = utrace_lookup_traced(current);
	if (utrace)
		own = sud_own_on(utrace);
	/* The task's own dispatch first, as natively (before ptrace's stop). */
	skip = own && utrace_kcall(orig_syscall_user_dispatch)(regs);
	if (utrace && unlikely(READ_ONCE(utrace->syscall_filters)))
		skip = report_entry_filtered(utrace, regs, skip);
	else if (!skip)
		skip = __utrace_report_syscall(utrace, UTRACE_EVENT(SYSCALL_ENTRY), regs, NULL);
	utrace_inflight_put();
	return skip;
}

/* prctl(PR_SET_SYSCALL_USER_DISPATCH): the task sets its own SUD. */
static int utrace_set_syscall_user_dispatch(unsigned long mode, unsigned long offset,
					    unsigned long len, char __user *selector)
{
	int ret;

	utrace_inflight_get();
	ret = utrace_kcall(orig_set_syscall_user_dispatch)(mode, offset, len, selector);
	if (!ret)
		sud_set_done(current, mode);
	utrace_inflight_put();
	return ret;
}

#ifdef UTRACE_HAVE_SUD_CONFIG
/* The same for any task (NULL utrace: the bit is the task's alone). */
static bool task_sud_on(struct task_struct *task)
{
	struct utrace *utrace;
	bool on;

	rcu_read_lock();
	utrace = utrace_lookup(task);
	if (utrace) {
		spin_lock(&utrace->lock);
		on = sud_own_on(utrace);
		spin_unlock(&utrace->lock);
	} else {
		on = test_task_syscall_work(task, SYSCALL_USER_DISPATCH);
	}
	rcu_read_unlock();
	return on;
}

/*
 * PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG: the kernel's, but with the task's
 * own mode where the kernel reads the bit.
 */
static int utrace_sud_get_config(struct task_struct *task, unsigned long size,
				 void __user *data)
{
	struct syscall_user_dispatch *sd = &task->syscall_dispatch;
	struct ptrace_sud_config cfg;

	if (size != sizeof(cfg))
		return -EINVAL;
	utrace_inflight_get();
	cfg.mode = task_sud_on(task) ? PR_SYS_DISPATCH_ON : PR_SYS_DISPATCH_OFF;
	utrace_inflight_put();
	cfg.offset = sd->offset;
	cfg.len = sd->len;
	cfg.selector = (__u64)(uintptr_t)sd->selector;
	if (copy_to_user(data, &cfg, sizeof(cfg)))
		return -EFAULT;
	return 0;
}

/*
 * PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG: the kernel's, which copies the
 * tracer's config itself; the mode is read first, to be recorded.  A tracer
 * that rewrites the buffer during its own request may leave the mode we
 * record different from the one the kernel set (only the tracee's SUD bit
 * is then wrong, as the tracer asked for both).
 */
static int utrace_sud_set_config(struct task_struct *task, unsigned long size,
				 void __user *data)
{
	struct ptrace_sud_config cfg;
	int ret;

	if (size == sizeof(cfg) && copy_from_user(&cfg, data, sizeof(cfg)))
		return -EFAULT;
	utrace_inflight_get();
	ret = utrace_kcall(orig_syscall_user_dispatch_set_config)(task, size, data);
	if (!ret)
		sud_set_done(task, cfg.mode);
	utrace_inflight_put();
	return ret;
}
#endif

/*
 * What syscall_exit_work() does after the report for a task that was
 * stepped into the call (@step), or is natively ptraced:
 * ptrace_report_syscall(PTRACE_EVENTMSG_SYSCALL_EXIT), which is inline.
 */
static noinline void native_syscall_exit(struct pt_regs *regs, bool step)
{
	int ptrace = current->ptrace;
	int signr;

	if (step) {
		if (test_thread_flag(TIF_SINGLESTEP) && !utrace_unload_step_off())
			utrace_kcall(orig_user_single_step_report)(regs);
		return;
	}
	if (!(ptrace & PT_PTRACED) || !test_syscall_work(SYSCALL_TRACE))
		return;
	signr = utrace_kcall(ptrace_notify)(SIGTRAP | ((ptrace & PT_TRACESYSGOOD) ? 0x80 : 0),
					    PTRACE_EVENTMSG_SYSCALL_EXIT);
	if (signr)
		send_sig(signr, current, 1);
}

/* notrace: on every system call of a traced task, as the entry's hook. */
notrace void utrace_user_single_step_report(struct pt_regs *regs)
{
	/* What syscall_exit_work() read before any report: the call was stepped. */
	unsigned long ti_flags = read_thread_flags();

	utrace_inflight_get();
	/* A task of ours (the exit trap bit), or one stepped: no count check. */
	__utrace_report_syscall(__utrace_lookup(current), UTRACE_EVENT(SYSCALL_EXIT), regs, NULL);
	if (unlikely((ti_flags & _TIF_SINGLESTEP) || (current->ptrace & PT_PTRACED)))
		native_syscall_exit(regs, ti_flags & _TIF_SINGLESTEP);
	utrace_inflight_put();
}

void utrace_user_disable_single_step(struct task_struct *task)
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

	/* The bit clear with syscall_work: begin_new_exec() turned SUD off. */
	if (!utrace->syscall_work || !test_task_syscall_work(task, SYSCALL_USER_DISPATCH))
		WRITE_ONCE(utrace->arch_flag,
			   test_task_syscall_work(task, SYSCALL_USER_DISPATCH));
	/* The mode, then ours, then the bits: sud_own_on() reads them backwards. */
	smp_wmb();
	WRITE_ONCE(utrace->syscall_work, true);
	smp_wmb();	/* ours before the bits */
	set_task_syscall_work(task, SYSCALL_USER_DISPATCH);
	set_task_syscall_work(task, SYSCALL_EXIT_TRAP);
}

/* utrace->lock held, @syscall_work: see exit_trap_for_call(). */
void utrace_arch_syscall_exit_rearm(struct utrace *utrace)
{
	set_task_syscall_work(utrace->task, SYSCALL_EXIT_TRAP);
}

/* utrace->lock held. */
void utrace_arch_clear_syscall_work(struct utrace *utrace)
{
	struct task_struct *task = utrace->task;

	if (!utrace->arch_flag)
		clear_task_syscall_work(task, SYSCALL_USER_DISPATCH);
	if (!test_tsk_thread_flag(task, TIF_SINGLESTEP))
		clear_task_syscall_work(task, SYSCALL_EXIT_TRAP);
	smp_wmb();	/* the bits before @syscall_work: see sud_own_on() */
	WRITE_ONCE(utrace->syscall_work, false);
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

/*
 * Nothing to undo in a child: dup_task_struct() clears its dispatch bit and
 * copy_process()'s user_disable_single_step() its exit-trap bit.
 */
void utrace_arch_clone(struct task_struct *child)
{
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
