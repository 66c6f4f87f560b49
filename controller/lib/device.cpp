#include "utrace/device.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <new>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <string>
#include <utility>

#include "uapi/utrace.h"
#include "utrace/error.hpp"

namespace utrace
{

Device::Device(const std::string &path)
{
	fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd_ >= 0)
		return;
	const int err = errno;
	if (err == ENOENT)
		throw Error(err, path + " does not exist: the utrace module is not loaded "
		                        "(run 'utracectl load')");
	if (err == EACCES || err == EPERM)
		throw Error(err, path + ": permission denied (utracectl needs root)");
	throw_errno(err, "open " + path);
}

Device::~Device()
{
	if (fd_ >= 0)
		::close(fd_);
}

Device::Device(Device &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Device &Device::operator=(Device &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			::close(fd_);
		fd_ = std::exchange(other.fd_, -1);
	}
	return *this;
}

ModuleVersion Device::version() const
{
	utrace_ioc_version v{};
	if (::ioctl(fd_, UTRACE_IOC_VERSION, &v) != 0)
		throw_errno(errno, "UTRACE_IOC_VERSION");
	v.release[sizeof(v.release) - 1] = '\0';
	return {v.abi, v.api, v.release};
}

uint64_t Device::ping(uint64_t cookie) const
{
	utrace_ioc_ping p{cookie, 0};
	if (::ioctl(fd_, UTRACE_IOC_PING, &p) != 0)
		throw_errno(errno, "UTRACE_IOC_PING");
	return p.reply;
}

} // namespace utrace

