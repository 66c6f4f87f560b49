// /dev/utrace engines under races: controller threads attach count, stopper
// and user engines (libutrace's Device), set their events, control them
// (stop, interrupt, report, singlestep, blockstep, resume, detach), read
// their info, list, answer user-engine reports and detach, or close the file
// with engines attached, while the targets exit, exec (also from a
// non-leader thread), clone threads and are killed with SIGKILL.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <set>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "fixture.hpp"
#include "utrace/device.hpp"
#include "utrace/error.hpp"

namespace stress
{
namespace
{

using utrace::Action;
using utrace::Device;
using utrace::EngineId;
using utrace::EngineType;

enum class Kind { ExitSoon, Exec, Threads, ThreadExec, Spin, Block, Fork, kCount };

const char *kind_name(Kind k)
{
	static const char *names[] = {"exit", "exec",  "threads", "thread-exec",
	                              "spin", "block", "fork"};
	return names[static_cast<int>(k)];
}

void getppid_loop(long n)
{
	for (long i = 0; i < n; i++)
		::syscall(SYS_getppid);
}

// What a target does until it exits or is killed.
int target_body(Kind kind, uint64_t r)
{
	switch (kind) {
	case Kind::ExitSoon:
		getppid_loop(static_cast<long>(r % 3000));
		return 0;
	case Kind::Exec:
		getppid_loop(static_cast<long>(r % 200));
		::execl(options().self.c_str(), options().self.c_str(), "--child", "exit", nullptr);
		return 99;
	case Kind::Threads:
		for (;;) {
			std::thread a([] { getppid_loop(300); });
			std::thread b([] { getppid_loop(100); });
			a.join();
			b.join();
		}
	case Kind::ThreadExec: {
		std::thread t([r] {
			getppid_loop(static_cast<long>(r % 500));
			::execl(options().self.c_str(), options().self.c_str(), "--child", "exit",
			        nullptr);
			::_exit(99);
		});
		t.detach();
		for (;;)
			::syscall(SYS_getppid);
	}
	case Kind::Spin:
		for (;;)
			::syscall(SYS_getppid);
	case Kind::Block:
		for (;;)
			::pause();
	case Kind::Fork:
		for (;;) {
			const pid_t kid = ::fork();
			if (kid == 0)
				::_exit(0);
			if (kid > 0)
				::waitpid(kid, nullptr, 0);
		}
	case Kind::kCount:
		break;
	}
	return 98;
}

struct Shared {
	std::mutex mu;
	std::vector<pid_t> live;
	std::set<pid_t> stepped; // got a SINGLESTEP/BLOCKSTEP: may die of SIGTRAP
	std::atomic<bool> done{false};
	Counters counters;
	Failures failures;

