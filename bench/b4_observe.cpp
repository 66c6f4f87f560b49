// B4, observation without stopping: recording every system call of a
// process with a user engine (reports read from /dev/utrace) against a
// ptrace tracer doing the same (PTRACE_SYSCALL loop, PTRACE_GETREGSET at each
// stop for the number, as strace does).
//
// The bridge has no non-waiting mode for syscall reports: each SYSCALL_ENTRY
// and SYSCALL_EXIT report carries UTRACE_MSG_NEEDS_REPLY and the thread
// waits in a tracing stop until the reply is written; read() returns one
// report.  With one traced thread at most one report is ever pending, so
// nothing could be batched: this is an honest round trip per event for both.
// The count engine (in-kernel, never stops) is measured beside them as the
// reference for observation that truly does not stop.
//
// The observe-only engine (UTRACE_ENGINE_OBSERVE) is measured beside them in
// the same run: the same user engine, whose syscall reports are records
// written into the Device's ring without stopping the thread, read in
// batches by this process while the child runs (records + in-band LOST
// counts must cover every syscall).
//
// Each variant is a fresh child that times its own loop; the ratio is the
// user engine's speed-up over ptrace (ptrace time / engine time).  Anchor:
// strace is 40-50x slower than no tracing on a syscall-heavy workload.
#include <chrono>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include "benchmarks.hpp"
#include "tracer.hpp"
#include "uapi/utrace.h"

