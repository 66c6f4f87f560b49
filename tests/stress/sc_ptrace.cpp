// The ptrace backend under races: tracer and tracee dying in every order
// and every tracee state, PTRACE_O_EXITKILL, multi-threaded tracees,
// attach/detach races, and the backend switch attempted while tracers work.
// Every death-order combination runs under native ptrace too, with the same
// checks: native is the oracle for what the checks expect.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "fixture.hpp"

namespace stress
{
namespace
{

// What a tracee shares with the harness.
struct TraceeShared {
	std::atomic<uint64_t> progress{0};
	std::atomic<int> usr1{0};
	std::atomic<int> bad{0}; // getppid() returned a wrong value
	std::atomic<bool> churn{false};
};

TraceeShared *g_tracee; // in the tracee: for the signal handler

void on_usr1(int)
{
	g_tracee->usr1.fetch_add(1);
}

// A tracee: getppid() in a loop on every thread, checking its result; with
// @threads two more threads, with @churn threads that come and go.
[[noreturn]] void tracee_body(TraceeShared *sh, bool threads, pid_t parent)
{
	g_tracee = sh;
	struct sigaction sa {
	};
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	::sigaction(SIGUSR1, &sa, nullptr);
	auto loop = [sh, parent] {
		for (;;) {
			if (::syscall(SYS_getppid) != parent)
				sh->bad.fetch_add(1);
			sh->progress.fetch_add(1);
		}
	};
	if (threads) {
		std::thread(loop).detach();
		std::thread(loop).detach();
	}
	if (sh->churn) {
		std::thread([sh, parent] {
			for (;;) {
				std::thread t([sh, parent] {
					for (int i = 0; i < 50; i++)
						if (::syscall(SYS_getppid) != parent)
							sh->bad.fetch_add(1);
				});
				t.join();
			}
		}).detach();
	}
	loop();
	for (;;)
		::pause();
}

std::vector<pid_t> threads_of(pid_t pid)
{
	std::vector<pid_t> out;
	const std::string dir = "/proc/" + std::to_string(pid) + "/task";
	if (DIR *d = ::opendir(dir.c_str())) {
		while (const dirent *e = ::readdir(d))
			if (e->d_name[0] != '.')
				out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
		::closedir(d);
	}
	return out;
}

// waitpid(@pid) until it returns a stop or death, at most @bound; -1 on
// timeout (errno ETIMEDOUT) or error.
int wait_stop(pid_t pid, std::chrono::milliseconds bound, int *status)
{
	const auto end = Clock::now() + bound;
	for (;;) {
		const pid_t got = ::waitpid(pid, status, WNOHANG | __WALL);
		if (got == pid)
			return 0;
		if (got < 0 && errno != EINTR)
			return -1;
		if (Clock::now() >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		std::this_thread::sleep_for(1ms);
	}
}

enum class State { Running, SyscallStop, SignalStop, GroupStop, EventStop, kCount };
enum class Death {
	TracerKilled,
	TraceeKilledWhileWaiting,
	TraceeKilledWhileRequesting,
	Both,
	kCount
};

const char *state_name(State s)
{
	static const char *n[] = {"running", "syscall-stop", "signal-stop", "group-stop",
	                          "event-stop"};
	return n[static_cast<int>(s)];
}

const char *death_name(Death d)
{
	static const char *n[] = {"tracer-killed", "tracee-killed-while-tracer-waits",
	                          "tracee-killed-while-tracer-requests", "both-killed"};
	return n[static_cast<int>(d)];
}

struct Combo {
	State state;
	Death death;
	bool exitkill;
	bool threads;
	[[nodiscard]] std::string name() const
	{
		return std::string(state_name(state)) + "/" + death_name(death) +
		       (exitkill ? "/exitkill" : "") + (threads ? "/threads" : "");
	}
};

// Tracer exit codes.
enum : int {
	kTracerOk = 0,
	kSeizeFailed = 10,
	kNoStop = 11,
	kWrongStop = 12,
	kNoDeathSeen = 13,
	kRequestsNeverSawDeath = 14,
};

// The tracer: seizes @t, brings it to the combo's state, says so on
// @ready_fd, then waits for its death (wait mode) or makes requests until
// it is dead (request mode).
int tracer_body(const Combo &c, pid_t t, int ready_fd)
{
	long opts = PTRACE_O_TRACESYSGOOD;
	if (c.exitkill)
		opts |= PTRACE_O_EXITKILL;
	if (::ptrace(PTRACE_SEIZE, t, 0, opts) != 0)
		return kSeizeFailed;
	if (c.threads)
		for (const pid_t tid : threads_of(t))
			if (tid != t)
				::ptrace(PTRACE_SEIZE, tid, 0, opts);
	int st = 0;
	auto stop = [&](int expect_sig, int expect_event) -> int {
		if (wait_stop(t, 10s, &st) != 0)
			return kNoStop;
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != expect_sig || (st >> 16) != expect_event)
			return kWrongStop;
		return 0;
	};
	int err = 0;
	switch (c.state) {
	case State::Running:
	case State::kCount:
		break;
	case State::SyscallStop:
		::ptrace(PTRACE_INTERRUPT, t, 0, 0);
		if ((err = stop(SIGTRAP, PTRACE_EVENT_STOP)))
			return err;
		::ptrace(PTRACE_SYSCALL, t, 0, 0);
		if ((err = stop(SIGTRAP | 0x80, 0)))
			return err;
		break;
	case State::SignalStop:
		::syscall(SYS_tgkill, t, t, SIGUSR1);
		if ((err = stop(SIGUSR1, 0)))
			return err;
		break;
	case State::GroupStop:
		::syscall(SYS_tgkill, t, t, SIGSTOP);
		if ((err = stop(SIGSTOP, 0)))
			return err;
		::ptrace(PTRACE_CONT, t, 0, SIGSTOP);
		if ((err = stop(SIGSTOP, PTRACE_EVENT_STOP)))
			return err;
		break;
	case State::EventStop:
		::ptrace(PTRACE_INTERRUPT, t, 0, 0);
		if ((err = stop(SIGTRAP, PTRACE_EVENT_STOP)))
			return err;
		break;
	}
	const char r = 'r';
	if (::write(ready_fd, &r, 1) != 1)
		return 20;
	if (c.death == Death::TraceeKilledWhileRequesting) {
		const auto end = Clock::now() + 20s;
		while (Clock::now() < end) {
			siginfo_t si{};
			unsigned long msg = 0;
			errno = 0;
			::ptrace(PTRACE_PEEKUSER, t, 0, 0);
			::ptrace(PTRACE_GETSIGINFO, t, 0, &si);
			::ptrace(PTRACE_GETEVENTMSG, t, 0, &msg);
			// Other traced threads are reaped first: the leader's death
			// is reported after them.
			const pid_t got = ::waitpid(-1, &st, WNOHANG | __WALL);
			if (got == t && WIFSIGNALED(st))
				return WTERMSIG(st) == SIGKILL ? kTracerOk : kNoDeathSeen;
		}
		return kRequestsNeverSawDeath;
	}
	// Wait for every tracee (the thread group) to be gone.
	bool leader_killed = false;
	for (;;) {
		const pid_t got = ::waitpid(-1, &st, __WALL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break; // ECHILD: no tracee left
		}
		if (got == t && WIFSIGNALED(st))
			leader_killed = WTERMSIG(st) == SIGKILL;
	}
	return leader_killed ? kTracerOk : kNoDeathSeen;
}

// What a combination ends with, compared between the backends where the
// outcome is deterministic.
struct Outcome {
	std::string tracer;
	std::string tracee;
	int usr1 = 0;
	bool survived = false;
};

bool read_ready(int fd, std::chrono::milliseconds bound)
{
	pollfd p{fd, POLLIN, 0};
	if (::poll(&p, 1, static_cast<int>(bound.count())) != 1)
		return false;
	char c = 0;
	return ::read(fd, &c, 1) == 1 && c == 'r';
}

Outcome run_combo(const Combo &c, uint64_t r, Failures &f, Counters &n)
{
	Outcome out;
	auto *sh = shared_new<TraceeShared>();
	const pid_t self = ::getpid();
	const pid_t t = fork_child([sh, &c, self]() -> int { tracee_body(sh, c.threads, self); });
	// The threads exist before the tracer seizes them.
	if (c.threads && !eventually([t] { return threads_of(t).size() >= 3; }, 10s))
		f.add(c.name() + ": tracee threads did not start");
	int pipefd[2];
	if (::pipe2(pipefd, O_CLOEXEC) != 0)
		throw std::runtime_error("pipe");
	const pid_t tracer = fork_child([&] { return tracer_body(c, t, pipefd[1]); }, {pipefd[1]});
	::close(pipefd[1]);
	const bool ready = read_ready(pipefd[0], 15s);
	::close(pipefd[0]);
	auto fail = [&](const std::string &what) { f.add(c.name() + ": " + what); };
	if (!ready) {
		fail("tracer not ready: tracer " + describe_task(tracer) + "; tracee " +
		     describe_task(t));
		std::string why;
		if (!kill_and_reap(tracer, 10s, &why))
			fail("tracer " + why);
		if (!kill_and_reap(t, 10s, &why))
			fail("tracee " + why);
		return out;
	}
	auto reap = [&](pid_t pid, const char *who) -> std::optional<int> {
		const auto st = wait_bounded(pid, 10s);
		if (!st) {
			fail(std::string(who) + " not reaped within 10 s: " + describe_task(pid));
			std::string why;
			if (!kill_and_reap(pid, 10s, &why))
				fail(std::string(who) + " " + why);
		}
		return st;
	};
	switch (c.death) {
	case Death::TracerKilled:
	case Death::kCount: {
		::kill(tracer, SIGKILL);
		const auto rs = reap(tracer, "tracer");
		out.tracer = rs ? describe_status(*rs) : "stuck";
		if (c.exitkill) {
			const auto ts = reap(t, "tracee");
			out.tracee = ts ? describe_status(*ts) : "stuck";
			if (out.tracee != "killed by KILL")
				fail("EXITKILL tracee " + out.tracee);
			break;
		}
		if (c.state == State::GroupStop)
			::kill(t, SIGCONT);
		const uint64_t before = sh->progress.load();
		out.survived = eventually([&] { return sh->progress.load() > before + 100; }, 10s);
		if (!out.survived)
			fail("tracee does not run after its tracer died: " + describe_task(t));
		out.usr1 = sh->usr1.load();
		::kill(t, SIGKILL);
		const auto ts = reap(t, "tracee");
		out.tracee = ts ? describe_status(*ts) : "stuck";
		break;
	}
	case Death::TraceeKilledWhileWaiting:
	case Death::TraceeKilledWhileRequesting: {
		::kill(t, SIGKILL);
		const auto rs = reap(tracer, "tracer");
		out.tracer = rs ? describe_status(*rs) : "stuck";
		if (out.tracer != "exited 0")
			fail("tracer " + out.tracer + " (0: saw the tracee's SIGKILL death)");
		const auto ts = reap(t, "tracee");
		out.tracee = ts ? describe_status(*ts) : "stuck";
		break;
	}
	case Death::Both: {
		if (r & 1) {
			::kill(t, SIGKILL);
			::kill(tracer, SIGKILL);
		} else {
			::kill(tracer, SIGKILL);
			::kill(t, SIGKILL);
		}
		const auto rs = reap(tracer, "tracer");
		out.tracer = rs ? describe_status(*rs) : "stuck";
		if (out.tracer != "killed by KILL" && out.tracer != "exited 0")
			fail("tracer " + out.tracer);
		const auto ts = reap(t, "tracee");
		out.tracee = ts ? describe_status(*ts) : "stuck";
		break;
	}
	}
	if (out.tracee != "killed by KILL")
		fail("tracee " + out.tracee + " (expected: killed by KILL)");
	if (sh->bad.load())
		fail("tracee's getppid() returned a wrong value " + std::to_string(sh->bad.load()) +
		     " times");
	n.add(std::string("combos.") + (backend_on() ? "utrace" : "native"));
	return out;
}

std::vector<Combo> all_combos()
{
	std::vector<Combo> out;
	for (int s = 0; s < static_cast<int>(State::kCount); s++)
		for (int d = 0; d < static_cast<int>(Death::kCount); d++)
			for (const bool exitkill : {false, true})
				for (const bool threads : {false, true}) {
					// EXITKILL changes only what the tracer's death does.
					if (exitkill &&
					    static_cast<Death>(d) != Death::TracerKilled &&
					    static_cast<Death>(d) != Death::Both)
						continue;
					out.push_back({static_cast<State>(s), static_cast<Death>(d),
					               exitkill, threads});
				}
	return out;
}

} // namespace

TEST_F(StressTest, PtraceTracerAndTraceeDieInEveryOrderAndState)
{
	ASSERT_TRUE(module_loaded());
	Counters n;
	Failures f;
	auto rng = rng_for(7);
	const auto combos = all_combos();
	std::map<std::string, Outcome> native;
	for (const bool utrace : {false, true}) {
		ASSERT_EQ(set_backend(utrace), 0) << "switching the backend with nothing traced";
		const Budget b = budget(utrace ? 0.65 : 0.35);
		unsigned rounds = 0;
		do {
			for (const auto &c : combos) {
				const Outcome o = run_combo(c, rng(), f, n);
				// The tracee's state after its tracer died (signals it
				// got) is deterministic: the same under both backends.
				if (c.death == Death::TracerKilled && !c.exitkill) {
					const std::string key = c.name();
					if (!utrace) {
						native.emplace(key, o);
					} else if (native.count(key) &&
					           (native[key].usr1 != o.usr1 ||
					            native[key].survived != o.survived)) {
						f.add(key +
						      ": after the tracer's death the tracee "
						      "handled " +
						      std::to_string(o.usr1) + " SIGUSR1 (native " +
						      std::to_string(native[key].usr1) + ")");
					}
				}
			}
			rounds++;
		} while (!b.over());
		n.add(std::string("rounds.") + (utrace ? "utrace" : "native"), rounds);
	}
	n.add("combos_per_round", combos.size());
	report(n);
	expect_none(f, "ptrace");
}

namespace
{

// One round of PtraceAWaitForOneLiveTraceeSeesItsExitAndItsKill, in its own
// tracer process: 0 if the wait saw the death it expected.
int wait_one_round(uint64_t r)
{
	const bool kill_it = (r & 1) != 0;
	const int opts = (r & 2) != 0 ? __WALL : 0;
	const auto req = (r & 4) != 0 ? PTRACE_SYSCALL : PTRACE_CONT;
	// At most 400 stops: a round lasts well under its bound on the debug
	// kernel too (KASAN, multi-threaded TCG: milliseconds per stop).
	const unsigned loops = 1 + static_cast<unsigned>((r >> 8) % 200);
	const unsigned delay_us = static_cast<unsigned>((r >> 24) % 2000);
	const pid_t c = ::fork();
	if (c < 0)
		return 10;
	if (c == 0) {
		::ptrace(PTRACE_TRACEME, 0, 0, 0);
		::raise(SIGSTOP);
		for (unsigned i = 0; i < loops || kill_it; i++)
			::syscall(SYS_getppid);
		::_exit(7);
	}
	int st = 0;
	if (::waitpid(c, &st, 0) != c || !WIFSTOPPED(st))
		return 11;
	std::thread killer;
	if (kill_it)
		killer = std::thread([c, delay_us] {
			::usleep(delay_us);
			::kill(c, SIGKILL);
		});
	int ret = 12;
	for (;;) {
		// ESRCH: killed in its stop, its death is the next wait's.
		if (::ptrace(req, c, 0, 0) != 0 && errno != ESRCH) {
			ret = 13;
			break;
		}
		if (::waitpid(c, &st, opts) != c) {
			ret = 14;
			break;
		}
		if (WIFSTOPPED(st))
			continue;
		if (kill_it)
			ret = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 15;
		else
			ret = WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : 16;
		break;
	}
	if (killer.joinable())
		killer.join();
	return ret;
}

} // namespace

// A tracer's blocking wait for its one live child tracee (waitpid(pid) with
// no option or __WALL, which the backend answers without polling the
// kernel's wait) sees the tracee's stops, then its death: its own exit, or
// a SIGKILL another thread sends at a random moment, in a stop or running.
TEST_F(StressTest, PtraceAWaitForOneLiveTraceeSeesItsExitAndItsKill)
{
	ASSERT_TRUE(module_loaded());
	Counters n;
	Failures f;
	auto rng = rng_for(61);
	for (const bool utrace : {false, true}) {
		ASSERT_EQ(set_backend(utrace), 0) << "switching the backend with nothing traced";
		const Budget b = budget(0.5);
		do {
			const uint64_t r = rng();
			const pid_t tracer = fork_child([r] { return wait_one_round(r); });
			const auto st = wait_bounded(tracer, 60s);
			if (!st) {
				f.add("round " + std::to_string(r) +
				      ": tracer stuck: " + describe_task(tracer));
				kill_and_reap(tracer, 10s);
			} else if (!WIFEXITED(*st) || WEXITSTATUS(*st) != 0) {
				f.add("round " + std::to_string(r) + " (" +
				      (utrace ? "utrace" : "native") + "): tracer " +
				      describe_status(*st));
			}
			n.add(std::string("rounds.") + (utrace ? "utrace" : "native"));
		} while (!b.over());
	}
	report(n);
	expect_none(f, "wait");
}

// Two tracers seize, interrupt and detach the threads of a tracee whose
// threads come and go, under the backend.
TEST_F(StressTest, PtraceAttachDetachRacesOnAMultiThreadedTracee)
{
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(set_backend(true), 0);
	Counters n;
	Failures f;
	auto *sh = shared_new<TraceeShared>();
	sh->churn = true;
	auto *stop = shared_new<std::atomic<bool>>();
	struct TracerCounts {
		std::atomic<uint64_t> seize, seize_eperm, seize_esrch, stops, exits, detach,
		        detach_esrch, odd;
	};
	auto *tc = shared_new<TracerCounts>();
	const pid_t self = ::getpid();
	const pid_t t = fork_child([sh, self]() -> int { tracee_body(sh, true, self); });
	std::vector<pid_t> tracers;
	for (int i = 0; i < 2; i++)
		tracers.push_back(fork_child([t, stop, tc, i] {
			auto rng = rng_for(50 + static_cast<uint64_t>(i));
			while (!stop->load()) {
				const auto tids = threads_of(t);
				if (tids.empty())
					return 1;
				const pid_t tid = tids[rng() % tids.size()];
				if (::ptrace(PTRACE_SEIZE, tid, 0, 0) != 0) {
					(errno == EPERM   ? tc->seize_eperm
					 : errno == ESRCH ? tc->seize_esrch
					                  : tc->odd)++;
					continue;
				}
				tc->seize++;
				::ptrace(PTRACE_INTERRUPT, tid, 0, 0);
				int st = 0;
				if (wait_stop(tid, 10s, &st) != 0) {
					const int e = errno;
					std::fprintf(stderr,
					             "tracer %d: tid %d of %d: wait: %s; %s\n", i,
					             tid, t, std::strerror(e),
					             describe_task(tid).c_str());
					return 2; // neither stopped nor exited: stuck
				}
				if (WIFSTOPPED(st)) {
					tc->stops++;
					if (::ptrace(PTRACE_DETACH, tid, 0, 0) == 0)
						tc->detach++;
					else
						(errno == ESRCH ? tc->detach_esrch : tc->odd)++;
				} else {
					tc->exits++;
				}
			}
			return 0;
		}));
	const Budget b = budget(0.5);
	while (!b.over())
		std::this_thread::sleep_for(50ms);
	stop->store(true);
	for (const pid_t tr : tracers) {
		const auto st = wait_bounded(tr, 20s);
		if (!st) {
			f.add("tracer stuck: " + describe_task(tr));
			kill_and_reap(tr, 10s);
		} else if (describe_status(*st) != "exited 0") {
			f.add("tracer " + describe_status(*st) +
			      " (2: a seized thread was not reported stopped "
			      "or exited within 10 s: the reason is on stderr)");
		}
	}
	// Detached, the tracee runs on.
	const uint64_t before = sh->progress.load();
	if (!eventually([&] { return sh->progress.load() > before + 100; }, 10s))
		f.add("tracee does not run after the tracers left: " + describe_task(t));
	if (sh->bad.load())
		f.add("tracee's getppid() returned a wrong value");
	std::string why;
	if (!kill_and_reap(t, 10s, &why))
		f.add("tracee " + why);
	n.add("seize", tc->seize);
	n.add("seize.EPERM", tc->seize_eperm);
	n.add("seize.ESRCH", tc->seize_esrch);
	n.add("stops", tc->stops);
	n.add("thread_exits_seen", tc->exits);
	n.add("detach", tc->detach);
	n.add("detach.ESRCH", tc->detach_esrch);
	if (tc->odd)
		f.add(std::to_string(tc->odd.load()) +
		      " ptrace calls failed with an unexpected errno");
	report(n);
	expect_none(f, "attach/detach");
	EXPECT_GT(tc->stops.load(), 0U) << "no seize/interrupt/detach cycle completed";
}

namespace
{

// The first line of /proc/PID/status that starts with @key ("State:"), its
// value alone; "?" if none.
std::string status_field(pid_t pid, const std::string &key)
{
	const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
	const size_t at = status.find(key);
	if (at == std::string::npos)
		return "?";
	size_t from = at + key.size();
	while (from < status.size() && (status[from] == ' ' || status[from] == '\t'))
		from++;
	return status.substr(from, status.find('\n', from) - from);
}

// Everything /proc says about a tracee whose stop did not come: its State,
// TracerPid (not 0: a native tracer), /proc/PID/syscall, wchan and kernel
// stack, and its other threads.
std::string describe_missed_stop(pid_t t)
{
	const std::string base = "/proc/" + std::to_string(t);
	std::string out = "State " + status_field(t, "State:") + ", TracerPid " +
	                  status_field(t, "TracerPid:") + ", syscall ";
	std::string sc = read_file(base + "/syscall");
	while (!sc.empty() && sc.back() == '\n')
		sc.pop_back();
	out += sc + ", " + describe_task(t);
	return out;
}

// A wait status in words, with its value (the event in bits 16-23).
std::string wait_status_text(int status)
{
	std::ostringstream o;
	o << describe_status(status) << " (status 0x" << std::hex << status << ")";
	return o.str();
}

// A bounded copy of @text into a shared buffer.
template <size_t N> void copy_text(char (&to)[N], const std::string &text)
{
	const size_t n = std::min(text.size(), N - 1);
	std::memcpy(to, text.data(), n);
	to[n] = '\0';
}

// What a tracer process of PtraceInterruptOfAnExecLoopingTraceeAlwaysStops
// tells the harness: its cycles, and on a stop that did not come, what the
// wait returned and saw and what the tracee was doing.
struct InterruptTracer {
	std::atomic<uint64_t> cycles{0};
	std::atomic<int> failed{0}; // 0: none; else the line in @what says it
	std::atomic<uint64_t> event_stops{0};
	char what[3072] = {};
};

// SEIZE, INTERRUPT, the stop seen by waitpid (10 s at most), DETACH of @t (a
// process in an exec loop), until @b is over.  A stop that did not come is
// described (the wait's result and errno, /proc of the tracee), then waited
// for 10 s more: whether it came late or never.
int interrupt_cycles(pid_t t, long options, InterruptTracer *st, const Budget &b)
{
	auto fail = [st](const std::string &what) {
		copy_text(st->what, what);
		st->failed = 1;
		return 1;
	};
	for (uint64_t i = 0; !b.over(); i++) {
		if (::ptrace(PTRACE_SEIZE, t, 0, options) != 0)
			return fail(std::string("PTRACE_SEIZE: ") + std::strerror(errno));
		if (::ptrace(PTRACE_INTERRUPT, t, 0, 0) != 0)
			return fail(std::string("PTRACE_INTERRUPT: ") + std::strerror(errno));
		int status = 0;
		if (wait_stop(t, 10s, &status) != 0) {
			const int err = errno;
			std::string what = "cycle " + std::to_string(i) +
			                   ": no stop 10 s after PTRACE_INTERRUPT (waitpid: " +
			                   std::strerror(err) + "); " + describe_missed_stop(t);
			const auto from = Clock::now();
			if (wait_stop(t, 10s, &status) == 0)
				what += "; a later wait saw " + wait_status_text(status) +
				        " after " +
				        std::to_string(std::chrono::duration_cast<
				                               std::chrono::milliseconds>(
				                               Clock::now() - from)
				                               .count()) +
				        " ms more";
			else
				what += std::string("; 10 s more: no stop either (") +
				        std::strerror(errno) + ")";
			return fail(what);
		}
		const int event = status >> 16;
		if (!WIFSTOPPED(status) ||
		    (event != PTRACE_EVENT_STOP &&
		     !(event == PTRACE_EVENT_EXEC && (options & PTRACE_O_TRACEEXEC))))
			return fail("cycle " + std::to_string(i) + ": the wait saw " +
			            wait_status_text(status) +
			            ", not PTRACE_EVENT_STOP (or _EXEC)");
		if (::ptrace(PTRACE_DETACH, t, 0, 0) != 0)
			return fail(std::string("PTRACE_DETACH: ") + std::strerror(errno));
		st->cycles.fetch_add(1);
	}
	return 0;
}

// PTRACE_SYSCALL then at once PTRACE_INTERRUPT of @t (a getppid() loop),
// the stop waited for, again until @b is over: the INTERRUPT races the
// syscall stop the resume asked for, which it must not cancel.  Each syscall
// stop is an entry then an exit (PTRACE_GET_SYSCALL_INFO); two entries in a
// row mean the tracee left an entry stop its tracer saw and ran the call.
int syscall_interrupt_cycles(pid_t t, InterruptTracer *st, const Budget &b)
{
	auto fail = [st](const std::string &what) {
		copy_text(st->what, what);
		st->failed = 1;
		return 1;
	};
	int status = 0;
	if (::ptrace(PTRACE_SEIZE, t, 0, PTRACE_O_TRACESYSGOOD) != 0 ||
	    ::ptrace(PTRACE_INTERRUPT, t, 0, 0) != 0 || wait_stop(t, 10s, &status) != 0)
		return fail(std::string("SEIZE, INTERRUPT, wait: ") + std::strerror(errno));
	int last_op = 0;
	for (uint64_t i = 0; !b.over(); i++) {
		if (::ptrace(PTRACE_SYSCALL, t, 0, 0) != 0)
			return fail(std::string("PTRACE_SYSCALL: ") + std::strerror(errno));
		// A moment of 0 to 7 system calls: the INTERRUPT lands before,
		// at or after the tracee's next syscall stop.
		for (uint64_t k = 0; k < i % 8; k++)
			::syscall(SYS_getppid);
		if (::ptrace(PTRACE_INTERRUPT, t, 0, 0) != 0)
			return fail(std::string("PTRACE_INTERRUPT: ") + std::strerror(errno));
		if (wait_stop(t, 10s, &status) != 0)
			return fail("cycle " + std::to_string(i) + ": no stop (" +
			            std::strerror(errno) + "); " + describe_missed_stop(t));
		if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP) {
			st->event_stops.fetch_add(1);
			continue;
		}
		if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80))
			return fail("cycle " + std::to_string(i) + ": the wait saw " +
			            wait_status_text(status));
		__ptrace_syscall_info info{};
		if (::ptrace(PTRACE_GET_SYSCALL_INFO, t, sizeof(info), &info) <= 0)
			return fail(std::string("PTRACE_GET_SYSCALL_INFO: ") +
			            std::strerror(errno));
		if (info.op != PTRACE_SYSCALL_INFO_ENTRY && info.op != PTRACE_SYSCALL_INFO_EXIT)
			return fail("cycle " + std::to_string(i) + ": a syscall stop of op " +
			            std::to_string(info.op));
		if (info.op == last_op)
			return fail("cycle " + std::to_string(i) + ": two syscall " +
			            (info.op == PTRACE_SYSCALL_INFO_ENTRY ? "entry" : "exit") +
			            " stops in a row");
		last_op = info.op;
		st->cycles.fetch_add(1);
	}
	if (::ptrace(PTRACE_DETACH, t, 0, 0) != 0)
		return fail(std::string("PTRACE_DETACH: ") + std::strerror(errno));
	return 0;
}

