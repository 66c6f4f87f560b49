// Syscall user dispatch (SUD) of a task that has a utrace syscall engine.
// On x86_64 the module's syscall-entry hook sets the task's SUD work bit
// (kmod/arch_x86.c), the bit the kernel's own SUD uses.  What a native
// tracer reads and sets with PTRACE_{GET,SET}_SYSCALL_USER_DISPATCH_CONFIG
// (6.11 on; EIO on 6.1), and what the task itself asks for by prctl(), must
// be as without the engine; the engine's syscall reports must go on.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.hpp"
#include "utrace/device.hpp"

using utrace::bit;
using utrace::EngineType;
using utrace::Event;
using utrace_test::proc_state;

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_OFF
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif

namespace
{

constexpr long kSetConfig = 0x4210; // PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG
constexpr long kGetConfig = 0x4211; // PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG
constexpr int kCalls = 20;          // getppid() calls between two counts

struct SudConfig {
	uint64_t mode;
	uint64_t selector;
	uint64_t offset;
	uint64_t len;
};

long sud_prctl(unsigned long mode, unsigned long offset, unsigned long len)
{
	return ::syscall(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, mode, offset, len, 0UL);
}

// A child that runs a step per byte it reads, and answers with a byte (the
// step's result): 'g' kCalls getppid() calls; 'n' prctl SUD ON for every
// address (offset 0, length ~0: nothing is dispatched); 'f' prctl SUD OFF;
// 'a' prctl SUD ON with no selector and no region (every call after it is
// dispatched: SIGSYS); 'x' exit 0.  With `traceme` it stops itself first
// (PTRACE_TRACEME, SIGSTOP).
class Child
{
public:
	explicit Child(bool traceme)
	{
		int cmd[2];
		int ack[2];
		if (::pipe(cmd) != 0 || ::pipe(ack) != 0)
			throw std::runtime_error("pipe");
		pid_ = ::fork();
		if (pid_ == 0) {
			::close(cmd[1]);
			::close(ack[0]);
			rlimit no_core{};
			::setrlimit(RLIMIT_CORE, &no_core);
			if (traceme) {
				::ptrace(PTRACE_TRACEME, 0, 0, 0);
				::raise(SIGSTOP);
			}
			char c;
			while (::read(cmd[0], &c, 1) == 1) {
				char r = 1;
				switch (c) {
				case 'g':
					for (int i = 0; i < kCalls; i++)
						r = ::syscall(SYS_getppid) > 0 ? 1 : 0;
					break;
				case 'n':
					r = sud_prctl(PR_SYS_DISPATCH_ON, 0, ~0UL) == 0 ? 1 : 0;
					break;
				case 'f':
					r = sud_prctl(PR_SYS_DISPATCH_OFF, 0, 0) == 0 ? 1 : 0;
					break;
				case 'a':
					r = sud_prctl(PR_SYS_DISPATCH_ON, 0, 0) == 0 ? 1 : 0;
					break;
				default:
					::_exit(0);
				}
				if (::write(ack[1], &r, 1) != 1)
					::_exit(2);
			}
			::_exit(3);
		}
		::close(cmd[0]);
		::close(ack[1]);
		cmd_ = cmd[1];
		ack_ = ack[0];
		if (traceme) {
			int st = 0;
			::waitpid(pid_, &st, 0);
			stopped_ = WIFSTOPPED(st);
		}
	}
	~Child()
	{
		::kill(pid_, SIGKILL);
		::waitpid(pid_, nullptr, 0);
		::close(cmd_);
		::close(ack_);
	}
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;

