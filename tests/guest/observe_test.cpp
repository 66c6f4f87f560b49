// Observe-only user engines (UTRACE_ENGINE_OBSERVE): records written into the
// Device's ring without stopping the thread, in order, with the right system
// call numbers, arguments and return values; LOST records in band when the
// ring overflows; a waiting event mixed with observed ones; bad input; detach,
// SIGKILL and close while records are being written.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

using utrace_test::proc_state;
using namespace std::chrono_literals;
using utrace::Action;
using utrace::bit;
using utrace::EngineType;
using utrace::Event;
using utrace::Record;
using utrace::RecordType;
using utrace::Report;
using utrace::Ring;
using utrace_test::drain;
using utrace_test::error_of;
using utrace_test::eventually;
using utrace_test::next;

namespace
{

constexpr uint32_t kResume = static_cast<uint32_t>(Action::Resume);
constexpr utrace::EventMask kSyscalls = bit(Event::SyscallEntry) | bit(Event::SyscallExit);
constexpr long kLseekOffset = 12345;

// The errno of a raw call's result, 0 if it succeeded.
int errno_of(long rc)
{
	return rc < 0 ? errno : 0;
}

// A child that waits for a byte on a pipe, then makes one lseek(-1, 12345,
// SEEK_SET) (EBADF) and @calls getppid() system calls, then _exit(0); with
// @calls < 0 it calls getppid() forever.
class Workload : public utrace_test::HeldChild
{
public:
	explicit Workload(long calls)
	    : HeldChild([calls] {
		      ::syscall(SYS_lseek, -1, kLseekOffset, SEEK_SET);
		      for (long i = 0; calls < 0 || i < calls; i++)
			      ::syscall(SYS_getppid);
		      return 0;
	      })
	{
	}
};

// How the test reads its ring.
enum class Reading { Read, InPlace };

Ring make_ring(const utrace::Device &dev, uint32_t records, Reading how)
{
	Ring ring = dev.create_ring(records);
	if (how == Reading::InPlace)
		ring.map();
	return ring;
}

void records_every_syscall(Reading how)
{
	constexpr long kCalls = 500;
	utrace::Device dev;
	Ring ring = make_ring(dev, 4096, how);
	Workload w(kCalls);
	const pid_t pid = w.pid();
	const auto id = dev.attach_observer(pid, kSyscalls);
	w.go();
	ASSERT_EQ(w.wait(), 0) << "the child ran to its end";
	const auto recs = drain(ring);

	size_t i = 0;
	while (i < recs.size() &&
	       !(recs[i].event == Event::SyscallEntry && recs[i].syscall_nr == SYS_lseek))
		i++;
	ASSERT_LT(i, recs.size()) << "no lseek entry among " << recs.size() << " records";
	uint64_t last_time = 0;
	for (const Record &r : recs) {
		EXPECT_EQ(r.type, RecordType::Event);
		EXPECT_EQ(r.id, id);
		EXPECT_EQ(r.tid, pid);
		EXPECT_GE(r.time_ns, last_time) << "records in the order they were written";
		last_time = r.time_ns;
	}
	const Record &entry = recs[i];
	EXPECT_EQ(static_cast<int>(entry.args[0]), -1);
	EXPECT_EQ(entry.args[1], static_cast<uint64_t>(kLseekOffset));
	EXPECT_EQ(entry.args[2], static_cast<uint64_t>(SEEK_SET));
	ASSERT_LT(i + 1, recs.size());
	EXPECT_EQ(recs[i + 1].event, Event::SyscallExit);
	EXPECT_EQ(recs[i + 1].syscall_nr, SYS_lseek);
	EXPECT_EQ(recs[i + 1].retval, -EBADF);
	const pid_t parent = ::getpid();
	for (long k = 0; k < kCalls; k++) {
		const size_t at = i + 2 + 2 * static_cast<size_t>(k);
		ASSERT_LT(at + 1, recs.size()) << "getppid " << k << " of " << kCalls;
		EXPECT_EQ(recs[at].event, Event::SyscallEntry) << k;
		EXPECT_EQ(recs[at].syscall_nr, SYS_getppid) << k;
		EXPECT_EQ(recs[at + 1].event, Event::SyscallExit) << k;
		EXPECT_EQ(recs[at + 1].syscall_nr, SYS_getppid) << k;
		EXPECT_EQ(recs[at + 1].retval, parent) << k;
	}
	const size_t last = i + 2 + 2 * static_cast<size_t>(kCalls);
	ASSERT_EQ(last + 1, recs.size()) << "then exit_group's entry, and nothing after it";
	EXPECT_EQ(recs[last].event, Event::SyscallEntry);
	EXPECT_EQ(recs[last].syscall_nr, SYS_exit_group);
	EXPECT_EQ(recs[last].args[0], 0U);
}

TEST(Observe, RecordsEverySyscallInOrderWithNumbersArgumentsAndReturnValues)
{
	records_every_syscall(Reading::Read);
}

// The same, read in place through the mapping (the ring does not wrap
// here; the overflow test's does).
TEST(Observe, AMappedRingGivesTheSameRecordsInPlace)
{
	records_every_syscall(Reading::InPlace);
}

void overflow_counted(Reading how)
{
	constexpr long kCalls = 3000;
	utrace::Device dev;
	Ring ring = make_ring(dev, 64, how);
	Workload w(kCalls);
	const auto id = dev.attach_observer(w.pid(), kSyscalls);
	const auto count = dev.attach(w.pid(), EngineType::Count, kSyscalls);
	w.go();
	// Nobody reads: observed events never stop it.
	ASSERT_EQ(w.wait(), 0);
	const auto info = dev.info(count);
	const uint64_t did = info.count(Event::SyscallEntry) + info.count(Event::SyscallExit);
	ASSERT_GT(did, 2U * kCalls);

	const auto recs = drain(ring);
	uint64_t events = 0;
	uint64_t lost = 0;
	size_t lost_records = 0;
	size_t first_lost = recs.size();
	for (size_t i = 0; i < recs.size(); i++) {
		if (recs[i].type == RecordType::Lost) {
			lost += recs[i].lost();
			lost_records++;
			first_lost = std::min(first_lost, i);
			EXPECT_EQ(recs[i].id, 0U);
		} else {
			EXPECT_EQ(recs[i].id, id);
			events++;
		}
	}
	EXPECT_GE(lost_records, 1U) << "the overflow is reported in the stream";
	EXPECT_EQ(first_lost, 64U) << "after the records that fitted";
	EXPECT_EQ(events + lost, did) << events << " records + " << lost << " lost";
	EXPECT_EQ(events, 64U) << "nothing read while it ran: only the first ring-full";
}

TEST(Observe, OverflowIsCountedInBandAndRecordsPlusLostEqualWhatTheThreadDid)
{
	overflow_counted(Reading::Read);
}

// In place, the LOST record is written by the poll of peek(), once the
// consumed slots made room, and the ring wraps.
TEST(Observe, AMappedRingCountsItsOverflowInBandToo)
{
	overflow_counted(Reading::InPlace);
}

TEST(Observe, AWaitingEventStillWaitsForItsReplyWhileObservedOnesFlow)
{
	constexpr long kCalls = 200;
	utrace::Device dev;
	Ring ring = dev.create_ring(1024);
	Workload w(kCalls);
	const auto id =
	        dev.attach_observer(w.pid(), kSyscalls | bit(Event::Exit), bit(Event::Exit));
	w.go();
	const Report exit = next(dev, Event::Exit);
	EXPECT_EQ(exit.id, id);
	EXPECT_TRUE(exit.needs_reply);
	EXPECT_TRUE(eventually([&] { return proc_state(w.pid()) == "t (tracing stop)"; }))
	        << "it waits for the reply";
	// Everything before the exit is in the ring already.
	const auto recs = drain(ring);
	size_t getppids = 0;
	for (const Record &r : recs) {
		EXPECT_EQ(r.type, RecordType::Event);
		EXPECT_NE(r.event, Event::Exit) << "a waiting event is not a record";
		if (r.event == Event::SyscallExit && r.syscall_nr == SYS_getppid)
			getppids++;
	}
	EXPECT_EQ(getppids, static_cast<size_t>(kCalls));
	ASSERT_FALSE(recs.empty());
	EXPECT_EQ(recs.back().syscall_nr, SYS_exit_group);
	dev.reply({.seq = exit.seq, .action = kResume});
	EXPECT_EQ(w.wait(), 0);
}

TEST(Observe, ABlockedReaderIsWokenAtTheWakeupMarkAndGetsEveryRecord)
{
	constexpr long kCalls = 500;
	utrace::Device dev;
	Ring ring = dev.create_ring(1024, 512);
	Workload w(kCalls);
	(void)dev.attach_observer(w.pid(), kSyscalls);
	w.go();
	// No timeout: the 512th unread record wakes it.
	std::vector<Record> buf(1024);
	const size_t first = ring.read(buf, std::chrono::milliseconds(-1));
	ASSERT_GT(first, 0U);
	ASSERT_EQ(w.wait(), 0);
	std::vector<Record> recs(buf.begin(), buf.begin() + static_cast<long>(first));
	const auto rest = drain(ring);
	recs.insert(recs.end(), rest.begin(), rest.end());
	size_t getppids = 0;
	for (const Record &r : recs) {
		EXPECT_EQ(r.type, RecordType::Event);
		if (r.event == Event::SyscallExit && r.syscall_nr == SYS_getppid)
			getppids++;
	}
	EXPECT_EQ(getppids, static_cast<size_t>(kCalls));
}

TEST(Observe, BadRingSizesFlagsAndReservedFieldsAreEinvalAndChangeNothing)
{
	utrace::Device dev;
	for (const uint32_t records : {0U, 1U, 3U, 100U, 131072U, 0x80000000U}) {
		utrace_ioc_ring req{};
		req.records = records;
		EXPECT_EQ(errno_of(::ioctl(dev.fd(), UTRACE_IOC_RING, &req)), EINVAL) << records;
	}
	{
		utrace_ioc_ring req{.records = 8, .flags = 0x2, .fd = 0, .wakeup = 0};
		EXPECT_EQ(errno_of(::ioctl(dev.fd(), UTRACE_IOC_RING, &req)), EINVAL);
		req = {.records = 8, .flags = 0, .fd = 0, .wakeup = 9};
		EXPECT_EQ(errno_of(::ioctl(dev.fd(), UTRACE_IOC_RING, &req)), EINVAL);
		req = {.records = 8, .flags = 0, .fd = 3, .wakeup = 0};
		EXPECT_EQ(errno_of(::ioctl(dev.fd(), UTRACE_IOC_RING, &req)), EINVAL);
	}
	Workload w(0);
	// No ring yet: an observer has nowhere to write.
	EXPECT_EQ(error_of([&] { (void)dev.attach_observer(w.pid(), kSyscalls); }), EINVAL);
	Ring ring = dev.create_ring(8);
	EXPECT_EQ(error_of([&] { (void)dev.create_ring(8); }), EBUSY) << "one ring per file";
	// Only a user engine observes.
	for (const uint32_t type : {UTRACE_ENGINE_COUNT, UTRACE_ENGINE_STOPPER}) {
		utrace_ioc_attach req{};
		req.tid = w.pid();
		req.type = type;
		req.events = kSyscalls;
		req.flags = UTRACE_ENGINE_OBSERVE;
		EXPECT_EQ(errno_of(::ioctl(dev.fd(), UTRACE_IOC_ATTACH, &req)), EINVAL);
	}
	EXPECT_TRUE(dev.list().empty()) << "nothing attached by the refused requests";
	// The descriptor: whole records only, no write, O_NONBLOCK says EAGAIN.
	char small[sizeof(Record) - 1];
	EXPECT_EQ(errno_of(::read(ring.fd(), small, sizeof(small))), EINVAL);
	EXPECT_EQ(errno_of(::write(ring.fd(), small, sizeof(small))), EINVAL) << "no write()";
	Record r;
	EXPECT_EQ(errno_of(::read(ring.fd(), &r, sizeof(r))), EAGAIN);
	EXPECT_NE(::fcntl(ring.fd(), F_GETFD) & FD_CLOEXEC, 0);
}

// mmap() takes the whole ring, shared, at offset 0, and nothing else; a tail
// the ring cannot have is the reader's loss only: read() is EIO, writers
// drop and count, and once the tail is put right the count comes in band.
TEST(Observe, BadMappingsAreEinvalAndAForeignTailReadsAsAFullRing)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(64);
	const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
	const size_t len = page + (64 * sizeof(Record));
	const auto map_errno = [&](size_t l, int flags, off_t off) {
		void *m = ::mmap(nullptr, l, PROT_READ | PROT_WRITE, flags, ring.fd(), off);
		if (m == MAP_FAILED)
			return errno;
		::munmap(m, l);
		return 0;
	};
	EXPECT_EQ(map_errno(len + page, MAP_SHARED, 0), EINVAL) << "a page more";
	EXPECT_EQ(map_errno(page, MAP_SHARED, 0), EINVAL) << "the header alone";
	EXPECT_EQ(map_errno(len - page, MAP_SHARED, static_cast<off_t>(page)), EINVAL)
	        << "the slots alone";
	EXPECT_EQ(map_errno(len, MAP_PRIVATE, 0), EINVAL) << "private: the tail never arrives";
	ASSERT_EQ(map_errno(len, MAP_SHARED, 0), 0);