// What a tracer process of BackendSwitchOnNeverLeavesANativeTracee tells the
// harness: its cycles, and the step that failed with its errno, the wait
// status, which backend served the SEIZE (TracerPid not 0: native) and, for
// a stop that did not come, what the tracee was doing.
struct SwitchTracer {
	std::atomic<uint64_t> cycles{0};
	std::atomic<int> step{0}; // SwitchStep
	std::atomic<int> err{0};
	std::atomic<int> status{-1};       // the wait's status, -1: none
	std::atomic<int> native_seize{-1}; // 1: TracerPid set after SEIZE; -1: not a SEIZE
	char what[3072] = {};
};

enum SwitchStep {
	kSeize = 1,
	kInterrupt,
	kWaitStop,
	kDetach,
	kTraceme,
	kWaitSigstop,
	kCont,
	kWaitExit
};

const char *switch_step_name(int step)
{
	static const char *n[] = {"none",
	                          "PTRACE_SEIZE",
	                          "PTRACE_INTERRUPT after a SEIZE that returned 0",
	                          "the wait for the stop after INTERRUPT",
	                          "PTRACE_DETACH of the stopped tracee",
	                          "PTRACE_TRACEME (child)",
	                          "the wait for the TRACEME child's SIGSTOP",
	                          "PTRACE_CONT of a child whose TRACEME returned 0",
	                          "the wait for the TRACEME child's exit"};
	return step >= 0 && step <= kWaitExit ? n[step] : "?";
}