	std::optional<pid_t> pick(std::mt19937_64 &rng)
	{
		const std::lock_guard lock(mu);
		if (live.empty())
			return std::nullopt;
		return live[rng() % live.size()];
	}
};

// Keeps a few targets alive, each killed at a random deadline.
void spawner(Shared &s, const Budget &b)
{
	auto rng = rng_for(1);
	struct Live {
		pid_t pid;
		Clock::time_point kill_at;
		Kind kind;
	};
	std::vector<Live> targets;
	unsigned next_kind = 0;
	constexpr size_t kTargets = 6;
	auto finish = [&](const Live &t, int status) {
		bool ok = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		          (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		{
			const std::lock_guard lock(s.mu);
			s.live.erase(std::remove(s.live.begin(), s.live.end(), t.pid),
			             s.live.end());
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTRAP &&
			    s.stepped.count(t.pid))
				ok = true;
			s.stepped.erase(t.pid);
		}
		if (!ok)
			s.failures.add(std::string("target ") + kind_name(t.kind) + " " +
			               describe_status(status));
		s.counters.add(std::string("targets.") + kind_name(t.kind));
	};
	while (!b.over()) {
		while (targets.size() < kTargets) {
			const auto kind = static_cast<Kind>(next_kind++ %
			                                    static_cast<unsigned>(Kind::kCount));
			const uint64_t r = rng();
			const auto t0 = Clock::now();
			// Engines are attached once the child closed the inherited
			// files: a stopper attached earlier could stop it holding
			// the controllers' /dev/utrace files open.
			auto *started = shared_new<std::atomic<bool>>();
			const pid_t pid = fork_child([kind, r, started] {
				started->store(true);
				return target_body(kind, r);
			});
			if (pid > 0 && !eventually([started] { return started->load(); }, 10s))
				s.failures.add("target did not start: " + describe_task(pid));
			s.counters.add(
			        "fork_ms",
			        static_cast<uint64_t>(
			                std::chrono::duration_cast<std::chrono::milliseconds>(
			                        Clock::now() - t0)
			                        .count()));
			if (pid < 0) {
				s.failures.add("fork failed");
				break;
			}
			targets.push_back(
			        {pid, Clock::now() + std::chrono::milliseconds(5 + rng() % 150),
			         kind});
			const std::lock_guard lock(s.mu);
			s.live.push_back(pid);
		}
		for (auto it = targets.begin(); it != targets.end();) {
			int status = 0;
			pid_t got = ::waitpid(it->pid, &status, WNOHANG);
			if (got == 0 && Clock::now() >= it->kill_at) {
				const auto t0 = Clock::now();
				::kill(it->pid, SIGKILL);
				const auto st = wait_bounded(it->pid, 10s);
				s.counters.add(
				        "kill_to_reap_ms",
				        static_cast<uint64_t>(std::chrono::duration_cast<
				                                      std::chrono::milliseconds>(
				                                      Clock::now() - t0)
				                                      .count()));
				if (!st) {
					s.failures.add(std::string("target ") +
					               kind_name(it->kind) +
					               " not reaped 10 s after SIGKILL: " +
					               describe_task(it->pid));
					++it;
					continue;
				}
				got = it->pid;
				status = *st;
			}
			if (got == it->pid) {
				finish(*it, status);
				it = targets.erase(it);
			} else {
				++it;
			}
		}
		std::this_thread::sleep_for(1ms);
	}
	s.done = true;
	for (const auto &t : targets) {
		::kill(t.pid, SIGKILL);
		const auto st = wait_bounded(t.pid, 10s);
		if (st)
			finish(t, *st);
		else
			s.failures.add(std::string("target ") + kind_name(t.kind) +
			               " not reaped 10 s after SIGKILL: " + describe_task(t.pid));
	}
}

// Errnos a race may legitimately give: the thread went away (ESRCH), it is
// past its death report (EALREADY), the change takes effect later
// (EINPROGRESS: utrace_set_events() while a callback of the engine runs;
// UTRACE_IOC_SET_EVENTS passes it on, although the events were set), or an
// attach met an exec waiting for its other threads (EAGAIN: our own engines
// may hold them at EXIT).
bool race_errno(int err)
{
	return err == ESRCH || err == EALREADY || err == EINPROGRESS || err == EAGAIN;
}

class Controller
{
public:
	Controller(Shared &s, unsigned index) : s_(s), rng_(rng_for(100 + index)), index_(index) {}

	void run()
	{
		open();
		while (!s_.done)
			one_attachment();
		// Detach what is left (closing the file would do it too).
		serve_reports();
		for (const auto &[id, user] : engines_)
			detach(id, user);
		engines_.clear();
		dev_.reset();
	}

private:
	void open()
	{
		dev_ = std::make_unique<Device>();
		s_.counters.add("opens");
	}

	// An errno from @what: counted if a race explains it, else a failure.
	void error(const char *what, int err, bool enoent_ok = false)
	{
		if (race_errno(err) || (enoent_ok && err == ENOENT)) {
			s_.counters.add(std::string(what) + ".err" + std::to_string(err));
			return;
		}
		s_.failures.add(std::string(what) + ": " + std::strerror(err));
	}

	template <typename F> void op(const char *what, F &&fn, bool enoent_ok = false)
	{
		try {
			fn();
			s_.counters.add(what);
		} catch (const utrace::Error &e) {
			error(what, e.code(), enoent_ok);
		}
	}

	pid_t pick_thread(pid_t pid)
	{
		if (rng_() % 3)
			return pid;
		std::vector<pid_t> tids;
		const std::string dir = "/proc/" + std::to_string(pid) + "/task";
		if (DIR *d = ::opendir(dir.c_str())) {
			while (const dirent *e = ::readdir(d))
				if (e->d_name[0] != '.')
					tids.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
			::closedir(d);
		}
		return tids.empty() ? pid : tids[rng_() % tids.size()];
	}

	void serve_reports()
	{
		for (int i = 0; i < 32; i++) {
			std::optional<utrace::Report> r;
			try {
				r = dev_->read_report(0ms);
			} catch (const utrace::Error &e) {
				s_.failures.add(std::string("read_report: ") + e.what());
				return;
			}
			if (!r)
				return;
			s_.counters.add("reports");
			if (!r->needs_reply)
				continue;
			// ENOENT: the thread was killed or the engine detached meanwhile.
			utrace::Reply reply;
			reply.seq = r->seq;
			op(
			        "replies", [&] { dev_->reply(reply); }, true);
		}
	}

	void detach(EngineId id, bool user)
	{
		// An engine is gone once its file closed (ENOENT); until then it
		// stays until detached, whatever became of its thread.
		try {
			dev_->detach(id);
			s_.counters.add("detaches");
		} catch (const utrace::Error &e) {
			if (e.code() == ENOENT && closed_with_.count(id)) {
				s_.counters.add("detaches.gone_with_file");
				return;
			}
			s_.failures.add("detach of controller " + std::to_string(index_) + "'s " +
			                (user ? "user" : "count/stopper") + " engine " +
			                std::to_string(id) + ": " + e.what());
		}
	}

