// Scenarios: resuming.  CONT with and without a signal, SYSCALL, register
// and return-value changes at syscall stops, SINGLESTEP (the seed's
// step-after-syscall-exit), SINGLEBLOCK, SYSEMU and SYSEMU_SINGLESTEP, KILL.
// Instruction pointers are labels of conf_probe (arch.cpp).
#include "support.hpp"

#include <cerrno>

using namespace conf;

SCENARIO(cont_delivers_signal, "CONT(SIGUSR1) at a SIGUSR1 stop runs the handler")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		raise(SIGUSR1);
		_exit(g_count[SIGUSR1] * 10 + g_count[SIGUSR2]);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR1));
	t.wait(c);
}

SCENARIO(cont_suppresses_signal, "CONT(0) at a SIGUSR1 stop: the handler never runs")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		raise(SIGUSR1);
		_exit(g_count[SIGUSR1] * 10 + 1);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.ptrace(PTRACE_CONT, c, 0, 0);
	t.wait(c);
}

SCENARIO(cont_replaces_signal, "CONT(SIGUSR2) at a SIGUSR1 stop delivers SIGUSR2 instead")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		install(SIGUSR2, true);
		raise(SIGUSR1);
		_exit(g_count[SIGUSR1] * 10 + g_count[SIGUSR2] + (g_si_code == SI_USER ? 100 : 0));
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR2));
	t.wait(c);
}

SCENARIO(cont_default_action, "CONT(SIGTERM) at a stop kills the tracee with SIGTERM")
{
	pid_t c = probe_tracee(t, 0);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGTERM));
	t.wait(c);
}

SCENARIO(cont_errors, "CONT with a bad signal (EIO), on a running tracee (ESRCH), on a "
                      "non-tracee child (ESRCH)")
{
	pid_t c = probe_tracee(t, 0);
	t.ptrace(PTRACE_CONT, c, 0, 65);
	t.ptrace(PTRACE_CONT, c, 0, 0);
	t.ptrace(PTRACE_CONT, c, 0, 0);
	t.wait(c);
	Pipe p;
	pid_t other = blocked_tracee(t, "other", p);
	t.ptrace(PTRACE_CONT, other);
	p.post();
	t.wait(other);
}

SCENARIO(syscall_entry_exit, "SYSCALL: entry and exit stops of getpid: regs, siginfo, "
                             "GET_SYSCALL_INFO, /proc State")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.siginfo(c);
	t.syscall_info(c, 1);
	t.state(c);
	t.sigchld();
	t.resume(PTRACE_SYSCALL, c);
	t.siginfo(c);
	t.syscall_info(c);
	t.resume(PTRACE_SYSCALL, c); // exit_group entry
	t.syscall_info(c, 1);
	t.resume(PTRACE_SYSCALL, c);
}

