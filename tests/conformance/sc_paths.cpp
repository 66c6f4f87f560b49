// Scenarios from the audit of the kernel's own ptrace code paths (the table
// in docs/PTRACE.md, "Kernel code paths and their scenarios"): branches of
// kernel/ptrace.c, kernel/fork.c, fs/exec.c, kernel/exit.c and
// kernel/signal.c that change what a tracer sees and that no other
// scenario reached.
#include "support.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <dirent.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/user.h>
#if defined(__powerpc64__)
#include <asm/ptrace.h>
#endif
#include <pthread.h>
#include <sys/prctl.h>

using namespace conf;

// ---- a request that succeeded may not fail because the tracee then died

// ptrace_check_attach() froze the tracee: ptrace_resume() and
// ptrace_detach() return 0 whatever the signal they give does to it.

SCENARIO(detach_sigkill_syscall_entry, "DETACH(SIGKILL) from a syscall-entry stop: 0, then "
                                       "killed before the call runs")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, {}, [] { _exit(9); });
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_DETACH, c, 0, sig(SIGKILL));
	t.wait(c);
}

SCENARIO(singlestep_sigkill_syscall_stop, "SINGLESTEP(SIGKILL) from a syscall-exit stop: 0, "
                                          "then killed")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, {}, [] { _exit(9); });
	t.resume(PTRACE_SYSCALL, c);
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_SINGLESTEP, c, 0, sig(SIGKILL));
	t.wait(c);
}

static void *thread_reads_pipe(void *arg)
{
	static_cast<Pipe *>(arg)->take();
	return nullptr;
}

SCENARIO(thread_cont_sigkill_syscall_stop, "CONT(SIGKILL) from a thread's syscall-entry stop: "
                                           "0; the thread and the leader are killed")
{
	Pipe p;
	pid_t c = t.traceme("leader", [&p] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_reads_pipe, &p);
		pthread_join(th, nullptr);
		_exit(21);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACESYSGOOD);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	pid_t th = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(th, "thread");
	t.wait(th);
	t.ptrace(PTRACE_CONT, c);
	// The thread's next system call is its read (the pipe's) in take().
	int st = t.resume(PTRACE_SYSCALL, th);
	if (!WIFSTOPPED(st))
		return;
	t.ptrace(PTRACE_CONT, th, 0, sig(SIGKILL));
	t.wait(th);
	t.wait(c);
}

// ---- wait after the reap

SCENARIO(wait_after_reap_echild, "a child tracee reaped by its tracer is gone at once: "
                                 "the next WNOHANG wait says ECHILD (ten times)")
{
	for (int i = 0; i < 10; i++) {
		pid_t c = t.traceme("tracee", [] { _exit(1); });
		t.ptrace(PTRACE_CONT, c);
		t.wait(c);
		t.wait(-1, __WALL | WNOHANG);
	}
}

// ---- kernel/ptrace.c: ptrace_attach() and ptrace_check_attach()

SCENARIO(attach_kernel_thread_eperm, "ATTACH and SEIZE of a kernel thread (kthreadd, pid 2): "
                                     "EPERM (PF_KTHREAD)")
{
	t.name(2, "kthreadd");
	t.ptrace(PTRACE_ATTACH, 2);
	t.ptrace(PTRACE_SEIZE, 2);
}

SCENARIO(attach_own_thread_eperm, "ATTACH of a thread of the tracer's own group: EPERM")
{
	Pipe p;
	pthread_t th;
	pthread_create(&th, nullptr, thread_reads_pipe, &p);
	pid_t other = 0;
	for (int i = 0; i < 200000 && other == 0; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", getpid());
		if (DIR *d = opendir(path)) {
			while (dirent *e = readdir(d)) {
				pid_t x = static_cast<pid_t>(atoi(e->d_name));
				if (x > 0 && x != getpid())
					other = x;
			}
			closedir(d);
		}
	}
	t.name(other, "own-thread");
	t.ptrace(PTRACE_ATTACH, other);
	t.ptrace(PTRACE_SEIZE, other);
	p.post();
	pthread_join(th, nullptr);
}

SCENARIO(attach_zombie_eperm, "ATTACH and SEIZE of an unreaped zombie child: EPERM "
                              "(exit_state); it is still reaped normally")
{
	pid_t c = t.spawn("zombie", [] { _exit(4); });
	wait_zombie(t, c);
	t.ptrace(PTRACE_ATTACH, c);
	t.ptrace(PTRACE_SEIZE, c);
	t.wait(c);
}

