// Reading a user engine's reports in the guest tests.
#pragma once

#include <chrono>
#include <stdexcept>
#include <vector>

#include "utrace/device.hpp"

namespace utrace_test
{

// The next report of @event within a minute, answering the others with
// RESUME; throws if none comes.
inline utrace::Report next(const utrace::Device &dev, utrace::Event event)
{
	for (;;) {
		auto r = dev.read_report(std::chrono::milliseconds(60000));
		if (!r)
			throw std::runtime_error("no report");
		if (r->event == event)
			return *r;
		if (r->needs_reply)
			dev.reply({.seq = r->seq});
	}
}

// Every record @ring has now (a LOST record that a read makes room for
// included), reading until a read finds none within @quiet.
inline std::vector<utrace::Record>
drain(utrace::Ring &ring, std::chrono::milliseconds quiet = std::chrono::milliseconds(300))
{
	std::vector<utrace::Record> all;
	if (ring.mapped()) {
		for (;;) {
			const utrace::RecordSpan recs = ring.peek(quiet);
			if (recs.empty())
				return all;
			all.insert(all.end(), recs.first.begin(), recs.first.end());
			all.insert(all.end(), recs.second.begin(), recs.second.end());
			ring.consume(recs.size());
		}
	}
	std::vector<utrace::Record> buf(256);
	for (;;) {
		const size_t n = ring.read(buf, quiet);
		if (n == 0)
			return all;
		all.insert(all.end(), buf.begin(), buf.begin() + static_cast<long>(n));
	}
}

} // namespace utrace_test
