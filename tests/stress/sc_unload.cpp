// rmmod utrace with engines attached: every traced task must survive the
// unload untouched (no SIGSYS, SIGTRAP or other death, its system calls
// keep returning the right values), whatever it was doing: system calls in
// a tight loop with syscall-entry/exit events on, blocked in a call, stopped,
// single-stepped, reporting to a user engine, with /dev/utrace opened,
// used and closed while the unload is attempted.  Unload while the ptrace
// backend has tracees is refused (EBUSY) and leaves everything working, and
// unload between ptrace requests that hold no module reference of their
// own lets every one of them finish.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "fixture.hpp"
#include "uapi/utrace.h"
#include "utrace/device.hpp"
#include "utrace/error.hpp"

namespace stress
{
namespace
{

using utrace::Action;
using utrace::bit;
using utrace::Device;
using utrace::EngineType;
using utrace::Event;

// What a target shares with the harness.
struct TargetShared {
	std::atomic<uint64_t> progress{0};
	std::atomic<uint64_t> bad{0};   // a system call returned a wrong value
	std::atomic<uint64_t> traps{0}; // SIGTRAPs (TRAP_TRACE) handled
	std::atomic<bool> stop{false};  // exit 0 now
};

TargetShared *g_target;

void on_trap(int, siginfo_t *, void *)
{
	g_target->traps.fetch_add(1);
}

// System calls in a tight loop, each result checked, on @threads threads.
int looper(TargetShared *sh, pid_t parent, int threads, bool trap_handler)
{
	g_target = sh;
	if (trap_handler) {
		struct sigaction sa {
		};
		sa.sa_sigaction = on_trap;
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
		::sigaction(SIGTRAP, &sa, nullptr);
	}
	const pid_t self = ::getpid();
	auto loop = [sh, parent, self] {
		while (!sh->stop.load(std::memory_order_relaxed)) {
			if (::syscall(SYS_getppid) != parent)
				sh->bad.fetch_add(1);
			if (::syscall(SYS_getpid) != self)
				sh->bad.fetch_add(1);
			sh->progress.fetch_add(1, std::memory_order_relaxed);
		}
	};
	std::vector<std::thread> more;
	for (int i = 1; i < threads; i++)
		more.emplace_back(loop);
	loop();
	for (auto &t : more)
		t.join();
	return sh->bad.load() ? 3 : 0;
}

// Sleeps in nanosleep() again and again, for @ms each time, until told to
// stop: blocked in a system call most of the time, leaving it at @ms
// intervals, so some sleeper leaves its call at each moment of an unload.
int sleeper(TargetShared *sh, pid_t parent, long ms)
{
	sh->progress = 1;
	while (!sh->stop.load()) {
		const timespec ts{ms / 1000, (ms % 1000) * 1000000};
		if (::syscall(SYS_nanosleep, &ts, nullptr) != 0)
			sh->bad.fetch_add(1);
		if (::syscall(SYS_getppid) != parent)
			sh->bad.fetch_add(1);
		sh->progress.fetch_add(1);
	}
	return sh->bad.load() ? 3 : 0;
}

// Blocked in read() until the harness writes; the byte must arrive.
int blocker(TargetShared *sh, int fd)
{
	sh->progress = 1;
	char c = 0;
	const ssize_t n = ::read(fd, &c, 1);
	return n == 1 && c == 'x' ? 0 : 4;
}

struct Target {
	std::string what;
	pid_t pid = -1;
	TargetShared *sh = nullptr;
	int wake_fd = -1; // blocker: write 'x' here
};

// Engines are attached once a child runs its body: attached earlier, a
// stopper could stop it before it closed the harness's /dev/utrace files.
pid_t started(pid_t pid, TargetShared *sh)
{
	if (!eventually([sh] { return sh->progress.load() > 0; }, 10s))
		throw std::runtime_error("child did not start: " + describe_task(pid));
	return pid;
}

// A syscall table that reports getppid() and leaves getpid() out.
std::vector<uint16_t> getppid_only()
{
	std::vector<uint16_t> t(std::max(SYS_getppid, SYS_getpid) + 1, 0);
	t[SYS_getppid] = utrace::kSyscallReport;
	return t;
}

pid_t start_looper(TargetShared *sh, int threads, bool trap_handler)
{
	const pid_t parent = ::getpid();
	return started(fork_child([=] { return looper(sh, parent, threads, trap_handler); }), sh);
}

bool runs_on(const Target &t, uint64_t steps = 200)
{
	const uint64_t before = t.sh->progress.load();
	return eventually([&] { return t.sh->progress.load() >= before + steps; }, 15s);
}

// Finishes a target: it must run (progress) and exit 0.
void finish(Target &t, Failures &f, const char *phase)
{
	if (t.wake_fd >= 0) {
		(void)!::write(t.wake_fd, "x", 1);
		::close(t.wake_fd);
	} else {
		if (!t.sh->stop && !runs_on(t))
			f.add(t.what + " does not run " + phase + ": " + describe_task(t.pid));
		t.sh->stop = true;
	}
	const auto st = wait_bounded(t.pid, 15s);
	if (!st) {
		f.add(t.what + " does not exit " + phase + ": " + describe_task(t.pid));
		kill_and_reap(t.pid, 10s);
		return;
	}
	if (describe_status(*st) != "exited 0")
		f.add(t.what + " " + describe_status(*st) + " " + phase +
		      (t.sh && t.sh->bad.load() ? " (a system call returned a wrong value)" : ""));
}

// Unloads, retrying while the module is busy (a file open meanwhile): the
// errno if it never succeeds within @bound.
int unload(std::chrono::milliseconds bound, Counters &n)
{
	int err = 0;
	const auto t0 = Clock::now();
	eventually(
	        [&] {
		        err = try_unload_module();
		        if (err == EBUSY || err == EAGAIN)
			        n.add("unload.EBUSY");
		        return err != EBUSY && err != EAGAIN;
	        },
	        bound);
	n.add("unload_ms",
	      static_cast<uint64_t>(
	              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0)
	                      .count()));
	if (err == 0)
		n.add("unloads");
	return err;
}

bool reload(Failures &f)
{
	if (module_loaded())
		return true;
	const std::string err = load_module();
	if (!err.empty()) {
		f.add("loading again: " + err);
		return false;
	}
	record_baseline();
	return true;
}

} // namespace

