// Scenarios: getting and losing a tracee.  TRACEME, ATTACH, SEIZE,
// INTERRUPT, LISTEN, DETACH with and without a signal, from each kind of stop.
#include "support.hpp"

#include <cerrno>

using namespace conf;

SCENARIO(traceme_first_stop, "TRACEME + raise(SIGSTOP): the stop, its siginfo, /proc State, "
                             "GET_SYSCALL_INFO")
{
	pid_t c = t.traceme("tracee", [] {});
	t.siginfo(c);
	t.state(c);
	t.syscall_info(c);
	t.sigchld();
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.sigchld();
}

SCENARIO(traceme_twice_eperm, "a second PTRACE_TRACEME fails with EPERM")
{
	pid_t c = t.spawn("tracee", [&t] {
		::ptrace(PTRACE_TRACEME, 0, 0, 0);
		t.ptrace(PTRACE_TRACEME, 0);
		_exit(0);
	});
	t.wait(c);
}

SCENARIO(attach_blocked, "ATTACH to a tracee blocked in read: SIGSTOP stop, siginfo from the "
                         "tracer, read restarts after CONT")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(7); });
	t.state(c);
	t.value("TracerPid before", proc_status_field(c, "TracerPid") == "0" ? "0" : "tracer");
	t.ptrace(PTRACE_ATTACH, c);
	t.wait(c);
	t.siginfo(c);
	t.state(c);
	t.syscall_info(c);
	t.value("TracerPid at stop",
	        proc_status_field(c, "TracerPid") == std::to_string(getpid()) ? "tracer" : "other");
	t.ptrace(PTRACE_CONT, c);
	p.post();
	t.wait(c);
}

SCENARIO(attach_errors, "ATTACH to self (EPERM), twice (EPERM), to a gone pid (ESRCH), to pid 0")
{
	t.ptrace(PTRACE_ATTACH, getpid());
	pid_t gone = t.spawn("gone", [] {});
	waitpid(gone, nullptr, 0);
	t.ptrace(PTRACE_ATTACH, gone);
	t.ptrace(PTRACE_ATTACH, 0);
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p);
	t.ptrace(PTRACE_ATTACH, c);
	t.wait(c);
	t.ptrace(PTRACE_ATTACH, c);
	t.ptrace(PTRACE_SEIZE, c);
	t.ptrace(PTRACE_DETACH, c);
	p.post();
	t.wait(c);
}

SCENARIO(attach_group_stopped, "ATTACH to a process in group stop: stop reported at once, "
                               "State T -> t")
{
	pid_t c = t.spawn("tracee", [] {
		raise(SIGSTOP);
		_exit(3);
	});
	t.wait(c, WUNTRACED);
	t.state(c);
	t.ptrace(PTRACE_ATTACH, c);
	t.wait(c);
	t.state(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(seize_no_stop, "SEIZE does not stop; INTERRUPT gives an EVENT_STOP stop")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(5); });
	t.ptrace(PTRACE_SEIZE, c, 0, 0);
	t.wait(c, __WALL | WNOHANG);
	t.state(c);
	t.ptrace(PTRACE_INTERRUPT, c);
	t.wait(c);
	t.siginfo(c);
	t.state(c);
	t.syscall_info(c);
	t.sigchld();
	t.ptrace(PTRACE_CONT, c);
	p.post();
	t.wait(c);
}

SCENARIO(seize_bad_args, "SEIZE with addr != 0 (EIO), with unknown options (EINVAL)")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p);
	t.ptrace(PTRACE_SEIZE, c, 1, 0);
	t.ptrace(PTRACE_SEIZE, c, 0, 0x40000000);
	t.ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESYSGOOD);
	t.ptrace(PTRACE_DETACH, c);
	p.post();
	t.wait(c);
}

SCENARIO(interrupt_twice, "an INTERRUPT while in an INTERRUPT stop: another stop after CONT?")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(1); });
	t.ptrace(PTRACE_SEIZE, c);
	t.ptrace(PTRACE_INTERRUPT, c);
	t.wait(c);
	// A second INTERRUPT while the tracee is in the INTERRUPT stop.
	t.ptrace(PTRACE_INTERRUPT, c);
	t.ptrace(PTRACE_CONT, c);
	p.post();
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) {
		t.ptrace(PTRACE_CONT, c);
		t.wait(c);
	}
}

SCENARIO(interrupt_not_seized, "INTERRUPT and LISTEN on an ATTACHed tracee fail with EIO")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p);
	t.ptrace(PTRACE_ATTACH, c);
	t.wait(c);
	t.ptrace(PTRACE_INTERRUPT, c);
	t.ptrace(PTRACE_LISTEN, c);
	t.ptrace(PTRACE_CONT, c);
	p.post();
	t.wait(c);
}

SCENARIO(interrupt_at_syscall_stop, "INTERRUPT while in a syscall-entry stop: the stop after "
                                    "resuming")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { probe(); });
	t.ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESYSGOOD);
	p.post();
	t.wait(c); // SIGSTOP from the probe
	t.ip(c);
	t.resume(PTRACE_SYSCALL, c); // getpid entry
	t.ptrace(PTRACE_INTERRUPT, c);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_CONT, c);
	t.resume(PTRACE_CONT, c);
}

SCENARIO(listen_group_stop, "SEIZE, group stop as EVENT_STOP, LISTEN, SIGCONT re-traps")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] {
		raise(SIGSTOP);
		_exit(4);
	});
	t.ptrace(PTRACE_SEIZE, c);
	p.post();
	t.wait(c); // the SIGSTOP signal-delivery stop
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c);
	t.siginfo(c);
	t.state(c);
	t.ptrace(PTRACE_LISTEN, c);
	t.wait(c, __WALL | WNOHANG);
	t.state(c);
	kill(c, SIGCONT);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGCONT));
	t.wait(c);
}