	[[nodiscard]] pid_t pid() const { return pid_; }
	[[nodiscard]] bool stopped() const { return stopped_; }
	// Sends a step; its answer (1: done), or -1 if the child is gone.
	int step(char c) const
	{
		if (::write(cmd_, &c, 1) != 1)
			return -1;
		char r = 0;
		return ::read(ack_, &r, 1) == 1 ? r : -1;
	}
	// Sends a step without waiting for its answer.
	void send(char c) const { (void)!::write(cmd_, &c, 1); }
	int wait_status() const
	{
		int st = 0;
		return ::waitpid(pid_, &st, 0) == pid_ ? st : -1;
	}

private:
	pid_t pid_ = -1;
	int cmd_ = -1;
	int ack_ = -1;
	bool stopped_ = false;
};

// PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG; false (errno EIO) on a kernel
// without it.
bool get_config(pid_t pid, SudConfig &cfg)
{
	cfg = SudConfig{~0ULL, ~0ULL, ~0ULL, ~0ULL};
	return ::ptrace(static_cast<__ptrace_request>(kGetConfig), pid, sizeof cfg, &cfg) == 0;
}

bool kernel_has_config_requests(pid_t stopped)
{
	SudConfig cfg{};
	errno = 0;
	if (get_config(stopped, cfg))
		return true;
	EXPECT_EQ(errno, EIO) << "a kernel without the request answers EIO";
	return false;
}

// Whether the kernel has syscall user dispatch at all (generic entry: x86_64;
// Debian's ppc64el kernels answer the prctl EINVAL, and the ptrace requests
// EINVAL on 6.12, EIO on 6.1).  Turning it off in
// this process, where it is off, changes nothing.
bool kernel_has_sud()
{
	return sud_prctl(PR_SYS_DISPATCH_OFF, 0, 0) == 0;
}

uint64_t syscall_entries(const utrace::Device &dev, utrace::EngineId id)
{
	return dev.info(id).count(Event::SyscallEntry);
}

} // namespace

// Item 1: GET must report the task's own mode, not the module's bit.
TEST(SyscallUserDispatch, NativeGetReportsOffForATaskWithOnlyAUtraceSyscallEngine)
{
	if (!kernel_has_sud())
		GTEST_SKIP() << "no syscall user dispatch on this kernel (prctl: EINVAL)";
	Child c(true);
	ASSERT_TRUE(c.stopped());
	if (!kernel_has_config_requests(c.pid()))
		GTEST_SKIP() << "no PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG on this kernel (EIO)";
	utrace::Device dev;
	const auto id = dev.attach(c.pid(), EngineType::Count, bit(Event::SyscallEntry));
	SudConfig cfg{};
	ASSERT_TRUE(get_config(c.pid(), cfg)) << strerror(errno);
	EXPECT_EQ(cfg.mode, static_cast<uint64_t>(PR_SYS_DISPATCH_OFF))
	        << "the task never turned syscall user dispatch on";
	EXPECT_EQ(cfg.selector, 0U);
	dev.detach(id);
}

// Item 2, by the tracer: SET OFF must leave the engine's reports on, and
// SET ON / OFF must read back as set.
TEST(SyscallUserDispatch, NativeSetOnThenOffKeepsTheEnginesSyscallReports)
{
	if (!kernel_has_sud())
		GTEST_SKIP() << "no syscall user dispatch on this kernel (prctl: EINVAL)";
	Child c(true);
	ASSERT_TRUE(c.stopped());
	if (!kernel_has_config_requests(c.pid()))
		GTEST_SKIP() << "no PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG on this kernel (EIO)";
	utrace::Device dev;
	const auto id = dev.attach(c.pid(), EngineType::Count, bit(Event::SyscallEntry));

	SudConfig on{PR_SYS_DISPATCH_ON, 0, 0, ~0ULL};
	ASSERT_EQ(::ptrace(static_cast<__ptrace_request>(kSetConfig), c.pid(), sizeof on, &on), 0)
	        << strerror(errno) << " state " << proc_state(c.pid());
	SudConfig cfg{};
	ASSERT_TRUE(get_config(c.pid(), cfg));
	EXPECT_EQ(cfg.mode, static_cast<uint64_t>(PR_SYS_DISPATCH_ON));
	EXPECT_EQ(cfg.len, ~0ULL);

	SudConfig off{PR_SYS_DISPATCH_OFF, 0, 0, 0};
	ASSERT_EQ(::ptrace(static_cast<__ptrace_request>(kSetConfig), c.pid(), sizeof off, &off), 0)
	        << strerror(errno);
	ASSERT_TRUE(get_config(c.pid(), cfg));
	EXPECT_EQ(cfg.mode, static_cast<uint64_t>(PR_SYS_DISPATCH_OFF));

	ASSERT_EQ(::ptrace(PTRACE_CONT, c.pid(), 0, 0), 0);
	const uint64_t before = syscall_entries(dev, id);
	ASSERT_EQ(c.step('g'), 1);
	EXPECT_GE(syscall_entries(dev, id), before + kCalls)
	        << "SET OFF must not turn the engine's syscall-entry reports off";
	dev.detach(id);
}