// Finding 7 of issue 12: unload removes the syscall-entry/exit redirects
// before the tasks' work bits are cleared; a task in a system call loop
// then gets the kernel's own SIGSYS (syscall user dispatch) or SIGTRAP
// (syscall-exit single-step report).
TEST_F(StressTest, UnloadLeavesTasksInSyscallLoopsUntouched)
{
	Counters n;
	Failures f;
	const Budget b = budget();
	unsigned rounds = 0;
	do {
		if (!reload(f))
			break;
		std::vector<Target> targets;
		{
			const Device dev;
			for (int i = 0; i < 4; i++) {
				Target t{"syscall looper " + std::to_string(i), -1,
				         shared_new<TargetShared>()};
				t.pid = start_looper(t.sh, 1 + i % 2, false);
				targets.push_back(t);
				// Persistent count engines: they stay attached after
				// the file is closed, so the unload meets them.
				const auto id = dev.attach(t.pid, EngineType::Count,
				                           bit(Event::SyscallEntry) |
				                                   bit(Event::SyscallExit),
				                           0, utrace::Lifetime::Persistent);
				// Even ones filter getpid() out and report getppid():
				// the exit trap bit comes and goes at every call
				// (arch_x86.c, exit_trap_for_call()), and must be gone
				// with the module all the same.
				if (i % 2 == 0)
					dev.set_syscalls(id, getppid_only());
				if (i % 2)
					(void)dev.attach(t.pid, EngineType::Count,
					                 bit(Event::SyscallExit) |
					                         bit(Event::Quiesce),
					                 0, utrace::Lifetime::Persistent);
			}
			for (const auto &t : targets)
				if (!runs_on(t))
					f.add(t.what +
					      " does not run traced: " + describe_task(t.pid));
			const pid_t parent = ::getpid();
			for (long i = 0; i < 24; i++) {
				Target t{"sleeper " + std::to_string(i), -1,
				         shared_new<TargetShared>()};
				// 5 ms to 5 s: some sleeper wakes at each moment of the
				// unload, however long its steps take.
				const long ms = static_cast<long>(
				        5 * std::pow(1.35, static_cast<double>(i)));
				t.pid = started(fork_child([sh = t.sh, parent, ms] {
					                return sleeper(sh, parent, ms);
				                }),
				                t.sh);
				targets.push_back(t);
				(void)dev.attach(t.pid, EngineType::Count,
				                 bit(Event::SyscallEntry) | bit(Event::SyscallExit),
				                 0, utrace::Lifetime::Persistent);
			}
		}
		const int err = unload(30s, n);
		if (err)
			f.add(std::string("unload: ") + std::strerror(err) + ", refcnt " +
			      std::to_string(module_refcnt()) + ", /dev/utrace open by " +
			      utrace_file_holders());
		for (auto &t : targets) {
			// A sleeper must come round its loop once more.
			if (t.what.rfind("sleeper", 0) == 0 && !runs_on(t, 1))
				f.add(t.what +
				      " does not run after the unload: " + describe_task(t.pid));
			if (t.what.rfind("sleeper", 0) == 0)
				t.sh->stop = true;
		}
		for (auto &t : targets)
			finish(t, f, "after the unload");
		n.add("traced_tasks", targets.size());
		rounds++;
	} while (!b.over() && f.size() == 0);
	reload(f);
	n.add("rounds", rounds);
	report(n);
	expect_none(f, "unload with syscall loops");
}

