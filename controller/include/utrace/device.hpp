// /dev/utrace: the module's control device.  RAII owner of one open fd.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace utrace
{

struct ModuleVersion {
	uint32_t abi = 0;    // UTRACE_ABI_VERSION of the loaded module
	uint32_t api = 0;    // utrace engine API (upstream: 20091216)
	std::string release; // module version string
};

// The kernel's utrace events, by bit number (UTRACE_EVENT(x) = 1 << x).
enum class Event : unsigned {
	Quiesce = 0,
	Reap,
	Clone,
	Exec,
	Exit,
	Death,
	SyscallEntry,
	SyscallExit,
	Signal,
	SignalIgn,
	SignalStop,
	SignalTerm,
	SignalCore,
	Jctl,
};
inline constexpr unsigned kNumEvents = 14;

// A set of events (bit i = Event i).
using EventMask = uint64_t;
constexpr EventMask bit(Event e)
{
	return EventMask{1} << static_cast<unsigned>(e);
}

enum class EngineType : uint32_t { Count = 1, Stopper = 2, User = 3 };

// Who an engine belongs to (docs/SECURITY.md).
enum class Lifetime : uint32_t {
	// The Device (open file) that attached it: only that Device sees and
	// controls it, and closing the Device detaches it.
	File = 0,
	// Count and stopper engines only (UTRACE_ENGINE_PERSISTENT): the
	// attacher's effective uid.  It stays attached after the Device is
	// closed; any Device opened by that euid, or with CAP_SYS_ADMIN, sees
	// and controls it.  This is what `utracectl attach` makes.
	Persistent = 1,
};

// Action-word bits beside the resume action (uapi/utrace.h).
inline constexpr uint32_t kSyscallAbort = 0x10;
inline constexpr uint32_t kSyscallResumed = 0x100;
// At SIGNAL* events: the signal disposition (bits 4-7) and HOLD.
inline constexpr uint32_t kSignalMask = 0xf0;
inline constexpr uint32_t kSignalDeliver = 0x00;
inline constexpr uint32_t kSignalIgn = 0x10;
inline constexpr uint32_t kSignalTerm = 0x20;
inline constexpr uint32_t kSignalCore = 0x30;
inline constexpr uint32_t kSignalStop = 0x40;
inline constexpr uint32_t kSignalTstp = 0x50;
inline constexpr uint32_t kSignalReport = 0x60;
inline constexpr uint32_t kSignalHandler = 0x70;
inline constexpr uint32_t kSignalHold = 0x100;

// One report of a User engine (struct utrace_report_msg).
struct Report {
	uint64_t seq = 0;
	uint64_t id = 0;
	pid_t tid = 0;
	Event event = Event::Quiesce;
	uint32_t action = 0; // what the other engines chose so far
	bool needs_reply = false;
	int64_t syscall_nr = -1;
	uint64_t args[6] = {};
	int64_t retval = 0;
	uint64_t ip = 0;
	uint64_t sp = 0;
	int64_t code = 0; // EXIT code, DEATH signal, CLONE child, JCTL type
	uint64_t clone_flags = 0;
	int signo = 0; // SIGNAL*
	int si_code = 0;
	int si_errno = 0;
	int notify = 0; // JCTL
};

// The answer to a Report (struct utrace_reply_msg).
struct Reply {
	uint64_t seq = 0;
	uint32_t action = 5; // Action::Resume, plus kSyscallAbort or kSignal* bits
	std::optional<int64_t> syscall_nr{};
	std::optional<std::array<uint64_t, 6>> args{};
	std::optional<int64_t> retval{};
	std::optional<int> signo{}; // SIGNAL*: deliver this signal instead
};

// utrace resume actions, smallest wins.
enum class Action : uint64_t {
	Stop = 0,
	Interrupt,
	Report,
	SingleStep,
	BlockStep,
	Resume,
	Detach,
};

using EngineId = uint64_t;

enum class EngineState : uint32_t { Attached = 0, Stopped = 1, Dead = 2, Gone = 3 };

struct EngineInfo {
	EngineId id = 0;
	pid_t tid = 0;
	EngineType type = EngineType::Count;
	EngineState state = EngineState::Attached;
	EventMask events = 0;
	EventMask stop_events = 0;
	uint64_t counts[kNumEvents] = {};
	uint64_t stops = 0;
	int64_t last_event = -1;
	int64_t last_syscall = -1;
	int64_t exit_code = 0;
	Lifetime lifetime = Lifetime::File;
	uint32_t owner_uid = 0; // effective uid of the attacher

	[[nodiscard]] uint64_t count(Event e) const { return counts[static_cast<unsigned>(e)]; }
};

// One record of an observing engine (struct utrace_record, the same
// layout: Ring::read() fills a span of them directly).
enum class RecordType : uint32_t {
	Event = 1,  // an observed report
	Lost = 2,   // lost() records were dropped here (the ring was full)
	String = 3, // captured argument bytes (struct utrace_record_data): string_piece()
};

// Flags of a String record's piece (UTRACE_DATA_*).
inline constexpr uint32_t kDataMore = 0x1;      // the string goes on in the next record
inline constexpr uint32_t kDataTruncated = 0x2; // cut at the capture bound
inline constexpr uint32_t kDataFault = 0x4;     // the pointer could not be read
inline constexpr uint32_t kDataArgvEnd = 0x8;   // end of an argv array (index = its size)
inline constexpr uint32_t kDataArgv = 0x10;     // part of an argv capture

// One String record's view (valid while the Record is).
struct StringPiece {
	unsigned arg = 0;   // the system call argument, 0..5
	EngineId id = 0;    // as the Event record it follows
	pid_t tid = 0;      // as the Event record it follows
	unsigned index = 0; // argv element; at kDataArgvEnd the element count
	uint32_t flags = 0; // kData*
	std::string_view bytes;
};
struct Record {
	RecordType type = RecordType::Event;
	Event event = Event::Quiesce;
	EngineId id = 0; // the engine (0 in a Lost record)
	pid_t tid = 0;   // in the pid namespace of the Device's opener
	uint32_t action = 0;
	uint64_t time_ns = 0;    // CLOCK_MONOTONIC when written
	int64_t syscall_nr = -1; // SYSCALL_ENTRY/EXIT
	uint64_t args[6] = {};
	int64_t retval = 0; // SYSCALL_EXIT
	int64_t code = 0;   // EXIT code, DEATH signal, CLONE child, Lost: count
	uint64_t clone_flags = 0;
	uint64_t ip = 0;
	int32_t signo = 0;
	int32_t si_code = 0;

	[[nodiscard]] uint64_t lost() const
	{
		return type == RecordType::Lost ? static_cast<uint64_t>(code) : 0;
	}
	// An Event record at SyscallEntry: how many String records follow it
	// (captured arguments, Device::set_syscalls()).
	[[nodiscard]] size_t strings_following() const
	{
		return type == RecordType::Event && event == Event::SyscallEntry && code > 0
		               ? static_cast<size_t>(code)
		               : 0;
	}
	// A CLONE record of an inheriting observer: the child's engine id
	// (> 0), 0 when nothing was inherited, or -errno when that failed.
	[[nodiscard]] int64_t inherited_id() const { return retval; }
	// A String record's contents (EPROTO for another type).
	[[nodiscard]] StringPiece string_piece() const;
};
static_assert(sizeof(Record) == 128);

// The arguments captured at one SyscallEntry, put together from the String
// records that follow its Event record.
struct CapturedString {
	std::string value;
	bool truncated = false; // longer than the capture bound (256 bytes)
	bool fault = false;     // unreadable pointer (the call fails with EFAULT natively)
};
struct CapturedArgv {
	std::vector<CapturedString> elements;
	bool truncated = false; // more elements than the capture bound (32)
	bool fault = false;     // the array itself could not be read
};
struct CapturedArgs {
	std::array<std::optional<CapturedString>, 6> strings; // by argument
	std::array<std::optional<CapturedArgv>, 6> argvs;     // by argument
};
// @records are the strings_following() records after the Event record
// (EPROTO if one is not a String record).
[[nodiscard]] CapturedArgs collect_captures(std::span<const Record> records);

// Syscall table entries (Device::set_syscalls()): entry i is for system
// call number i of the tracee's native ABI.
inline constexpr uint16_t kSyscallReport = 0x1; // report this call (entry and exit)
// Capture argument @arg (0..5) at entry as a string / as an argv array.
constexpr uint16_t syscall_string(unsigned arg)
{
	return static_cast<uint16_t>(1U << (1 + arg));
}
constexpr uint16_t syscall_argv(unsigned arg)
{
	return static_cast<uint16_t>(1U << (7 + arg));
}
inline constexpr size_t kMaxSyscalls = 1024;

// Whether an observer attached with attach_observer() follows its thread's
// children and new threads (UTRACE_ENGINE_INHERIT).
enum class Inherit : uint32_t { No = 0, Yes = 1 };

// Records of a mapped ring read in place (Ring::peek()): the unread ones,
// oldest first, in at most two pieces (the ring wraps).  Valid until
// Ring::consume() gives their slots back.
struct RecordSpan {
	std::span<const Record> first;
	std::span<const Record> second;

	[[nodiscard]] size_t size() const noexcept { return first.size() + second.size(); }
	[[nodiscard]] bool empty() const noexcept { return size() == 0; }
	[[nodiscard]] const Record &operator[](size_t i) const noexcept
	{
		return i < first.size() ? first[i] : second[i - first.size()];
	}
};

// The ring of a Device's observing engines (UTRACE_IOC_RING): RAII owner
// of its descriptor (non-blocking) and, once map()ped, of its mapping.
// Writers never wait: a full ring drops records and a Lost record says how
// many, in order.
class Ring
{
public:
	Ring(int fd, uint32_t records) noexcept : fd_(fd), records_(records) {}
	~Ring();
	Ring(const Ring &) = delete;
	Ring &operator=(const Ring &) = delete;
	Ring(Ring &&other) noexcept;
	Ring &operator=(Ring &&other) noexcept;

	// Waits at most @timeout (negative: no limit) for records, then reads
	// (copies, through read(2)) as many as @out holds, oldest first.
	// Returns how many (0 on a timeout, or at the end: see at_end()).  Not
	// for a mapped ring (EINVAL): both take records by the same tail.
	[[nodiscard]] size_t read(std::span<Record> out, std::chrono::milliseconds timeout);

	// Maps the ring (mmap(2) of its descriptor, struct utrace_ring_header)
	// to read its records in place with peek() and consume(): no copy, and
	// no system call while there are records.
	void map();
	[[nodiscard]] bool mapped() const noexcept { return map_ != nullptr; }
	// Mapped: the unread records, in place; if there are none, waits at
	// most @timeout (negative: no limit) for some first, in poll(2).
	// Empty on a timeout, or at the end (at_end()).  EPROTO if the
	// mapping's tail was changed behind this object's back.
	[[nodiscard]] RecordSpan peek(std::chrono::milliseconds timeout);
	// Mapped: gives back the oldest @n of the records peek() returned (at
	// most that many: EINVAL); their slots may then be written again.
	void consume(size_t n);

	// The Device was closed and every record read.
	[[nodiscard]] bool at_end() const noexcept { return eof_; }
	[[nodiscard]] int fd() const noexcept { return fd_; }

private:
	void unmap() noexcept;
	[[nodiscard]] short wait(std::chrono::milliseconds timeout);

	int fd_ = -1;
	uint32_t records_ = 0;
	bool eof_ = false;
	void *map_ = nullptr; // the mapping: the header page, then the slots
	size_t map_len_ = 0;
	const Record *slots_ = nullptr;
	uint64_t peeked_ = 0; // records peek() returned, not yet consumed
};

class Device
{
public:
	static constexpr const char *kPath = "/dev/utrace";

	// Opens kPath; throws Error (ENOENT: "module not loaded", EACCES: "needs root").
	explicit Device(const std::string &path = kPath);
	~Device();
	Device(const Device &) = delete;
	Device &operator=(const Device &) = delete;
	Device(Device &&other) noexcept;
	Device &operator=(Device &&other) noexcept;

	[[nodiscard]] ModuleVersion version() const;
	// Round trip through the module; returns the module's reply (~cookie).
	[[nodiscard]] uint64_t ping(uint64_t cookie) const;
	// Engines shipped with the module.  Errors throw utrace::Error with
	// the errno: ESRCH, EPERM, EINVAL, EAGAIN (attach: the target is in
	// an exec that waits for its other threads), ENOENT (no engine with
	// that id that this Device may see).
	[[nodiscard]] EngineId attach(pid_t tid, EngineType type, EventMask events,
	                              EventMask stop_events = 0,
	                              Lifetime lifetime = Lifetime::File) const;
	void set_events(EngineId id, EventMask events) const;
	void set_stop_events(EngineId id, EventMask events) const;
	// Returns 0, or EINPROGRESS when the action takes effect later (STOP
	// of a running thread, DETACH during a callback).
	[[nodiscard]] int control(EngineId id, Action action) const;
	void detach(EngineId id) const;
	[[nodiscard]] EngineInfo info(EngineId id) const;
	// The engines this Device may see: its own, and the persistent ones of
	// its euid (all persistent ones with CAP_SYS_ADMIN).
	[[nodiscard]] std::vector<EngineId> list() const;

	// User engines attached through this Device: the next report, waiting
	// at most @timeout (nullopt on timeout; a negative @timeout waits with
	// no limit), and the answer to one.
	[[nodiscard]] std::optional<Report> read_report(std::chrono::milliseconds timeout) const;
	void reply(const Reply &reply) const;

	// Observe-only user engines.  create_ring() gives this Device its ring
	// of @records records (a power of two, 2 .. 65536; EBUSY the second
	// time); a Ring::read() that waits is woken once @wakeup records are
	// unread (0, 1: at each one), at a DEATH record, or at the end, so
	// with @wakeup > 1 read with a timeout to get the rest; attach_observer() attaches a User
	// engine whose @events go into it without stopping the thread, except @wait_events, which
	// are read_report()/reply() round trips as for attach(tid, User, ...). Every observer of a
	// Device shares its ring (one ordered stream).
	[[nodiscard]] Ring create_ring(uint32_t records, uint32_t wakeup = 1) const;
	// With Inherit::Yes, each thread or process the thread creates (not with
	// CLONE_UNTRACED) gets its own observer, alike, before it runs: its id
	// is the CLONE record's inherited_id(), and so on down the tree.
	[[nodiscard]] EngineId attach_observer(pid_t tid, EventMask events,
	                                       EventMask wait_events = 0,
	                                       Inherit inherit = Inherit::No) const;
	// UTRACE_IOC_SET_SYSCALLS: only the system calls whose entry has
	// kSyscallReport are reported (numbers past the table's end neither),
	// with the syscall_string()/syscall_argv() arguments captured into
	// String records at entry; an empty @table removes the filter.  At most
	// kMaxSyscalls entries (EINVAL).  Inherited engines share the table.
	void set_syscalls(EngineId id, std::span<const uint16_t> table) const;

	// The descriptor is non-blocking (O_NONBLOCK): a report poll() shows
	// can be gone when read() comes (its thread was killed, its engine
	// detached), and a blocking read() would then wait for the next one.
	[[nodiscard]] int fd() const noexcept { return fd_; }

private:
	int fd_ = -1;
};

} // namespace utrace