namespace utrace
{

static_assert(kNumEvents == UTRACE_NEVENTS);

namespace
{

// An ioctl the module does not know: it was built with another ABI.
[[noreturn]] void throw_ioctl_errno(int err, const std::string &what)
{
	if (err == ENOTTY)
		throw Error(ENOTTY, what +
		                            ": the loaded utrace.ko does not know this request: "
		                            "its ABI is not this program's (" +
		                            std::to_string(UTRACE_ABI_VERSION) +
		                            "; 'utracectl status' shows the module's)");
	throw_errno(err, what);
}

void engine_ioctl(int fd, unsigned long cmd, EngineId id, uint64_t arg, const char *what)
{
	utrace_ioc_engine req{id, arg};
	if (::ioctl(fd, cmd, &req) == 0)
		return;
	if (errno == ENOENT)
		throw Error(ENOENT, "no engine " + std::to_string(id));
	throw_ioctl_errno(errno, std::string(what) + " engine " + std::to_string(id));
}

// UTRACE_IOC_ATTACH; @what names the request in an error, before the tid.
EngineId attach_engine(int fd, pid_t tid, uint32_t type, EventMask events, EventMask stop_events,
                       uint32_t flags, const char *what)
{
	utrace_ioc_attach req{};
	req.tid = tid;
	req.type = type;
	req.events = events;
	req.stop_events = stop_events;
	req.flags = flags;
	if (::ioctl(fd, UTRACE_IOC_ATTACH, &req) != 0)
		throw_ioctl_errno(errno, what + std::to_string(tid));
	return req.id;
}

} // namespace

EngineId Device::attach(pid_t tid, EngineType type, EventMask events, EventMask stop_events,
                        Lifetime lifetime) const
{
	return attach_engine(fd_, tid, static_cast<uint32_t>(type), events, stop_events,
	                     lifetime == Lifetime::Persistent ? UTRACE_ENGINE_PERSISTENT : 0,
	                     "attach to thread ");
}

Ring Device::create_ring(uint32_t records, uint32_t wakeup) const
{
	utrace_ioc_ring req{};
	req.records = records;
	req.wakeup = wakeup;
	req.flags = UTRACE_RING_NONBLOCK;
	if (::ioctl(fd_, UTRACE_IOC_RING, &req) != 0)
		throw_ioctl_errno(errno,
		                  "create a ring of " + std::to_string(records) + " records");
	return Ring(req.fd, records);
}

EngineId Device::attach_observer(pid_t tid, EventMask events, EventMask wait_events,
                                 Inherit inherit) const
{
	return attach_engine(fd_, tid, UTRACE_ENGINE_USER, events, wait_events,
	                     UTRACE_ENGINE_OBSERVE |
	                             (inherit == Inherit::Yes ? UTRACE_ENGINE_INHERIT : 0),
	                     "attach an observer to thread ");
}

void Device::set_syscalls(EngineId id, std::span<const uint16_t> table) const
{
	utrace_ioc_syscalls req{};
	req.id = id;
	req.table = table.empty() ? 0 : reinterpret_cast<uintptr_t>(table.data());
	req.nr = static_cast<uint32_t>(std::min<size_t>(table.size(), UINT32_MAX));
	if (::ioctl(fd_, UTRACE_IOC_SET_SYSCALLS, &req) == 0)
		return;
	if (errno == ENOENT)
		throw Error(ENOENT, "no engine " + std::to_string(id));
	throw_ioctl_errno(errno, "set the syscall table of engine " + std::to_string(id));
}

void Device::set_events(EngineId id, EventMask events) const
{
	engine_ioctl(fd_, UTRACE_IOC_SET_EVENTS, id, events, "set events of");
}

void Device::set_stop_events(EngineId id, EventMask events) const
{
	engine_ioctl(fd_, UTRACE_IOC_SET_STOP_EVENTS, id, events, "set stop events of");
}

int Device::control(EngineId id, Action action) const
{
	utrace_ioc_engine req{id, static_cast<uint64_t>(action)};
	if (::ioctl(fd_, UTRACE_IOC_CONTROL, &req) == 0)
		return 0;
	if (errno == EINPROGRESS)
		return EINPROGRESS;
	if (errno == ENOENT)
		throw Error(ENOENT, "no engine " + std::to_string(id));
	throw_ioctl_errno(errno, "control engine " + std::to_string(id));
}

void Device::detach(EngineId id) const
{
	engine_ioctl(fd_, UTRACE_IOC_DETACH, id, 0, "detach");
}

EngineInfo Device::info(EngineId id) const
{
	utrace_ioc_engine_info raw{};
	raw.id = id;
	if (::ioctl(fd_, UTRACE_IOC_ENGINE_INFO, &raw) != 0) {
		if (errno == ENOENT)
			throw Error(ENOENT, "no engine " + std::to_string(id));
		throw_ioctl_errno(errno, "engine " + std::to_string(id));
	}
	EngineInfo info;
	info.id = raw.id;
	info.tid = raw.tid;
	info.type = static_cast<EngineType>(raw.type);
	info.state = static_cast<EngineState>(raw.state);
	info.events = raw.events;
	info.stop_events = raw.stop_events;
	for (unsigned i = 0; i < kNumEvents; i++)
		info.counts[i] = raw.counts[i];
	info.stops = raw.stops;
	info.last_event = raw.last_event;
	info.last_syscall = raw.last_syscall;
	info.exit_code = raw.exit_code;
	info.lifetime =
	        (raw.flags & UTRACE_ENGINE_PERSISTENT) ? Lifetime::Persistent : Lifetime::File;
	info.owner_uid = raw.owner_uid;
	return info;
}

std::vector<EngineId> Device::list() const
{
	std::vector<EngineId> ids(64);
	for (;;) {
		utrace_ioc_list req{};
		req.ids = reinterpret_cast<uintptr_t>(ids.data());
		req.count = static_cast<uint32_t>(ids.size());
		if (::ioctl(fd_, UTRACE_IOC_LIST, &req) != 0)
			throw_ioctl_errno(errno, "list engines");
		if (req.count <= ids.size()) {
			ids.resize(req.count);
			return ids;
		}
		ids.resize(static_cast<size_t>(req.count) * 2);
	}
}

std::optional<Report> Device::read_report(std::chrono::milliseconds timeout) const
{
	// poll() then a non-blocking read(): a report poll() saw can be gone by
	// the read() (its thread was killed, or its engine detached, and took
	// it back); then poll again for what is left of @timeout.
	using Clock = std::chrono::steady_clock;
	const bool forever = timeout.count() < 0;
	const auto start = Clock::now();
	utrace_report_msg msg{};
	for (;;) {
		int wait_ms = -1;
		if (!forever) {
			const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
			        Clock::now() - start);
			wait_ms = static_cast<int>(std::clamp<int64_t>(
			        (timeout - spent).count(), 0, std::numeric_limits<int>::max()));
		}
		pollfd p{fd_, POLLIN, 0};
		const int n = ::poll(&p, 1, wait_ms);
		if (n < 0)
			throw_errno(errno, "poll /dev/utrace");
		if (n == 0)
			return std::nullopt;
		const ssize_t got = ::read(fd_, &msg, sizeof(msg));
		if (got < 0 && errno == EAGAIN)
			continue;
		if (got < 0)
			throw_errno(errno, "read a report");
		if (static_cast<size_t>(got) != sizeof(msg))
			throw Error(EPROTO, "short report from /dev/utrace");
		break;
	}
	Report r;
	r.seq = msg.seq;
	r.id = msg.id;
	r.tid = msg.tid;
	r.event = static_cast<Event>(msg.event);
	r.action = msg.action;
	r.needs_reply = (msg.flags & UTRACE_MSG_NEEDS_REPLY) != 0;
	r.syscall_nr = msg.syscall_nr;
	for (unsigned i = 0; i < 6; i++)
		r.args[i] = msg.args[i];
	r.retval = msg.retval;
	r.ip = msg.ip;
	r.sp = msg.sp;
	r.code = msg.code;
	r.clone_flags = msg.clone_flags;
	r.signo = msg.signo;
	r.si_code = msg.si_code;
	r.si_errno = msg.si_errno;
	r.notify = msg.notify;
	return r;
}

