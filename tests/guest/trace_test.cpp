// The kernel side of `utracectl trace`: observers inherited at clone
// (UTRACE_ENGINE_INHERIT), the per-engine syscall table that filters in the
// kernel (UTRACE_IOC_SET_SYSCALLS), and string/argv arguments captured into
// STRING records at system call entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <pthread.h>
#include <sched.h>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "error_of.hpp"
#include "reports.hpp"
#include "tracee.hpp"
#include "uapi/utrace.h"
#include "utrace/device.hpp"
#include "utrace/error.hpp"

using namespace std::chrono_literals;
using utrace::bit;
using utrace::CapturedArgs;
using utrace::EngineId;
using utrace::Event;
using utrace::Inherit;
using utrace::Record;
using utrace::RecordType;
using utrace::Ring;
using utrace_test::drain;
using utrace_test::error_of;

namespace
{

constexpr utrace::EventMask kSyscalls = bit(Event::SyscallEntry) | bit(Event::SyscallExit);
constexpr utrace::EventMask kTrace = kSyscalls | bit(Event::Clone);

// A marker system call: lseek(-1, @mark, SEEK_SET) (EBADF), told apart by @mark.
void mark(long m)
{
	::syscall(SYS_lseek, -1, m, SEEK_SET);
}

// A child that waits for a byte on a pipe, then runs @body and _exit(0)s
// (or the status @body returns).
using Child = utrace_test::HeldChild;

// Index of the first SYSCALL_ENTRY record of mark(@m), or records.size().
size_t find_mark(const std::vector<Record> &recs, long m)
{
	for (size_t i = 0; i < recs.size(); i++)
		if (recs[i].type == RecordType::Event && recs[i].event == Event::SyscallEntry &&
		    recs[i].syscall_nr == SYS_lseek && static_cast<long>(recs[i].args[1]) == m)
			return i;
	return recs.size();
}

void *thread_marks(void * /*unused*/)
{
	mark(3);
	return nullptr;
}

// The calls a syscall table covers at least: every number up to the marker's.
std::vector<uint16_t> table_of(std::initializer_list<std::pair<long, uint16_t>> entries)
{
	long top = 0;
	for (const auto &e : entries)
		top = std::max(top, e.first);
	std::vector<uint16_t> t(static_cast<size_t>(top) + 1, 0);
	for (const auto &e : entries)
		t[static_cast<size_t>(e.first)] = e.second;
	return t;
}

TEST(Trace, InheritedObserversFollowAGrandchildAndAThreadEachWithItsOwnId)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	Child c([] {
		mark(1);
		const pid_t g = ::fork();
		if (g == 0) {
			mark(2);
			::_exit(0);
		}
		pthread_t t;
		if (::pthread_create(&t, nullptr, thread_marks, nullptr) != 0)
			return 3;
		::pthread_join(t, nullptr);
		int status = 0;
		::waitpid(g, &status, 0);
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 4;
	});
	const EngineId id = dev.attach_observer(c.pid(), kTrace, 0, Inherit::Yes);
	c.go();
	ASSERT_EQ(c.wait(), 0);
	const auto recs = drain(ring);

	// The two CLONE records of the child: the fork, then the thread.
	std::vector<size_t> clones;
	for (size_t i = 0; i < recs.size(); i++)
		if (recs[i].type == RecordType::Event && recs[i].event == Event::Clone &&
		    recs[i].id == id)
			clones.push_back(i);
	ASSERT_EQ(clones.size(), 2U);
	const Record &fork_rec = recs[clones[0]];
	const Record &thread_rec = recs[clones[1]];
	EXPECT_EQ(fork_rec.clone_flags & CLONE_THREAD, 0U);
	EXPECT_NE(thread_rec.clone_flags & CLONE_THREAD, 0U);
	const auto grandchild_id = static_cast<EngineId>(fork_rec.inherited_id());
	const auto thread_id = static_cast<EngineId>(thread_rec.inherited_id());
	ASSERT_GT(fork_rec.inherited_id(), 0);
	ASSERT_GT(thread_rec.inherited_id(), 0);
	EXPECT_NE(grandchild_id, id);
	EXPECT_NE(thread_id, id);
	EXPECT_NE(grandchild_id, thread_id);