TEST_F(StressTest, UnloadLeavesBlockedStoppedSteppingAndUserEngineTasksUntouched)
{
	Counters n;
	Failures f;
	const Budget b = budget(0.5);
	auto rng = rng_for(9);
	unsigned rounds = 0;
	do {
		if (!reload(f))
			break;
		std::vector<Target> targets;
		auto stepper_dev = std::make_unique<Device>();
		auto user_dev = std::make_unique<Device>();
		utrace::EngineId step_id = 0;
		{
			const Device dev;
			// Blocked in read() with syscall events on.
			int pfd[2];
			if (::pipe(pfd) != 0)
				throw std::runtime_error("pipe");
			Target blk{"blocked task", -1, shared_new<TargetShared>(), pfd[1]};
			blk.pid = started(
			        fork_child([sh = blk.sh, fd = pfd[0]] { return blocker(sh, fd); },
			                   {pfd[0]}),
			        blk.sh);
			::close(pfd[0]);
			(void)dev.attach(blk.pid, EngineType::Count,
			                 bit(Event::SyscallEntry) | bit(Event::SyscallExit), 0,
			                 utrace::Lifetime::Persistent);
			targets.push_back(blk);
			// Stopped by a stopper engine at a syscall entry.
			Target stp{"stopped task", -1, shared_new<TargetShared>()};
			stp.pid = start_looper(stp.sh, 1, false);
			(void)dev.attach(stp.pid, EngineType::Stopper, bit(Event::SyscallEntry),
			                 bit(Event::SyscallEntry), utrace::Lifetime::Persistent);
			if (!eventually([&] { return task_state(stp.pid) == 't'; }, 10s))
				f.add("stopper did not stop its task: " + describe_task(stp.pid));
			targets.push_back(stp);
			// Single-stepped by a user engine that ignores each trap.
			// Its file is closed at a random moment: a trap reported
			// then is delivered (as natively, when a tracer dies in a
			// signal-delivery stop), so a SIGTRAP handler counts it.
			// With that handler, a trap is a SIGNAL event (a signal
			// with a handler), not SIGNAL_CORE: the engine wants both.
			Target step{"single-stepped task", -1, shared_new<TargetShared>()};
			step.pid = start_looper(step.sh, 1, true);
			step_id = stepper_dev->attach(step.pid, EngineType::User,
			                              bit(Event::Quiesce) | bit(Event::Signal) |
			                                      bit(Event::SignalCore));
			targets.push_back(step);
			// Reporting to a user engine whose file is read below.
			Target usr{"user-engine task", -1, shared_new<TargetShared>()};
			usr.pid = start_looper(usr.sh, 2, false);
			(void)user_dev->attach(usr.pid, EngineType::User,
			                       bit(Event::SyscallEntry) | bit(Event::SyscallExit));
			targets.push_back(usr);
		}
		std::atomic<bool> unloaded{false};
		const auto close_after = std::chrono::milliseconds(rng() % 300);
		std::thread stepping([&] {
			const auto end = Clock::now() + close_after;
			try {
				(void)stepper_dev->control(step_id, Action::Interrupt);
				while (Clock::now() < end) {
					const auto r = stepper_dev->read_report(1ms);
					if (!r || !r->needs_reply)
						continue;
					utrace::Reply reply;
					reply.seq = r->seq;
					reply.action = static_cast<uint32_t>(Action::SingleStep);
					if ((r->event == Event::Signal ||
					     r->event == Event::SignalCore) &&
					    r->signo == SIGTRAP) {
						reply.action |= utrace::kSignalIgn;
						n.add("steps");
					}
					stepper_dev->reply(reply);
				}
			} catch (const utrace::Error &e) {
				f.add(std::string("single-stepping: ") + e.what());
			}
			stepper_dev.reset(); // closed while stepping
		});
		const auto user_close_after = close_after + std::chrono::milliseconds(rng() % 100);
		std::thread user([&] {
			const auto end = Clock::now() + user_close_after;
			while (Clock::now() < end) {
				try {
					const auto r = user_dev->read_report(1ms);
					if (r && r->needs_reply) {
						utrace::Reply reply;
						reply.seq = r->seq;
						user_dev->reply(reply);
						n.add("user_replies");
					}
				} catch (const utrace::Error &e) {
					f.add(std::string("user engine: ") + e.what());
					break;
				}
			}
			user_dev.reset(); // closed while its task waits for a reply
		});
		// /dev/utrace opened, used and closed while the unload is tried.
		std::thread churn([&] {
			auto churn_rng = rng_for(10 + rounds);
			while (!unloaded) {
				const int fd = ::open("/dev/utrace", O_RDWR | O_CLOEXEC);
				if (fd < 0) {
					if (errno != ENOENT && errno != ENXIO && errno != ENODEV)
						f.add(std::string("open /dev/utrace: ") +
						      std::strerror(errno));
					std::this_thread::sleep_for(1ms);
					continue;
				}
				utrace_ioc_version v{};
				(void)::ioctl(fd, UTRACE_IOC_VERSION, &v);
				utrace_reply_msg bogus{};
				bogus.seq = churn_rng();
				(void)!::write(fd, &bogus, sizeof(bogus)); // ENOENT: nobody waits
				::close(fd);
				n.add("churn_opens");
			}
		});
		const int err = unload(30s, n);
		unloaded = true;
		stepping.join();
		user.join();
		churn.join();
		if (err)
			f.add(std::string("unload: ") + std::strerror(err) + ", refcnt " +
			      std::to_string(module_refcnt()) + ", /dev/utrace open by " +
			      utrace_file_holders());
		for (auto &t : targets) {
			if (t.what == "single-stepped task") {
				// Stepping ended with the file: at most the trap
				// reported at the close reached the handler.
				if (!runs_on(t, 2000))
					f.add(t.what + " does not run after the unload: " +
					      describe_task(t.pid));
				if (t.sh->traps.load() > 1)
					f.add(t.what +
					      " still traps after its engine's file closed: " +
					      std::to_string(t.sh->traps.load()) +
					      " SIGTRAPs handled");
				n.add("traps_delivered", t.sh->traps.load());
			}
			finish(t, f, "after the unload");
		}
		n.add("traced_tasks", targets.size());
		rounds++;
	} while (!b.over() && f.size() == 0);
	reload(f);
	n.add("rounds", rounds);
	report(n);
	expect_none(f, "unload with blocked, stopped, stepping and user-engine tasks");
}

