// Scenarios: the process model around ptrace.  Group stop and SIGCONT,
// waitpid/waitid flags, multi-threaded tracees, exec by a non-leader thread,
// zombies of traced non-children, the tracer's exit (detach vs EXITKILL),
// and requests that must fail.
#include "support.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <sched.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace conf;

SCENARIO(group_stop_attached, "ATTACHed: SIGSTOP stop, CONT(SIGSTOP) group stop (GETSIGINFO "
                              "EINVAL), SIGCONT waits for the tracer")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(19); });
	t.ptrace(PTRACE_ATTACH, c);
	t.wait(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c);
	t.state(c);
	siginfo_t si{};
	t.ptrace(PTRACE_GETSIGINFO, c, 0, U(&si), "group stop");
	kill(c, SIGCONT);
	t.wait(c, __WALL | WNOHANG | WCONTINUED);
	t.state(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGCONT));
	p.post();
	t.wait(c);
}

SCENARIO(group_stop_seized, "SEIZEd: group stop as EVENT_STOP with SIGSTOP, SIGCONT without "
                            "LISTEN, then CONT")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(18); });
	t.ptrace(PTRACE_SEIZE, c);
	kill(c, SIGSTOP);
	t.wait(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c);
	t.siginfo(c);
	t.state(c);
	kill(c, SIGCONT);
	t.wait(c, __WALL | WNOHANG);
	t.ptrace(PTRACE_CONT, c);
	int st = 0;
	t.wait(c, __WALL, &st);
	if ((st >> 16) == PTRACE_EVENT_STOP) {
		t.ptrace(PTRACE_CONT, c);
		t.wait(c);
	}
	t.siginfo(c);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGCONT));
	p.post();
	t.wait(c);
}

SCENARIO(wait_wnohang, "WNOHANG: 0 while the tracee sleeps, the stop once it is there")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(0); });
	t.ptrace(PTRACE_SEIZE, c);
	t.wait(c, __WALL | WNOHANG);
	t.ptrace(PTRACE_INTERRUPT, c);
	t.wait(c, __WALL);
	t.wait(c, __WALL | WNOHANG);
	t.ptrace(PTRACE_CONT, c);
	p.post();
	t.wait(-1, __WALL);
	t.wait(-1, __WALL | WNOHANG);
}

SCENARIO(waitid_wnowait, "waitid: WNOWAIT leaves the stop and the exit to be waited again; "
                         "empty siginfo with WNOHANG; ECHILD after the reap")
{
	pid_t c = probe_tracee(t, 0);
	::ptrace(PTRACE_SINGLESTEP, c, 0, 0);
	t.waitid(P_PID, static_cast<id_t>(c), WSTOPPED | WNOWAIT);
	t.waitid(P_PID, static_cast<id_t>(c), WSTOPPED | WNOWAIT);
	t.waitid(P_PID, static_cast<id_t>(c), WSTOPPED);
	t.waitid(P_PID, static_cast<id_t>(c), WSTOPPED | WNOHANG);
	t.ptrace(PTRACE_CONT, c);
	t.waitid(P_ALL, 0, WEXITED | WNOWAIT);
	t.state(c);
	t.waitid(P_PID, static_cast<id_t>(c), WEXITED);
	t.waitid(P_PID, static_cast<id_t>(c), WEXITED | WNOHANG);
}

SCENARIO(waitid_killed, "waitid of a tracee killed at a stop: CLD_KILLED")
{
	pid_t c = probe_tracee(t, 0);
	kill(c, SIGKILL);
	t.waitid(P_PID, static_cast<id_t>(c), WEXITED);
}

static pid_t other_thread(pid_t leader)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", leader);
	pid_t found = 0;
	if (DIR *d = opendir(path)) {
		while (dirent *e = readdir(d)) {
			pid_t p = static_cast<pid_t>(atoi(e->d_name));
			if (p > 0 && p != leader)
				found = p;
		}
		closedir(d);
	}
	return found;
}

// The thread's tid once it shows: the entry of /proc/PID/task that is not
// the leader.
static pid_t await_other_thread(pid_t leader)
{
	pid_t th = 0;
	for (int i = 0; i < 200000 && th == 0; i++) {
		th = other_thread(leader);
		if (th == 0)
			sched_yield();
	}
	return th;
}

static long syscall_nr_of(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/syscall", pid);
	long nr = -2;
	if (FILE *f = fopen(path, "re")) {
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -2;
		fclose(f);
	}
	return nr;
}

static void *thread_reads(void *arg)
{
	auto *p = static_cast<Pipe *>(arg);
	p->take();
	return nullptr;
}

