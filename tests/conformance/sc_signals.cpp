// Scenarios: signals seen through ptrace.  GET/SETSIGINFO, PEEKSIGINFO,
// GET/SETSIGMASK, SIGCHLD to the tracer, syscall restart across stops.
#include "support.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>

using namespace conf;

SCENARIO(siginfo_tkill, "a tracee's raise(SIGUSR1): SI_TKILL from itself")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		raise(SIGUSR1);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.finish(c);
}

SCENARIO(siginfo_kill_from_tracer, "kill(SIGUSR2) from the tracer: SI_USER, si_pid the tracer")
{
	pid_t c = probe_tracee(t, 0, [] { install(SIGUSR2); });
	kill(c, SIGUSR2);
	t.resume(PTRACE_CONT, c);
	t.siginfo(c);
	t.finish(c);
}

SCENARIO(siginfo_sigqueue, "sigqueue(SIGRTMIN, 77) from the tracer: SI_QUEUE and the value")
{
	pid_t c = probe_tracee(t, 0, [] { install(SIGRTMIN); });
	sigval v{};
	v.sival_int = 77;
	sigqueue(c, SIGRTMIN, v);
	t.resume(PTRACE_CONT, c);
	t.siginfo(c);
	t.finish(c);
}

SCENARIO(setsiginfo_delivered, "SETSIGINFO rewrites what the handler receives")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1, true);
		raise(SIGUSR1);
		_exit(g_si_code == SI_QUEUE && g_si_value == 99 ? 51 : 52);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	siginfo_t si{};
	t.siginfo(c, &si);
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 99;
	t.ptrace(PTRACE_SETSIGINFO, c, 0, U(&si));
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR1));
	t.wait(c);
}

SCENARIO(setsiginfo_other_signal, "SETSIGINFO for SIGUSR1, CONT with SIGUSR2: what the SIGUSR2 "
                                  "handler receives")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1, true);
		install(SIGUSR2, true);
		raise(SIGUSR1);
		_exit(g_si_signo == SIGUSR2 ? (g_si_code == SI_USER ? 61 : 62) : 63);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	siginfo_t si{};
	t.siginfo(c, &si);
	si.si_code = SI_QUEUE;
	t.ptrace(PTRACE_SETSIGINFO, c, 0, U(&si));
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR2));
	t.wait(c);
}

SCENARIO(siginfo_errors, "GETSIGINFO/SETSIGINFO: bad pointer EFAULT, running tracee ESRCH, "
                         "group stop of an ATTACHed tracee EINVAL")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] {
		raise(SIGSTOP);
		_exit(0);
	});
	t.ptrace(PTRACE_ATTACH, c);
	t.wait(c);
	t.ptrace(PTRACE_GETSIGINFO, c, 0, 8, "buffer at 8");
	t.ptrace(PTRACE_SETSIGINFO, c, 0, 8, "buffer at 8");
	t.ptrace(PTRACE_CONT, c);
	siginfo_t si{};
	t.ptrace(PTRACE_GETSIGINFO, c, 0, U(&si), "running");
	p.post();
	t.wait(c); // SIGSTOP signal-delivery stop
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c); // group stop
	t.ptrace(PTRACE_GETSIGINFO, c, 0, U(&si), "group stop");
	kill(c, SIGCONT);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGCONT));
	t.wait(c);
}

SCENARIO(peeksiginfo_queues, "PEEKSIGINFO of the private and the shared queue; offsets, "
                             "nr 0, bad flags")
{
	pid_t c = probe_tracee(t, 0, [] {
		block(SIGRTMIN);
		block(SIGRTMIN + 1);
		for (int i = 0; i < 3; i++) {
			sigval v{};
			v.sival_int = 100 + i;
			sigqueue(getpid(), SIGRTMIN, v); // shared queue
		}
		syscall(SYS_tgkill, getpid(), tid(), SIGRTMIN + 1); // private
	});
	siginfo_t si[8];
	__ptrace_peeksiginfo_args a{0, 0, 8};
	long n = t.ptrace(PTRACE_PEEKSIGINFO, c, U(&a), U(si), "private, off 0");
	for (long i = 0; i < n; i++)
		t.record_siginfo("peeked", si[i]);
	a = {0, PTRACE_PEEKSIGINFO_SHARED, 8};
	n = t.ptrace(PTRACE_PEEKSIGINFO, c, U(&a), U(si), "shared, off 0");
	for (long i = 0; i < n; i++)
		t.record_siginfo("peeked", si[i]);
	a = {1, PTRACE_PEEKSIGINFO_SHARED, 1};
	n = t.ptrace(PTRACE_PEEKSIGINFO, c, U(&a), U(si), "shared, off 1, nr 1");
	for (long i = 0; i < n; i++)
		t.record_siginfo("peeked", si[i]);
	a = {5, PTRACE_PEEKSIGINFO_SHARED, 8};
	t.ptrace(PTRACE_PEEKSIGINFO, c, U(&a), U(si), "shared, off 5");
	a = {0, 0, 0};
	t.ptrace(PTRACE_PEEKSIGINFO, c, U(&a), U(si), "nr 0");
	a = {0, 0x10, 8};
	t.ptrace(PTRACE_PEEKSIGINFO, c, U(&a), U(si), "flags 0x10");
	a = {0, 0, 8};
	t.ptrace(PTRACE_PEEKSIGINFO, c, U(&a), 8, "buffer at 8");
	t.ptrace(PTRACE_KILL, c);
	t.wait(c);
}