TEST_F(StressTest, UnloadIsRefusedWhileTheBackendHasTracees)
{
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(set_backend(true), 0);
	Counters n;
	Failures f;
	const Budget b = budget(0.25);
	const pid_t parent = ::getpid();
	do {
		auto *sh = shared_new<TargetShared>();
		const pid_t t = fork_child([=] { return looper(sh, parent, 1, false); });
		int to_h[2], to_r[2];
		if (::pipe(to_h) != 0 || ::pipe(to_r) != 0)
			throw std::runtime_error("pipe");
		const pid_t r = fork_child(
		        [&] {
			        if (::ptrace(PTRACE_SEIZE, t, 0, PTRACE_O_TRACESYSGOOD) != 0)
				        return 60;
			        ::ptrace(PTRACE_INTERRUPT, t, 0, 0);
			        int st = 0;
			        if (::waitpid(t, &st, __WALL) != t || !WIFSTOPPED(st))
				        return 61;
			        if (::write(to_h[1], "h", 1) != 1)
				        return 62;
			        char g = 0;
			        if (::read(to_r[0], &g, 1) != 1)
				        return 63;
			        // Everything still works: syscall stops, then detach.
			        for (int i = 0; i < 20; i++) {
				        if (::ptrace(PTRACE_SYSCALL, t, 0, 0) != 0)
					        return 64;
				        if (::waitpid(t, &st, __WALL) != t || !WIFSTOPPED(st) ||
				            WSTOPSIG(st) != (SIGTRAP | 0x80))
					        return 65;
			        }
			        return ::ptrace(PTRACE_DETACH, t, 0, 0) == 0 ? 0 : 66;
		        },
		        {to_h[1], to_r[0]});
		::close(to_h[1]);
		::close(to_r[0]);
		char h = 0;
		pollfd p{to_h[0], POLLIN, 0};
		if (::poll(&p, 1, 15000) == 1 && ::read(to_h[0], &h, 1) == 1) {
			for (int i = 0; i < 5; i++) {
				const int err = try_unload_module();
				if (err == EBUSY || err == EAGAIN)
					n.add("unload.EBUSY");
				else
					f.add(std::string("unload with a tracee: ") +
					      (err ? std::strerror(err) : "it was unloaded"));
			}
		} else {
			f.add("tracer never held its tracee: " + describe_task(r));
		}
		(void)!::write(to_r[1], "g", 1);
		::close(to_h[0]);
		::close(to_r[1]);
		const auto st = wait_bounded(r, 20s);
		if (!st || describe_status(*st) != "exited 0")
			f.add("tracer after the refused unload: " +
			      (st ? describe_status(*st) : describe_task(r)));
		if (!st)
			kill_and_reap(r, 10s);
		Target tt{"tracee after the refused unload", t, sh};
		finish(tt, f, "after the refused unload");
		n.add("loops");
		if (!module_loaded())
			break;
	} while (!b.over());
	report(n);
	expect_none(f, "unload with tracees");
}