// A process of two threads, both blocked in read(): the leader on @leader
// (then it joins the thread and exits with @code), the thread on @thread
// (then it returns).  *@th: the thread's tid, named "thread".
static pid_t two_threads_reading(Trace &t, const char *name, Pipe &leader, Pipe &thread, int code,
                                 pid_t &th)
{
	pid_t c = t.spawn(name, [&] {
		pthread_t pt;
		pthread_create(&pt, nullptr, thread_reads, &thread);
		leader.take();
		pthread_join(pt, nullptr);
		_exit(code);
	});
	th = await_other_thread(c);
	t.name(th, "thread");
	t.wait_blocked(c, SYS_read);
	t.wait_blocked(th, SYS_read);
	return c;
}

SCENARIO(wait_thread_flags, "a traced thread is waitable without __WALL/__WCLONE; an "
                            "untraced child is not with __WCLONE")
{
	Pipe p, q, last;
	pid_t other = blocked_tracee(t, "untraced", q);
	t.wait(other, __WCLONE | WNOHANG);
	t.wait(other, WNOHANG);
	// The leader exits only after the thread's exit was waited for: a
	// group exit first would report its code for the thread too.
	pid_t c = t.traceme("tracee", [&p, &last] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_reads, &p);
		pthread_join(th, nullptr);
		last.take();
		_exit(15);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c, 0);
	pid_t th = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(th, "thread");
	t.wait(th, 0);
	t.ptrace(PTRACE_CONT, th);
	t.ptrace(PTRACE_CONT, c);
	p.post();
	t.wait(th, __WCLONE);
	last.post();
	t.wait(c, __WCLONE);
	q.post();
	t.wait(other, 0);
}

SCENARIO(multithread_interrupt_one, "SEIZE both threads, INTERRUPT one: it stops, the other "
                                    "keeps sleeping")
{
	Pipe p1, p2;
	pid_t th = 0;
	pid_t c = two_threads_reading(t, "leader", p1, p2, 17, th);
	t.ptrace(PTRACE_SEIZE, c);
	t.ptrace(PTRACE_SEIZE, th);
	t.ptrace(PTRACE_INTERRUPT, th);
	t.wait(th);
	t.state(th);
	t.state(c);
	t.wait(-1, __WALL | WNOHANG);
	t.ptrace(PTRACE_CONT, th);
	p2.post();
	t.wait(th);
	p1.post();
	t.wait(c);
}

SCENARIO(multithread_group_stop, "SIGSTOP to a two-thread process: the leader's signal stop, "
                                 "then both threads in group stop; SIGCONT to the first resumed")
{
	Pipe p1, p2;
	pid_t c = t.traceme("leader", [&] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_reads, &p2);
		p1.take();
		pthread_join(th, nullptr);
		_exit(16);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	pid_t th = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(th, "thread");
	t.wait(th);
	t.ptrace(PTRACE_CONT, th);
	t.ptrace(PTRACE_CONT, c);
	t.wait_blocked(c, SYS_read);
	t.wait_blocked(th, SYS_read);
	kill(c, SIGSTOP);
	t.wait(c);
	t.state(th);
	t.ptrace(PTRACE_CONT, c, 0, sig(SIGSTOP));
	t.wait(c);
	t.wait(th);
	t.state(c);
	t.state(th);
	kill(c, SIGCONT);
	t.ptrace(PTRACE_CONT, th);
	t.wait(th);
	t.siginfo(th);
	t.ptrace(PTRACE_CONT, th, 0, sig(SIGCONT));
	t.ptrace(PTRACE_CONT, c);
	p2.post();
	t.wait(th);
	p1.post();
	t.wait(c);
}

static void *thread_execs(void *)
{
	exec_helper("exit", "23");
	return nullptr;
}