namespace bench
{

namespace
{

void add_instructions(Sample &s, const Counter &tracer)
{
	const auto own = tracer.stop();
	if (s.instructions && own)
		*s.instructions += static_cast<double>(*own);
	else
		s.instructions.reset();
}

Sample untraced(uint64_t iterations)
{
	LoopChild child(iterations, false);
	const Counter tracer(0);
	tracer.start();
	child.go();
	Sample s = child.result();
	add_instructions(s, tracer);
	return s;
}

Sample under_ptrace(uint64_t iterations)
{
	LoopChild child(iterations, true);
	std::vector<int64_t> seen;
	seen.reserve(4 * iterations + 64);
	const Counter tracer(0);
	tracer.start();
	child.go();
	ptrace_syscall_loop(child, &seen);
	Sample s = child.result();
	add_instructions(s, tracer);
	if (seen.size() < 4 * iterations)
		throw std::runtime_error("B4: the ptrace tracer missed syscalls");
	return s;
}

Sample under_user_engine(uint64_t iterations)
{
	LoopChild child(iterations, false);
	const utrace::Device dev;
	(void)dev.attach(child.pid(), utrace::EngineType::User,
	                 utrace::bit(utrace::Event::SyscallEntry) |
	                         utrace::bit(utrace::Event::SyscallExit) |
	                         utrace::bit(utrace::Event::Death));
	// Blocking reads, one per report (the Device's descriptor is
	// O_NONBLOCK for read_report()'s poll-then-read): the round trip this
	// benchmark measures, with no poll() in it; one reader, whose child
	// takes no report back before its death's.
	const int flags = ::fcntl(dev.fd(), F_GETFL);
	if (flags < 0 || ::fcntl(dev.fd(), F_SETFL, flags & ~O_NONBLOCK) != 0)
		throw std::runtime_error("B4: fcntl of /dev/utrace failed");
	std::vector<int64_t> seen;
	seen.reserve(4 * iterations + 64);
	const Counter tracer(0);
	tracer.start();
	child.go();
	for (;;) {
		utrace_report_msg msg{};
		if (::read(dev.fd(), &msg, sizeof(msg)) != sizeof(msg))
			throw std::runtime_error("B4: reading a report failed");
		if (msg.event == static_cast<unsigned>(utrace::Event::Death))
			break;
		seen.push_back(msg.syscall_nr);
		if (msg.flags & UTRACE_MSG_NEEDS_REPLY) {
			utrace_reply_msg reply{};
			reply.seq = msg.seq;
			reply.action = UTRACE_IOC_ACTION_RESUME;
			if (::write(dev.fd(), &reply, sizeof(reply)) != sizeof(reply))
				throw std::runtime_error("B4: writing a reply failed");
		}
	}
	Sample s = child.result();
	add_instructions(s, tracer);
	if (seen.size() < 4 * iterations)
		throw std::runtime_error("B4: the user engine missed syscalls");
	return s;
}

Sample under_observe_engine(uint64_t iterations)
{
	LoopChild child(iterations, false);
	const utrace::Device dev;
	// Woken every 8192 records: batches, not a switch per record.
	utrace::Ring ring = dev.create_ring(1U << 14, 1U << 13);
	// Read in place: no copy, and no system call while records are there.
	ring.map();
	(void)dev.attach_observer(child.pid(), utrace::bit(utrace::Event::SyscallEntry) |
	                                               utrace::bit(utrace::Event::SyscallExit) |
	                                               utrace::bit(utrace::Event::Death));
	uint64_t seen = 0;
	const Counter tracer(0);
	tracer.start();
	child.go();
	for (bool dead = false; !dead;) {
		const utrace::RecordSpan recs = ring.peek(std::chrono::milliseconds(1000));
		// Its DEATH record was dropped (a full ring): it is a zombie.
		siginfo_t info{};
		if (recs.empty() &&
		    ::waitid(P_PID, static_cast<id_t>(child.pid()), &info,
		             WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    info.si_pid != 0)
			break;
		for (const auto piece : {recs.first, recs.second})
			for (const utrace::Record &r : piece) {
				if (r.type == utrace::RecordType::Lost)
					seen += r.lost();
				else if (r.event == utrace::Event::Death)
					dead = true;
				else
					seen++;
			}
		ring.consume(recs.size());
	}
	Sample s = child.result();
	add_instructions(s, tracer);
	if (seen < 4 * iterations)
		throw std::runtime_error("B4: the observe engine missed syscalls");
	return s;
}

Sample under_count_engine(uint64_t iterations)
{
	LoopChild child(iterations, false);
	const utrace::Device dev;
	const auto id = dev.attach(child.pid(), utrace::EngineType::Count,
	                           utrace::bit(utrace::Event::SyscallEntry) |
	                                   utrace::bit(utrace::Event::SyscallExit));
	const Counter tracer(0);
	tracer.start();
	child.go();
	Sample s = child.result();
	add_instructions(s, tracer);
	if (dev.info(id).count(utrace::Event::SyscallEntry) < 2 * iterations)
		throw std::runtime_error("B4: the count engine missed syscalls");
	return s;
}

} // namespace

std::vector<Ratio> b4_observe(const Config &c)
{
	ensure_loaded(c);
	const uint64_t n = c.observe_iterations;
	const Samples s = interleave(
	        {
	                {.name = "untraced", .measure = [&] { return untraced(n); }},
	                {.name = "ptrace", .measure = [&] { return under_ptrace(n); }},
	                {.name = "user-engine", .measure = [&] { return under_user_engine(n); }},
	                {.name = "count-engine", .measure = [&] { return under_count_engine(n); }},
	                {.name = "observe-engine",
	                 .measure = [&] { return under_observe_engine(n); }},
	        },
	        c.reps);
	const auto &u = s.at("untraced");
	const auto &p = s.at("ptrace");
	const auto &e = s.at("user-engine");
	const auto &k = s.at("count-engine");
	const auto &o = s.at("observe-engine");
	Ratio r{.id = "B4",
	        .title = "recording every syscall, speed-up of a user engine over a ptrace "
	                 "tracer (ptrace time / engine time)",
	        .better = "higher"};
	set_ratio(r, walls(p), walls(e), instrs(p), instrs(e), Pairing::PerRound);
	const double mu = median(walls(u));
	r.details = {{"slowdown_ptrace", median(walls(p)) / mu},
	             {"slowdown_user_engine", median(walls(e)) / mu},
	             {"slowdown_count_engine", median(walls(k)) / mu},
	             {"slowdown_observe_engine", median(walls(o)) / mu},
	             {"speedup_observe_engine_over_ptrace", median(walls(p)) / median(walls(o))},
	             {"ns_per_report_user_engine",
	              (median(walls(e)) - mu) / (4.0 * static_cast<double>(n))}};
	r.note = "every syscall report waits for its reply (UTRACE_MSG_NEEDS_REPLY), one "
	         "report per read(): a round trip per event, as with ptrace; the count engine "
	         "is the non-stopping reference; the observe engine (records in a ring, read in "
	         "batches, never stopping the thread) is speedup_observe_engine_over_ptrace";
	return {r};
}

} // namespace bench