namespace
{

// A PTRACE_TRACEME child killed with PTRACE_KILL at its first stop: 0 if
// the request worked and the child died of SIGKILL.  The request holds the
// relationship's engine, whose release may drop the module's last
// reference before the request returns.
int traceme_kill()
{
	const pid_t c = fork_traceme_child();
	int st = 0;
	if (::waitpid(c, &st, __WALL) != c || !WIFSTOPPED(st))
		return 46;
	if (::ptrace(PTRACE_KILL, c, 0, 0) != 0)
		return 47;
	if (::waitpid(c, &st, __WALL) != c || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		return 48;
	return 0;
}

} // namespace

// ptrace() requests other than TRACEME, ATTACH and SEIZE take no module
// reference (docs/PTRACE.md): they sleep only while they hold their
// relationship's engine, or fail with ESRCH first.  The module is unloaded
// and loaded again and again while tracers run TRACEME children through
// PTRACE_SYSCALL or kill them with PTRACE_KILL (each relationship's end
// drops a module reference, sometimes from the request itself), and a task
// asks for requests on a process it does not trace (ESRCH, through the
// backend or natively).  Every call keeps its result across the unloads,
// and the debug kernel sees no use of the module's text or data after it.
// The tracers pause (between cycles) for the backend's switch, which a
// native relationship refuses, and for an unload that found no moment
// without a relationship in 3 s (the debug kernel's cycles are slow).
TEST_F(StressTest, UnloadBetweenPtraceRequestsThatHoldNoModuleReference)
{
	Counters n;
	Failures f;
	const Budget b = budget(0.5);
	auto *stop = shared_new<std::atomic<bool>>();
	auto *hold = shared_new<std::atomic<bool>>();
	auto *busy = shared_new<std::atomic<int>>();
	auto *cycles = shared_new<std::atomic<uint64_t>>();
	auto *strays = shared_new<std::atomic<uint64_t>>();
	const pid_t self = ::getpid();
	std::vector<pid_t> workers;
	for (int i = 0; i < 2; i++)
		workers.push_back(fork_child([stop, hold, busy, cycles, i] {
			while (!stop->load()) {
				busy->fetch_add(1);
				if (hold->load()) {
					busy->fetch_sub(1);
					std::this_thread::sleep_for(1ms);
					continue;
				}
				const int err = cycles->load() % 2 == 0 ? traceme_cycle(5 + i)
				                                        : traceme_kill();
				busy->fetch_sub(1);
				if (err)
					return err;
				cycles->fetch_add(1);
				// A pause now and then: a window with no relationship.
				std::this_thread::sleep_for(
				        std::chrono::milliseconds(cycles->load() % 3));
			}
			return 0;
		}));
	workers.push_back(fork_child([stop, strays, self] {
		while (!stop->load()) {
			errno = 0;
			if (::ptrace(PTRACE_SYSCALL, self, 0, 0) != -1 || errno != ESRCH)
				return 70;
			errno = 0;
			if (::ptrace(PTRACE_PEEKUSER, self, 0, 0) != -1 || errno != ESRCH)
				return 71;
			strays->fetch_add(1);
		}
		return 0;
	}));
	// Runs @what with the tracers paused between their cycles.
	const auto paused = [&](const std::function<int()> &what) {
		hold->store(true);
		int err = ETIMEDOUT;
		if (eventually([busy] { return busy->load() == 0; }, 60s))
			err = what();
		else
			f.add("the tracers did not pause: " + std::to_string(busy->load()) +
			      " busy");
		hold->store(false);
		return err;
	};
	unsigned rounds = 0;
	while (!b.over() && f.size() == 0) {
		if (!reload(f))
			break;
		const int on = paused([] { return set_backend(true); });
		if (on) {
			f.add(std::string("backend on: ") + std::strerror(on));
			break;
		}
		std::this_thread::sleep_for(20ms);
		int err = unload(3s, n);
		if (err == EBUSY || err == EAGAIN) {
			err = paused([&n] { return unload(30s, n); });
			n.add("unload.paused");
		} else if (err == 0) {
			n.add("unload.racing");
		}
		if (err)
			f.add(std::string("unload: ") + std::strerror(err) + ", refcnt " +
			      std::to_string(module_refcnt()) + ", ptrace_tracees " +
			      std::to_string(ptrace_tracees()));
		rounds++;
	}
	stop->store(true);
	for (const pid_t w : workers) {
		const auto st = wait_bounded(w, 30s);
		if (!st || describe_status(*st) != "exited 0")
			f.add("worker " + std::to_string(w) + ": " +
			      (st ? describe_status(*st) : describe_task(w)) +
			      " (40-48: a ptrace request or wait failed, 70-71: a stray request "
			      "did not fail with ESRCH)");
		if (!st)
			kill_and_reap(w, 10s);
	}
	reload(f);
	n.add("rounds", rounds);
	n.add("cycles", cycles->load());
	n.add("stray_requests", strays->load());
	report(n);
	expect_none(f, "unload between requests");
	EXPECT_GT(n.get("unloads"), 0U) << "no unload got through";
}

} // namespace stress