SCENARIO(exec_by_non_leader, "a non-leader thread execs: the EXEC event comes under the "
                             "leader's pid, GETEVENTMSG the former tid, the old tid is gone")
{
	pid_t c = t.traceme("leader", [] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_execs, nullptr);
		for (;;)
			pause();
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
	pid_t th = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(th, "thread");
	t.wait(th);
	t.ptrace(PTRACE_CONT, c);
	t.ptrace(PTRACE_CONT, th);
	t.wait(c);
	t.eventmsg(c, true);
	t.wait(th, __WALL | WNOHANG);
	t.state(c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

// The zombie of a traced non-child belongs to its tracer first (natively
// EXIT_TRACE while the tracer reaps): the real parent's SIGCHLD, its wait
// and the automatic reaping of a parent that ignores SIGCHLD all come after.
static pid_t non_child_dies(Trace &t, Pipe &p, pid_t c, const std::function<void()> &then)
{
	return subtracer(t, [&] {
		t.ptrace(PTRACE_ATTACH, c);
		t.wait(c);
		t.ptrace(PTRACE_CONT, c);
		p.post();
		wait_zombie(t, c);
		then();
	});
}

static void tracer_reaps_first(Trace &t, int code)
{
	Pipe p, ready, go;
	pid_t c = blocked_tracee(t, "tracee", p, [code] { _exit(code); });
	pid_t r = non_child_dies(t, p, c, [&] {
		ready.post();
		go.take();
		t.wait(c);
		t.state(c);
	});
	ready.take();
	t.state(c);
	t.wait(c, WNOHANG);
	go.post();
	t.wait(r);
	t.wait(c);
}

SCENARIO(zombie_traced_non_child, "a traced non-child exits: the tracer waits first, the real "
                                  "parent only after it, the zombie in between")
{
	tracer_reaps_first(t, 5);
}

SCENARIO(zombie_non_child_sigchld, "a traced non-child dies: its real parent gets SIGCHLD only "
                                   "once the tracer reaped it")
{
	Pipe p, ready, go;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(6); });
	pid_t r = non_child_dies(t, p, c, [&] {
		ready.post();
		go.take();
		t.wait(c);
	});
	ready.take();
	t.sigchld();
	go.post();
	t.wait(r);
	t.sigchld();
	t.sigchld();
	t.wait(c);
}

SCENARIO(zombie_non_child_parent_waiting, "the real parent already sleeps in wait for a traced "
                                          "non-child that dies: it wakes when the tracer reaped it")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(9); });
	pid_t self = getpid();
	pid_t r = non_child_dies(t, p, c, [&] {
		t.wait_blocked(self, SYS_wait4);
		t.wait(c);
	});
	t.wait(c);
	t.wait(r);
}

SCENARIO(zombie_non_child_parent_ignores, "the real parent ignores SIGCHLD: the traced "
                                          "non-child's zombie waits for the tracer, then goes")
{
	signal(SIGCHLD, SIG_IGN);
	tracer_reaps_first(t, 10);
	signal(SIGCHLD, SIG_DFL);
}

SCENARIO(zombie_non_child_tracer_exits, "the tracer exits without reaping its dead non-child: "
                                        "the real parent is notified then and reaps it")
{
	Pipe p, ready, go;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(11); });
	pid_t r = non_child_dies(t, p, c, [&] {
		ready.post();
		go.take();
	});
	ready.take();
	t.wait(c, WNOHANG);
	go.post();
	t.wait(r);
	t.sigchld();
	t.state(c);
	t.wait(c);
}

static void *thread_takes_then_exits(void *arg)
{
	static_cast<Pipe *>(arg)->take();
	_exit(13);
}

SCENARIO(zombie_non_child_leader_first, "a traced non-child's leader exits before its other "
                                        "thread: what its tracer and its real parent see")
{
	Pipe p, q, ready, go;
	pid_t c = t.spawn("tracee", [&] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_takes_then_exits, &q);
		p.take();
		// The leader's own exit, not pthread_exit(): glibc's unwinds
		// the C++ frames above, and ~Pipe() would close q in the whole
		// process before the thread reads it (an early exit 13).
		syscall(SYS_exit, 0);
	});
	t.wait_blocked(c, SYS_read);
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_ATTACH, c);
		t.wait(c);
		t.ptrace(PTRACE_CONT, c);
		p.post();
		wait_zombie(t, c);
		t.wait(c, __WALL | WNOHANG);
		ready.post();
		go.take();
		q.post();
		t.wait(c);
		t.state(c);
	});
	ready.take();
	t.state(c);
	t.wait(c, WNOHANG);
	go.post();
	t.wait(r);
	t.wait(c);
}

// The thread's exit, the leader's after it: natively the thread stays a
// zombie in the group until its tracer reaps it, and until then the leader
// is reported to no wait (delay_group_leader()). gdb tells a thread's exit
// from the process's by that order.
SCENARIO(thread_zombie_delays_child_leader, "a traced thread exits, then its leader: the "
                                            "tracer, also the parent, gets the leader's exit "
                                            "only after it reaped the thread")
{
	Pipe p;
	pid_t c = t.traceme("tracee", [&p] {
		pthread_t th;
		pthread_create(&th, nullptr, thread_reads, &p);
		pthread_join(th, nullptr);
		_exit(16);
	});
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c, 0);
	pid_t th = static_cast<pid_t>(t.eventmsg(c, true));
	t.name(th, "thread");
	t.wait(th, __WALL);
	t.ptrace(PTRACE_CONT, th);
	t.ptrace(PTRACE_CONT, c);
	p.post();
	wait_zombie(t, c);
	t.wait(c, __WALL | WNOHANG);
	t.wait(-1, __WALL);
	t.wait(-1, __WALL);
	t.wait(-1, __WALL | WNOHANG);
}

