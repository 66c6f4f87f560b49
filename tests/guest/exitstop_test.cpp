// A stop at EXIT in a group exit whose only possible resumer is the
// engine's file held by the stopped task itself (docs/SECURITY.md,
// "/dev/utrace", bounds; issue 12).  Once its thread group exits, the kernel
// drops every further SIGKILL (prepare_signal()), so such a stop ends only by
// a resume, a detach or the close of the engine's file.  When every
// reference to that file is a descriptor of the stopped task's own file
// table (a child forked while the attacher had the file open, the
// attacher's copy closed), nobody can do any of that: before the fix the
// task stayed stopped until the module was unloaded, unkillable, and its
// parent's wait hung.  Natively (no engine) the task is reaped at once; the
// bound of the waits here only tells "never" from "eventually".  Runs in
// both guests with the module loaded by the runner.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "reports.hpp"
#include "tracee.hpp" // eventually()
#include "utrace/device.hpp"

using namespace std::chrono_literals;
using utrace::Action;
using utrace::bit;
using utrace::Device;
using utrace::EngineState;
using utrace::EngineType;
using utrace::Event;
using utrace::Lifetime;
using utrace_test::eventually;
using utrace_test::next;

namespace
{

// How long a task that must be reaped may take: only "never" fails.
constexpr auto kReapBound = 20s;

// A child forked while a Device is open: it inherits the Device's file, so
// once the parent closes its own descriptor the child holds the only
// reference to the file that owns the engines attached to it.  It blocks
// in read() on a pipe; a byte there makes it call exit_group(3).  With
// @second_thread it first starts another thread, which blocks in pause().
class FileHolder
{
public:
	explicit FileHolder(bool second_thread)
	{
		int go[2];
		int ready[2];
		if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0)
			throw std::runtime_error("pipe");
		pid_ = ::fork();
		if (pid_ < 0)
			throw std::runtime_error("fork");
		if (pid_ == 0)
			child(go[0], ready[1], second_thread);
		::close(go[0]);
		::close(ready[1]);
		go_ = go[1];
		pollfd p{ready[0], POLLIN, 0};
		char c = 0;
		const bool started = ::poll(&p, 1, 60000) == 1 && ::read(ready[0], &c, 1) == 1;
		::close(ready[0]);
		if (!started)
			throw std::runtime_error("the child did not start");
	}
	~FileHolder()
	{
		::close(go_);
		// A child that was never reaped is stuck in its stop: only the
		// module's unload (by the runner, after the tests) can end it,
		// and init reaps it then.  Waiting for it here would hang.
		if (!reaped_ && pid_ > 0)
			::kill(pid_, SIGKILL);
	}
	FileHolder(const FileHolder &) = delete;
	FileHolder &operator=(const FileHolder &) = delete;

	[[nodiscard]] pid_t pid() const { return pid_; }

	// Has the child call exit_group(3) itself.
	void exit_group() const
	{
		const char c = 'x';
		if (::write(go_, &c, 1) != 1)
			throw std::runtime_error("write to the child");
	}

	// Its wait status once reaped, within kReapBound; nullopt if it is not.
	std::optional<int> reap()
	{
		int status = 0;
		if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
		                kReapBound))
			return std::nullopt;
		reaped_ = true;
		return status;
	}

	// /proc/PID/status's "State:" line and the wait channel, for messages.
	[[nodiscard]] std::string state() const
	{
		const std::string dir = "/proc/" + std::to_string(pid_) + "/";
		std::ifstream status(dir + "status");
		std::string line;
		std::string out;
		while (std::getline(status, line))
			if (line.rfind("State:", 0) == 0)
				out = line;
		std::ifstream wchan(dir + "wchan");
		std::getline(wchan, line);
		return out + " wchan " + line;
	}

private:
	[[noreturn]] static void child(int go, int ready, bool second_thread)
	{
		if (second_thread)
			std::thread([] {
				for (;;)
					::pause();
			}).detach();
		const char c = 'r';
		if (::write(ready, &c, 1) != 1)
			::_exit(98);
		char cmd = 0;
		while (::read(go, &cmd, 1) < 0 && errno == EINTR) {
		}
		::syscall(SYS_exit_group, 3);
		::_exit(99);
	}

	pid_t pid_ = -1;
	int go_ = -1;
	bool reaped_ = false;
};

