// SPDX-License-Identifier: GPL-2.0
/*
 * powerpc (64-bit, ELFv2): the syscall slow path of a traced task, and
 * ftrace redirection.
 *
 * powerpc 6.1 has no generic entry: system_call_exception() calls the global
 * do_syscall_trace_enter(regs) when the thread flags have any
 * _TIF_SYSCALL_DOTRACE bit, and syscall_exit_prepare() calls
 * do_syscall_trace_leave(regs) likewise.  We set TIF_SYSCALL_AUDIT for tasks
 * with syscall-event engines (untraced tasks stay on the fast path) and
 * replace both functions: entry reports, then runs the real one (ptrace,
 * seccomp, tracepoint, audit) unless an engine aborted the call; exit runs
 * the real one, then reports.  The real one is left out when it has
 * nothing to do for the task (utrace_ppc_enter_is_noop()).
 *
 * Why the audit flag: TIF_SYSCALL_TRACE is the native tracer's (ptrace_resume()
 * sets it for PTRACE_SYSCALL and clears it for PTRACE_CONT), and the real
 * functions make a syscall stop for a ptraced task whenever it is set: a
 * tracee its tracer resumed with PTRACE_CONT would stop at every call, and
 * PTRACE_CONT would turn the engines' reports off.  The audit flag is set
 * natively exactly when the task has an audit context (audit_alloc() sets
 * both at fork and nothing else touches them), and the real functions only
 * audit a task that has one, so our flag is harmless to them and the
 * native state is always known: we clear the flag only for a task without
 * an audit context.  A child inherits the flag (copy_process() clears the
 * trace flag, not this one); utrace_arch_clone() puts the child's back.
 *
 * The real do_syscall_trace_leave() also gives the single-step trap at
 * syscall exit (SIGTRAP TRAP_TRACE, user_single_step_report()) when
 * TIF_SINGLESTEP is set: before our report, as natively, and only while the
 * slow path is on, i.e. while the kernel's own flags or an engine's syscall
 * events ask for it (natively: PTRACE_SYSCALL or SYSEMU, audit, seccomp,
 * tracepoints).  The core drops our flag as soon as no engine wants syscall
 * reports, also right after a stop (utrace_stop()), so a tracer that stops
 * tracing syscalls at a syscall-entry stop gets no such trap, as natively.
 *
 * Redirection: the kernel is built without CONFIG_LIVEPATCH, so ftrace's
 * exit path jumps to a changed NIP with the kernel's TOC in r2.  A module
 * function needs its own TOC, and the kernel caller (a local call) does not
 * restore r2 afterwards.  Each replacement is therefore reached through a
 * trampoline (arch_powerpc_tramp.S) that saves r2, derives the module TOC
 * from its own address, calls the C function and restores r2.  So ftrace's
 * lighter ftrace_caller serves (UTRACE_FHOOK_OPS_REGS): it saves and
 * restores the argument registers and jumps to the saved NIP, where
 * ftrace_regs_caller's full register save cost some 50 instructions more
 * per call.
 */
#include <linux/ftrace.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <asm/unistd.h>

#include "utrace_internal.h"
#include "utrace_syscall.h"

UTRACE_DECLARE_REPLACEMENT(utrace_ppc_syscall_enter);
UTRACE_DECLARE_REPLACEMENT(utrace_ppc_syscall_leave);

static bool utrace_ppc_syscall_filter(void);
static bool utrace_ppc_leave_filter(void);

UTRACE_KCALL_DEFINE(orig_do_syscall_trace_enter, do_syscall_trace_enter);
UTRACE_KCALL_DEFINE(orig_do_syscall_trace_leave, do_syscall_trace_leave);

struct utrace_fhook utrace_arch_hooks[] = {
	{ .name = "do_syscall_trace_enter",
	  .replacement = UTRACE_REPLACEMENT(utrace_ppc_syscall_enter),
	  .filter = utrace_ppc_syscall_filter,
	  .lazy = true,
	  UTRACE_FHOOK_ORIG(orig_do_syscall_trace_enter) },
	{ .name = "do_syscall_trace_leave",
	  .replacement = UTRACE_REPLACEMENT(utrace_ppc_syscall_leave),
	  .filter = utrace_ppc_leave_filter,
	  .lazy = true,
	  UTRACE_FHOOK_ORIG(orig_do_syscall_trace_leave) },
};

const unsigned int utrace_arch_nhooks = ARRAY_SIZE(utrace_arch_hooks);

