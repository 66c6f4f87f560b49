// Scenarios: the clone flags a tracer can see the effect of (kernel/fork.c
// kernel_clone() and copy_process(), include/linux/ptrace.h
// ptrace_init_task()).  CLONE_PTRACE auto-attaches the child without an
// event option, CLONE_UNTRACED suppresses the event and the auto-attach of
// an option, the event kind comes from the exit signal asked for (not the
// child's, which CLONE_PARENT takes from the parent), and VFORK_DONE is
// reported with TRACEVFORKDONE alone, whatever became of the child.
#include "support.hpp"

#include <cerrno>
#include <sched.h>

using namespace conf;

// A fork-like clone(2): no new stack, the child runs on a copy of ours.
// Never with CLONE_VM (the child would return on the parent's stack).
static pid_t raw_clone(unsigned long flags)
{
	return static_cast<pid_t>(syscall(SYS_clone, flags, 0, 0, 0, 0));
}

// The tracee's body: clone with @flags, the child exits 3, the parent
// reaps it and exits with its code + 10 (or 99 if clone failed).
static void clone_and_reap(unsigned long flags)
{
	pid_t k = raw_clone(flags);
	if (k == 0)
		_exit(3);
	if (k < 0)
		_exit(99);
	int st = 0;
	while (waitpid(k, &st, __WALL) < 0 && errno == EINTR) {
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) + 10 : 98);
}

// A running tracee to its end: each stop it makes is waited for (never a
// resume that could come before the stop), signal-delivery stops resumed
// with their signal.
static void wait_to_exit(Trace &t, pid_t c)
{
	for (int i = 0; i < 20; i++) {
		int st = 0;
		if (t.wait(c, __WALL, &st) != c || !WIFSTOPPED(st))
			return;
		int sig = (st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP &&
		                          WSTOPSIG(st) != (SIGTRAP | 0x80)
		                  ? WSTOPSIG(st)
		                  : 0;
		t.ptrace(PTRACE_CONT, c, 0, static_cast<unsigned long>(sig));
	}
}

// The auto-attached child: its first stop (SIGSTOP, or EVENT_STOP when
// seized), what it looks like, then its exit; then the parent (running)
// to its end.
static void child_stop_then_finish(Trace &t, pid_t c)
{
	int st = 0;
	pid_t k = t.wait(-1, __WALL, &st);
	if (k <= 0 || k == c || !WIFSTOPPED(st)) {
		t.finish(c);
		return;
	}
	t.name(k, "child");
	t.siginfo(k);
	t.state(k);
	t.value("child TracerPid",
	        proc_status_field(k, "TracerPid") == std::to_string(getpid()) ? "tracer" : "other");
	t.ptrace(PTRACE_CONT, k);
	t.wait(k);
	wait_to_exit(t, c);
}

SCENARIO(clone_ptrace_auto_attach, "clone(CLONE_PTRACE|SIGCHLD) without TRACEFORK: no FORK event, "
                                   "the child is traced and starts in a SIGSTOP stop")
{
	pid_t c = t.traceme("tracee", [] { clone_and_reap(CLONE_PTRACE | SIGCHLD); });
	t.ptrace(PTRACE_CONT, c);
	child_stop_then_finish(t, c);
}

SCENARIO(clone_ptrace_seized, "clone(CLONE_PTRACE|SIGCHLD) of a SEIZEd tracee: the child starts "
                              "in an EVENT_STOP stop")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { clone_and_reap(CLONE_PTRACE | SIGCHLD); });
	t.ptrace(PTRACE_SEIZE, c);
	p.post();
	child_stop_then_finish(t, c);
}

SCENARIO(clone_untraced_with_tracefork, "clone(CLONE_UNTRACED|SIGCHLD) with TRACEFORK: no FORK "
                                        "event, the child is not traced")
{
	pid_t c = t.traceme("tracee", [] { clone_and_reap(CLONE_UNTRACED | SIGCHLD); });
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEFORK);
	t.ptrace(PTRACE_CONT, c);
	wait_to_exit(t, c);
	t.wait(-1, __WALL | WNOHANG);
}

SCENARIO(clone_ptrace_untraced_with_tracefork, "clone(CLONE_PTRACE|CLONE_UNTRACED|SIGCHLD) with "
                                               "TRACEFORK: no FORK event, but the child is "
                                               "traced (SIGSTOP)")
{
	pid_t c = t.traceme("tracee",
	                    [] { clone_and_reap(CLONE_PTRACE | CLONE_UNTRACED | SIGCHLD); });
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEFORK);
	t.ptrace(PTRACE_CONT, c);
	child_stop_then_finish(t, c);
}