// Item 2, by the task (6.1 too): prctl ON then OFF must leave the engine's
// reports on; a native tracer reads the mode the task set.
TEST(SyscallUserDispatch, PrctlOnThenOffKeepsTheEnginesSyscallReports)
{
	if (!kernel_has_sud())
		GTEST_SKIP() << "no syscall user dispatch on this kernel (prctl: EINVAL)";
	Child c(true);
	ASSERT_TRUE(c.stopped());
	const bool has_get = kernel_has_config_requests(c.pid());
	ASSERT_EQ(::ptrace(PTRACE_CONT, c.pid(), 0, 0), 0);
	utrace::Device dev;
	const auto id = dev.attach(c.pid(), EngineType::Count, bit(Event::SyscallEntry));
	ASSERT_EQ(c.step('n'), 1) << "prctl(PR_SET_SYSCALL_USER_DISPATCH, ON)";
	ASSERT_EQ(c.step('f'), 1) << "prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF)";
	const uint64_t before = syscall_entries(dev, id);
	ASSERT_EQ(c.step('g'), 1);
	EXPECT_GE(syscall_entries(dev, id), before + kCalls)
	        << "prctl OFF must not turn the engine's syscall-entry reports off";
	if (has_get) {
		// Stop it to read its config: PTRACE_INTERRUPT needs SEIZE; SIGSTOP.
		::kill(c.pid(), SIGSTOP);
		int st = c.wait_status();
		ASSERT_TRUE(WIFSTOPPED(st));
		SudConfig cfg{};
		ASSERT_TRUE(get_config(c.pid(), cfg))
		        << strerror(errno) << " state " << proc_state(c.pid());
		EXPECT_EQ(cfg.mode, static_cast<uint64_t>(PR_SYS_DISPATCH_OFF));
		ASSERT_EQ(::ptrace(PTRACE_CONT, c.pid(), 0, 0), 0);
		ASSERT_EQ(c.step('n'), 1);
		::kill(c.pid(), SIGSTOP);
		st = c.wait_status();
		ASSERT_TRUE(WIFSTOPPED(st));
		ASSERT_TRUE(get_config(c.pid(), cfg));
		EXPECT_EQ(cfg.mode, static_cast<uint64_t>(PR_SYS_DISPATCH_ON));
		EXPECT_EQ(cfg.len, ~0ULL);
		ASSERT_EQ(::ptrace(PTRACE_CONT, c.pid(), 0, 0), 0);
		ASSERT_EQ(c.step('f'), 1);
	}
	dev.detach(id);
}

// Item 3: SUD ON with no selector and no region, turned on after the module
// set the bit, dispatches every later call, as natively: the child's next
// getppid() brings SIGSYS, which kills it (default action).
TEST(SyscallUserDispatch, PrctlOnWithoutSelectorOrRegionDispatchesUnderAnEngine)
{
	if (!kernel_has_sud())
		GTEST_SKIP() << "no syscall user dispatch on this kernel (prctl: EINVAL)";
	Child c(false);
	utrace::Device dev;
	const auto id = dev.attach(c.pid(), EngineType::Count, bit(Event::SyscallEntry));
	// The answer, a write(), is the first call after the prctl: dispatched,
	// it brings SIGSYS, which kills the child (default action) before it
	// can answer.  A failed prctl answers 0.
	const int answer = c.step('a');
	EXPECT_EQ(answer, -1) << "the write() after prctl(PR_SET_SYSCALL_USER_DISPATCH, ON, 0, 0, "
	                         "NULL) must be dispatched, not answer";
	if (answer != -1)
		c.send('x'); // it lives (the module's bug): let it exit
	const int st = c.wait_status();
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) << "status " << std::hex << st;
	(void)id;
}