int switch_fail(SwitchTracer *st, int step, int err)
{
	st->err = err;
	st->step = step;
	return 1;
}

// The switch tracers park between cycles, holding no tracee, while asked to.
struct Parking {
	std::atomic<bool> asked{false};
	std::atomic<int> parked{0};
};

void park_if_asked(Parking *p, const std::atomic<bool> *stop)
{
	if (!p->asked.load())
		return;
	p->parked.fetch_add(1);
	while (p->asked.load() && !stop->load())
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	p->parked.fetch_sub(1);
}

// One tracer: SEIZE @t (a process in an exec loop: the SEIZE often waits for
// its cred_guard_mutex, between the syscall hook and the link), INTERRUPT,
// wait for the stop, DETACH; again until @stop.  Whichever backend served
// the SEIZE must serve the requests that follow.  The SEIZE asks for
// PTRACE_O_TRACEEXEC: natively an INTERRUPT that reaches the tracee inside
// execve() before de_thread() is lost (zap_other_threads() clears its
// JOBCTL_TRAP_STOP, PtraceInterruptOfAnExecLoopingTraceeAlwaysStops), and
// the EXEC stop is then the stop that comes.
int seize_cycles(pid_t t, SwitchTracer *st, const std::atomic<bool> *stop, Parking *park)
{
	for (uint64_t i = 0; !stop->load(); i++) {
		park_if_asked(park, stop);
		if (::ptrace(PTRACE_SEIZE, t, 0, PTRACE_O_TRACEEXEC) != 0)
			return switch_fail(st, kSeize, errno);
		// Which backend served it: native sets TracerPid, the backend not.
		st->native_seize = std::atol(status_field(t, "TracerPid:").c_str()) != 0 ? 1 : 0;
		if (::ptrace(PTRACE_INTERRUPT, t, 0, 0) != 0)
			return switch_fail(st, kInterrupt, errno);
		int status = 0;
		if (wait_stop(t, 10s, &status) != 0) {
			const int err = errno;
			copy_text(st->what, describe_missed_stop(t));
			return switch_fail(st, kWaitStop, err);
		}
		if (!WIFSTOPPED(status) ||
		    ((status >> 16) != PTRACE_EVENT_STOP && (status >> 16) != PTRACE_EVENT_EXEC)) {
			st->status = status;
			return switch_fail(st, kWaitStop, 0);
		}
		if (::ptrace(PTRACE_DETACH, t, 0, 0) != 0)
			return switch_fail(st, kDetach, errno);
		st->cycles.fetch_add(1);
		std::this_thread::sleep_for(std::chrono::microseconds((i * 397) % 2000));
	}
	return 0;
}