SCENARIO(seize_group_stopped, "SEIZE of a process in group stop: an EVENT_STOP trap with "
                              "SIGSTOP at once, State t; CONT resumes it out of the group "
                              "stop, without a SIGCONT")
{
	pid_t c = t.spawn("tracee", [] {
		raise(SIGSTOP);
		_exit(3);
	});
	t.wait(c, WUNTRACED);
	t.ptrace(PTRACE_SEIZE, c);
	t.wait(c, __WALL | WNOHANG);
	t.state(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c);
	// It exits 3 with no SIGCONT (a backend that left it in the group
	// stop hangs here until the scenario's time limit).  No WNOHANG wait
	// or SIGCONT in between: whether the resumed tracee has exited by
	// then is a race of the scheduler's, natively too (a SIGCONT that
	// comes first gives a seized tracee an EVENT_STOP trap).
	t.wait(c, __WALL);
}

SCENARIO(requests_after_sigkill_esrch, "a stopped tracee with SIGKILL pending: requests that "
                                       "need the stop fail ESRCH, KILL and INTERRUPT do not")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p);
	t.ptrace(PTRACE_SEIZE, c);
	t.ptrace(PTRACE_INTERRUPT, c);
	t.wait(c);
	kill(c, SIGKILL);
	long regs[64];
	t.ptrace(PTRACE_GETREGS, c, 0, U(regs));
	t.peek(PTRACE_PEEKDATA, c, U(&g_var), "g_var");
	t.ptrace(PTRACE_CONT, c);
	t.ptrace(PTRACE_KILL, c);
	t.wait(c);
}

static bool drop_caps(unsigned long long keep)
{
	__user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct d[2]{};
	if (syscall(SYS_capget, &h, d) != 0)
		return false;
	for (int i = 0; i < 2; i++) {
		d[i].effective &= static_cast<__u32>(keep >> (32 * i));
		d[i].permitted &= static_cast<__u32>(keep >> (32 * i));
		d[i].inheritable = 0;
	}
	return syscall(SYS_capset, &h, d) == 0;
}

SCENARIO(attach_permissions, "__ptrace_may_access(): a tracer as nobody may ATTACH its own "
                             "dumpable child, not root's process nor its non-dumpable child")
{
	Pipe p;
	pid_t root = blocked_tracee(t, "root-owned", p);
	pid_t r = subtracer(t, [&] {
		t.check("setresgid nobody", setresgid(65534, 65534, 65534) == 0);
		t.check("setresuid nobody", setresuid(65534, 65534, 65534) == 0);
		// The uid change made it non-dumpable (suid_dumpable), and its
		// children with it: dumpable again, as a process of nobody's.
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		t.ptrace(PTRACE_ATTACH, root, 0, 0, "root's");
		Pipe q1, q2, ready;
		pid_t mine = blocked_tracee(t, "mine", q1);
		pid_t nodump = t.spawn("nodump", [&] {
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
			ready.post();
			q2.take();
		});
		ready.take();
		t.ptrace(PTRACE_ATTACH, nodump, 0, 0, "own, not dumpable");
		t.ptrace(PTRACE_SEIZE, mine, 0, 0, "own, dumpable");
		t.ptrace(PTRACE_DETACH, mine, 0, 0, "running: ESRCH");
		q1.post();
		t.wait(mine);
		q2.post();
		t.wait(nodump);
	});
	t.wait(r);
	p.post();
	t.wait(root);
}

SCENARIO(peek_nondumpable_ptracer_cred, "PEEKDATA of a non-dumpable tracee after the tracer "
                                        "dropped CAP_SYS_PTRACE: the capability it had at "
                                        "attach counts (ptracer_capable())")
{
	Pipe p;
	pid_t c = t.spawn("tracee", [&p] {
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		p.take();
	});
	t.wait_blocked(c, SYS_read);
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_ATTACH, c);
		t.wait(c);
		t.check("capabilities dropped", drop_caps(0));
		t.peek(PTRACE_PEEKDATA, c, U(&g_var), "g_var");
		t.ptrace(PTRACE_POKEDATA, c, U(&g_var), 0x77, "g_var = 0x77");
		t.ptrace(PTRACE_CONT, c);
	});
	t.wait(r);
	p.post();
	t.wait(c);
}

