// Reading a user engine's reports in the guest tests.
#pragma once

#include <chrono>
#include <stdexcept>

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

} // namespace utrace_test