// One TRACEME cycle after another: the child's PTRACE_TRACEME, its SIGSTOP
// seen by the wait, PTRACE_CONT, its exit 0.
int traceme_cycles(SwitchTracer *st, const std::atomic<bool> *stop, Parking *park)
{
	for (uint64_t i = 0; !stop->load(); i++) {
		park_if_asked(park, stop);
		const pid_t c = fork_traceme_child();
		int status = 0;
		if (wait_stop(c, 10s, &status) != 0 || !WIFSTOPPED(status) ||
		    WSTOPSIG(status) != SIGSTOP) {
			const bool refused = WIFEXITED(status) && WEXITSTATUS(status) == 30;
			const int err = errno;
			kill_and_reap(c, 10s);
			return switch_fail(st, refused ? kTraceme : kWaitSigstop,
			                   refused ? 0 : err);
		}
		if (::ptrace(PTRACE_CONT, c, 0, 0) != 0) {
			const int err = errno;
			kill_and_reap(c, 10s);
			return switch_fail(st, kCont, err);
		}
		if (wait_stop(c, 10s, &status) != 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			const int err = errno;
			kill_and_reap(c, 10s);
			return switch_fail(st, kWaitExit, err);
		}
		st->cycles.fetch_add(1);
		std::this_thread::sleep_for(std::chrono::microseconds((i * 397) % 2000));
	}
	return 0;
}

