// /dev/utrace engine lifetimes (issue 12, findings 5 and 9): an engine's
// ioctls racing its detach, ids that are never reused, CONTROL(DETACH) as a
// real detach, and UTRACE_IOC_LIST holding no lock while it writes to user
// memory.  Runs in both guests with the module loaded by the runner.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "error_of.hpp"
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
using utrace_test::error_of;
using utrace_test::eventually;
using utrace_test::next;
using utrace_test::Tracee;

namespace
{

// errno of one per-engine ioctl, 0 on success.
int engine_ioctl(int fd, unsigned long cmd, uint64_t id, uint64_t arg)
{
	utrace_ioc_engine req{id, arg};
	return ::ioctl(fd, cmd, &req) == 0 ? 0 : errno;
}

// Finding 5: SET_EVENTS, CONTROL and ENGINE_INFO used the engine (and its
// task) after a concurrent DETACH had dropped the references.  Threads
// hammer the per-engine ioctls on the id of an engine the main thread keeps
// attaching and detaching; the target is stopped, so a detach frees the
// engine at once.  Every answer must be what the id named when the call
// ran: done (0) or no such engine (ENOENT).  ESRCH means the call reached a
// detached engine through its stale id; with slub_debug poisoning, the use
// of a freed one also fails the run's dmesg check.
TEST(EngineLifetime, IoctlsRacingADetachOnlyEverSeeALiveEngineOrNone)
{
	utrace::Device dev;
	Tracee t;
	const auto entry = bit(Event::SyscallEntry);
	const auto stopper = dev.attach(t.pid(), EngineType::Stopper, entry, entry);
	t.send(Tracee::kGetppid);
	ASSERT_TRUE(eventually([&] { return dev.info(stopper).state == EngineState::Stopped; }));

	std::atomic<uint64_t> current{0};
	std::atomic<bool> done{false};
	std::atomic<unsigned long> calls{0};
	constexpr int kRacers = 3;
	std::vector<std::vector<int>> bad(kRacers);
	std::vector<std::thread> racers;
	for (int r = 0; r < kRacers; r++)
		racers.emplace_back([&, r] {
			const int fd = dev.fd();
			unsigned long n = 0;
			while (!done.load()) {
				const uint64_t id = current.load();
				if (!id)
					continue;
				int e = 0;
				switch (n++ % 3) {
				case 0:
					e = engine_ioctl(fd, UTRACE_IOC_SET_EVENTS, id,
					                 bit(Event::Exec) | bit(Event::Exit));
					break;
				case 1:
					e = engine_ioctl(fd, UTRACE_IOC_CONTROL, id,
					                 static_cast<uint64_t>(Action::Resume));
					break;
				default: {
					utrace_ioc_engine_info info{};
					info.id = id;
					e = ::ioctl(fd, UTRACE_IOC_ENGINE_INFO, &info) == 0 ? 0
					                                                    : errno;
					if (!e && info.id != id)
						e = -1;
					break;
				}
				}
				if (e && e != ENOENT)
					bad[r].push_back(e);
			}
			calls += n;
		});

	constexpr int kRounds = 3000;
	for (int i = 0; i < kRounds; i++) {
		const auto id = dev.attach(t.pid(), EngineType::Count, 0);
		current.store(id);
		std::this_thread::yield();
		dev.detach(id);
	}
	done.store(true);
	for (auto &th : racers)
		th.join();
	for (int r = 0; r < kRacers; r++)
		EXPECT_TRUE(bad[r].empty())
		        << "racer " << r << ": " << bad[r].size()
		        << " calls failed unexpectedly, first errno " << bad[r].front() << " ("
		        << std::strerror(bad[r].front()) << ")";
	std::printf("%d attach/detach rounds against %lu racing calls\n", kRounds, calls.load());
	dev.set_stop_events(stopper, 0);
	EXPECT_EQ(dev.control(stopper, Action::Resume), 0);
	dev.detach(stopper);
	ASSERT_TRUE(t.wait_ack());
}

// Finding 9: freed ids were reused at once (lowest free), so a stale id held
// by one program named the next program's engine.
TEST(EngineLifetime, IdsOfDetachedEnginesAreNeverReused)
{
	utrace::Device dev;
	Tracee t;
	const auto first = dev.attach(t.pid(), EngineType::Count, 0);
	dev.detach(first);
	const auto second = dev.attach(t.pid(), EngineType::Count, 0);
	EXPECT_NE(second, first);
	EXPECT_EQ(error_of([&] { (void)dev.info(first); }), ENOENT);
	EXPECT_EQ(error_of([&] { dev.detach(first); }), ENOENT);
	EXPECT_EQ(dev.info(second).state, EngineState::Attached) << "the stale id left it alone";
	dev.detach(second);
}

// Finding 9: UTRACE_IOC_CONTROL with UTRACE_IOC_DETACH detached the utrace
// engine behind the file's back: the id stayed listed and a user engine's
// thread waiting for a reply was never released.
TEST(EngineLifetime, ControlDetachIsADetachAndReleasesAThreadWaitingForAReply)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::User, bit(Event::SyscallEntry));
	t.send(Tracee::kMkdir);
	const auto r = next(dev, Event::SyscallEntry);
	// The report is readable just before its thread goes to sleep.
	EXPECT_TRUE(eventually([&] { return t.proc_state() == "t (tracing stop)"; }))
	        << t.proc_state();
	EXPECT_EQ(dev.control(id, Action::Detach), 0);
	EXPECT_TRUE(t.wait_ack(30s)) << "the thread still waits for a reply to report " << r.seq;
	EXPECT_EQ(error_of([&] { (void)dev.info(id); }), ENOENT);
	const auto ids = dev.list();
	EXPECT_EQ(std::find(ids.begin(), ids.end(), id), ids.end()) << "still listed";
	EXPECT_EQ(error_of([&] { dev.reply({.seq = r.seq}); }), ENOENT);
}