UTRACE_CHECK_REPLACEMENT(do_syscall_trace_enter, utrace_ppc_syscall_enter);
UTRACE_CHECK_REPLACEMENT(do_syscall_trace_leave, utrace_ppc_syscall_leave);

/*
 * ftrace callback: only tasks with syscall-event engines come to us.  The
 * slow path is also taken for seccomp, audit, native ptrace and the syscall
 * tracepoints (BPF's raw ones put every task on it), and the kernel's
 * function is all those need.  Our flag first: a task without it (no
 * syscall events, and no audit context) is not looked up at all.
 */
static bool utrace_ppc_syscall_filter(void)
{
	return test_thread_flag(TIF_SYSCALL_AUDIT) && utrace_lookup(current);
}

/*
 * The same at exit, but for a call whose entry report found that no engine
 * wants its exit (every one's syscall filter leaves it out; struct
 * utrace_exit_hint): the kernel's own function runs, as for an untraced
 * task, unless something changed @exit_gen since (see
 * utrace_syscall_exit_rearm()).
 */
static bool utrace_ppc_leave_filter(void)
{
	struct utrace *utrace;

	if (!test_thread_flag(TIF_SYSCALL_AUDIT))
		return false;
	utrace = utrace_lookup(current);
	return utrace && !(READ_ONCE(utrace->exit_skip) &&
			   READ_ONCE(utrace->exit_gen) == utrace->exit_skip_gen);
}

/* Whether the kernel itself wants @task's audit flag (see the top). */
static inline bool utrace_ppc_native_audit(struct task_struct *task)
{
#ifdef CONFIG_AUDITSYSCALL
	return READ_ONCE(task->audit_context);
#else
	return false;
#endif
}

/*
 * Whether the kernel's do_syscall_trace_enter() would only return the
 * syscall number (6.1 and 6.12 alike): no native syscall tracing or
 * SYSEMU, no seccomp, no syscall tracepoint, no audit context, a valid
 * number.  Our flag alone brought the task here, so the call can be left
 * out, and with it a second pass through ftrace's register-saving
 * trampoline and callback (the call reaches the ftrace site again; see
 * fhook.c): about a third of a count engine's cost per system call.
 */
static __always_inline bool utrace_ppc_enter_is_noop(struct pt_regs *regs)
{
	return !(read_thread_flags() & (_TIF_SYSCALL_EMU | _TIF_SYSCALL_TRACE | _TIF_SECCOMP |
					_TIF_SYSCALL_TRACEPOINT)) &&
	       !utrace_ppc_native_audit(current) && regs->gpr[0] < NR_syscalls;
}

/*
 * do_syscall_trace_leave() likewise: no audit context, no tracepoint, no
 * native syscall tracing, no single-step trap to give.
 */
static __always_inline bool utrace_ppc_leave_is_noop(void)
{
	return !(read_thread_flags() & (_TIF_SYSCALL_TRACE | _TIF_SINGLESTEP |
					_TIF_SYSCALL_TRACEPOINT)) &&
	       !utrace_ppc_native_audit(current);
}

/*
 * The replacements run for the tasks the filter let in, which had an entry:
 * their lookups need no look at the table's count first.  notrace: on
 * every system call of a traced task, no mcount site.
 */
notrace long utrace_ppc_syscall_enter(struct pt_regs *regs)
{
	struct utrace_exit_hint hint;
	struct utrace *utrace;
	bool skip;
	long ret;

	utrace_inflight_get();
	utrace = __utrace_lookup(current);
	if (utrace && unlikely(READ_ONCE(utrace->syscall_filters))) {
		skip = __utrace_report_syscall(utrace, UTRACE_EVENT(SYSCALL_ENTRY), regs, &hint);
		/* For utrace_ppc_leave_filter(): written by the task only. */
		utrace->exit_skip_gen = hint.gen;
		WRITE_ONCE(utrace->exit_skip, hint.skip);
	} else {
		skip = __utrace_report_syscall(utrace, UTRACE_EVENT(SYSCALL_ENTRY), regs, NULL);
	}
	if (skip) {
		/*
		 * Skipped: the caller returns gpr[3] as it is, so the engine
		 * that aborted the call sets the return value there.
		 */
		utrace_inflight_put();
		return -1;
	}
	if (utrace_ppc_enter_is_noop(regs)) {
		utrace_inflight_put();
		return regs->gpr[0];
	}
	/*
	 * Seccomp runs in it and may end the task (strict mode, KILL): our
	 * reference becomes a frame, which its do_exit() hook drops
	 * (utrace_frame_get()).  Without a utrace (not seen: only release
	 * or unload removes it) the plain reference is kept.
	 */
	if (utrace) {
		utrace_frame_get(utrace);
		utrace_inflight_put();
	}
	ret = utrace_kcall(orig_do_syscall_trace_enter)(regs);
	if (utrace)
		utrace_frame_put(utrace);
	else
		utrace_inflight_put();
	return ret;
}