// Processes with a native tracer: TracerPid (->ptrace and ->parent) is not 0
// in /proc/PID/status ("pid 12 TracerPid 34").  utrace tracees have none.
std::vector<std::string> native_tracees()
{
	std::vector<std::string> out;
	DIR *d = ::opendir("/proc");
	if (d == nullptr)
		return out;
	while (const dirent *e = ::readdir(d)) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		const std::string status = read_file(std::string("/proc/") + e->d_name + "/status");
		const size_t at = status.find("TracerPid:");
		if (at == std::string::npos)
			continue;
		const long tracer = std::atol(status.c_str() + at + std::strlen("TracerPid:"));
		if (tracer != 0)
			out.push_back(std::string("pid ") + e->d_name + " TracerPid " +
			              std::to_string(tracer));
	}
	::closedir(d);
	return out;
}

} // namespace

// PTRACE_INTERRUPT of a seized process in an exec loop always brings a stop
// the tracer's wait sees: SEIZE, INTERRUPT, wait, DETACH, again and again by
// tracers that are not the tracees' parent, under native ptrace (the oracle)
// and then under the backend, with no switch in between.  The stop is
// PTRACE_EVENT_STOP, or PTRACE_EVENT_EXEC for a tracee seized with
// PTRACE_O_TRACEEXEC.  Natively an INTERRUPT that reaches a multi-threaded
// tracee inside execve() before de_thread() is lost: zap_other_threads()
// clears the exec'ing thread's own JOBCTL_TRAP_STOP (kernel/signal.c), and no
// stop comes (1 cycle in some 500 here; never for a single-threaded tracee,
// whose exec skips it, nor with TRACEEXEC, whose EXEC stop comes all the
// same).  The backend keeps that INTERRUPT (docs/PTRACE.md, "Differences"):
// that kind runs under the backend only.  A stop that did not come within
// 10 s is described: the wait's errno, the tracee's State, TracerPid,
// syscall, wchan and stack, and whether it came later.
TEST_F(StressTest, PtraceInterruptOfAnExecLoopingTraceeAlwaysStops)
{
	ASSERT_TRUE(module_loaded());
	ASSERT_FALSE(options().self.empty());
	Counters n;
	Failures f;
	const std::string self = options().self;
	struct Kind {
		const char *mode; // the tracee's --child mode
		long options;     // SEIZE's
		const char *name;
	};
	const std::vector<Kind> all_kinds = {
	        {"exec-loop-alone", 0, "single-threaded"},
	        {"exec-loop-alone", 0, "single-threaded"},
	        {"exec-loop", PTRACE_O_TRACEEXEC, "threaded, TRACEEXEC"},
	        {"exec-loop", PTRACE_O_TRACEEXEC, "threaded, TRACEEXEC"},
	        {"exec-loop", 0, "threaded, no options"}};
	for (const bool utrace : {false, true}) {
		ASSERT_EQ(set_backend(utrace), 0) << "switching the backend with nothing traced";
		const std::string name = utrace ? "backend" : "native";
		// The last kind loses INTERRUPTs natively (above).
		const std::vector<Kind> kinds(all_kinds.begin(),
		                              all_kinds.end() - (utrace ? 0 : 1));
		const Budget b = budget(0.5);
		std::vector<pid_t> tracees;
		std::vector<pid_t> tracers;
		std::vector<InterruptTracer *> reports;
		for (const Kind &k : kinds) {
			tracees.push_back(fork_child([&self, &k]() -> int {
				char *argv[] = {const_cast<char *>(self.c_str()),
				                const_cast<char *>("--child"),
				                const_cast<char *>(k.mode), nullptr};
				::execv(self.c_str(), argv);
				return 66;
			}));
			auto *st = shared_new<InterruptTracer>();
			reports.push_back(st);
			const pid_t t = tracees.back();
			tracers.push_back(fork_child(
			        [t, st, &b, &k] { return interrupt_cycles(t, k.options, st, b); }));
		}
		for (size_t i = 0; i < tracers.size(); i++) {
			const std::string who =
			        name + " tracer " + std::to_string(i) + " (" + kinds[i].name + ")";
			const auto st = wait_bounded(tracers[i], 60s);
			if (!st) {
				f.add(who + " stuck: " + describe_task(tracers[i]));
				kill_and_reap(tracers[i], 10s);
			} else if (describe_status(*st) != "exited 0") {
				f.add(who + " " + describe_status(*st) + ": " +
				      (reports[i]->failed ? reports[i]->what : "(no report)"));
			}
			n.add(name + ".cycles", reports[i]->cycles.load());
			n.add(name + "." + kinds[i].name, reports[i]->cycles.load());
		}
		for (const pid_t t : tracees) {
			std::string why;
			if (!kill_and_reap(t, 10s, &why))
				f.add(name + " exec-loop tracee " + why);
		}
		EXPECT_GT(n.get(name + ".cycles"), 0U) << name << ": no cycle completed";
	}
	report(n);
	expect_none(f, "PTRACE_INTERRUPT of an exec-looping tracee");
}