SCENARIO(listen_errors, "LISTEN at a signal-delivery stop (EIO) and on a running tracee (ESRCH)")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p);
	t.ptrace(PTRACE_SEIZE, c);
	t.ptrace(PTRACE_LISTEN, c);
	kill(c, SIGUSR1);
	t.wait(c);
	t.ptrace(PTRACE_LISTEN, c);
	t.ptrace(PTRACE_CONT, c);
	p.post();
	t.wait(c);
}

// Detach: the signal argument is delivered from a signal-delivery stop and
// dropped from other stops; the exit code counts the handler's runs.
static pid_t usr1_stop(Trace &t)
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		raise(SIGUSR1);
		_exit(g_count[SIGUSR1]);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	return c;
}

SCENARIO(detach_signal_stop_delivers, "DETACH(SIGUSR1) from a SIGUSR1 stop runs the handler")
{
	pid_t c = usr1_stop(t);
	t.ptrace(PTRACE_DETACH, c, 0, sig(SIGUSR1));
	t.wait(c);
}

SCENARIO(detach_signal_stop_zero, "DETACH(0) from a SIGUSR1 stop drops the signal")
{
	pid_t c = usr1_stop(t);
	t.ptrace(PTRACE_DETACH, c, 0, 0);
	t.wait(c);
}

SCENARIO(detach_signal_stop_other, "DETACH(SIGUSR2) from a SIGUSR1 stop delivers SIGUSR2")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		install(SIGUSR2);
		raise(SIGUSR1);
		_exit(g_count[SIGUSR1] * 10 + g_count[SIGUSR2]);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.ptrace(PTRACE_DETACH, c, 0, sig(SIGUSR2));
	t.wait(c);
}

SCENARIO(detach_sigkill_signal_stop, "DETACH(SIGKILL) from a signal-delivery stop kills")
{
	pid_t c = usr1_stop(t);
	t.ptrace(PTRACE_DETACH, c, 0, sig(SIGKILL));
	t.wait(c);
}

SCENARIO(detach_syscall_stop_signal, "DETACH(SIGUSR1) from a syscall-entry stop")
{
	pid_t c = probe_tracee(
	        t, PTRACE_O_TRACESYSGOOD, [] { install(SIGUSR1); },
	        [] { _exit(g_count[SIGUSR1]); });
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_DETACH, c, 0, sig(SIGUSR1));
	t.wait(c);
}

SCENARIO(detach_sigkill_syscall_stop, "DETACH(SIGKILL) from a syscall-exit stop")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, {}, [] { _exit(9); });
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_DETACH, c, 0, sig(SIGKILL));
	t.wait(c);
}

SCENARIO(detach_event_stop_signal, "DETACH(SIGUSR1) from an EXIT event stop")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		_exit(2);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXIT);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.eventmsg(c, false);
	t.ptrace(PTRACE_DETACH, c, 0, sig(SIGUSR1));
	t.wait(c);
}

SCENARIO(detach_group_stop, "DETACH from a group stop leaves the tracee stopped until SIGCONT")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] {
		raise(SIGSTOP);
		_exit(6);
	});
	t.ptrace(PTRACE_SEIZE, c);
	p.post();
	t.wait(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c);
	t.ptrace(PTRACE_DETACH, c, 0, 0);
	t.wait(c, WUNTRACED);
	wait_state(c, 'T');
	t.state(c);
	kill(c, SIGCONT);
	t.wait(c);
}

SCENARIO(detach_errors, "DETACH of a running tracee (ESRCH), with a bad signal (EIO)")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p);
	t.ptrace(PTRACE_SEIZE, c);
	t.ptrace(PTRACE_DETACH, c);
	t.ptrace(PTRACE_INTERRUPT, c);
	t.wait(c);
	t.ptrace(PTRACE_DETACH, c, 0, 1000);
	t.ptrace(PTRACE_DETACH, c, 0, 0);
	t.ptrace(PTRACE_DETACH, c, 0, 0);
	p.post();
	t.wait(c);
}

SCENARIO(detach_reattach_parting_signal, "DETACH(SIGUSR1) then ATTACH at once: the signal is "
                                         "delivered once, never reported again")
{
	Pipe go;
	pid_t c = t.spawn("tracee", [&go] {
		install(SIGUSR1);
		go.take();
		_exit(g_count[SIGUSR1]);
	});
	t.wait_blocked(c, SYS_read);
	t.ptrace(PTRACE_ATTACH, c);
	t.wait(c);
	t.ptrace(PTRACE_CONT, c);
	kill(c, SIGUSR1);
	t.wait(c);
	t.ptrace(PTRACE_DETACH, c, 0, sig(SIGUSR1));
	t.ptrace(PTRACE_ATTACH, c);
	// Every stop until the exit: one SIGSTOP, never SIGUSR1 again.
	int usr1 = 0, stops = 0, st = 0;
	for (int i = 0; i < 10; i++) {
		if (waitpid(c, &st, __WALL) != c || !WIFSTOPPED(st))
			break;
		stops++;
		usr1 += WSTOPSIG(st) == SIGUSR1;
		int deliver = WSTOPSIG(st) == SIGSTOP ? 0 : WSTOPSIG(st);
		if (i == 0)
			go.post();
		::ptrace(PTRACE_CONT, c, 0, deliver);
	}
	t.value("stops after re-attach", stops);
	t.value("SIGUSR1 stops after re-attach", usr1);
	t.value("exit code (handler runs)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