	const size_t m1 = find_mark(recs, 1);
	const size_t m2 = find_mark(recs, 2);
	const size_t m3 = find_mark(recs, 3);
	ASSERT_LT(m1, recs.size());
	ASSERT_LT(m2, recs.size()) << "the grandchild's records arrive";
	ASSERT_LT(m3, recs.size()) << "the thread's records arrive";
	EXPECT_EQ(recs[m1].id, id);
	EXPECT_EQ(recs[m1].tid, c.pid());
	EXPECT_EQ(recs[m2].id, grandchild_id);
	EXPECT_EQ(recs[m2].tid, fork_rec.code) << "the grandchild's tid, as CLONE told";
	EXPECT_EQ(recs[m3].id, thread_id);
	EXPECT_EQ(recs[m3].tid, thread_rec.code);
	// No record of an inherited engine before the CLONE record that names it.
	for (size_t i = 0; i < recs.size(); i++) {
		if (recs[i].id == grandchild_id) {
			EXPECT_GT(i, clones[0]);
		}
		if (recs[i].id == thread_id) {
			EXPECT_GT(i, clones[1]);
		}
		EXPECT_NE(recs[i].type, RecordType::Lost);
	}
}

TEST(Trace, AnUntracedCloneIsNotInheritedAndItsCloneRecordSaysSo)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	Child c([] {
		// A raw clone, fork-like (no new stack), with CLONE_UNTRACED.
		const long g = ::syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
		if (g == 0) {
			mark(2);
			::syscall(SYS_exit, 0);
		}
		if (g < 0)
			return 3;
		int status = 0;
		::waitpid(static_cast<pid_t>(g), &status, 0);
		mark(1);
		return 0;
	});
	const EngineId id = dev.attach_observer(c.pid(), kTrace, 0, Inherit::Yes);
	c.go();
	ASSERT_EQ(c.wait(), 0);
	const auto recs = drain(ring);
	ASSERT_LT(find_mark(recs, 1), recs.size());
	EXPECT_EQ(find_mark(recs, 2), recs.size()) << "the untraced child is not observed";
	size_t clones = 0;
	for (const Record &r : recs) {
		EXPECT_EQ(r.id, id) << "no other engine";
		if (r.event == Event::Clone) {
			clones++;
			EXPECT_NE(r.clone_flags & CLONE_UNTRACED, 0U);
			EXPECT_EQ(r.inherited_id(), 0) << "nothing inherited, nothing failed";
		}
	}
	EXPECT_EQ(clones, 1U);
}

TEST(Trace, InheritWithoutObserveIsEinval)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(64);
	Child c([] { return 0; });
	utrace_ioc_attach req{};
	req.tid = c.pid();
	req.type = UTRACE_ENGINE_USER;
	req.events = kSyscalls;
	req.flags = UTRACE_ENGINE_INHERIT;
	EXPECT_EQ(::ioctl(dev.fd(), UTRACE_IOC_ATTACH, &req), -1);
	EXPECT_EQ(errno, EINVAL);
	req.type = UTRACE_ENGINE_COUNT;
	EXPECT_EQ(::ioctl(dev.fd(), UTRACE_IOC_ATTACH, &req), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_TRUE(dev.list().empty());
}

TEST(Trace, ClosingTheDeviceWhileAForkLoopInheritsEndsEveryObserverCleanly)
{
	// The child forks children that fork again, while the Device that owns
	// all the inherited observers is closed under them: the close ends,
	// the tree runs to its end, and (the debug kernel's KASAN, lockdep and
	// kmemleak watch) no engine inherited in the race is used after its
	// file or leaked.
	Child c([] {
		for (int i = 0; i < 300; i++) {
			const pid_t g = ::fork();
			if (g == 0) {
				const pid_t gg = ::fork();
				if (gg == 0)
					::_exit(0);
				::waitpid(gg, nullptr, 0);
				::_exit(0);
			}
			if (g < 0)
				return 3;
			::waitpid(g, nullptr, 0);
		}
		return 0;
	});
	{
		utrace::Device dev;
		Ring ring = dev.create_ring(256);
		(void)dev.attach_observer(c.pid(), kTrace, 0, Inherit::Yes);
		c.go();
		// Let some generations inherit, then close with records unread.
		std::vector<Record> buf(256);
		size_t got = 0;
		while (got < 200)
			got += ring.read(buf, 5s);
	}
	EXPECT_EQ(c.wait(), 0) << "the tree ran to its end";
}