// A PTRACE_INTERRUPT right after PTRACE_SYSCALL never cancels the syscall
// stop it races (syscall_interrupt_cycles()): two tracers, native (the
// oracle) then the backend.
TEST_F(StressTest, PtraceInterruptNeverCancelsTheSyscallStopItRaces)
{
	ASSERT_TRUE(module_loaded());
	Counters n;
	Failures f;
	for (const bool utrace : {false, true}) {
		ASSERT_EQ(set_backend(utrace), 0) << "switching the backend with nothing traced";
		const std::string name = utrace ? "backend" : "native";
		const Budget b = budget(0.5);
		std::vector<pid_t> tracees;
		std::vector<pid_t> tracers;
		std::vector<InterruptTracer *> reports;
		const pid_t self = ::getpid();
		for (int i = 0; i < 2; i++) {
			auto *sh = shared_new<TraceeShared>();
			tracees.push_back(
			        fork_child([sh, self]() -> int { tracee_body(sh, false, self); }));
			auto *st = shared_new<InterruptTracer>();
			reports.push_back(st);
			const pid_t t = tracees.back();
			tracers.push_back(fork_child(
			        [t, st, &b] { return syscall_interrupt_cycles(t, st, b); }));
		}
		for (size_t i = 0; i < tracers.size(); i++) {
			const std::string who = name + " tracer " + std::to_string(i);
			const auto st = wait_bounded(tracers[i], 60s);
			if (!st) {
				f.add(who + " stuck: " + describe_task(tracers[i]));
				kill_and_reap(tracers[i], 10s);
			} else if (describe_status(*st) != "exited 0") {
				f.add(who + " " + describe_status(*st) + ": " +
				      (reports[i]->failed ? reports[i]->what : "(no report)"));
			}
			n.add(name + ".syscall_stops", reports[i]->cycles.load());
			n.add(name + ".event_stops", reports[i]->event_stops.load());
		}
		for (const pid_t t : tracees) {
			std::string why;
			if (!kill_and_reap(t, 10s, &why))
				f.add(name + " tracee " + why);
		}
	}
	report(n);
	expect_none(f, "PTRACE_INTERRUPT racing a syscall stop");
}