SCENARIO(seize_suspend_seccomp_errors, "check_ptrace_options(): SUSPEND_SECCOMP refused (EPERM) "
                                       "to a tracer under seccomp and to one without "
                                       "CAP_SYS_ADMIN")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p);
	pid_t r1 = subtracer(t, [&] {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		// A filter that allows everything.
		sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
		sock_fprog prog{1, allow};
		t.check("filter installed",
		        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0);
		t.ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_SUSPEND_SECCOMP, "tracer under seccomp");
	});
	t.wait(r1);
	pid_t r2 = subtracer(t, [&] {
		t.check("CAP_SYS_ADMIN dropped", drop_caps(~(1ULL << CAP_SYS_ADMIN)));
		t.ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_SUSPEND_SECCOMP, "no CAP_SYS_ADMIN");
		t.ptrace(PTRACE_SEIZE, c, 0, 0, "no options");
		t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_SUSPEND_SECCOMP, "running");
		t.ptrace(PTRACE_INTERRUPT, c);
		t.wait(c);
		t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_SUSPEND_SECCOMP, "stopped");
		t.ptrace(PTRACE_DETACH, c);
	});
	t.wait(r2);
	p.post();
	t.wait(c);
}

// ---- PTRACE_LISTEN

static pid_t seized_group_stop(Trace &t, Pipe &p)
{
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(4); });
	t.ptrace(PTRACE_SEIZE, c);
	kill(c, SIGSTOP);
	t.wait(c); // the SIGSTOP signal-delivery stop
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c); // the group stop, EVENT_STOP
	return c;
}

// Waits for the tracee, then continues it from each stop with the stop's
// signal (four at most), the siginfo of each recorded, and lets it go on
// at the first: until it exits.
static void cont_to_exit(Trace &t, pid_t c, Pipe &p)
{
	int st = 0;
	t.wait(c, __WALL, &st);
	for (int i = 0; i < 4 && WIFSTOPPED(st); i++) {
		t.siginfo(c);
		int s = (st >> 16) == 0 ? WSTOPSIG(st) : 0;
		if (i == 0)
			p.post();
		t.ptrace(PTRACE_CONT, c, 0, static_cast<unsigned long>(s));
		t.wait(c, __WALL, &st);
	}
}

SCENARIO(listen_requests_esrch, "a listening tracee is not stopped for requests (ESRCH) nor "
                                "for wait; INTERRUPT makes it trap again")
{
	Pipe p;
	pid_t c = seized_group_stop(t, p);
	t.ptrace(PTRACE_LISTEN, c);
	siginfo_t si{};
	t.ptrace(PTRACE_GETSIGINFO, c, 0, U(&si), "listening");
	t.ptrace(PTRACE_CONT, c, 0, 0, "listening");
	t.wait(c, __WALL | WNOHANG);
	t.ptrace(PTRACE_INTERRUPT, c);
	t.wait(c);
	t.siginfo(c);
	t.state(c);
	kill(c, SIGCONT);
	t.ptrace(PTRACE_CONT, c);
	cont_to_exit(t, c, p);
}

// SIGCONT (after an INTERRUPT with @interrupt) while the seized tracee is
// in its group-stop trap, then LISTEN: the trap that follows, and the rest.
static void sigcont_then_listen(Trace &t, bool interrupt)
{
	Pipe p;
	pid_t c = seized_group_stop(t, p);
	if (interrupt)
		t.ptrace(PTRACE_INTERRUPT, c);
	kill(c, SIGCONT);
	t.ptrace(PTRACE_LISTEN, c);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c);
	cont_to_exit(t, c, p);
}

SCENARIO(listen_after_sigcont, "SIGCONT while the seized tracee is in its group-stop trap, "
                               "then LISTEN: it traps again at once (JOBCTL_TRAP_NOTIFY)")
{
	sigcont_then_listen(t, false);
}

SCENARIO(listen_interrupt_sigcont, "INTERRUPT and SIGCONT while the seized tracee is in its "
                                   "group-stop trap, then LISTEN: one trap takes both, as at "
                                   "strace -f's start")
{
	sigcont_then_listen(t, true);
}

SCENARIO(sigcont_to_running_seized, "SIGCONT to a running seized tracee (no group stop): it "
                                    "traps with EVENT_STOP (ptrace_trap_notify())")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(6); });
	t.ptrace(PTRACE_SEIZE, c);
	kill(c, SIGCONT);
	cont_to_exit(t, c, p);
}

