#include "utrace/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace utrace
{

uint64_t Histogram::count() const
{
	return std::accumulate(slots.begin(), slots.end(), uint64_t{0});
}

double Histogram::slot_upper_ns(unsigned i)
{
	return std::ldexp(1.0, static_cast<int>(i) + 1);
}

double Histogram::quantile_ns(double q) const
{
	const uint64_t total = count();
	if (total == 0)
		return 0;
	q = std::clamp(q, 0.0, 1.0);
	const double rank = q * static_cast<double>(total);
	uint64_t below = 0;
	for (unsigned i = 0; i < kHistSlots; i++) {
		if (slots[i] == 0)
			continue;
		const auto in_slot = static_cast<double>(slots[i]);
		if (static_cast<double>(below) + in_slot >= rank) {
			// Slot 0 holds 0 and 1 ns: its lower bound is 0.
			const double lo = i == 0 ? 0 : std::ldexp(1.0, static_cast<int>(i));
			const double hi = i + 1 == kHistSlots ? static_cast<double>(max_ns)
			                                      : slot_upper_ns(i);
			const double frac = (rank - static_cast<double>(below)) / in_slot;
			const double v = lo + (hi - lo) * std::clamp(frac, 0.0, 1.0);
			return max_ns ? std::min(v, static_cast<double>(max_ns)) : v;
		}
		below += slots[i];
	}
	return static_cast<double>(max_ns);
}

void Histogram::merge(const Histogram &other)
{
	for (unsigned i = 0; i < kHistSlots; i++)
		slots[i] += other.slots[i];
	sum_ns += other.sum_ns;
	max_ns = std::max(max_ns, other.max_ns);
}

Histogram Histogram::since(const Histogram &earlier) const
{
	Histogram d = *this;
	for (unsigned i = 0; i < kHistSlots; i++)
		d.slots[i] -= std::min(slots[i], earlier.slots[i]);
	d.sum_ns -= std::min(sum_ns, earlier.sum_ns);
	return d;
}

Metrics Metrics::since(const Metrics &earlier) const
{
	auto sub = [](uint64_t a, uint64_t b) { return a - std::min(a, b); };
	Metrics d;
	for (unsigned t = 0; t < kMetricTypes; t++) {
		for (unsigned e = 0; e < kMetricEvents; e++) {
			d.reports[t][e] = reports[t][e].since(earlier.reports[t][e]);
			for (unsigned a = 0; a < kMetricActions; a++)
				d.events[t][e][a] = sub(events[t][e][a], earlier.events[t][e][a]);
			d.stops[t][e] = sub(stops[t][e], earlier.stops[t][e]);
		}
		for (unsigned r = 0; r < kMetricReasons; r++)
			d.resumes[t][r] = sub(resumes[t][r], earlier.resumes[t][r]);
		d.stop_durations[t] = stop_durations[t].since(earlier.stop_durations[t]);
	}
	return d;
}

namespace
{

std::string name_or(const char *const *names, unsigned n, unsigned i, const char *prefix)
{
	if (i < n)
		return names[i];
	return prefix + std::to_string(i);
}

} // namespace

std::string metric_engine_name(unsigned type)
{
	static const char *const kNames[] = {"module", "count", "stopper", "user"};
	return name_or(kNames, std::size(kNames), type, "type");
}

std::string metric_event_name(unsigned event)
{
	static const char *const kNames[] = {
	        "quiesce",     "reap",          "clone",        "exec",   "exit",
	        "death",       "syscall-entry", "syscall-exit", "signal", "signal-ign",
	        "signal-stop", "signal-term",   "signal-core",  "jctl",   "requested"};
	return name_or(kNames, std::size(kNames), event, "event");
}

std::string metric_action_name(unsigned action)
{
	static const char *const kNames[] = {"stop",      "interrupt", "report", "singlestep",
	                                     "blockstep", "resume",    "detach"};
	return name_or(kNames, std::size(kNames), action, "action");
}

std::string metric_resume_reason_name(unsigned reason)
{
	static const char *const kNames[] = {"resumed", "killed", "unload"};
	return name_or(kNames, std::size(kNames), reason, "reason");
}

std::string format_duration_ns(double ns)
{
	if (ns <= 0)
		return "-";
	char buf[32];
	if (ns < 1e3)
		std::snprintf(buf, sizeof(buf), "%.0fns", ns);
	else if (ns < 1e6)
		std::snprintf(buf, sizeof(buf), "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		std::snprintf(buf, sizeof(buf), "%.2fms", ns / 1e6);
	else
		std::snprintf(buf, sizeof(buf), "%.2fs", ns / 1e9);
	return buf;
}

} // namespace utrace