	void *m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, ring.fd(), 0);
	ASSERT_NE(m, MAP_FAILED);
	auto *h = static_cast<utrace_ring_header *>(m);
	EXPECT_EQ(h->records, 64U);
	EXPECT_EQ(h->data_offset, page);
	EXPECT_EQ(h->head, 0U);
	EXPECT_EQ(h->tail, 0U);

	Workload w(10);
	(void)dev.attach_observer(w.pid(), kSyscalls);
	__atomic_store_n(&h->tail, 5, __ATOMIC_RELEASE); // ahead of the head
	Record r;
	EXPECT_EQ(errno_of(::read(ring.fd(), &r, sizeof(r))), EIO);
	w.go();
	ASSERT_EQ(w.wait(), 0) << "a full ring never stops the thread";
	EXPECT_EQ(__atomic_load_n(&h->head, __ATOMIC_ACQUIRE), 0U) << "every record dropped";
	__atomic_store_n(&h->tail, 0, __ATOMIC_RELEASE);
	// The read (a mapped reader's poll the same) writes the LOST record.
	ASSERT_EQ(::read(ring.fd(), &r, sizeof(r)), static_cast<ssize_t>(sizeof(r)));
	EXPECT_EQ(r.type, RecordType::Lost);
	EXPECT_GE(r.lost(), 2U * 10 + 1) << "ten getppid() calls, lseek and exit_group";
	EXPECT_EQ(__atomic_load_n(&h->tail, __ATOMIC_RELAXED), 1U) << "read() moves the same tail";
	::munmap(m, len);
}

