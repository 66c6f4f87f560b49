// The Prometheus metric families of utracectl serve (names and labels follow
// ../shared/DESIGN.md section 6, listed in README "Metrics").  Apart from
// utrace/metrics_format.hpp so that only utracectl-serve links prometheus-cpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <prometheus/metric_family.h>
#include <string>
#include <vector>

#include "utrace/metrics.hpp"

namespace utrace
{

// What serve reports besides the BPF maps.
struct ServeStatus {
	std::string version; // utracectl's
	std::string arch;    // x86_64, ppc64le
	std::string kernel;  // uname -r
	bool module_loaded = false;
	bool bpf_loaded = false;
	std::string bpf_mode; // "btf", "raw" or ""
	// Engines of /dev/utrace per type that are attached (running or stopped);
	// nullopt when the module is not loaded.
	std::optional<std::array<uint64_t, kMetricTypes>> engines_attached;
};

// The families serve exposes; @m is nullptr when the BPF maps are not
// there (the histograms and counters are then absent, the status not).
std::vector<prometheus::MetricFamily> metric_families(const ServeStatus &status, const Metrics *m);

// The families in Prometheus' text format (for tests and `serve --once`).
std::string serialize_text(const std::vector<prometheus::MetricFamily> &families);

} // namespace utrace