void Device::reply(const Reply &reply) const
{
	utrace_reply_msg msg{};
	msg.seq = reply.seq;
	msg.action = reply.action;
	if (reply.syscall_nr) {
		msg.set |= UTRACE_REPLY_SET_SYSCALL_NR;
		msg.syscall_nr = *reply.syscall_nr;
	}
	if (reply.args) {
		msg.set |= UTRACE_REPLY_SET_ARGS;
		for (unsigned i = 0; i < 6; i++)
			msg.args[i] = (*reply.args)[i];
	}
	if (reply.retval) {
		msg.set |= UTRACE_REPLY_SET_RETVAL;
		msg.retval = *reply.retval;
	}
	if (reply.signo) {
		msg.set |= UTRACE_REPLY_SET_SIGNO;
		msg.signo = *reply.signo;
	}
	if (::write(fd_, &msg, sizeof(msg)) != static_cast<ssize_t>(sizeof(msg)))
		throw_errno(errno, "reply to report " + std::to_string(reply.seq));
}

// Record is read straight from the ring: the same layout as the ABI's.
static_assert(sizeof(Record) == sizeof(utrace_record));
static_assert(offsetof(Record, id) == offsetof(utrace_record, id));
static_assert(offsetof(Record, tid) == offsetof(utrace_record, tid));
static_assert(offsetof(Record, time_ns) == offsetof(utrace_record, time_ns));
static_assert(offsetof(Record, args) == offsetof(utrace_record, args));
static_assert(offsetof(Record, code) == offsetof(utrace_record, code));
static_assert(offsetof(Record, si_code) == offsetof(utrace_record, si_code));

static_assert(sizeof(utrace_record_data) == sizeof(utrace_record));

StringPiece Record::string_piece() const
{
	if (type != RecordType::String)
		throw Error(EPROTO, "not a String record");
	utrace_record_data d{};
	std::memcpy(&d, this, sizeof(d));
	StringPiece p;
	p.arg = d.arg;
	p.id = d.id;
	p.tid = d.tid;
	p.index = d.index;
	p.flags = d.flags;
	const size_t len = std::min<size_t>(d.len, UTRACE_DATA_BYTES);
	p.bytes = std::string_view(
	        reinterpret_cast<const char *>(this) + offsetof(utrace_record_data, data), len);
	return p;
}

CapturedArgs collect_captures(std::span<const Record> records)
{
	CapturedArgs out;
	CapturedString *cur = nullptr; // the string being put together
	for (const Record &r : records) {
		const StringPiece p = r.string_piece();
		if (p.arg >= 6)
			throw Error(EPROTO, "a String record of argument " + std::to_string(p.arg));
		if (p.flags & kDataArgv) {
			auto &a = out.argvs[p.arg];
			if (!a)
				a.emplace();
			if (p.flags & kDataArgvEnd) {
				a->truncated = (p.flags & kDataTruncated) != 0;
				a->fault = (p.flags & kDataFault) != 0;
				cur = nullptr;
				continue;
			}
			if (!cur)
				cur = &a->elements.emplace_back();
		} else if (!cur) {
			cur = &out.strings[p.arg].emplace();
		}
		cur->value.append(p.bytes);
		cur->truncated = cur->truncated || (p.flags & kDataTruncated) != 0;
		cur->fault = cur->fault || (p.flags & kDataFault) != 0;
		if (!(p.flags & kDataMore))
			cur = nullptr;
	}
	return out;
}

Ring::~Ring()
{
	unmap();
	if (fd_ >= 0)
		::close(fd_);
}

Ring::Ring(Ring &&other) noexcept
    : fd_(std::exchange(other.fd_, -1)), records_(std::exchange(other.records_, 0)),
      eof_(std::exchange(other.eof_, false)), map_(std::exchange(other.map_, nullptr)),
      map_len_(std::exchange(other.map_len_, 0)), slots_(std::exchange(other.slots_, nullptr)),
      peeked_(std::exchange(other.peeked_, 0))
{
}