SCENARIO(syscall_no_sysgood, "SYSCALL without TRACESYSGOOD: plain SIGTRAP stops")
{
	pid_t c = probe_tracee(t, 0);
	t.ptrace(PTRACE_SYSCALL, c);
	t.wait(c);
	t.siginfo(c);
	t.regs_entry(c);
	t.ptrace(PTRACE_SYSCALL, c);
	t.wait(c);
	t.siginfo(c);
	t.regs_exit(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(syscall_skip_by_nr, "nr = -1 at the entry stop skips the call: -ENOSYS at exit")
{
	pid_t c = t.traceme("tracee", [] {
		errno = 0;
		long r = syscall(SYS_getppid);
		_exit(r == -1 && errno == ENOSYS ? 3 : 4);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.check("set nr -1", set_syscall_nr(c, -1));
	t.resume(PTRACE_SYSCALL, c);
	t.syscall_info(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(syscall_set_return, "a return value set at the exit stop is what the tracee sees")
{
	pid_t c = t.traceme("tracee", [] { _exit(static_cast<int>(syscall(SYS_getppid) & 0x7f)); });
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c);
	t.check("set return 42", set_return(c, 42));
	t.syscall_info(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(syscall_set_error, "an error set at the exit stop: the tracee sees -1/EPERM")
{
	pid_t c = t.traceme("tracee", [] {
		errno = 0;
		long r = syscall(SYS_getppid);
		_exit(r == -1 && errno == EPERM ? 11 : 12);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c);
	t.check("set return -EPERM", set_return(c, -EPERM));
	t.syscall_info(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(syscall_change_nr, "getppid turned into gettid at the entry stop")
{
	pid_t c = t.traceme("tracee", [] {
		long r = syscall(SYS_getppid);
		_exit(r == tid() ? 21 : 22);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.check("set nr gettid", set_syscall_nr(c, SYS_gettid));
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(syscall_info_sizes, "GET_SYSCALL_INFO with a short buffer, zero size, at a "
                             "signal stop, on a running tracee")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.syscall_info(c);
	t.resume(PTRACE_SYSCALL, c);
	__ptrace_syscall_info info{};
	t.ptrace(PTRACE_GET_SYSCALL_INFO, c, 8, U(&info), "8-byte buffer");
	t.value("op from 8 bytes", info.op);
	t.ptrace(PTRACE_GET_SYSCALL_INFO, c, 0, U(&info), "size 0");
	t.ptrace(PTRACE_GET_SYSCALL_INFO, c, sizeof info, 1, "bad pointer");
	t.ptrace(PTRACE_CONT, c);
	t.ptrace(PTRACE_GET_SYSCALL_INFO, c, sizeof info, U(&info), "running");
	t.wait(c);
}

// ---- single-stepping; every stop's ip is a conf_probe label

SCENARIO(singlestep_probe, "SINGLESTEP through conf_probe: one SIGTRAP per instruction, "
                           "over the getpid syscall and the branch")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	for (int i = 0; i < 5; i++) {
		t.resume(PTRACE_SINGLESTEP, c);
		t.siginfo(c);
	}
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(singlestep_after_syscall_exit, "seed: SINGLESTEP from a syscall-exit stop (x86 gives "
                                        "an extra SIGTRAP at the same ip; powerpc steps)")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.siginfo(c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(singlestep_after_syscall_entry, "SINGLESTEP from a syscall-entry stop")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.siginfo(c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(syscall_after_singlestep, "step onto the syscall instruction, then SYSCALL: entry "
                                   "stop, exit stop")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SINGLESTEP, c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(singlestep_into_handler, "SINGLESTEP(SIGUSR1) stops at the handler's first "
                                  "instruction; SYSCALL then shows rt_sigreturn")
{
	pid_t c = probe_tracee(
	        t, PTRACE_O_TRACESYSGOOD, [] { install(SIGUSR1); },
	        [] { _exit(g_count[SIGUSR1]); });
	syscall(SYS_tgkill, c, c, SIGUSR1);
	t.resume(PTRACE_CONT, c); // SIGUSR1 stop at conf_L_stopped
	t.resume(PTRACE_SINGLESTEP, c, SIGUSR1);
	t.siginfo(c);
	t.resume(PTRACE_SYSCALL, c); // rt_sigreturn entry
	t.resume(PTRACE_SYSCALL, c); // its exit, back in conf_probe
	t.resume(PTRACE_SINGLESTEP, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(singlestep_through_sigreturn, "SINGLESTEP through a whole handler and its sigreturn")
{
	pid_t c = probe_tracee(
	        t, PTRACE_O_TRACESYSGOOD, [] { install(SIGUSR1); },
	        [] { _exit(g_count[SIGUSR1]); });
	syscall(SYS_tgkill, c, c, SIGUSR1);
	t.resume(PTRACE_CONT, c);
	::ptrace(PTRACE_SINGLESTEP, c, 0, SIGUSR1);
	// Count the steps (the same binary gives the same count); record
	// where the stepping leaves the handler and where it comes back.
	int steps = 0, st = 0;
	std::string last = "";
	for (; steps < 2000; steps++) {
		if (waitpid(c, &st, __WALL) != c || !WIFSTOPPED(st))
			break;
		SysRegs r{};
		get_sysregs(c, r);
		std::string where = ip_name(r.ip);
		if (where.rfind("conf_", 0) == 0) {
			t.value("back at", where);
			t.value("stop signal", sig_name(WSTOPSIG(st)));
			break;
		}
		if (where != "elsewhere" && where != last)
			t.value("stepped through", where);
		last = where;
		::ptrace(PTRACE_SINGLESTEP, c, 0, 0);
	}
	t.check("came back within 2000 steps", steps < 2000);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(singlestep_signal_pending, "SINGLESTEP with a signal pending and ignored handler: "
                                    "the signal stop comes first")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, [] { install(SIGUSR2); });
	kill(c, SIGUSR2);
	t.resume(PTRACE_SINGLESTEP, c);
	t.siginfo(c);
	t.resume(PTRACE_SINGLESTEP, c, SIGUSR2);
	t.resume(PTRACE_CONT, c);
}

SCENARIO(singleblock_probe, "SINGLEBLOCK from conf_L_stopped: where the block steps stop "
                            "(x86 BTF; powerpc 0x100)")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	for (int i = 0; i < 3; i++) {
		int st = t.resume(PTRACE_SINGLEBLOCK, c);
		if (!WIFSTOPPED(st))
			return;
		t.siginfo(c);
	}
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

// ---- SYSEMU: x86 and powerpc both have it in 6.1

SCENARIO(sysemu_one_stop_per_syscall, "SYSEMU: one stop per syscall, the call does not run")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, {}, [] {
		long r = syscall(SYS_getppid);
		_exit(r == getppid() ? 31 : 32);
	});
	t.resume(PTRACE_SYSEMU, c); // getpid entry, not run
	t.siginfo(c);
	t.syscall_info(c);
	t.resume(PTRACE_SYSEMU, c); // getppid (the syscall() one)
	t.check("emulate getppid = 1234", set_return(c, 1234));
	t.resume(PTRACE_SYSEMU, c); // getppid (the comparison)
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(sysemu_then_syscall, "seed: SYSCALL from a SYSEMU entry stop gives an exit stop with "
                              "-ENOSYS")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSEMU, c);
	t.resume(PTRACE_SYSCALL, c);
	t.syscall_info(c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(sysemu_then_singlestep, "seed: SINGLESTEP from a SYSEMU entry stop")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSEMU, c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.siginfo(c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(sysemu_singlestep_probe, "seed: SYSEMU_SINGLESTEP steps plain instructions and stops "
                                  "once at the syscall, which does not run")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	for (int i = 0; i < 5; i++) {
		t.resume(PTRACE_SYSEMU_SINGLESTEP, c);
		t.siginfo(c);
	}
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(sysemu_singlestep_from_syscall_entry, "SYSEMU_SINGLESTEP from a SYSCALL entry stop: the "
                                               "call runs; no step trap at its exit on x86")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSEMU_SINGLESTEP, c);
	t.siginfo(c);
	t.resume(PTRACE_SYSEMU_SINGLESTEP, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(singlestep_ignored_signal, "SINGLESTEP(SIGUSR2) with SIGUSR2 ignored: the step goes on")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, [] { signal(SIGUSR2, SIG_IGN); });
	t.resume(PTRACE_SINGLESTEP, c, SIGUSR2);
	t.siginfo(c);
	t.resume(PTRACE_SINGLESTEP, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(singlestep_from_fork_event, "SINGLESTEP from a FORK event stop: the step covers the "
                                     "rest of the fork call (x86 traps at its exit)")
{
	pid_t c = t.traceme("tracee", [] {
		// SIGCHLD blocked: its stop is not what this scenario is about.
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, nullptr);
		pid_t k = fork();
		if (k == 0)
			_exit(3);
		int st = 0;
		waitpid(k, &st, 0);
		_exit(WEXITSTATUS(st) + 10);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEFORK);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	pid_t k = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(k, "child");
	t.resume(PTRACE_SINGLESTEP, c);
	t.siginfo(c);
	t.wait(k);
	t.ptrace(PTRACE_CONT, k);
	t.wait(k);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

// ---- KILL

SCENARIO(kill_at_stop, "PTRACE_KILL at a signal stop: killed by SIGKILL")
{
	pid_t c = probe_tracee(t, 0);
	t.ptrace(PTRACE_KILL, c);
	t.wait(c);
	t.sigchld();
}

SCENARIO(kill_at_syscall_stop, "PTRACE_KILL at a syscall-entry stop: the call never runs")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_KILL, c);
	t.wait(c);
}

SCENARIO(kill_running, "PTRACE_KILL on a tracee sleeping in read")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(8); });
	t.ptrace(PTRACE_SEIZE, c);
	t.ptrace(PTRACE_KILL, c);
	t.wait(c);
}

SCENARIO(sigkill_at_syscall_stop, "kill(SIGKILL) while in a syscall-entry stop, with TRACEEXIT")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT);
	t.resume(PTRACE_SYSCALL, c);
	kill(c, SIGKILL);
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) {
		t.eventmsg(c, false);
		t.ptrace(PTRACE_CONT, c);
		t.wait(c);
	}
}