TEST(Trace, OnlyTheTablesSyscallsAreReportedUntilTheTableIsRemoved)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	int go[2];
	ASSERT_EQ(::pipe(go), 0);
	Child c([&go] {
		char b;
		::close(go[1]);
		for (int i = 0; i < 10; i++)
			::syscall(SYS_getppid);
		mark(1);
		// Wait for the table's removal.
		if (::read(go[0], &b, 1) != 1)
			return 3;
		::syscall(SYS_getppid);
		mark(2);
		return 0;
	});
	::close(go[0]);
	const EngineId id = dev.attach_observer(c.pid(), kSyscalls);
	const auto table = table_of({{SYS_lseek, utrace::kSyscallReport}});
	dev.set_syscalls(id, table);
	c.go();
	// Until lseek's exit, then whatever else comes while it waits.
	std::vector<Record> recs;
	std::vector<Record> buf(64);
	for (int tries = 0; tries < 300 && recs.size() < 2; tries++) {
		const size_t n = ring.read(buf, 100ms);
		recs.insert(recs.end(), buf.begin(), buf.begin() + static_cast<long>(n));
	}
	const auto more = drain(ring);
	recs.insert(recs.end(), more.begin(), more.end());
	ASSERT_EQ(recs.size(), 2U) << "lseek's entry and exit only";
	EXPECT_EQ(recs[0].event, Event::SyscallEntry);
	EXPECT_EQ(recs[0].syscall_nr, SYS_lseek);
	EXPECT_EQ(recs[1].event, Event::SyscallExit);
	EXPECT_EQ(recs[1].retval, -EBADF);

	dev.set_syscalls(id, {});
	ASSERT_EQ(::write(go[1], "g", 1), 1);
	::close(go[1]);
	ASSERT_EQ(c.wait(), 0);
	recs = drain(ring);
	bool getppid = false;
	for (const Record &r : recs)
		getppid = getppid || r.syscall_nr == SYS_getppid;
	EXPECT_TRUE(getppid) << "everything is reported again";
	EXPECT_LT(find_mark(recs, 2), recs.size());
}

// The number of the system call @pid is blocked in (/proc/PID/syscall), -1
// if it runs or is gone.
long blocked_in(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/syscall");
	std::string first;
	if (!(f >> first) || first == "running")
		return -1;
	try {
		return std::stol(first);
	} catch (const std::exception &) {
		return -1;
	}
}

// Whether @recs has @nr's exit with @ret.
bool has_exit(const std::vector<Record> &recs, long nr, long ret)
{
	return std::any_of(recs.begin(), recs.end(), [nr, ret](const Record &r) {
		return r.type == RecordType::Event && r.event == Event::SyscallExit &&
		       r.syscall_nr == nr && r.retval == ret;
	});
}

// A call every engine filtered out at its entry leaves without our exit hook
// (UTRACE_SYSCALL_NOEXIT): what may want its exit while the thread is in it
// must put the hook back.  The thread blocks in a filtered read(), then,
// during that call: @during(its pid, the engine).  Returns the records of
// @ring after the read returned.
std::vector<Record> filtered_read_then(utrace::Device &dev, Ring &ring,
                                       const std::function<void(pid_t, EngineId)> &during)
{
	int in[2];
	EXPECT_EQ(::pipe(in), 0);
	Child c([&in] {
		char b;
		::close(in[1]);
		mark(1);
		if (::read(in[0], &b, 1) != 1)
			return 3;
		mark(2);
		return 0;
	});
	::close(in[0]);
	const EngineId id = dev.attach_observer(c.pid(), kSyscalls);
	dev.set_syscalls(id, table_of({{SYS_lseek, utrace::kSyscallReport}}));
	c.go();
	EXPECT_TRUE(utrace_test::eventually([&c] { return blocked_in(c.pid()) == SYS_read; }));
	auto recs = drain(ring);
	EXPECT_EQ(find_mark(recs, 1), 0U) << "mark(1) first, then nothing of the read";
	EXPECT_EQ(recs.size(), 2U);
	during(c.pid(), id);
	EXPECT_EQ(::write(in[1], "g", 1), 1);
	::close(in[1]);
	EXPECT_EQ(c.wait(), 0);
	return drain(ring);
}