Ring &Ring::operator=(Ring &&other) noexcept
{
	if (this != &other) {
		unmap();
		if (fd_ >= 0)
			::close(fd_);
		fd_ = std::exchange(other.fd_, -1);
		records_ = std::exchange(other.records_, 0);
		eof_ = std::exchange(other.eof_, false);
		map_ = std::exchange(other.map_, nullptr);
		map_len_ = std::exchange(other.map_len_, 0);
		slots_ = std::exchange(other.slots_, nullptr);
		peeked_ = std::exchange(other.peeked_, 0);
	}
	return *this;
}

void Ring::unmap() noexcept
{
	if (map_ != nullptr)
		::munmap(map_, map_len_);
	map_ = nullptr;
	slots_ = nullptr;
}

// What poll(2) said within @timeout: POLLIN, POLLHUP (the end), or 0.
short Ring::wait(std::chrono::milliseconds timeout)
{
	const int wait_ms = timeout.count() < 0
	                            ? -1
	                            : static_cast<int>(std::min<int64_t>(
	                                      timeout.count(), std::numeric_limits<int>::max()));
	pollfd p{fd_, POLLIN, 0};
	const int n = ::poll(&p, 1, wait_ms);
	if (n < 0 && errno != EINTR)
		throw_errno(errno, "poll the ring");
	return n > 0 ? p.revents : static_cast<short>(0);
}

size_t Ring::read(std::span<Record> out, std::chrono::milliseconds timeout)
{
	if (mapped())
		throw Error(EINVAL, "read a mapped ring (peek() and consume() read it)");
	if (out.empty() || eof_ || wait(timeout) == 0)
		return 0;
	const ssize_t got = ::read(fd_, out.data(), out.size_bytes());
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (got < 0)
		throw_errno(errno, "read the ring");
	if (got == 0)
		eof_ = true;
	if (static_cast<size_t>(got) % sizeof(Record) != 0)
		throw Error(EPROTO, "a partial record from the ring");
	return static_cast<size_t>(got) / sizeof(Record);
}

namespace
{

// The mapping's header: the module stores @head, the reader @tail.
utrace_ring_header *header(void *map)
{
	return static_cast<utrace_ring_header *>(map);
}

} // namespace

void Ring::map()
{
	if (mapped())
		return;
	const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
	const size_t len = page + (static_cast<size_t>(records_) * sizeof(Record));
	void *m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
	if (m == MAP_FAILED)
		throw_errno(errno, "map the ring");
	const utrace_ring_header *h = header(m);
	if (h->records != records_ || h->data_offset != page) {
		::munmap(m, len);
		throw Error(EPROTO, "the ring's header does not describe a ring of " +
		                            std::to_string(records_) + " records");
	}
	map_ = m;
	map_len_ = len;
	// The module writes whole records into these slots: read them as such.
	slots_ = std::launder(reinterpret_cast<const Record *>(static_cast<char *>(m) + page));
	peeked_ = 0;
}

RecordSpan Ring::peek(std::chrono::milliseconds timeout)
{
	if (!mapped())
		throw Error(EINVAL, "peek at a ring that is not mapped");
	utrace_ring_header *h = header(map_);
	const uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);
	// Acquire: the records below @head are written.
	uint64_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
	if (head == tail && !eof_) {
		// The poll also emits a LOST record that waited for room.
		const short revents = wait(timeout);
		head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
		// Closed (no more records) and none came before the poll's look.
		if ((revents & POLLHUP) != 0 && head == tail)
			eof_ = true;
	}
	const uint64_t n = head - tail;
	if (n > records_)
		throw Error(EPROTO, "the mapped ring's tail is not the reader's");
	peeked_ = n;
	const size_t at = tail % records_;
	const size_t first = std::min<size_t>(n, records_ - at);
	return RecordSpan{.first = std::span<const Record>(slots_ + at, first),
	                  .second = std::span<const Record>(slots_, n - first)};
}

void Ring::consume(size_t n)
{
	if (!mapped() || n > peeked_)
		throw Error(EINVAL, "consume records peek() did not return");
	utrace_ring_header *h = header(map_);
	// Release: done with those slots before the module may write them again.
	__atomic_store_n(&h->tail, __atomic_load_n(&h->tail, __ATOMIC_RELAXED) + n,
	                 __ATOMIC_RELEASE);
	peeked_ -= n;
}

} // namespace utrace
