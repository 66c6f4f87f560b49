// Scenarios: PTRACE_SETOPTIONS and the events.  FORK, VFORK, VFORK_DONE,
// CLONE, EXEC (and the legacy SIGTRAP), EXIT, SECCOMP, EXITKILL,
// GETEVENTMSG, option errors.
#include "support.hpp"

#include <cerrno>
#include <cstddef>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>

using namespace conf;

// The return register at a fork/clone event stop.  Native ptrace stops
// before the call's return value is in the registers (x86: -ENOSYS from
// entry; powerpc: r3 still holds the first argument); a backend that
// reports the event later sees the child's pid.  Both are accepted: the
// trace shows one word for either (cf. the seed "rax == -ENOSYS ||
// rax == child_pid").
static void event_return_register(Trace &t, pid_t parent, pid_t child)
{
	SysRegs r{};
	if (!get_sysregs(parent, r)) {
		t.value("return register", "unreadable");
		return;
	}
	bool early = r.ret == -ENOSYS || (!r.so && r.ret == r.args[0]);
	t.value("return register",
	        early || r.ret == child ? "before-return-or-child-pid" : std::to_string(r.ret));
}

SCENARIO(event_fork, "TRACEFORK: FORK event, GETEVENTMSG the child, the child starts in a "
                     "SIGSTOP stop, both run to their exits")
{
	pid_t c = t.traceme("tracee", [] {
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
	t.siginfo(c);
	pid_t k = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(k, "child");
	event_return_register(t, c, k);
	t.wait(k);
	t.siginfo(k);
	t.state(k);
	t.value("child TracerPid",
	        proc_status_field(k, "TracerPid") == std::to_string(getpid()) ? "tracer" : "other");
	t.ptrace(PTRACE_CONT, k);
	t.wait(k);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(event_fork_seized, "TRACEFORK under SEIZE: the child starts in an EVENT_STOP stop")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] {
		pid_t k = fork();
		if (k == 0)
			_exit(3);
		int st = 0;
		waitpid(k, &st, 0);
		_exit(WEXITSTATUS(st) + 10);
	});
	t.ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACEFORK);
	p.post();
	t.wait(c);
	pid_t k = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(k, "child");
	t.wait(k);
	t.siginfo(k);
	t.ptrace(PTRACE_CONT, k);
	t.wait(k);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(fork_untraced_without_option, "without TRACEFORK the child is not traced; SYSCALL "
                                       "shows the clone's entry and exit")
{
	pid_t c = t.traceme("tracee", [] {
		pid_t k = fork();
		if (k == 0)
			_exit(3);
		int st = 0;
		waitpid(k, &st, 0);
		_exit(WEXITSTATUS(st) + 20);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	int st = 0;
	t.ptrace(PTRACE_SYSCALL, c);
	t.wait(c, __WALL, &st);
	SysRegs r{};
	get_sysregs(c, r);
	t.value("exit stop of", syscall_name(r.nr));
	t.check("returned a pid", r.ret > 0);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(event_vfork_done, "TRACEVFORK|TRACEVFORKDONE: VFORK event, child's SIGSTOP stop, "
                           "VFORK_DONE after the child exits")
{
	pid_t c = t.traceme("tracee", [] {
		pid_t k = vfork();
		if (k == 0)
			_exit(4);
		int st = 0;
		waitpid(k, &st, 0);
		_exit(WEXITSTATUS(st) + 10);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	pid_t k = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(k, "child");
	event_return_register(t, c, k);
	t.state(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(k);
	t.ptrace(PTRACE_CONT, k);
	t.wait(k);
	t.wait(c);
	t.eventmsg(c, true);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(event_vfork_exec, "TRACEVFORK|TRACEVFORKDONE|TRACEEXEC: the vfork child execs; "
                           "VFORK_DONE comes with the exec")
{
	pid_t c = t.traceme("tracee", [] {
		pid_t k = vfork();
		if (k == 0)
			exec_helper("exit", "5");
		int st = 0;
		waitpid(k, &st, 0);
		_exit(WEXITSTATUS(st) + 10);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0,
	         PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACEEXEC);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	pid_t k = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(k, "child");
	t.ptrace(PTRACE_CONT, c);
	t.wait(k);
	t.ptrace(PTRACE_CONT, k);
	t.wait(k); // EXEC
	t.eventmsg(k, true);
	t.wait(c); // VFORK_DONE
	t.ptrace(PTRACE_CONT, k);
	t.wait(k);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

static void *thread_exits(void *)
{
	return reinterpret_cast<void *>(static_cast<long>(tid()));
}

SCENARIO(event_clone_thread, "TRACECLONE: CLONE event with the new tid, the thread starts in "
                             "a SIGSTOP stop, its exit seen with __WALL")
{
	pid_t c = t.traceme("tracee", [] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_exits, nullptr);
		pthread_join(th, nullptr);
		_exit(12);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	pid_t th = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(th, "thread");
	event_return_register(t, c, th);
	t.wait(th);
	t.siginfo(th);
	t.ptrace(PTRACE_CONT, th);
	t.wait(th);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(event_clone_seized, "TRACECLONE under SEIZE: the thread starts in an EVENT_STOP stop")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_exits, nullptr);
		pthread_join(th, nullptr);
		_exit(13);
	});
	t.ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACECLONE);
	p.post();
	t.wait(c);
	pid_t th = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(th, "thread");
	t.wait(th);
	t.siginfo(th);
	t.ptrace(PTRACE_CONT, th);
	t.wait(th);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(event_exec, "TRACEEXEC: EXEC event, GETEVENTMSG the former tid, SYSCALL shows "
                     "execve's exit 0")
{
	pid_t c = t.traceme("tracee", [] { exec_helper("exit", "6"); });
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.eventmsg(c, true);
	t.syscall_info(c);
	t.ptrace(PTRACE_SYSCALL, c);
	t.wait(c);
	t.regs_exit(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(exec_legacy_sigtrap, "exec without TRACEEXEC: a plain SIGTRAP after the exec")
{
	pid_t c = t.traceme("tracee", [] { exec_helper("exit", "7"); });
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(exec_seized_no_sigtrap, "exec under SEIZE without TRACEEXEC: no stop at all")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { exec_helper("exit", "8"); });
	t.ptrace(PTRACE_SEIZE, c);
	p.post();
	t.wait(c);
}

SCENARIO(exec_syscall_stops, "SYSCALL across execve: entry, exit in the new program")
{
	pid_t c = t.traceme("tracee", [] { exec_helper("getppid-exit", "9"); });
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC);
	t.resume(PTRACE_SYSCALL, c); // execve entry
	t.resume(PTRACE_SYSCALL, c); // EXEC event
	t.resume(PTRACE_SYSCALL, c); // execve exit
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(event_exit, "TRACEEXIT: EXIT event with the exit status; /proc still readable")
{
	pid_t c = t.traceme("tracee", [] { _exit(17); });
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXIT);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.eventmsg(c, false);
	t.state(c);
	t.value("/proc cmdline readable", proc_status_field(c, "Name") != "(no /proc entry)");
	t.syscall_info(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(event_exit_by_signal, "TRACEEXIT when killed by SIGTERM: signal stop, EXIT event with "
                               "the signal status")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACEEXIT);
	kill(c, SIGTERM);
	t.resume(PTRACE_CONT, c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGTERM));
	t.wait(c);
	t.eventmsg(c, false);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(event_exit_thread, "TRACEEXIT|TRACECLONE: a thread's EXIT event, then the leader's")
{
	pid_t c = t.traceme("tracee", [] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_exits, nullptr);
		pthread_join(th, nullptr);
		_exit(14);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	pid_t th = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(th, "thread");
	t.wait(th);
	t.ptrace(PTRACE_CONT, th);
	t.wait(th);
	t.eventmsg(th, false);
	t.ptrace(PTRACE_CONT, th);
	t.wait(th);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.eventmsg(c, false);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

// A filter: getppid -> SECCOMP_RET_TRACE | 0x42, everything else allowed.
static void install_seccomp()
{
	sock_filter f[] = {
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, audit_arch(), 1, 0),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0x42),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	sock_fprog prog{static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		_exit(120);
}

// getppid once (or twice) under the filter; the exit code says what it saw.
static void seccomp_calls(int calls)
{
	long pp = getppid();
	install_seccomp();
	long r = 0;
	for (int i = 0; i < calls; i++) {
		errno = 0;
		r = syscall(SYS_getppid);
	}
	_exit(r == pp ? 30 : r == -1 && errno == ENOSYS ? 31 : r == 77 ? 32 : 33);
}

static void seccomp_body()
{
	seccomp_calls(1);
}

SCENARIO(event_seccomp, "TRACESECCOMP: SECCOMP event with the filter's data, "
                        "GET_SYSCALL_INFO op SECCOMP")
{
	pid_t c = t.traceme("tracee", seccomp_body);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESECCOMP);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.eventmsg(c, false);
	t.syscall_info(c);
	t.regs_entry(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(seccomp_skip_by_tracer, "TRACESECCOMP: nr -1 and a return value at the SECCOMP stop "
                                 "skip the call")
{
	pid_t c = t.traceme("tracee", seccomp_body);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESECCOMP);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.check("set nr -1", set_syscall_nr(c, -1));
	t.check("set return 77", set_return(c, 77));
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(seccomp_with_syscall_stops, "TRACESECCOMP with SYSCALL: the order of the entry stop "
                                     "and the SECCOMP stop")
{
	pid_t c = t.traceme("tracee", [] { seccomp_calls(2); });
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c); // SECCOMP stop of the first getppid
	for (int i = 0; i < 4; i++) {
		t.resume(PTRACE_SYSCALL, c);
		t.syscall_info(c);
	}
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(seccomp_suspended, "SUSPEND_SECCOMP (root): the tracee's filters do not run, no "
                            "SECCOMP stop even with TRACESECCOMP")
{
	pid_t c = t.traceme("tracee", seccomp_body);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_SUSPEND_SECCOMP | PTRACE_O_TRACESECCOMP);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(seccomp_without_option, "SECCOMP_RET_TRACE without TRACESECCOMP: the call fails ENOSYS")
{
	pid_t c = t.traceme("tracee", seccomp_body);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(setoptions_errors, "SETOPTIONS: unknown bits EINVAL (options unchanged), all bits")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACEEXIT);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, 0x40000000);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_MASK);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXIT);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(eventmsg_outside_events, "GETEVENTMSG at a signal stop and a syscall stop, bad "
                                  "pointer, running tracee")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	t.eventmsg(c, false);
	t.resume(PTRACE_SYSCALL, c);
	t.eventmsg(c, false);
	t.ptrace(PTRACE_GETEVENTMSG, c, 0, 8, "buffer at 8");
	t.ptrace(PTRACE_CONT, c);
	t.eventmsg(c, false);
	t.wait(c);
}