TEST(Trace, AFilteredCallsExitIsReportedWhenItsTableWantsItDuringTheCall)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	const auto recs = filtered_read_then(dev, ring, [&dev](pid_t /*pid*/, EngineId id) {
		dev.set_syscalls(id, table_of({{SYS_lseek, utrace::kSyscallReport},
		                               {SYS_read, utrace::kSyscallReport}}));
	});
	EXPECT_TRUE(has_exit(recs, SYS_read, 1)) << "the read's exit, under the new table";
	EXPECT_LT(find_mark(recs, 2), recs.size());
}

TEST(Trace, AFilteredCallsExitIsReportedToAnEngineAttachedDuringTheCall)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	utrace::Device dev2;
	Ring ring2 = dev2.create_ring(4096);
	const auto recs = filtered_read_then(dev, ring, [&dev2](pid_t pid, EngineId /*id*/) {
		(void)dev2.attach_observer(pid, kSyscalls);
	});
	EXPECT_FALSE(has_exit(recs, SYS_read, 1)) << "the first engine's table filters it";
	EXPECT_LT(find_mark(recs, 2), recs.size());
	const auto recs2 = drain(ring2);
	EXPECT_TRUE(has_exit(recs2, SYS_read, 1)) << "the new engine hears of the read's exit";
	EXPECT_LT(find_mark(recs2, 2), recs2.size());
}

// A stop asked of an engine whose table leaves every call the thread makes
// out: the core skips the engine for those calls, but not while it has a
// stop to take (a wish), so the thread stops, and runs on when resumed.
TEST(Trace, AStopAskedOfAnEngineThatFiltersEveryCallStillStopsTheThread)
{
	utrace::Device dev;
	int end[2];
	ASSERT_EQ(::pipe2(end, O_NONBLOCK), 0);
	// getppid() and read() until a byte comes: every call filtered out.
	Child c([&end] {
		char b;
		::close(end[1]);
		while (::read(end[0], &b, 1) != 1)
			::syscall(SYS_getppid);
		return 0;
	});
	::close(end[0]);
	const EngineId id = dev.attach(c.pid(), utrace::EngineType::Count, kSyscalls);
	dev.set_syscalls(id, table_of({{SYS_lseek, utrace::kSyscallReport}}));
	c.go();
	(void)dev.control(id, utrace::Action::Stop);
	EXPECT_TRUE(utrace_test::eventually(
	        [&] { return dev.info(id).state == utrace::EngineState::Stopped; }, 20s))
	        << "state " << static_cast<int>(dev.info(id).state);
	EXPECT_EQ(dev.info(id).count(Event::SyscallEntry), 0U) << "no call was reported";
	EXPECT_EQ(::write(end[1], "x", 1), 1);
	::close(end[1]);
	EXPECT_EQ(dev.control(id, utrace::Action::Resume), 0);
	EXPECT_EQ(c.wait(), 0);
}

