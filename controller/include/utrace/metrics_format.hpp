// Presenting engine metrics: the stats/top tables and their JSON.  The
// Prometheus families of utracectl serve are utrace/metrics_prometheus.hpp.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "utrace/metrics.hpp"

namespace utrace
{

// One row per engine type and event with reports or stops: reports, p50,
// p99, max latency, stops; then one row per engine type with stops: count,
// p50, p99, max duration.  "no reports measured yet" when empty.
std::string format_stats_table(const Metrics &m);

// The same as JSON: {"reports": [...], "stops": [...]}, times in seconds.
nlohmann::json stats_json(const Metrics &m);

// The top view of @delta (the counts of the last @seconds): reports and
// stops per second, latency quantiles over that interval.
std::string format_top_table(const Metrics &delta, double seconds);

} // namespace utrace