// The backend switched on while native PTRACE_SEIZEs (of processes in an
// exec loop, so that most SEIZEs wait for the tracee's cred_guard_mutex
// inside the call) and PTRACE_TRACEMEs are in flight: each switch either is
// refused (EBUSY) or leaves no native relationship behind -- no process has
// a TracerPid while the backend is on, and every tracer's requests after a
// SEIZE or TRACEME that returned 0 succeed, whichever backend served it.
// Before the fix a native call that passed the syscall hook while the
// backend was off linked after the switch had looked: a native tracee under
// the backend, whose tracer's INTERRUPT or CONT failed with ESRCH.  At the
// end the tracers park between cycles, and a switch must then get through.
TEST_F(StressTest, BackendSwitchOnNeverLeavesANativeTracee)
{
	ASSERT_TRUE(module_loaded());
	ASSERT_FALSE(options().self.empty());
	Counters n;
	Failures f;
	auto *stop = shared_new<std::atomic<bool>>();
	auto *park = shared_new<Parking>();
	constexpr int kSeizers = 3;
	std::vector<pid_t> tracees;
	std::vector<pid_t> tracers;
	std::vector<SwitchTracer *> reports;
	tracees.reserve(kSeizers);
	tracers.reserve(kSeizers + 1);
	reports.reserve(kSeizers + 1);
	const std::string self = options().self;
	for (int i = 0; i < kSeizers; i++) {
		tracees.push_back(fork_child([&self]() -> int {
			char *argv[] = {const_cast<char *>(self.c_str()),
			                const_cast<char *>("--child"),
			                const_cast<char *>("exec-loop"), nullptr};
			::execv(self.c_str(), argv);
			return 66;
		}));
	}
	for (int i = 0; i <= kSeizers; i++) {
		auto *st = shared_new<SwitchTracer>();
		reports.push_back(st);
		if (i < kSeizers) {
			const pid_t t = tracees[static_cast<size_t>(i)];
			tracers.push_back(fork_child(
			        [t, st, stop, park] { return seize_cycles(t, st, stop, park); }));
		} else {
			tracers.push_back(fork_child(
			        [st, stop, park] { return traceme_cycles(st, stop, park); }));
		}
	}
	// One attempt: refused while a native tracee exists; once through, none
	// may exist, and the backend goes off again.
	const auto attempt = [&] {
		const int err = set_backend(true);
		if (err == EBUSY) {
			n.add("switch_on.EBUSY");
			return err;
		}
		if (err != 0) {
			f.add(std::string("switch on: ") + std::strerror(err));
			return err;
		}
		n.add("switch_on.done");
		for (const auto &t : native_tracees())
			f.add("a native tracee while the backend is on: " + t);
		int off = 0;
		if (!eventually(
		            [&] {
			            off = set_backend(false);
			            return off != EBUSY;
		            },
		            10s) ||
		    off != 0)
			f.add(std::string("switch off: ") + std::strerror(off));
		return 0;
	};
	const Budget b = budget(0.5);
	uint64_t r = 0;
	while (!b.over()) {
		attempt();
		std::this_thread::sleep_for(std::chrono::microseconds((r++ * 631) % 3000));
	}
	// The attempts above race the tracers, and get through only at a
	// moment when none holds a tracee, which the tracers' pace may never
	// give: on a loaded host, 0 of 426 attempts once (ppc64le 6.1,
	// 2026-12-07; ppc64le 6.12 once before).  So the tracers park between
	// cycles now: with no tracee held, a switch must get through, or a
	// native tracee is counted that is gone.
	park->asked.store(true);
	if (!eventually([&] { return park->parked.load() == kSeizers + 1; }, 30s)) {
		f.add("the tracers did not park: " + std::to_string(park->parked.load()) + " of " +
		      std::to_string(kSeizers + 1));
	} else if (const int err = attempt(); err != 0) {
		std::string held;
		for (const auto &t : native_tracees())
			held += " " + t;
		f.add(std::string("no switch to the backend with every tracer parked: ") +
		      std::strerror(err) + (held.empty() ? " (no native tracee)" : ";" + held));
	}
	park->asked.store(false);
	stop->store(true);
	for (size_t i = 0; i < tracers.size(); i++) {
		const std::string who = i < kSeizers ? "SEIZE tracer " + std::to_string(i)
		                                     : std::string("TRACEME tracer");
		const auto st = wait_bounded(tracers[i], 30s);
		if (!st) {
			f.add(who + " stuck: " + describe_task(tracers[i]));
			kill_and_reap(tracers[i], 10s);
		} else if (describe_status(*st) != "exited 0") {
			const SwitchTracer *r = reports[i];
			std::string what = who + " " + describe_status(*st) + ": " +
			                   switch_step_name(r->step) + " failed: " +
			                   (r->err != 0 ? std::strerror(r->err) : "no error");
			if (r->native_seize >= 0)
				what += std::string(", the SEIZE served by ") +
				        (r->native_seize != 0 ? "native ptrace" : "the backend");
			if (r->status >= 0)
				what += ", the wait saw " + wait_status_text(r->status);
			if (r->what[0] != '\0')
				what += std::string(", the tracee: ") + r->what;
			f.add(what);
		}
		n.add(i < kSeizers ? "seize_cycles" : "traceme_cycles", reports[i]->cycles.load());
	}
	for (const pid_t t : tracees) {
		std::string why;
		if (!kill_and_reap(t, 10s, &why))
			f.add("exec-loop tracee " + why);
	}
	report(n);
	expect_none(f, "switch on");
	EXPECT_GT(n.get("switch_on.EBUSY"), 0U) << "no switch attempt met a native tracee";
}