TEST(Trace, BadSyscallTablesAreRefusedAndChangeNothing)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	Child c([] {
		::syscall(SYS_getppid);
		mark(1);
		return 0;
	});
	const EngineId id = dev.attach_observer(c.pid(), kSyscalls);
	const auto table = table_of({{SYS_lseek, utrace::kSyscallReport}});
	dev.set_syscalls(id, table);

	auto set = [&](uint64_t eid, const void *t, uint32_t nr, uint32_t reserved) {
		utrace_ioc_syscalls req{};
		req.id = eid;
		req.table = reinterpret_cast<uintptr_t>(t);
		req.nr = nr;
		req.__reserved = reserved;
		return ::ioctl(dev.fd(), UTRACE_IOC_SET_SYSCALLS, &req) == 0 ? 0 : errno;
	};
	std::vector<uint16_t> all(UTRACE_SYSCALLS_MAX + 1, utrace::kSyscallReport);
	EXPECT_EQ(set(id, all.data(), UTRACE_SYSCALLS_MAX + 1, 0), EINVAL) << "too many";
	EXPECT_EQ(set(id, nullptr, 4, 0), EINVAL) << "no table with a size";
	EXPECT_EQ(set(id, all.data(), 0, 0), EINVAL) << "a table of no size";
	EXPECT_EQ(set(id, all.data(), 4, 1), EINVAL) << "reserved";
	std::vector<uint16_t> bad(8, utrace::kSyscallReport);
	bad[5] = 0x2000;
	EXPECT_EQ(set(id, bad.data(), 8, 0), EINVAL) << "unknown entry bits";
	EXPECT_EQ(set(id, reinterpret_cast<void *>(8), 8, 0), EFAULT);
	EXPECT_EQ(set(id + 1000, all.data(), 4, 0), ENOENT);
	EXPECT_EQ(error_of([&] { dev.set_syscalls(id, all); }), EINVAL);

	// Another Device's engine does not exist for this one.
	utrace::Device other;
	utrace_ioc_syscalls req{};
	req.id = id;
	EXPECT_EQ(::ioctl(other.fd(), UTRACE_IOC_SET_SYSCALLS, &req), -1);
	EXPECT_EQ(errno, ENOENT);

	c.go();
	ASSERT_EQ(c.wait(), 0);
	const auto recs = drain(ring);
	ASSERT_EQ(recs.size(), 2U) << "the first table still filters";
	EXPECT_EQ(recs[0].syscall_nr, SYS_lseek);
}

TEST(Trace, ASharedTableSurvivesTheDetachOfTheEngineItWasSetOn)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	int go[2];
	ASSERT_EQ(::pipe(go), 0);
	Child c([&go] {
		::close(go[1]);
		const pid_t g = ::fork();
		if (g == 0) {
			char b;
			if (::read(go[0], &b, 1) != 1)
				::_exit(3);
			::syscall(SYS_getppid);
			mark(2);
			::_exit(0);
		}
		int status = 0;
		::waitpid(g, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 4;
	});
	::close(go[0]);
	const EngineId id = dev.attach_observer(c.pid(), kTrace, 0, Inherit::Yes);
	dev.set_syscalls(id, table_of({{SYS_lseek, utrace::kSyscallReport}}));
	c.go();
	// The fork's CLONE record names the grandchild's engine.
	EngineId gid = 0;
	std::vector<Record> buf(64);
	for (int tries = 0; tries < 50 && !gid; tries++) {
		const size_t n = ring.read(buf, 200ms);
		for (size_t i = 0; i < n; i++)
			if (buf[i].event == Event::Clone && buf[i].id == id)
				gid = static_cast<EngineId>(buf[i].inherited_id());
	}
	ASSERT_GT(gid, 0U);
	dev.detach(id);
	// A grace period or two for the parent's reference to go.
	std::this_thread::sleep_for(100ms);
	ASSERT_EQ(::write(go[1], "g", 1), 1);
	::close(go[1]);
	ASSERT_EQ(c.wait(), 0);
	const auto recs = drain(ring);
	const size_t m2 = find_mark(recs, 2);
	ASSERT_LT(m2, recs.size());
	EXPECT_EQ(recs[m2].id, gid);
	for (const Record &r : recs)
		if (r.id == gid) {
			EXPECT_EQ(r.syscall_nr, SYS_lseek) << "still filtered by the shared table";
		}
}