// ---- requests handed to the kernel's ptrace_request()

SCENARIO(sigmask_in_sigsuspend, "GETSIGMASK of a tracee stopped for a signal that ended its "
                                "sigsuspend: the mask to be restored (saved_sigmask); "
                                "SETSIGMASK then cancels the restore")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		block(SIGUSR1);
		block(SIGUSR2);
		sigset_t during;
		sigfillset(&during);
		sigdelset(&during, SIGUSR1);
		sigsuspend(&during);
		sigset_t now;
		sigprocmask(SIG_BLOCK, nullptr, &now);
		_exit((sigismember(&now, SIGUSR1) ? 1 : 0) + (sigismember(&now, SIGUSR2) ? 2 : 0) +
		      (sigismember(&now, SIGTERM) ? 4 : 0) + 10 * g_count[SIGUSR1]);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait_blocked(c, SYS_rt_sigsuspend);
	kill(c, SIGUSR1);
	t.wait(c);
	uint64_t mask = 0;
	t.ptrace(PTRACE_GETSIGMASK, c, 8, U(&mask));
	t.value("mask at the stop", sigset_name(mask));
	mask = 1ULL << (SIGTERM - 1);
	t.ptrace(PTRACE_SETSIGMASK, c, 8, U(&mask), "SIGTERM");
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR1));
	t.wait(c);
}

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif

SCENARIO(seccomp_filter_and_rseq_requests, "PTRACE_SECCOMP_GET_FILTER/GET_METADATA of a "
                                           "tracee's filter; PTRACE_GET_RSEQ_CONFIGURATION")
{
	pid_t c = probe_tracee(t, 0, [] {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		sock_filter allow[] = {
		        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		sock_fprog prog{2, allow};
		syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG, &prog);
	});
	sock_filter buf[8]{};
	t.ptrace(PTRACE_SECCOMP_GET_FILTER, c, 0, 0, "index 0, no buffer: count");
	t.ptrace(PTRACE_SECCOMP_GET_FILTER, c, 0, U(buf), "index 0");
	t.value("first instruction code", buf[0].code);
	t.ptrace(PTRACE_SECCOMP_GET_FILTER, c, 1, U(buf), "index 1");
	__ptrace_seccomp_metadata md{0, 0};
	t.ptrace(PTRACE_SECCOMP_GET_METADATA, c, sizeof md, U(&md), "filter 0");
	t.value("metadata flags", static_cast<long long>(md.flags));
	md = {3, 0};
	t.ptrace(PTRACE_SECCOMP_GET_METADATA, c, sizeof md, U(&md), "filter 3");
	struct {
		uint64_t rseq_abi_pointer;
		uint32_t rseq_abi_size, signature, flags, pad;
	} rc{};
	long n = t.ptrace(PTRACE_GET_RSEQ_CONFIGURATION, c, sizeof rc, U(&rc));
	if (n > 0) {
		t.check("rseq area registered", rc.rseq_abi_pointer != 0);
		t.value("rseq size", rc.rseq_abi_size);
		t.value("rseq flags", rc.flags);
	}
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

// ---- the tracer's exit (exit_ptrace(), __ptrace_unlink())

SCENARIO(tracer_exit_at_group_stop, "the tracer exits while its seized tracee is in a group "
                                    "stop: the tracee goes back to the group stop (T)")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(27); });
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_SEIZE, c);
		kill(c, SIGSTOP);
		t.wait(c);
		t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
		t.wait(c);
	});
	t.wait(r);
	wait_state(c, 'T');
	t.state(c);
	t.wait(c, WUNTRACED | WNOHANG);
	kill(c, SIGCONT);
	t.wait(c, WCONTINUED);
	p.post();
	t.wait(c);
}

SCENARIO(tracer_exit_at_syscall_stop, "the tracer exits while the tracee is in a syscall-entry "
                                      "stop: the call runs, no stop after")
{
	Pipe p;
	pid_t c = t.spawn("tracee", [&p] {
		p.take();
		_exit(static_cast<int>(syscall(SYS_getppid) > 0 ? 28 : 29));
	});
	t.wait_blocked(c, SYS_read);
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESYSGOOD);
		t.ptrace(PTRACE_INTERRUPT, c);
		t.wait(c);
		p.post();
		for (int i = 0; i < 8; i++) {
			int st = t.resume(PTRACE_SYSCALL, c);
			SysRegs regs{};
			if (!WIFSTOPPED(st) || (get_sysregs(c, regs) && regs.nr == SYS_getppid))
				break;
		}
	});
	t.wait(r);
	t.wait(c);
}