	void one_attachment()
	{
		const auto pid = s_.pick(rng_);
		if (!pid) {
			std::this_thread::sleep_for(1ms);
			return;
		}
		const pid_t tid = pick_thread(*pid);
		const auto type = static_cast<EngineType>(1 + rng_() % 3);
		const utrace::EventMask events = rng_() & ((1ULL << utrace::kNumEvents) - 1);
		const utrace::EventMask stops = type == EngineType::Stopper ? events & rng_() : 0;
		EngineId id = 0;
		try {
			id = dev_->attach(tid, type, events, stops);
			s_.counters.add("attaches");
		} catch (const utrace::Error &e) {
			error("attaches", e.code());
			return;
		}
		const bool user = type == EngineType::User;
		engines_.emplace_back(id, user);
		const unsigned ops = 1 + rng_() % 8;
		for (unsigned i = 0; i < ops; i++) {
			switch (rng_() % 6) {
			case 0:
				op("set_events", [&] { dev_->set_events(id, rng_() & 0x3fff); });
				break;
			case 1:
				op("set_stop_events",
				   [&] { dev_->set_stop_events(id, rng_() & 0x3fff); });
				break;
			case 2: {
				const auto action = static_cast<Action>(rng_() % 7);
				if (action == Action::SingleStep || action == Action::BlockStep) {
					const std::lock_guard lock(s_.mu);
					s_.stepped.insert(*pid);
				}
				op("controls", [&] { (void)dev_->control(id, action); });
				if (action == Action::Detach) {
					// The engine is detached: it may not be found any more.
					engines_.pop_back();
					closed_with_.insert(id);
					op(
					        "detaches_after_control", [&] { dev_->detach(id); },
					        true);
					return;
				}
				break;
			}
			case 3:
				op("infos", [&] { (void)dev_->info(id); });
				break;
			case 4:
				op("lists", [&] { (void)dev_->list(); });
				break;
			default:
				serve_reports();
				break;
			}
		}
		serve_reports();
		if (rng_() % 20 == 0) {
			// Close the file with engines attached: they all go with it
			// (they belong to it, docs/SECURITY.md), and the new file
			// finds none of them.
			dev_.reset();
			s_.counters.add("closes_with_engines");
			open();
			for (const auto &[eid, u] : engines_) {
				closed_with_.insert(eid);
				detach(eid, u);
			}
			engines_.clear();
			return;
		}
		if (rng_() % 8) {
			detach(id, user);
			engines_.pop_back();
		}
	}

	Shared &s_;
	std::mt19937_64 rng_;
	unsigned index_;
	std::unique_ptr<Device> dev_;
	std::vector<std::pair<EngineId, bool>> engines_; // attached, not yet detached
	std::set<EngineId> closed_with_;                 // may be gone (ENOENT is fine)
};

} // namespace

TEST_F(StressTest, DeviceEnginesRaceTargetsThatExitExecCloneAndDie)
{
	Shared s;
	const Budget b = budget();
	std::thread spawn([&] { spawner(s, b); });
	std::vector<std::thread> controllers;
	for (unsigned i = 0; i < 3; i++)
		controllers.emplace_back([&s, i] { Controller(s, i).run(); });
	spawn.join();
	for (auto &t : controllers)
		t.join();
	report(s.counters);
	expect_none(s.failures, "device");
	EXPECT_GT(s.counters.get("attaches"), 0U) << "no attach succeeded";
}

// SIGKILL must end a user engine's EXIT report even when nobody answers:
// here the only holder of the engine's file is the traced task itself (it
// inherited the file), so a report that waits for a reply until the file
// is closed waits forever, and the task can never be reaped.
TEST_F(StressTest, SigkilledTaskHoldingItsUserEnginesFileIsReaped)
{
	auto dev = std::make_unique<Device>();
	auto *started = shared_new<std::atomic<bool>>();
	const pid_t child = ::fork(); // keeps the /dev/utrace file open
	if (child == 0) {
		started->store(true);
		for (;;)
			::pause();
	}
	ASSERT_GT(child, 0);
	ASSERT_TRUE(eventually([started] { return started->load(); }, 10s));
	(void)dev->attach(child, EngineType::User, utrace::bit(utrace::Event::Exit));
	dev.reset(); // the child's copy of the file is the last one
	::kill(child, SIGKILL);
	const auto st = wait_bounded(child, 10s);
	EXPECT_TRUE(st.has_value()) << "not reaped 10 s after SIGKILL: " << describe_task(child);
	if (st) {
		// (Were it not reaped, nothing could release it: no other file
		// sees its engine, which belongs to the file the child holds.)
		EXPECT_EQ(describe_status(*st), "killed by KILL");
	}
}

} // namespace stress