notrace void utrace_ppc_syscall_leave(struct pt_regs *regs)
{
	utrace_inflight_get();
	if (!utrace_ppc_leave_is_noop())
		utrace_kcall(orig_do_syscall_trace_leave)(regs);
	__utrace_report_syscall(__utrace_lookup(current), UTRACE_EVENT(SYSCALL_EXIT), regs, NULL);
	utrace_inflight_put();
}

/* utrace->lock held. */
void utrace_arch_set_syscall_work(struct utrace *utrace)
{
	set_tsk_thread_flag(utrace->task, TIF_SYSCALL_AUDIT);
	utrace->syscall_work = true;
}

/* Nothing to put back: utrace_ppc_leave_filter() compares @exit_gen. */
void utrace_arch_syscall_exit_rearm(struct utrace *utrace)
{
}

/* utrace->lock held. */
void utrace_arch_clear_syscall_work(struct utrace *utrace)
{
	if (!utrace_ppc_native_audit(utrace->task))
		clear_tsk_thread_flag(utrace->task, TIF_SYSCALL_AUDIT);
	utrace->syscall_work = false;
}

/*
 * The parent's flag, copied into a child it made before the child first
 * runs: back to what the kernel gave the child (audit_alloc() ran).  An
 * engine the CLONE report attaches to the child sets it again.
 */
void utrace_arch_clone(struct task_struct *child)
{
	if (test_tsk_thread_flag(child, TIF_SYSCALL_AUDIT) && !utrace_ppc_native_audit(child))
		clear_tsk_thread_flag(child, TIF_SYSCALL_AUDIT);
}

/*
 * ftrace_caller jumps to the NIP it saved (@regs holds no more than it
 * saves: UTRACE_FHOOK_OPS_REGS); the trampoline (arch_powerpc_tramp.S)
 * finds its own TOC.
 */
void utrace_arch_redirect(struct pt_regs *regs, void *replacement)
{
	regs->nip = (unsigned long)replacement;
}

unsigned long utrace_arch_arg0(struct pt_regs *regs)
{
	return regs->gpr[3];
}

/*
 * powerpc gives a step trap at a system call's exit only from
 * do_syscall_trace_leave(), which stepping alone does not make the exit
 * run: a step turned on inside a call begins with the next instruction.
 */
void utrace_arch_syscall_exit_step_trap(struct pt_regs *regs)
{
}

/*
 * A kprobe on a function sits past its ELFv2 global entry (the two
 * instructions that set up r2 from r12), at the ftrace call site a few
 * instructions into the local entry.  Calling it through a pointer needs the
 * global entry: look back for that sequence.
 */
unsigned long utrace_arch_func_entry(unsigned long probe_addr)
{
	unsigned long off;

	for (off = 8; off <= 24; off += 4) {
		const u32 *insn = (const u32 *)(probe_addr - off);

		if ((insn[0] & 0xffff0000) == 0x3c4c0000 &&	/* addis r2,r12,hi */
		    (insn[1] & 0xffff0000) == 0x38420000)	/* addi r2,r2,lo */
			return probe_addr - off;
	}
	return probe_addr;
}

void utrace_arch_set_syscall_nr(struct pt_regs *regs, long nr)
{
	regs->gpr[0] = nr;
}

/*
 * r3 as is.  At syscall entry (an aborted call) the exit path converts a
 * -errno to the user convention (errno and CR0.SO); at syscall exit that
 * conversion is done, so the value given is what user space sees in r3.
 */
void utrace_arch_set_return_value(struct pt_regs *regs, long val)
{
	regs->gpr[3] = val;
}

/* The inverse of syscall_get_arguments(), which 6.1 lacks. */
void utrace_arch_set_syscall_args(struct pt_regs *regs, const unsigned long *args)
{
	unsigned int i;

	regs->orig_gpr3 = args[0];
	for (i = 0; i < 6; i++)
		regs->gpr[3 + i] = args[i];
}