SCENARIO(clone_parent_exit_signal, "clone(CLONE_PARENT|SIGUSR1) with TRACECLONE: a CLONE event "
                                   "(the exit signal asked for is not SIGCHLD), the child is "
                                   "the tracer's own and traced")
{
	pid_t c = t.traceme("tracee", [] {
		pid_t k = raw_clone(CLONE_PARENT | SIGUSR1);
		if (k == 0)
			_exit(3);
		_exit(k > 0 ? 5 : 99);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE);
	t.ptrace(PTRACE_CONT, c);
	int st = 0;
	t.wait(c, __WALL, &st);
	if (!WIFSTOPPED(st))
		return;
	pid_t k = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(k, "child");
	t.wait(k);
	t.siginfo(k);
	t.ptrace(PTRACE_CONT, k);
	t.wait(k);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(clone_vfork_untraced, "clone(CLONE_VFORK|CLONE_UNTRACED|SIGCHLD) with TRACEVFORK and "
                               "TRACEVFORKDONE: no VFORK event, no traced child, VFORK_DONE")
{
	pid_t c = t.traceme("tracee", [] {
		block(SIGCHLD);
		clone_and_reap(CLONE_VFORK | CLONE_UNTRACED | SIGCHLD);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE);
	t.ptrace(PTRACE_CONT, c);
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st))
		t.eventmsg(c, true);
	t.finish(c);
}

// vfork with TRACEVFORKDONE but not TRACEVFORK: the child is not traced,
// the parent still stops with VFORK_DONE once the child exits.
static void vfork_child_exits()
{
	pid_t k = vfork();
	if (k == 0)
		_exit(4);
	int st = 0;
	while (waitpid(k, &st, 0) < 0 && errno == EINTR) {
	}
	_exit(WEXITSTATUS(st) + 10);
}

SCENARIO(vfork_done_without_vfork_cont, "TRACEVFORKDONE without TRACEVFORK, CONT: VFORK_DONE "
                                        "(the untraced child's pid), SIGCHLD stop, exit")
{
	pid_t c = t.traceme("tracee", vfork_child_exits);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEVFORKDONE);
	t.ptrace(PTRACE_CONT, c);
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) {
		t.siginfo(c);
		t.eventmsg(c, true);
		t.state(c);
	}
	t.finish(c);
	t.wait(-1, __WALL | WNOHANG);
}

SCENARIO(vfork_done_without_vfork_syscall, "TRACEVFORKDONE without TRACEVFORK, SYSCALL: the "
                                           "vfork's entry stop, VFORK_DONE, its exit stop")
{
	pid_t c = t.traceme("tracee", [] {
		block(SIGCHLD);
		vfork_child_exits();
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESYSGOOD);
	for (int i = 0; i < 12; i++) {
		int st = t.resume(PTRACE_SYSCALL, c);
		if (!WIFSTOPPED(st))
			return;
		if ((st >> 16) == PTRACE_EVENT_VFORK_DONE)
			t.eventmsg(c, true);
	}
	t.finish(c);
}

SCENARIO(vfork_done_cont_then_syscall, "TRACEVFORKDONE without TRACEVFORK: CONT to VFORK_DONE, "
                                       "then SYSCALL: the vfork's exit stop comes next")
{
	pid_t c = t.traceme("tracee", [] {
		block(SIGCHLD);
		vfork_child_exits();
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESYSGOOD);
	int st = t.resume(PTRACE_CONT, c);
	if (!WIFSTOPPED(st))
		return;
	t.eventmsg(c, true);
	for (int i = 0; i < 6; i++) {
		st = t.resume(PTRACE_SYSCALL, c);
		if (!WIFSTOPPED(st))
			return;
		t.syscall_info(c);
	}
	t.finish(c);
}

SCENARIO(vfork_done_syscall_then_cont, "TRACEVFORKDONE without TRACEVFORK: SYSCALL to the "
                                       "vfork's entry, then CONT: VFORK_DONE, no exit stop")
{
	pid_t c = t.traceme("tracee", [] {
		block(SIGCHLD);
		vfork_child_exits();
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c); // rt_sigprocmask entry
	t.resume(PTRACE_SYSCALL, c); // its exit
	t.resume(PTRACE_SYSCALL, c); // vfork entry
	int st = t.resume(PTRACE_CONT, c);
	if (WIFSTOPPED(st))
		t.eventmsg(c, true);
	t.finish(c);
}

SCENARIO(vfork_done_singlestep, "TRACEVFORK|TRACEVFORKDONE: SINGLESTEP from VFORK_DONE (inside "
                                "the call natively: x86 traps at its exit)")
{
	pid_t c = t.traceme("tracee", [] {
		block(SIGCHLD);
		vfork_child_exits();
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0,
	         PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESYSGOOD);
	int st = t.resume(PTRACE_CONT, c); // VFORK
	if (!WIFSTOPPED(st))
		return;
	pid_t k = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(k, "child");
	t.wait(k);
	t.ptrace(PTRACE_CONT, k);
	t.wait(k);
	st = t.resume(PTRACE_CONT, c); // VFORK_DONE
	if (!WIFSTOPPED(st))
		return;
	for (int i = 0; i < 2; i++) {
		st = t.resume(PTRACE_SINGLESTEP, c);
		if (!WIFSTOPPED(st))
			return;
		t.siginfo(c);
	}
	t.finish(c);
}