SCENARIO(sigmask_get_set, "GETSIGMASK/SETSIGMASK: the tracee's mask, SIGKILL/SIGSTOP never "
                          "blocked, bad size EINVAL")
{
	pid_t c = probe_tracee(
	        t, 0, [] { block(SIGUSR2); },
	        [] {
		        sigset_t cur;
		        sigprocmask(SIG_BLOCK, nullptr, &cur);
		        _exit(sigismember(&cur, SIGUSR1) ? 71 : 72);
	        });
	uint64_t mask = 0;
	t.ptrace(PTRACE_GETSIGMASK, c, 8, U(&mask));
	t.value("mask", sigset_name(mask));
	mask = ~0ULL;
	t.ptrace(PTRACE_SETSIGMASK, c, 8, U(&mask), "all");
	t.ptrace(PTRACE_GETSIGMASK, c, 8, U(&mask));
	t.check("all but SIGKILL and SIGSTOP",
	        mask == (~0ULL & ~(1ULL << (SIGKILL - 1)) & ~(1ULL << (SIGSTOP - 1))));
	mask = 1ULL << (SIGUSR1 - 1);
	t.ptrace(PTRACE_SETSIGMASK, c, 8, U(&mask), "SIGUSR1");
	t.ptrace(PTRACE_SETSIGMASK, c, 4, U(&mask), "size 4");
	t.ptrace(PTRACE_GETSIGMASK, c, 8, 8, "buffer at 8");
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(sigchld_to_tracer, "SIGCHLD to the tracer for each stop and the exit: CLD_TRAPPED, "
                            "CLD_EXITED")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.sigchld();
	t.resume(PTRACE_SYSCALL, c);
	t.sigchld();
	t.resume(PTRACE_CONT, c);
	t.sigchld();
	t.sigchld();
}

// ---- syscall restart: a read interrupted by a signal while traced

static pid_t read_tracee(Trace &t, Pipe &p, int flags, bool handler)
{
	// The handler is installed before the first stop, so the first
	// syscall after it is the read.
	pid_t c = t.spawn("tracee", [&p, flags, handler] {
		if (handler)
			install(SIGUSR1, false, flags);
		::ptrace(PTRACE_TRACEME, 0, 0, 0);
		kill(getpid(), SIGSTOP);
		char b;
		errno = 0;
		ssize_t n = read(p.rfd(), &b, 1);
		_exit(n == 1 ? 80 + g_count[SIGUSR1] : errno == EINTR ? 90 + g_count[SIGUSR1] : 99);
	});
	t.wait(c);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c); // read entry
	return c;
}

// The read is entered; let it block, interrupt it with SIGUSR1.
static void interrupt_read(Trace &t, pid_t c)
{
	::ptrace(PTRACE_SYSCALL, c, 0, 0);
	t.wait_blocked(c, SYS_read);
	kill(c, SIGUSR1);
	int st = 0;
	t.wait(c, __WALL, &st);
	t.regs_exit(c);
	t.syscall_info(c);
}

SCENARIO(restart_sa_restart, "read interrupted, handler with SA_RESTART: -ERESTARTSYS at the "
                             "exit stop, signal stop, handler, read entered again")
{
	Pipe p;
	pid_t c = read_tracee(t, p, SA_RESTART, true);
	interrupt_read(t, c);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c, SIGUSR1); // rt_sigreturn entry
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c); // read again
	p.post();
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(restart_no_sa_restart, "read interrupted, handler without SA_RESTART: EINTR")
{
	Pipe p;
	pid_t c = read_tracee(t, p, 0, true);
	interrupt_read(t, c);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c, SIGUSR1);
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(restart_signal_suppressed, "read interrupted, the tracer suppresses the signal: the "
                                    "read restarts")
{
	Pipe p;
	pid_t c = read_tracee(t, p, 0, true);
	interrupt_read(t, c);
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c, 0);
	p.post();
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(restart_changed_to_eintr, "the tracer turns -ERESTARTSYS into -EINTR at the exit stop: "
                                   "no restart")
{
	Pipe p;
	pid_t c = read_tracee(t, p, SA_RESTART, true);
	interrupt_read(t, c);
	t.check("set return -EINTR", set_return(c, -EINTR));
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c, SIGUSR1);
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(restart_restartblock, "nanosleep interrupted, signal suppressed: restart_syscall")
{
	pid_t c = t.traceme("tracee", [] {
		timespec ts{1000, 0};
		nanosleep(&ts, nullptr);
		_exit(0);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
	t.resume(PTRACE_SYSCALL, c); // clock_nanosleep entry
	::ptrace(PTRACE_SYSCALL, c, 0, 0);
	t.wait_blocked(c, SYS_clock_nanosleep);
	kill(c, SIGUSR1);
	t.wait(c);
	t.regs_exit(c);
	t.resume(PTRACE_SYSCALL, c); // SIGUSR1 stop
	t.resume(PTRACE_SYSCALL, c, 0);
	t.syscall_info(c);
	t.ptrace(PTRACE_KILL, c);
	t.wait(c);
}