bool killed_by_sigkill(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

constexpr auto kExit = bit(Event::Exit);

// The plain case: the attacher closes its copy, then SIGKILLs the child,
// which stops at EXIT for the stopper engine of a file only it holds.
TEST(ExitStop, OfAStopperEndsWhenTheKilledTaskHoldsTheOnlyCopyOfItsFile)
{
	auto dev = std::make_unique<Device>();
	FileHolder child(false);
	(void)dev->attach(child.pid(), EngineType::Stopper, kExit, kExit);
	dev.reset();
	ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
	const auto status = child.reap();
	ASSERT_TRUE(status.has_value())
	        << "not reaped " << kReapBound.count() << " s after SIGKILL: " << child.state();
	EXPECT_TRUE(killed_by_sigkill(*status)) << *status;
}

// The file becomes orphaned while the task is already stopped: the stop
// looks again (ten times a second), not only when it begins.
TEST(ExitStop, OfAStopperEndsWhenTheAttacherClosesItsCopyAfterTheStopBegan)
{
	auto dev = std::make_unique<Device>();
	FileHolder child(false);
	const auto id = dev->attach(child.pid(), EngineType::Stopper, kExit, kExit);
	ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
	ASSERT_TRUE(eventually(
	        [&] {
		        const auto info = dev->info(id);
		        return info.count(Event::Exit) == 1 && info.state == EngineState::Stopped;
	        },
	        60s))
	        << "never stopped at EXIT: " << child.state();
	dev.reset();
	const auto status = child.reap();
	ASSERT_TRUE(status.has_value())
	        << "not reaped " << kReapBound.count() << " s after the close: " << child.state();
	EXPECT_TRUE(killed_by_sigkill(*status)) << *status;
}

// The traced thread itself calls exit_group() while another thread of its
// group runs: the group exits (the other thread is killed), the file table
// the threads share holds the file's only copy, and the traced thread stops
// at EXIT.  Its exit code is kept.
TEST(ExitStop, OfAStopperEndsWhenTheStoppedThreadCalledExitGroupBesideAnotherThread)
{
	auto dev = std::make_unique<Device>();
	FileHolder child(true);
	(void)dev->attach(child.pid(), EngineType::Stopper, kExit, kExit);
	dev.reset();
	child.exit_group();
	const auto status = child.reap();
	ASSERT_TRUE(status.has_value())
	        << "not reaped " << kReapBound.count() << " s after exit_group: " << child.state();
	EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 3) << *status;
}

// A user engine answers the EXIT report with STOP, then its file's last
// outside copy is closed: the stop the answer made ends as a stopper's.
TEST(ExitStop, OfAUserEngineThatAnsweredStopEndsWhenTheTaskHoldsTheOnlyCopyOfItsFile)
{
	auto dev = std::make_unique<Device>();
	FileHolder child(false);
	const auto id = dev->attach(child.pid(), EngineType::User, kExit);
	ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
	const auto r = next(*dev, Event::Exit);
	dev->reply({.seq = r.seq, .action = static_cast<uint32_t>(Action::Stop)});
	ASSERT_TRUE(eventually([&] { return dev->info(id).state == EngineState::Stopped; }, 60s))
	        << "never stopped after the STOP answer: " << child.state();
	dev.reset();
	const auto status = child.reap();
	ASSERT_TRUE(status.has_value())
	        << "not reaped " << kReapBound.count() << " s after the close: " << child.state();
	EXPECT_TRUE(killed_by_sigkill(*status)) << *status;
}

// A persistent stopper is not orphaned by the close of the file that
// attached it: any file of its owner's euid controls it.  Its stop lasts
// until such a file resumes it, as a tracee's for its tracer.
TEST(ExitStop, OfAPersistentStopperLastsUntilAFileOfItsOwnerResumesIt)
{
	auto dev = std::make_unique<Device>();
	FileHolder child(false);
	const auto id =
	        dev->attach(child.pid(), EngineType::Stopper, kExit, kExit, Lifetime::Persistent);
	dev.reset();
	ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
	Device other;
	ASSERT_TRUE(eventually([&] { return other.info(id).state == EngineState::Stopped; }, 60s))
	        << "never stopped at EXIT: " << child.state();
	// Long enough for the stop to have looked at its file several times.
	std::this_thread::sleep_for(1s);
	EXPECT_EQ(other.info(id).state, EngineState::Stopped) << child.state();
	EXPECT_EQ(other.control(id, Action::Resume), 0);
	const auto status = child.reap();
	ASSERT_TRUE(status.has_value())
	        << "not reaped " << kReapBound.count() << " s after the resume: " << child.state();
	EXPECT_TRUE(killed_by_sigkill(*status)) << *status;
	other.detach(id);
}

} // namespace
