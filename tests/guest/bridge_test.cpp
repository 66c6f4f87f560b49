// The user-engine bridge: reports read from /dev/utrace, answers written
// back with actions and register changes; syscall abort, UTRACE_SYSCALL_RESUMED
// after another engine's stop, engine order, close and SIGKILL while waiting.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error_of.hpp"
#include "poll_hook.hpp"
#include "reports.hpp"
#include "tracee.hpp"
#include "uapi/utrace.h"
#include "utrace/device.hpp"
#include "utrace/error.hpp"

using namespace std::chrono_literals;
using utrace::Action;
using utrace::bit;
using utrace::EngineState;
using utrace::EngineType;
using utrace::Event;
using utrace::Reply;
using utrace::Report;
using utrace_test::error_of;
using utrace_test::eventually;
using utrace_test::next;
using utrace_test::path_exists;
using utrace_test::Tracee;

namespace
{

constexpr auto kWait = 60000ms;
constexpr uint32_t kResume = static_cast<uint32_t>(Action::Resume);

TEST(Bridge, ReportsSyscallEntryWithNumberAndArgumentsAndWaitsForTheReply)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
	t.send(Tracee::kMkdir);
	const Report r = next(dev, Event::SyscallEntry);
	EXPECT_EQ(r.id, id);
	EXPECT_EQ(r.tid, t.pid());
	EXPECT_TRUE(r.needs_reply);
	EXPECT_EQ(r.syscall_nr, SYS_mkdirat);
	EXPECT_EQ(static_cast<int>(r.args[0]), AT_FDCWD);
	EXPECT_EQ(r.args[2], 0700U);
	// The report is readable just before its thread goes to sleep.
	EXPECT_TRUE(eventually([&] { return t.proc_state() == "t (tracing stop)"; }))
	        << "it waits for the reply in a tracing stop: " << t.proc_state();
	EXPECT_FALSE(path_exists(t.marker()));
	dev.reply({.seq = r.seq});
	// The ack's write is reported too: answer until the ack arrives.
	dev.detach(id);
	ASSERT_TRUE(t.wait_ack());
	EXPECT_TRUE(path_exists(t.marker()));
}

TEST(Bridge, AbortSkipsTheCallAndItsReturnValueIsTheEngines)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
	t.send(Tracee::kMkdir);
	const Report r = next(dev, Event::SyscallEntry);
	ASSERT_EQ(r.syscall_nr, SYS_mkdirat);
	dev.reply({.seq = r.seq, .action = kResume | utrace::kSyscallAbort, .retval = -EPERM});
	dev.detach(id);
	ASSERT_TRUE(t.wait_ack());
	EXPECT_FALSE(path_exists(t.marker())) << "an aborted call must not run";

	// And the value the engine set is what the thread gets back.
	const auto id2 = dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
	t.send(Tracee::kGetppidValue);
	const Report g = next(dev, Event::SyscallEntry);
	ASSERT_EQ(g.syscall_nr, SYS_getppid);
	dev.reply({.seq = g.seq, .action = kResume | utrace::kSyscallAbort, .retval = 4242});
	dev.detach(id2);
	EXPECT_EQ(t.read_value(), 4242);
}

TEST(Bridge, RegisterChangesMadeAtEntryTakeEffect)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
	t.send(Tracee::kGetppidValue);
	const Report r = next(dev, Event::SyscallEntry);
	ASSERT_EQ(r.syscall_nr, SYS_getppid);
	dev.reply({.seq = r.seq, .syscall_nr = SYS_getpid}); // getppid becomes getpid
	dev.detach(id);
	EXPECT_EQ(t.read_value(), t.pid());
}

TEST(Bridge, ReportsSyscallExitWithTheReturnValueAndCanChangeIt)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User, bit(Event::SyscallExit));
	t.send(Tracee::kGetppidValue);
	Report r;
	do {
		r = next(dev, Event::SyscallExit);
		if (r.syscall_nr != SYS_getppid)
			dev.reply({.seq = r.seq});
	} while (r.syscall_nr != SYS_getppid);
	EXPECT_EQ(r.retval, ::getpid()) << "the tracee's parent is this test";
	dev.reply({.seq = r.seq, .retval = 777});
	dev.detach(id);
	EXPECT_EQ(t.read_value(), 777);
}