// ---- kernel/fork.c: a vfork parent killed in its wait

SCENARIO(vfork_parent_killed, "TRACEVFORKDONE: the vfork parent is killed in its vfork wait: "
                              "no VFORK_DONE, killed")
{
	Pipe p;
	pid_t c = t.traceme("tracee", [&p] {
		// clone(CLONE_VFORK) without CLONE_VM: a vfork wait, no shared stack.
		pid_t k = static_cast<pid_t>(syscall(SYS_clone, CLONE_VFORK | SIGCHLD, 0, 0, 0, 0));
		if (k == 0) {
			p.take();
			_exit(0);
		}
		_exit(1);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACEEXIT);
	t.ptrace(PTRACE_CONT, c);
	t.wait_blocked(c, SYS_clone);
	kill(c, SIGKILL);
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) { // the EXIT event: SIGKILL was taken off the queue
		t.eventmsg(c, false);
		t.ptrace(PTRACE_CONT, c);
		t.wait(c);
	}
	p.post();
}

// ---- fs/exec.c

SCENARIO(exec_fails_no_event, "TRACEEXEC: an execve that fails (ENOENT) makes no EXEC event; "
                              "SYSCALL shows its error")
{
	pid_t c = t.traceme("tracee", [] {
		char path[] = "/nonexistent/conformance";
		char *argv[] = {path, nullptr};
		char *envp[] = {nullptr};
		execve(path, argv, envp);
		_exit(errno == ENOENT ? 40 : 41);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c); // execve entry
	t.resume(PTRACE_SYSCALL, c); // its exit: -ENOENT
	t.syscall_info(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

// ---- kernel/exit.c: wait

SCENARIO(wait_wnothread, "__WNOTHREAD: another thread of the tracer does not see the tracee "
                         "the first one attached (ECHILD); without it, it does")
{
	Pipe p;
	pid_t c = t.spawn("tracee", [&p] { p.take(); });
	t.wait_blocked(c, SYS_read);
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_SEIZE, c);
		t.ptrace(PTRACE_INTERRUPT, c);
		struct Arg {
			Trace *t;
			pid_t c;
		} a{&t, c};
		pthread_t th;
		pthread_create(
		        &th, nullptr,
		        [](void *v) -> void * {
			        auto *x = static_cast<Arg *>(v);
			        x->t->wait(x->c, __WALL | __WNOTHREAD | WNOHANG);
			        x->t->wait(x->c, __WALL);
			        return nullptr;
		        },
		        &a);
		pthread_join(th, nullptr);
		t.ptrace(PTRACE_DETACH, c);
	});
	t.wait(r);
	p.post();
	t.wait(c);
}

SCENARIO(group_stop_real_parent_sees, "a traced non-child's group stop: its tracer gets the "
                                      "trap, its real parent CLD_STOPPED and a WUNTRACED stop")
{
	Pipe p, ready, go;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(8); });
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_SEIZE, c);
		kill(c, SIGSTOP);
		t.wait(c);
		t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
		t.wait(c);
		ready.post();
		go.take();
		t.ptrace(PTRACE_DETACH, c);
	});
	ready.take();
	t.sigchld();
	t.wait(c, WUNTRACED | WNOHANG);
	go.post();
	t.wait(r);
	kill(c, SIGCONT);
	t.wait(c, WCONTINUED);
	p.post();
	t.wait(c);
}

SCENARIO(tracer_ignores_sigchld_exit, "a tracer that ignores SIGCHLD still waits for its "
                                      "traced child's exit (no autoreap while traced)")
{
	signal(SIGCHLD, SIG_IGN);
	pid_t c = t.traceme("tracee", [] { _exit(12); });
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.wait(-1, __WALL | WNOHANG);
	signal(SIGCHLD, SIG_DFL);
}

SCENARIO(tracer_nocldwait_exit, "a tracer with SA_NOCLDWAIT still waits for its traced "
                                "child's exit")
{
	struct sigaction sa {
	};
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, nullptr);
	pid_t c = t.traceme("tracee", [] { _exit(13); });
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.wait(-1, __WALL | WNOHANG);
	sa.sa_flags = 0;
	sigaction(SIGCHLD, &sa, nullptr);
}