TEST(Observe, ADetachedObserverWritesNoMoreAndTheThreadRunsOn)
{
	utrace::Device dev;
	Ring ring = dev.create_ring(256);
	Workload w(-1);
	const auto id = dev.attach_observer(w.pid(), kSyscalls);
	const auto count = dev.attach(w.pid(), EngineType::Count, kSyscalls);
	w.go();
	std::vector<Record> buf(64);
	ASSERT_GT(ring.read(buf, 60000ms), 0U);
	dev.detach(id);
	EXPECT_EQ(error_of([&] { (void)dev.info(id); }), ENOENT);
	// The thread goes on through the report path (the count engine's):
	// once it made 1000 more calls, a callback of the observer that was
	// running at the detach is over, and what it wrote drains.
	const uint64_t at_detach = dev.info(count).count(Event::SyscallExit);
	EXPECT_TRUE(eventually(
	        [&] { return dev.info(count).count(Event::SyscallExit) >= at_detach + 1000; }));
	(void)drain(ring);
	EXPECT_EQ(ring.read(buf, 500ms), 0U) << "no record after the detach";
	w.kill();
}

TEST(Observe, SigkillWhileWritingAndCloseOfTheDeviceEndTheStreamCleanly)
{
	std::vector<Record> buf(64);
	{
		// A ring that the calls between the read and the kill cannot fill
		// (thousands at most, even on a fast machine): DEATH finds room.
		utrace::Device dev;
		Ring ring = dev.create_ring(65536);
		Workload w(-1);
		(void)dev.attach_observer(w.pid(),
		                          kSyscalls | bit(Event::Death) | bit(Event::Reap));
		w.go();
		ASSERT_GT(ring.read(buf, 60000ms), 0U);
		w.kill();
		// DEATH (atomic) and REAP (a worker) are records too.  Were the
		// ring full when the thread died, DEATH would be dropped and counted
		// (the documented policy): a LOST record explains its absence.
		bool death = false;
		bool lost = false;
		for (const Record &r : drain(ring)) {
			death = death || (r.type == RecordType::Event && r.event == Event::Death);
			lost = lost || r.type == RecordType::Lost;
		}
		EXPECT_TRUE(death || lost) << "no DEATH record, and none was dropped";
	}
	Ring kept(-1, 0);
	{
		Workload w(-1);
		utrace::Device dev; // closed before w is killed
		Ring ring = dev.create_ring(16);
		(void)dev.attach_observer(w.pid(), kSyscalls);
		w.go();
		ASSERT_GT(ring.read(buf, 60000ms), 0U);
		kept = std::move(ring);
		// The Device goes while the thread writes: its engines detach, the
		// ring outlives it for its descriptor, and ends.
	}
	while (!kept.at_end())
		(void)kept.read(buf, 60000ms);
	pollfd p{kept.fd(), POLLIN, 0};
	ASSERT_EQ(::poll(&p, 1, 0), 1);
	EXPECT_NE(p.revents & POLLHUP, 0);
}

} // namespace