// The seeds' nested-engines scenario: engines run in reverse attach order at
// syscall entry; an engine that sees another's STOP answers REPORT and is
// asked again, with UTRACE_SYSCALL_RESUMED, after the stop and before the
// call runs; what it changes then is what runs.
TEST(Bridge, ResumedReportAfterAnotherEnginesStopComesBeforeTheCall)
{
	utrace::Device dev;
	Tracee t;
	const auto entry = bit(Event::SyscallEntry);
	const auto user = dev.attach(t.pid(), EngineType::User, entry);
	const auto stopper = dev.attach(t.pid(), EngineType::Stopper, entry, entry);
	t.send(Tracee::kGetppidValue);

	const Report first = next(dev, Event::SyscallEntry);
	ASSERT_EQ(first.syscall_nr, SYS_getppid);
	EXPECT_EQ(first.action & 0xf, static_cast<uint32_t>(Action::Stop))
	        << "the later-attached stopper ran first and said STOP";
	EXPECT_EQ(first.action & utrace::kSyscallResumed, 0U);
	EXPECT_EQ(dev.info(stopper).count(Event::SyscallEntry), 1U);
	dev.reply({.seq = first.seq, .action = static_cast<uint32_t>(Action::Report)});

	ASSERT_TRUE(eventually([&] { return dev.info(stopper).state == EngineState::Stopped; }));
	dev.set_stop_events(stopper, 0);
	EXPECT_EQ(dev.control(stopper, Action::Resume), 0);

	const Report again = next(dev, Event::SyscallEntry);
	EXPECT_EQ(again.seq, first.seq + 1);
	EXPECT_NE(again.action & utrace::kSyscallResumed, 0U) << "second report is RESUMED";
	EXPECT_EQ(again.syscall_nr, SYS_getppid);
	dev.reply({.seq = again.seq, .syscall_nr = SYS_getpid});
	dev.detach(user);
	dev.detach(stopper);
	EXPECT_EQ(t.read_value(), t.pid()) << "the change made at the RESUMED report ran";
}

// A vfork CLONE report comes before the child runs, with CLONE_VFORK, and a
// STOP takes effect at once, before the parent's vfork wait.
TEST(Bridge, VforkCloneIsReportedAndStopsAtOnce)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User, bit(Event::Clone));
	t.send(Tracee::kVfork);
	const Report r = next(dev, Event::Clone);
	EXPECT_NE(r.clone_flags & CLONE_VFORK, 0U) << std::hex << r.clone_flags;
	EXPECT_NE(r.clone_flags & CLONE_VM, 0U) << std::hex << r.clone_flags;
	EXPECT_GT(r.code, 0) << "the child's tid";
	dev.reply({.seq = r.seq, .action = static_cast<uint32_t>(Action::Stop)});
	ASSERT_TRUE(eventually([&] { return dev.info(id).state == EngineState::Stopped; }));
	EXPECT_EQ(t.proc_state(), "t (tracing stop)");
	EXPECT_EQ(dev.control(id, Action::Resume), 0);
	ASSERT_TRUE(t.wait_ack());
	dev.detach(id);
}

TEST(Bridge, ClosingTheFileReleasesAWaitingThreadAndDetaches)
{
	Tracee t;
	{
		utrace::Device dev;
		(void)dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
		t.send(Tracee::kMkdir);
		ASSERT_TRUE(dev.read_report(kWait));
	}
	ASSERT_TRUE(t.wait_ack());
	EXPECT_TRUE(path_exists(t.marker()));
}

// poll() said a report was there, but its thread was killed before the
// read(): the thread takes its report back, so a blocking read() would wait
// for the next report, for ever if none comes.  read_report() must return
// nullopt within its timeout instead (found by the device stress test,
// whose controllers hung at the end of a run).
void no_op_signal(int /*sig*/) {}