// ---- kernel/signal.c: get_signal() and ptrace_signal()

SCENARIO(cont_blocked_signal_requeued, "CONT(SIGUSR2) at a SIGUSR1 stop, SIGUSR2 blocked: it is "
                                       "queued again, and stops again once unblocked")
{
	pid_t c = t.traceme("tracee", [] {
		install(SIGUSR1);
		install(SIGUSR2);
		block(SIGUSR2);
		raise(SIGUSR1);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_UNBLOCK, &set, nullptr);
		_exit(g_count[SIGUSR1] * 10 + g_count[SIGUSR2]);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR2));
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) {
		t.siginfo(c);
		t.ptrace(PTRACE_CONT, c, 0, sig(WSTOPSIG(st)));
		t.wait(c);
	}
}

SCENARIO(signal_ignored_still_reported, "a traced task's ignored signals stop it (SIG_IGN "
                                        "SIGUSR1, default-ignored SIGWINCH); resumed with them, "
                                        "nothing happens")
{
	pid_t c = probe_tracee(t, 0, [] { signal(SIGUSR1, SIG_IGN); });
	kill(c, SIGUSR1);
	t.resume(PTRACE_CONT, c);
	t.siginfo(c);
	kill(c, SIGWINCH);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR1));
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) {
		t.siginfo(c);
		t.ptrace(PTRACE_CONT, c, 0, sig(SIGWINCH));
		t.wait(c);
	}
}

SCENARIO(seccomp_kill_process_no_signal_stop, "SECCOMP_RET_KILL_PROCESS: its SIGSYS "
                                              "(SA_IMMUTABLE) makes no signal-delivery stop")
{
	pid_t c = t.traceme("tracee", [] {
		struct rlimit no {
			0, 0
		};
		setrlimit(RLIMIT_CORE, &no);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		sock_filter f[] = {
		        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
		        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		sock_fprog prog{4, f};
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
			_exit(120);
		syscall(SYS_getppid);
		_exit(0);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXIT);
	t.finish(c);
}

SCENARIO(sigtstp_orphaned_pgrp, "SIGTSTP to a tracee in an orphaned process group: a "
                                "signal-delivery stop, then resumed with it, no group stop")
{
	Pipe p;
	pid_t c = t.traceme("tracee", [&p] {
		setsid();
		p.take();
		_exit(14);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait_blocked(c, SYS_read);
	kill(c, SIGTSTP);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGTSTP));
	t.wait(c, __WALL | WNOHANG);
	p.post();
	t.wait(c);
}

// The init of a new pid namespace, named ns-init, running @body (which
// exits); -1, recorded, if the clone is refused.
static pid_t pidns_init(Trace &t, const std::function<void()> &body)
{
	fflush(nullptr);
	pid_t c = static_cast<pid_t>(syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0));
	if (c == 0) {
		body();
		_exit(99);
	}
	if (c < 0) {
		t.value("clone(CLONE_NEWPID)", errno_name(errno));
		return -1;
	}
	t.name(c, "ns-init");
	return c;
}

SCENARIO(pidns_init_signal_dropped, "a traced pid namespace init: SIGTERM stops it, resumed with "
                                    "it, it is dropped (SIGNAL_UNKILLABLE), init runs on")
{
	Pipe p;
	pid_t c = pidns_init(t, [&] {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		::ptrace(PTRACE_TRACEME, 0, 0, 0);
		// Logged before the stop: after it, the line would race the
		// tracer's own line for the CONT (the order of the trace).
		t.value("pid inside", getpid());
		raise(SIGSTOP);
		p.take();
		_exit(15);
	});
	if (c < 0)
		return;
	t.wait(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait_blocked(c, SYS_read);
	kill(c, SIGTERM);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGTERM));
	t.wait(c, __WALL | WNOHANG);
	p.post();
	t.wait(c);
}

