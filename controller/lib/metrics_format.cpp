#include "utrace/metrics_format.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace utrace
{

namespace
{

bool active(const Metrics &m, unsigned t, unsigned e)
{
	return m.reports[t][e].count() > 0 || m.stops[t][e] > 0;
}

uint64_t stop_count(const Metrics &m, unsigned t)
{
	uint64_t n = 0;
	for (unsigned e = 0; e < kMetricEvents; e++)
		n += m.stops[t][e];
	return n;
}

std::string row(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string row(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

double seconds(double ns)
{
	return ns / 1e9;
}

} // namespace

std::string format_stats_table(const Metrics &m)
{
	std::string out = row("%-8s %-14s %10s %9s %9s %9s %8s\n", "ENGINE", "EVENT", "REPORTS",
	                      "P50", "P99", "MAX", "STOPS");
	bool any = false;
	for (unsigned t = 0; t < kMetricTypes; t++)
		for (unsigned e = 0; e < kMetricEvents; e++) {
			if (!active(m, t, e))
				continue;
			any = true;
			const Histogram &h = m.reports[t][e];
			out += row("%-8s %-14s %10llu %9s %9s %9s %8llu\n",
			           metric_engine_name(t).c_str(), metric_event_name(e).c_str(),
			           static_cast<unsigned long long>(h.count()),
			           format_duration_ns(h.quantile_ns(0.5)).c_str(),
			           format_duration_ns(h.quantile_ns(0.99)).c_str(),
			           format_duration_ns(static_cast<double>(h.max_ns)).c_str(),
			           static_cast<unsigned long long>(m.stops[t][e]));
		}
	if (!any)
		return "no reports measured yet\n";
	std::string stops;
	for (unsigned t = 0; t < kMetricTypes; t++) {
		const Histogram &h = m.stop_durations[t];
		if (stop_count(m, t) == 0 && h.count() == 0)
			continue;
		stops += row("%-8s %10llu %10llu %9s %9s %9s\n", metric_engine_name(t).c_str(),
		             static_cast<unsigned long long>(stop_count(m, t)),
		             static_cast<unsigned long long>(h.count()),
		             format_duration_ns(h.quantile_ns(0.5)).c_str(),
		             format_duration_ns(h.quantile_ns(0.99)).c_str(),
		             format_duration_ns(static_cast<double>(h.max_ns)).c_str());
	}
	if (!stops.empty())
		out += "\n" +
		       row("%-8s %10s %10s %9s %9s %9s\n", "ENGINE", "STOPS", "RESUMED", "P50",
		           "P99", "MAX") +
		       stops;
	return out;
}

nlohmann::json stats_json(const Metrics &m)
{
	nlohmann::json reports = nlohmann::json::array();
	nlohmann::json stops = nlohmann::json::array();
	for (unsigned t = 0; t < kMetricTypes; t++) {
		for (unsigned e = 0; e < kMetricEvents; e++) {
			if (!active(m, t, e))
				continue;
			const Histogram &h = m.reports[t][e];
			nlohmann::json actions = nlohmann::json::object();
			for (unsigned a = 0; a < kMetricActions; a++)
				if (m.events[t][e][a])
					actions[metric_action_name(a)] = m.events[t][e][a];
			reports.push_back({{"engine", metric_engine_name(t)},
			                   {"event", metric_event_name(e)},
			                   {"reports", h.count()},
			                   {"p50_seconds", seconds(h.quantile_ns(0.5))},
			                   {"p99_seconds", seconds(h.quantile_ns(0.99))},
			                   {"max_seconds", seconds(static_cast<double>(h.max_ns))},
			                   {"sum_seconds", seconds(static_cast<double>(h.sum_ns))},
			                   {"actions", actions},
			                   {"stops", m.stops[t][e]}});
		}
		const Histogram &h = m.stop_durations[t];
		if (stop_count(m, t) == 0 && h.count() == 0)
			continue;
		nlohmann::json reasons = nlohmann::json::object();
		for (unsigned e = 0; e < kMetricEvents; e++)
			if (m.stops[t][e])
				reasons[metric_event_name(e)] = m.stops[t][e];
		nlohmann::json resumes = nlohmann::json::object();
		for (unsigned r = 0; r < kMetricReasons; r++)
			if (m.resumes[t][r])
				resumes[metric_resume_reason_name(r)] = m.resumes[t][r];
		stops.push_back({{"engine", metric_engine_name(t)},
		                 {"stops", stop_count(m, t)},
		                 {"by_event", reasons},
		                 {"resumes", resumes},
		                 {"p50_seconds", seconds(h.quantile_ns(0.5))},
		                 {"p99_seconds", seconds(h.quantile_ns(0.99))},
		                 {"max_seconds", seconds(static_cast<double>(h.max_ns))}});
	}
	return {{"reports", reports}, {"stops", stops}};
}

std::string format_top_table(const Metrics &delta, double secs)
{
	std::string out = row("%-8s %-14s %10s %9s %9s %9s %8s\n", "ENGINE", "EVENT", "REPORTS/S",
	                      "P50", "P99", "MAX", "STOPS/S");
	bool any = false;
	for (unsigned t = 0; t < kMetricTypes; t++)
		for (unsigned e = 0; e < kMetricEvents; e++) {
			if (!active(delta, t, e))
				continue;
			any = true;
			const Histogram &h = delta.reports[t][e];
			out += row("%-8s %-14s %10.1f %9s %9s %9s %8.1f\n",
			           metric_engine_name(t).c_str(), metric_event_name(e).c_str(),
			           static_cast<double>(h.count()) / secs,
			           format_duration_ns(h.quantile_ns(0.5)).c_str(),
			           format_duration_ns(h.quantile_ns(0.99)).c_str(),
			           format_duration_ns(h.quantile_ns(1.0)).c_str(),
			           static_cast<double>(delta.stops[t][e]) / secs);
		}
	if (!any)
		out += "(no reports in the last interval)\n";
	return out;
}

} // namespace utrace