// Finding 9: UTRACE_IOC_LIST held the global engine mutex while it wrote ids
// to user memory, so a page that faults forever (userfaultfd) blocked every
// attach and detach on the machine.  Here LIST's buffer is a missing page of
// a userfaultfd region, left unresolved while another attach and detach run.
TEST(EngineLifetime, ListWritingToAFaultingPageBlocksNoOtherCaller)
{
	const int uffd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
	if (uffd < 0 && errno == ENOSYS) {
		// The debug kernel is built without it (scripts/debug-kernel.config);
		// Debian's kernels, on both arches, run this test.
		GTEST_SKIP() << "userfaultfd is not in this kernel";
	}
	ASSERT_GE(uffd, 0) << "userfaultfd: " << std::strerror(errno);
	uffdio_api api{.api = UFFD_API, .features = 0, .ioctls = 0};
	ASSERT_EQ(::ioctl(uffd, UFFDIO_API, &api), 0) << std::strerror(errno);
	const long page = ::sysconf(_SC_PAGESIZE);
	void *mem = ::mmap(nullptr, static_cast<size_t>(page), PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(mem, MAP_FAILED);
	uffdio_register reg{};
	reg.range = {.start = reinterpret_cast<uintptr_t>(mem), .len = static_cast<__u64>(page)};
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(::ioctl(uffd, UFFDIO_REGISTER, &reg), 0) << std::strerror(errno);

	utrace::Device dev;
	Tracee t;
	const auto listed = dev.attach(t.pid(), EngineType::Count, 0);
	int list_errno = -1;
	uint32_t list_count = 0;
	std::thread lister([&] {
		utrace_ioc_list req{};
		req.ids = reinterpret_cast<uintptr_t>(mem);
		req.count = 16;
		list_errno = ::ioctl(dev.fd(), UTRACE_IOC_LIST, &req) == 0 ? 0 : errno;
		list_count = req.count;
	});
	// The lister is blocked in its fault once the fault is reported.
	pollfd p{uffd, POLLIN, 0};
	ASSERT_EQ(::poll(&p, 1, 60000), 1) << "LIST never touched its buffer";

	std::atomic<bool> other_done{false};
	int other_errno = -1;
	std::thread other([&] {
		other_errno = error_of([&] {
			utrace::Device dev2;
			dev2.detach(dev2.attach(t.pid(), EngineType::Count, 0));
		});
		other_done = true;
	});
	const bool unblocked = eventually([&] { return other_done.load(); }, 20s);

	// Resolve the fault: the list completes.
	uffdio_zeropage zp{};
	zp.range = {.start = reinterpret_cast<uintptr_t>(mem), .len = static_cast<__u64>(page)};
	EXPECT_EQ(::ioctl(uffd, UFFDIO_ZEROPAGE, &zp), 0) << std::strerror(errno);
	lister.join();
	other.join();
	EXPECT_TRUE(unblocked) << "an attach and detach waited for another caller's page fault";
	EXPECT_EQ(other_errno, 0);
	EXPECT_EQ(list_errno, 0) << std::strerror(list_errno);
	EXPECT_GE(list_count, 1U);
	dev.detach(listed);
	::munmap(mem, static_cast<size_t>(page));
	::close(uffd);
}

} // namespace