SCENARIO(pidns_trap_siginfo, "a traced pid namespace init: the siginfo of its syscall and "
                             "exit event stops names it as it sees itself (si_pid 1)")
{
	pid_t c = pidns_init(t, [] {
		::ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		syscall(SYS_getppid);
		_exit(16);
	});
	if (c < 0)
		return;
	t.wait(c);
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT);
	for (int stop = 0; stop < 2; stop++) {
		t.ptrace(PTRACE_SYSCALL, c);
		t.wait(c);
		t.siginfo(c);
	}
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(uid_in_stop_reports, "a tracee that becomes nobody: waitid's si_uid and its syscall "
                              "stops' siginfo si_uid follow its uid, stop by stop")
{
	pid_t c = t.traceme("tracee", [] {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(1);
		syscall(SYS_getppid);
		_exit(17);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
	for (int stop = 0; stop < 6; stop++) {
		t.ptrace(PTRACE_SYSCALL, c);
		t.waitid(P_PID, static_cast<id_t>(c), WSTOPPED | WEXITED | __WALL);
		siginfo_t si{};
		if (t.siginfo(c, &si))
			t.value("siginfo si_uid", si.si_uid);
	}
	t.ptrace(PTRACE_CONT, c);
	t.waitid(P_PID, static_cast<id_t>(c), WEXITED);
}

// ---- hardware breakpoints (arch ptrace)

#if defined(__x86_64__)
SCENARIO(x86_hw_watchpoint, "x86: a write watchpoint set with POKEUSER DR0/DR7: SIGTRAP "
                            "TRAP_HWBKPT stop after the write, DR6 says which")
{
	pid_t c = probe_tracee(t, 0, {}, [] {
		g_var = 0x99;
		_exit(g_var == 0x99 ? 44 : 45);
	});
	unsigned long dr = offsetof(struct user, u_debugreg);
	t.ptrace(PTRACE_POKEUSER, c, dr, U(&g_var), "DR0 = &g_var");
	// DR7: L0, R/W0 = 01 (write), LEN0 = 11 (8 bytes).
	t.ptrace(PTRACE_POKEUSER, c, dr + 7 * sizeof(long), 0x1 | (0x1 << 16) | (0x3 << 18),
	         "DR7 = L0 write 8");
	t.ptrace(PTRACE_CONT, c);
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) {
		t.siginfo(c);
		long dr6 = t.peek(PTRACE_PEEKUSER, c, dr + 6 * sizeof(long), "DR6", false);
		t.value("DR6 B0", dr6 & 1);
		t.ptrace(PTRACE_CONT, c);
		t.wait(c);
	}
}
#endif

#if defined(__powerpc64__)
SCENARIO(ppc_hwdebug_info, "powerpc: PPC_PTRACE_GETHWDBGINFO and PTRACE_GET_DEBUGREG")
{
	pid_t c = probe_tracee(t, 0);
	ppc_debug_info info{};
	t.ptrace(PPC_PTRACE_GETHWDBGINFO, c, 0, U(&info));
	t.value("version", info.version);
	t.value("instruction bps", info.num_instruction_bps);
	t.value("data bps", info.num_data_bps);
	t.value("features", static_cast<long long>(info.features));
	unsigned long dabr = 1;
	t.ptrace(PTRACE_GET_DEBUGREG, c, 0, U(&dabr));
	t.value("DABR", static_cast<long long>(dabr));
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}
#endif

// Handlers that record their order: 1 for SIGUSR1, 2 for SIGUSR2.
static volatile sig_atomic_t g_order;
static void order_handler(int s)
{
	g_order = g_order * 10 + (s == SIGUSR1 ? 1 : 2);
}

SCENARIO(inject_order_with_lower_pending, "CONT(SIGUSR2) at a SIGUSR2 stop after SIGUSR1 came: "
                                          "SIGUSR2's frame is set up first, so SIGUSR1's "
                                          "handler runs first, then SIGUSR2's")
{
	Pipe p;
	pid_t c = t.traceme("tracee", [&p] {
		signal(SIGUSR1, order_handler);
		signal(SIGUSR2, order_handler);
		raise(SIGUSR2);
		_exit(static_cast<int>(g_order));
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c); // SIGUSR2
	kill(c, SIGUSR1);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR2));
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) {
		t.ptrace(PTRACE_CONT, c, 0, sig(WSTOPSIG(st)));
		t.wait(c);
	}
}

SCENARIO(inject_order_with_lower_pending_private, "as inject_order_with_lower_pending, with "
                                                  "SIGUSR1 in the thread's own queue (tgkill), "
                                                  "where the resume signal goes too")
{
	pid_t c = t.traceme("tracee", [] {
		signal(SIGUSR1, order_handler);
		signal(SIGUSR2, order_handler);
		raise(SIGUSR2);
		_exit(static_cast<int>(g_order));
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c); // SIGUSR2
	syscall(SYS_tgkill, c, c, SIGUSR1);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGUSR2));
	int st = 0;
	t.wait(c, __WALL, &st);
	if (WIFSTOPPED(st)) {
		t.ptrace(PTRACE_CONT, c, 0, sig(WSTOPSIG(st)));
		t.wait(c);
	}
}