// The backend switch, attempted again and again while tracers work: each
// attempt is done or refused with EBUSY, every tracer works, and while a
// tracee is held stopped every attempt to switch is refused.
TEST_F(StressTest, BackendSwitchIsRefusedWhileTracersWork)
{
	ASSERT_TRUE(module_loaded());
	Counters n;
	Failures f;
	std::atomic<bool> held{false};
	std::atomic<bool> done{false};
	std::thread switcher([&] {
		while (!done) {
			const bool was_held = held.load();
			const bool to = !backend_on();
			const int err = set_backend(to);
			const bool still_held = held.load();
			if (err == 0) {
				n.add(to ? "switch.to_utrace" : "switch.to_native");
				if (was_held && still_held)
					f.add("the backend switched while a tracee was held "
					      "stopped");
			} else if (err == EBUSY) {
				n.add("switch.EBUSY");
			} else {
				f.add(std::string("switch: ") + std::strerror(err));
			}
			std::this_thread::sleep_for(1ms);
		}
	});
	std::vector<pid_t> churn;
	auto *stop = shared_new<std::atomic<bool>>();
	auto *cycles = shared_new<std::atomic<uint64_t>>();
	for (int i = 0; i < 2; i++)
		churn.push_back(fork_child([stop, cycles] {
			while (!stop->load()) {
				const int err = traceme_cycle(20);
				if (err)
					return err;
				cycles->fetch_add(1);
				// A pause now and then: a window for the switch.
				std::this_thread::sleep_for(
				        std::chrono::milliseconds(cycles->load() % 4));
			}
			return 0;
		}));
	const Budget b = budget(0.5);
	const pid_t self = ::getpid();
	while (!b.over()) {
		// Hold a tracee stopped; the switch must be refused meanwhile.
		auto *sh = shared_new<TraceeShared>();
		const pid_t t = fork_child([sh, self]() -> int { tracee_body(sh, false, self); });
		int to_h[2], to_r[2];
		if (::pipe2(to_h, O_CLOEXEC) != 0 || ::pipe2(to_r, O_CLOEXEC) != 0)
			throw std::runtime_error("pipe");
		const pid_t r = fork_child(
		        [&] {
			        if (::ptrace(PTRACE_SEIZE, t, 0, PTRACE_O_TRACESYSGOOD) != 0)
				        return 50;
			        ::ptrace(PTRACE_INTERRUPT, t, 0, 0);
			        int st = 0;
			        if (wait_stop(t, 10s, &st) != 0 || !WIFSTOPPED(st))
				        return 51;
			        const char h = 'r';
			        if (::write(to_h[1], &h, 1) != 1)
				        return 52;
			        char g = 0;
			        if (::read(to_r[0], &g, 1) != 1)
				        return 53;
			        for (int i = 0; i < 10; i++) {
				        if (::ptrace(PTRACE_SYSCALL, t, 0, 0) != 0)
					        return 54;
				        if (wait_stop(t, 10s, &st) != 0 || !WIFSTOPPED(st))
					        return 55;
			        }
			        if (::ptrace(PTRACE_DETACH, t, 0, 0) != 0)
				        return 56;
			        return 0;
		        },
		        {to_h[1], to_r[0]});
		::close(to_h[1]);
		::close(to_r[0]);
		if (read_ready(to_h[0], 15s)) {
			held = true;
			std::this_thread::sleep_for(20ms);
			held = false;
		}
		const char g = 'g';
		(void)!::write(to_r[1], &g, 1);
		::close(to_h[0]);
		::close(to_r[1]);
		const auto st = wait_bounded(r, 20s);
		if (!st) {
			f.add("holding tracer stuck: " + describe_task(r));
			kill_and_reap(r, 10s);
		} else if (describe_status(*st) != "exited 0") {
			f.add("holding tracer " + describe_status(*st));
		}
		std::string why;
		if (!kill_and_reap(t, 10s, &why))
			f.add("held tracee " + why);
		n.add("holds");
	}
	stop->store(true);
	for (const pid_t c : churn) {
		const auto st = wait_bounded(c, 30s);
		if (!st) {
			f.add("churning tracer stuck: " + describe_task(c));
			kill_and_reap(c, 10s);
		} else if (describe_status(*st) != "exited 0") {
			f.add("churning tracer " + describe_status(*st) +
			      " (40-45: a ptrace request or wait failed, see traceme_cycle)");
		}
	}
	done = true;
	switcher.join();
	n.add("traceme_cycles", cycles->load());
	report(n);
	expect_none(f, "switch");
	EXPECT_GT(n.get("switch.EBUSY"), 0U) << "no switch attempt met a tracee";
}

} // namespace stress
