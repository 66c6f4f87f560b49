// Engine metrics as the BPF programs keep them (bpf/utrace_metrics.h), read
// into plain arrays, plus the arithmetic on them: histogram counts and
// quantiles, differences between two readings, label names.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace utrace
{

inline constexpr unsigned kMetricTypes = 8;    // UM_NR_TYPES
inline constexpr unsigned kMetricEvents = 16;  // UM_NR_EVENTS
inline constexpr unsigned kMetricActions = 8;  // UM_NR_ACTIONS
inline constexpr unsigned kMetricReasons = 4;  // UM_NR_REASONS
inline constexpr unsigned kHistSlots = 40;     // UM_NR_SLOTS
inline constexpr unsigned kStopRequested = 14; // UTRACE_STOP_REQUESTED

// A log2 histogram of nanoseconds: slot i counts [2^i, 2^(i+1)) ns, the last
// slot everything from 2^(kHistSlots-1) ns on.
struct Histogram {
	std::array<uint64_t, kHistSlots> slots{};
	uint64_t sum_ns = 0;
	uint64_t max_ns = 0;

	[[nodiscard]] uint64_t count() const;
	// The q-quantile (0 <= q <= 1) in ns, interpolated linearly inside the
	// slot that holds it and never above max_ns; 0 for an empty histogram.
	[[nodiscard]] double quantile_ns(double q) const;
	// Upper bound of slot i in ns (2^(i+1)); the last slot has none.
	[[nodiscard]] static double slot_upper_ns(unsigned i);
	// Adds another CPU's (or reading's) values; max is the larger one.
	void merge(const Histogram &other);
	// this - @earlier, slot by slot (max stays this reading's max).
	[[nodiscard]] Histogram since(const Histogram &earlier) const;
};

// One reading of every map, summed over the CPUs.
struct Metrics {
	// [engine type][event]
	std::array<std::array<Histogram, kMetricEvents>, kMetricTypes> reports{};
	// [engine type][event][resume action]
	std::array<std::array<std::array<uint64_t, kMetricActions>, kMetricEvents>, kMetricTypes>
	        events{};
	// [engine type][stop reason: event, or kStopRequested]
	std::array<std::array<uint64_t, kMetricEvents>, kMetricTypes> stops{};
	// [engine type][resume reason]
	std::array<std::array<uint64_t, kMetricReasons>, kMetricTypes> resumes{};
	// [engine type]
	std::array<Histogram, kMetricTypes> stop_durations{};

	// The counts between @earlier and this reading (for rates).
	[[nodiscard]] Metrics since(const Metrics &earlier) const;
};

// Label values: "module" (0), "count", "stopper", "user", else "type<N>".
std::string metric_engine_name(unsigned type);
// "quiesce" ... "jctl", "requested" (14), else "event<N>".
std::string metric_event_name(unsigned event);
// "stop", "interrupt", ... "detach", else "action<N>".
std::string metric_action_name(unsigned action);
// "resumed", "killed", "unload", else "reason<N>".
std::string metric_resume_reason_name(unsigned reason);

// "850ns", "12.3us", "4.56ms", "1.20s"; "-" for 0 (nothing measured).
std::string format_duration_ns(double ns);

} // namespace utrace