#if defined(__x86_64__)
extern "C" long conf_pushf_probe(long pid);
// kill(pid, SIGSTOP), then pushfq; popq %rax (the flags the program sees);
// ret.
asm(R"(
	.text
	.globl conf_pushf_probe
	.hidden conf_pushf_probe
	.type conf_pushf_probe, @function
conf_pushf_probe:
	mov $62, %eax
	mov $19, %esi
	syscall
	pushfq
	popq %rax
	ret
	.size conf_pushf_probe, .-conf_pushf_probe
)");

SCENARIO(x86_step_pushf, "x86: SINGLESTEP over pushf (step.c's trap flag bookkeeping): "
                         "the flags the program sees, a trap per step")
{
	pid_t c = t.traceme("tracee", [] {
		long flags = conf_pushf_probe(getpid());
		_exit((flags & 0x100) ? 51 : 50);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c); // the probe's SIGSTOP
	for (int i = 0; i < 2; i++) {
		int st = t.resume(PTRACE_SINGLESTEP, c);
		if (!WIFSTOPPED(st))
			return;
		t.siginfo(c);
	}
	SysRegs r{};
	if (get_sysregs(c, r))
		t.value("TF in the flags pushed", (r.ret & 0x100) ? "set" : "clear");
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}
#endif

SCENARIO(group_stop_parent_tracer_wuntraced, "the tracer is the real parent: its tracee's "
                                             "group stop is reported once, as a ptrace stop; "
                                             "a WUNTRACED wait then finds nothing")
{
	Pipe p;
	pid_t c = t.traceme("tracee", [&p] {
		raise(SIGSTOP);
		p.take();
		_exit(17);
	});
	t.ptrace(PTRACE_CONT, c);
	t.wait(c); // the raise's SIGSTOP, a signal-delivery stop
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c); // the group stop
	t.wait(c, WUNTRACED | WNOHANG);
	t.ptrace(PTRACE_CONT, c);
	// A resumed tracee runs though its group is stopped: into its read.
	t.wait_blocked(c, SYS_read);
	t.wait(c, WUNTRACED | WNOHANG);
	kill(c, SIGCONT);
	int st = 0;
	t.wait(c, __WALL, &st);
	for (int i = 0; i < 4 && WIFSTOPPED(st); i++) {
		if (i == 0)
			p.post();
		t.ptrace(PTRACE_CONT, c, 0, (st >> 16) == 0 ? sig(WSTOPSIG(st)) : 0);
		t.wait(c, __WALL, &st);
	}
}

SCENARIO(group_stop_parent_tracer_other_child, "the tracer is the real parent of a traced and "
                                               "an untraced child, both group-stopped: WUNTRACED "
                                               "and waitid(WSTOPPED) find the untraced one only")
{
	Pipe p, q;
	pid_t c = t.traceme("tracee", [&p] {
		raise(SIGSTOP);
		p.take();
		_exit(21);
	});
	pid_t u = blocked_tracee(t, "untraced", q, [] { _exit(22); });
	t.ptrace(PTRACE_CONT, c);
	t.wait(c); // the raise's SIGSTOP, a signal-delivery stop
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c); // the group stop, as a ptrace stop
	kill(u, SIGSTOP);
	wait_state(u, 'T');
	t.waitid(P_ALL, 0, WSTOPPED | WNOHANG | WNOWAIT);
	t.wait(-1, WUNTRACED | WNOHANG);
	t.wait(-1, WUNTRACED | WNOHANG);
	t.waitid(P_ALL, 0, WSTOPPED | WNOHANG);
	kill(u, SIGCONT);
	t.wait(u, WCONTINUED);
	q.post();
	t.wait(u);
	t.ptrace(PTRACE_CONT, c);
	t.wait_blocked(c, SYS_read);
	kill(c, SIGCONT);
	int st = 0;
	t.wait(c, __WALL, &st);
	for (int i = 0; i < 4 && WIFSTOPPED(st); i++) {
		if (i == 0)
			p.post();
		t.ptrace(PTRACE_CONT, c, 0, (st >> 16) == 0 ? sig(WSTOPSIG(st)) : 0);
		t.wait(c, __WALL, &st);
	}
}