// The String records after the first SYSCALL_ENTRY record of @nr (with @arg0
// as its first argument unless -1), put together.
CapturedArgs captures_of(const std::vector<Record> &recs, long nr, size_t *count = nullptr)
{
	for (size_t i = 0; i < recs.size(); i++) {
		if (recs[i].type != RecordType::Event || recs[i].event != Event::SyscallEntry ||
		    recs[i].syscall_nr != nr)
			continue;
		const size_t n = recs[i].strings_following();
		if (count)
			*count = n;
		if (i + 1 + n > recs.size())
			throw std::runtime_error("String records missing");
		return utrace::collect_captures(std::span<const Record>(recs.data() + i + 1, n));
	}
	throw std::runtime_error("no entry of syscall " + std::to_string(nr));
}

TEST(Trace, OpenatAndExecvePathsAndArgvArriveIntact)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	Child c([] {
		::syscall(SYS_openat, AT_FDCWD, "/nonexistent/utrace-trace-test", O_RDONLY);
		const char *argv[] = {"utrace-prog", "", "second arg", nullptr};
		const char *envp[] = {"A=1", nullptr};
		const long rc = ::syscall(SYS_execve, "/nonexistent/utrace-exec", argv, envp);
		return rc == -1 && errno == ENOENT ? 0 : 3;
	});
	const EngineId id = dev.attach_observer(c.pid(), kSyscalls);
	dev.set_syscalls(id,
	                 table_of({{SYS_openat, utrace::kSyscallReport | utrace::syscall_string(1)},
	                           {SYS_execve, utrace::kSyscallReport | utrace::syscall_string(0) |
	                                                utrace::syscall_argv(1)}}));
	c.go();
	ASSERT_EQ(c.wait(), 0);
	const auto recs = drain(ring);
	for (const Record &r : recs)
		EXPECT_NE(r.type, RecordType::Lost);

	size_t n = 0;
	const CapturedArgs open = captures_of(recs, SYS_openat, &n);
	EXPECT_EQ(n, 1U);
	ASSERT_TRUE(open.strings[1].has_value());
	EXPECT_EQ(open.strings[1]->value, "/nonexistent/utrace-trace-test");
	EXPECT_FALSE(open.strings[1]->truncated);
	EXPECT_FALSE(open.strings[1]->fault);
	EXPECT_FALSE(open.strings[0].has_value());

	const CapturedArgs exec = captures_of(recs, SYS_execve, &n);
	EXPECT_EQ(n, 5U) << "the path, three elements, the end";
	ASSERT_TRUE(exec.strings[0].has_value());
	EXPECT_EQ(exec.strings[0]->value, "/nonexistent/utrace-exec");
	ASSERT_TRUE(exec.argvs[1].has_value());
	ASSERT_EQ(exec.argvs[1]->elements.size(), 3U);
	EXPECT_EQ(exec.argvs[1]->elements[0].value, "utrace-prog");
	EXPECT_EQ(exec.argvs[1]->elements[1].value, "");
	EXPECT_EQ(exec.argvs[1]->elements[2].value, "second arg");
	EXPECT_FALSE(exec.argvs[1]->truncated);
	EXPECT_FALSE(exec.argvs[1]->fault);
	EXPECT_FALSE(exec.argvs[2].has_value()) << "envp not asked for";
	// Every String record names its engine and thread.
	for (const Record &r : recs) {
		if (r.type != RecordType::String)
			continue;
		EXPECT_EQ(r.string_piece().id, id);
		EXPECT_EQ(r.string_piece().tid, c.pid());
	}
}