SCENARIO(thread_zombie_delays_non_child_leader, "the same for a non-child tracer of both "
                                                "threads: the leader's exit after the thread's")
{
	Pipe p, q;
	pid_t th = 0;
	pid_t c = two_threads_reading(t, "tracee", p, q, 18, th);
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_SEIZE, c);
		t.ptrace(PTRACE_SEIZE, th);
		q.post();
		p.post();
		wait_zombie(t, c);
		t.wait(c, __WALL | WNOHANG);
		t.wait(-1, __WALL);
		t.wait(-1, __WALL);
		t.wait(-1, __WALL | WNOHANG);
	});
	t.wait(r);
	t.wait(c);
}

SCENARIO(tracer_nocldstop_death, "a tracer with SA_NOCLDSTOP: no SIGCHLD for its tracee's stops, "
                                 "one for its death")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(12); });
	pid_t r = subtracer(t, [&] {
		struct sigaction sa {
		};
		sa.sa_handler = [](int) {};
		sa.sa_flags = SA_NOCLDSTOP;
		sigaction(SIGCHLD, &sa, nullptr);
		t.ptrace(PTRACE_ATTACH, c);
		t.wait(c);
		t.sigchld();
		t.ptrace(PTRACE_CONT, c);
		p.post();
		// Natively the zombie shows in /proc just before the SIGCHLD is
		// queued: look once the wait has reported the death.
		t.wait(c);
		t.sigchld();
	});
	t.wait(r);
	t.wait(c);
}

SCENARIO(tracer_exit_detaches, "the tracer exits without EXITKILL: the tracee is detached and "
                               "runs on")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(24); });
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_SEIZE, c);
		t.value("TracerPid", proc_status_field(c, "TracerPid") == std::to_string(getpid())
		                             ? "subtracer"
		                             : "other");
	});
	t.wait(r);
	t.value("TracerPid after", proc_status_field(c, "TracerPid"));
	p.post();
	t.wait(c);
}

SCENARIO(tracer_exit_exitkill, "the tracer exits with EXITKILL set: the tracee is killed")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(25); });
	pid_t r = subtracer(t, [&] { t.ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_EXITKILL); });
	t.wait(r);
	t.wait(c);
}

SCENARIO(tracer_exit_at_signal_stop, "the tracer exits while the tracee is in its attach "
                                     "SIGSTOP stop: what the tracee does then")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "tracee", p, [] { _exit(26); });
	pid_t r = subtracer(t, [&] {
		t.ptrace(PTRACE_ATTACH, c);
		t.wait(c);
	});
	t.wait(r);
	// The tracee either stops (the SIGSTOP delivered) or sleeps in read
	// again (dropped): wait until it is one or the other, then record.
	for (int i = 0; i < 200000; i++) {
		std::string st = proc_status_field(c, "State");
		if (st[0] == 'T')
			break;
		if (st[0] == 'S' && syscall_nr_of(c) == SYS_read)
			break;
		sched_yield();
	}
	t.state(c);
	t.wait(c, WUNTRACED | WNOHANG);
	kill(c, SIGCONT);
	p.post();
	t.wait(c);
}

SCENARIO(requests_on_non_tracee, "requests on an untraced child, on a gone pid: ESRCH")
{
	Pipe p;
	pid_t c = blocked_tracee(t, "untraced", p);
	long regs[64];
	t.ptrace(PTRACE_GETREGS, c, 0, U(regs));
	t.peek(PTRACE_PEEKDATA, c, U(&g_var), "g_var");
	t.ptrace(PTRACE_CONT, c);
	t.ptrace(PTRACE_KILL, c);
	t.ptrace(PTRACE_INTERRUPT, c);
	t.ptrace(PTRACE_DETACH, c);
	p.post();
	t.wait(c);
	t.ptrace(PTRACE_GETREGS, c, 0, U(regs), "gone");
	t.ptrace(PTRACE_CONT, c, 0, 0, "gone");
	t.ptrace(PTRACE_KILL, c, 0, 0, "gone");
}

SCENARIO(requests_bad, "unknown requests at a stop: EIO")
{
	pid_t c = probe_tracee(t, 0);
	t.ptrace(0x4321, c);
	t.ptrace(0x42ff, c);
	t.ptrace(-1, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(requests_on_zombie_tracee, "requests on a tracee that died but is not reaped")
{
	pid_t c = probe_tracee(t, 0);
	t.ptrace(PTRACE_CONT, c);
	wait_zombie(t, c);
	t.state(c);
	long regs[64];
	t.ptrace(PTRACE_GETREGS, c, 0, U(regs));
	t.ptrace(PTRACE_DETACH, c);
	t.ptrace(PTRACE_KILL, c);
	t.wait(c);
}
