// A thread under the kernel's own ptrace and a utrace syscall engine at once.
// The engine's wish for the syscall slow path and the native tracer's wish
// for syscall stops must stay apart: a tracee the tracer resumed with
// PTRACE_CONT makes no syscall stop because an engine wants syscall reports,
// and PTRACE_CONT after PTRACE_SYSCALL does not turn the engine's reports off.
// (powerpc has a single thread flag for both unless the module keeps them
// apart; x86_64 uses separate work bits.)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "tracee.hpp"
#include "utrace/device.hpp"

using namespace std::chrono_literals;
using utrace::bit;
using utrace::EngineType;
using utrace::Event;
using utrace_test::Tracee;

namespace
{

constexpr int kCalls = 20;

// Attaches natively (PTRACE_ATTACH, the kernel's ptrace: the backend is off
// by default) and waits for the attach stop.
void attach_natively(Tracee &t)
{
	t.wait_in_read();
	ASSERT_EQ(::ptrace(PTRACE_ATTACH, t.pid(), 0, 0), 0);
	const int st = t.wait_status(__WALL);
	ASSERT_TRUE(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP) << std::hex << st;
}

// Runs kCalls getppid() calls; a stop the test does not expect shows as a
// missing acknowledgement and the status waitpid() gives then.
::testing::AssertionResult run_calls(Tracee &t)
{
	for (int i = 0; i < kCalls; i++) {
		t.send(Tracee::kGetppid);
		if (!t.wait_ack(20s)) {
			const int st = t.wait_status(__WALL, 1s);
			return ::testing::AssertionFailure()
			       << "call " << i << " did not complete; tracee " << t.proc_state()
			       << ", wait status " << (st == -1 ? "none" : std::to_string(st));
		}
	}
	return ::testing::AssertionSuccess();
}

uint64_t entries(const utrace::Device &dev, utrace::EngineId id)
{
	return dev.info(id).count(Event::SyscallEntry);
}

// The stops a native tracer sees while the tracee runs one getppid()
// command: PTRACE_SYSCALL from the attach stop on, a PTRACE_SINGLESTEP out
// of getppid()'s entry stop (the kernel traps at that call's exit), until
// the exit of the acknowledgement's write().  One line per stop.
std::vector<std::string> native_stops(Tracee &t)
{
	std::vector<std::string> stops;
	const pid_t pid = t.pid();
	if (::ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD) != 0)
		return {"PTRACE_SETOPTIONS failed"};
	t.send(Tracee::kGetppid);
	long req = PTRACE_SYSCALL;
	for (int i = 0; i < 40; i++) {
		if (::ptrace(static_cast<__ptrace_request>(req), pid, 0, 0) != 0)
			return stops;
		const int st = t.wait_status(__WALL, 20s);
		if (st == -1 || !WIFSTOPPED(st)) {
			stops.push_back("status " + std::to_string(st));
			return stops;
		}
		req = PTRACE_SYSCALL;
		if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
			stops.push_back("signal " + std::to_string(WSTOPSIG(st)));
			continue;
		}
		__ptrace_syscall_info info{};
		if (::ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info) <= 0)
			return stops;
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			stops.push_back("entry " + std::to_string(info.entry.nr));
			if (info.entry.nr == SYS_getppid)
				req = PTRACE_SINGLESTEP;
		} else {
			stops.push_back("exit " + std::to_string(info.exit.rval));
			if (stops.size() >= 2 &&
			    stops[stops.size() - 2] == "entry " + std::to_string(SYS_write))
				break;
		}
	}
	::ptrace(PTRACE_CONT, pid, 0, 0);
	if (!t.wait_ack(20s))
		stops.push_back("no ack");
	return stops;
}

} // namespace

TEST(NativeTracer, AContinuedTraceeMakesNoSyscallStopsForAnEnginesSyscallEvents)
{
	Tracee t;
	attach_natively(t);
	ASSERT_EQ(::ptrace(PTRACE_CONT, t.pid(), 0, 0), 0);
	utrace::Device dev;
	const auto id = dev.attach(t.pid(), EngineType::Count,
	                           bit(Event::SyscallEntry) | bit(Event::SyscallExit));
	EXPECT_TRUE(run_calls(t));
	EXPECT_GE(entries(dev, id), static_cast<uint64_t>(kCalls));
	dev.detach(id);
	// Still the native tracer's: nothing it did not ask for reached it.
	EXPECT_EQ(t.wait_status(__WALL, 1s), -1) << "an unexpected stop";
}

TEST(NativeTracer, PtraceContAfterPtraceSyscallLeavesTheEnginesSyscallReportsOn)
{
	Tracee t;
	attach_natively(t);
	utrace::Device dev;
	const auto id = dev.attach(t.pid(), EngineType::Count, bit(Event::SyscallEntry));
	// One syscall-entry stop by PTRACE_SYSCALL (the tracee is in read(): it
	// first leaves that call, then enters its write() of the ack).
	ASSERT_EQ(::ptrace(PTRACE_SYSCALL, t.pid(), 0, 0), 0);
	int st = t.wait_status(__WALL);
	ASSERT_TRUE(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP) << std::hex << st;
	// From here on the tracer wants no syscall stops.
	ASSERT_EQ(::ptrace(PTRACE_CONT, t.pid(), 0, 0), 0);
	const uint64_t before = entries(dev, id);
	EXPECT_TRUE(run_calls(t));
	EXPECT_GE(entries(dev, id), before + kCalls)
	        << "PTRACE_CONT must not turn the engine's syscall-entry reports off";
	dev.detach(id);
}

// An engine whose syscall table filters every call out lets the calls leave
// without its exit hook (UTRACE_SYSCALL_NOEXIT): a native tracer's stops,
// also the single-step trap at the exit of a call stepped into from its
// entry stop, stay those of a tracee without the engine.
TEST(NativeTracer, AnEngineThatFiltersEveryCallChangesNoStopOfANativeTracer)
{
	std::vector<std::string> alone;
	{
		Tracee t;
		attach_natively(t);
		alone = native_stops(t);
	}
	Tracee t;
	utrace::Device dev;
	const auto id = dev.attach(t.pid(), EngineType::Count,
	                           bit(Event::SyscallEntry) | bit(Event::SyscallExit));
	const std::vector<uint16_t> none(1, 0);
	dev.set_syscalls(id, none);
	attach_natively(t);
	const auto with = native_stops(t);
	EXPECT_EQ(with, alone);
	EXPECT_NE(std::find(alone.begin(), alone.end(), "signal " + std::to_string(SIGTRAP)),
	          alone.end())
	        << "the step out of getppid() traps at its exit";
	EXPECT_EQ(entries(dev, id), 0U);
	dev.detach(id);
}