TEST(Trace, ALongStringIsTruncatedAndABadPointerIsAFaultNotAnErrorOfTheCall)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(4096);
	const std::string long_path = "/" + std::string(400, 'x');
	Child c([&long_path] {
		::syscall(SYS_openat, AT_FDCWD, long_path.c_str(), O_RDONLY);
		const long rc =
		        ::syscall(SYS_mkdirat, AT_FDCWD, reinterpret_cast<const char *>(8), 0700);
		if (rc != -1 || errno != EFAULT)
			return 3; // natively EFAULT: the capture changes nothing
		std::vector<std::string> many(40, "arg");
		std::vector<const char *> argv;
		for (const auto &s : many)
			argv.push_back(s.c_str());
		argv.push_back(nullptr);
		::syscall(SYS_execve, "/nonexistent/x", argv.data(), nullptr);
		::syscall(SYS_execve, "/nonexistent/y", reinterpret_cast<const char *const *>(16),
		          nullptr);
		return 0;
	});
	const EngineId id = dev.attach_observer(c.pid(), kSyscalls);
	dev.set_syscalls(
	        id, table_of({{SYS_openat, utrace::kSyscallReport | utrace::syscall_string(1)},
	                      {SYS_mkdirat, utrace::kSyscallReport | utrace::syscall_string(1)},
	                      {SYS_execve, utrace::kSyscallReport | utrace::syscall_argv(1)}}));
	c.go();
	ASSERT_EQ(c.wait(), 0);
	const auto recs = drain(ring);

	size_t n = 0;
	const CapturedArgs open = captures_of(recs, SYS_openat, &n);
	EXPECT_EQ(n, 3U) << "256 bytes: 96 + 96 + 64";
	ASSERT_TRUE(open.strings[1].has_value());
	EXPECT_EQ(open.strings[1]->value, long_path.substr(0, UTRACE_STRING_MAX));
	EXPECT_TRUE(open.strings[1]->truncated);

	const CapturedArgs mkdir = captures_of(recs, SYS_mkdirat, &n);
	EXPECT_EQ(n, 1U);
	ASSERT_TRUE(mkdir.strings[1].has_value());
	EXPECT_TRUE(mkdir.strings[1]->fault);
	EXPECT_EQ(mkdir.strings[1]->value, "");
	bool mkdir_exit = false;
	for (const Record &r : recs)
		if (r.event == Event::SyscallExit && r.syscall_nr == SYS_mkdirat) {
			mkdir_exit = true;
			EXPECT_EQ(r.retval, -EFAULT);
		}
	EXPECT_TRUE(mkdir_exit);

	// The 40-element argv: 32 elements, then an end that says TRUNCATED;
	// the bad array: an end that says FAULT.
	std::vector<CapturedArgs> execs;
	for (size_t i = 0; i < recs.size(); i++) {
		if (recs[i].event != Event::SyscallEntry || recs[i].syscall_nr != SYS_execve ||
		    recs[i].type != RecordType::Event)
			continue;
		const size_t k = recs[i].strings_following();
		ASSERT_LE(i + 1 + k, recs.size());
		execs.push_back(
		        utrace::collect_captures(std::span<const Record>(recs.data() + i + 1, k)));
	}
	ASSERT_EQ(execs.size(), 2U);
	ASSERT_TRUE(execs[0].argvs[1].has_value());
	EXPECT_EQ(execs[0].argvs[1]->elements.size(), static_cast<size_t>(UTRACE_ARGV_MAX));
	EXPECT_TRUE(execs[0].argvs[1]->truncated);
	EXPECT_EQ(execs[0].argvs[1]->elements.back().value, "arg");
	ASSERT_TRUE(execs[1].argvs[1].has_value());
	EXPECT_TRUE(execs[1].argvs[1]->fault);
	EXPECT_TRUE(execs[1].argvs[1]->elements.empty());
}

TEST(Trace, AGroupThatDoesNotFitIsLostWholeAndCounted)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(2);
	const std::string path = "/" + std::string(300, 'y');
	Child c([&path] {
		::syscall(SYS_openat, AT_FDCWD, path.c_str(), O_RDONLY);
		return 0;
	});
	const EngineId id = dev.attach_observer(c.pid(), bit(Event::SyscallEntry));
	dev.set_syscalls(
	        id, table_of({{SYS_openat, utrace::kSyscallReport | utrace::syscall_string(1)}}));
	c.go();
	ASSERT_EQ(c.wait(), 0);
	const auto recs = drain(ring);
	ASSERT_FALSE(recs.empty());
	EXPECT_EQ(recs[0].type, RecordType::Lost);
	EXPECT_EQ(recs[0].lost(), 4U) << "the EVENT and its three String records";
	for (const Record &r : recs)
		EXPECT_NE(r.type, RecordType::String) << "never a part of a group";
}

} // namespace