TEST(Bridge, ReadReportReturnsNothingWhenItsReportVanishesAfterPoll)
{
	utrace::Device dev;
	Tracee t;
	(void)dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
	t.send(Tracee::kGetppid);
	ASSERT_TRUE(eventually([&] {
		pollfd p{dev.fd(), POLLIN, 0};
		return ::poll(&p, 1, 0) == 1;
	}));
	utrace_test::after_next_poll(
	        [](void *arg) {
		        auto *tracee = static_cast<Tracee *>(arg);
		        ::kill(tracee->pid(), SIGKILL);
		        (void)tracee->wait_exit(10s);
	        },
	        &t);
	// Were read() to block, SIGALRM ends it (EINTR: no SA_RESTART).
	struct sigaction sa = {};
	struct sigaction old = {};
	sa.sa_handler = no_op_signal;
	ASSERT_EQ(::sigaction(SIGALRM, &sa, &old), 0);
	::alarm(10);
	std::optional<Report> r;
	EXPECT_NO_THROW(r = dev.read_report(100ms)) << "read() blocked after poll()";
	::alarm(0);
	::sigaction(SIGALRM, &old, nullptr);
	EXPECT_FALSE(r.has_value());
}

TEST(Bridge, DetachReleasesAThreadWaitingForAReply)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
	t.send(Tracee::kMkdir);
	const Report r = next(dev, Event::SyscallEntry);
	// The report is readable just before its thread goes to sleep.
	EXPECT_TRUE(eventually([&] { return t.proc_state() == "t (tracing stop)"; }))
	        << t.proc_state();
	dev.detach(id); // no reply: the detach alone must let it go
	ASSERT_TRUE(t.wait_ack());
	EXPECT_TRUE(path_exists(t.marker()));
	(void)r;
}

TEST(Bridge, SigkillEndsTheWaitForAReply)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User,
	                           bit(Event::SyscallEntry) | bit(Event::Death) | bit(Event::Reap));
	t.send(Tracee::kMkdir);
	const Report r = next(dev, Event::SyscallEntry);
	ASSERT_EQ(::kill(t.pid(), SIGKILL), 0);
	const int status = t.wait_exit();
	ASSERT_NE(status, -1) << "SIGKILL did not end the wait";
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	const Report death = next(dev, Event::Death);
	EXPECT_FALSE(death.needs_reply);
	EXPECT_EQ(death.tid, t.pid());
	const Report reap = next(dev, Event::Reap);
	EXPECT_FALSE(reap.needs_reply);
	try {
		dev.reply({.seq = r.seq});
		ADD_FAILURE() << "a reply to a dead thread's report must fail";
	} catch (const utrace::Error &e) {
		EXPECT_EQ(e.code(), ENOENT);
	}
	dev.detach(id);
}

TEST(Bridge, BadRepliesAreRejected)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
	t.send(Tracee::kGetppidValue);
	const Report r = next(dev, Event::SyscallEntry);
	auto code = [&](const Reply &rep) { return error_of([&] { dev.reply(rep); }); };
	EXPECT_EQ(code({.seq = r.seq + 100}), ENOENT);
	EXPECT_EQ(code({.seq = r.seq, .action = 9}), EINVAL);
	EXPECT_EQ(code({.seq = r.seq, .action = 0x1000}), EINVAL);
	char small[4] = {};
	EXPECT_EQ(::write(dev.fd(), small, sizeof(small)), -1);
	EXPECT_EQ(errno, EINVAL);
	// Finding 14: the reserved word must be 0.
	utrace_reply_msg padded{};
	padded.seq = r.seq;
	padded.action = kResume;
	padded.__pad = 1;
	errno = 0;
	EXPECT_EQ(::write(dev.fd(), &padded, sizeof(padded)), -1);
	EXPECT_EQ(errno, EINVAL) << "a reply with a non-zero reserved word";
	EXPECT_EQ(code({.seq = r.seq}), 0);
	dev.detach(id);
	EXPECT_EQ(t.read_value(), ::getpid());
}

} // namespace
