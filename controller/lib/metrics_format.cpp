#include "utrace/metrics_format.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <prometheus/text_serializer.h>
#include <sstream>

namespace utrace
{

namespace
{

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

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

ClientMetric histogram_metric(std::vector<ClientMetric::Label> labels, const Histogram &h)
{
	ClientMetric cm;
	cm.label = std::move(labels);
	uint64_t cumulative = 0;
	for (unsigned i = 0; i + 1 < kHistSlots; i++) {
		cumulative += h.slots[i];
		cm.histogram.bucket.push_back({cumulative, seconds(Histogram::slot_upper_ns(i))});
	}
	cm.histogram.sample_count = h.count();
	cm.histogram.bucket.push_back(
	        {cm.histogram.sample_count, std::numeric_limits<double>::infinity()});
	cm.histogram.sample_sum = seconds(static_cast<double>(h.sum_ns));
	return cm;
}

ClientMetric value_metric(std::vector<ClientMetric::Label> labels, MetricType type, double v)
{
	ClientMetric cm;
	cm.label = std::move(labels);
	if (type == MetricType::Counter)
		cm.counter.value = v;
	else
		cm.gauge.value = v;
	return cm;
}

MetricFamily family(std::string name, std::string help, MetricType type)
{
	return MetricFamily{std::move(name), std::move(help), type, {}};
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

std::vector<MetricFamily> metric_families(const ServeStatus &st, const Metrics *m)
{
	std::vector<MetricFamily> out;

	auto info = family("utrace_build_info", "utracectl build: version, arch, kernel; always 1",
	                   MetricType::Gauge);
	info.metric.push_back(
	        value_metric({{"arch", st.arch}, {"kernel", st.kernel}, {"version", st.version}},
	                     MetricType::Gauge, 1));
	out.push_back(std::move(info));

	auto loaded = family("utrace_module_loaded", "1 if utrace.ko is loaded", MetricType::Gauge);
	loaded.metric.push_back(value_metric({}, MetricType::Gauge, st.module_loaded ? 1 : 0));
	out.push_back(std::move(loaded));

	auto bpf = family("utrace_bpf_loaded",
	                  "1 if the utrace BPF programs are attached; mode btf or raw",
	                  MetricType::Gauge);
	bpf.metric.push_back(value_metric({{"mode", st.bpf_mode.empty() ? "none" : st.bpf_mode}},
	                                  MetricType::Gauge, st.bpf_loaded ? 1 : 0));
	out.push_back(std::move(bpf));

	if (st.engines_attached) {
		auto engines = family("utrace_engines_attached",
		                      "Engines attached through /dev/utrace (running or stopped)",
		                      MetricType::Gauge);
		// The shipped types always, so a panel never shows "no data".
		for (unsigned t = 1; t <= 3; t++)
			engines.metric.push_back(
			        value_metric({{"engine", metric_engine_name(t)}}, MetricType::Gauge,
			                     static_cast<double>((*st.engines_attached)[t])));
		out.push_back(std::move(engines));
	}
	if (!m)
		return out;

	auto reports =
	        family("utrace_report_duration_seconds",
	               "Time an engine's callback took to answer a report", MetricType::Histogram);
	auto events = family("utrace_events_total",
	                     "Reports answered by engines, by the resume action they chose",
	                     MetricType::Counter);
	auto stops = family("utrace_stops_total",
	                    "Stops of traced threads, by the engine that wanted them and the "
	                    "event it answered UTRACE_STOP to (requested: utrace_control)",
	                    MetricType::Counter);
	auto resumes = family("utrace_resumes_total",
	                      "Stopped threads resumed, by engine and reason", MetricType::Counter);
	auto stop_durations =
	        family("utrace_stop_duration_seconds",
	               "Time traced threads spent stopped, by engine", MetricType::Histogram);
	for (unsigned t = 0; t < kMetricTypes; t++) {
		const std::string engine = metric_engine_name(t);
		for (unsigned e = 0; e < kMetricEvents; e++) {
			const std::string event = metric_event_name(e);
			if (m->reports[t][e].count() > 0)
				reports.metric.push_back(histogram_metric(
				        {{"engine", engine}, {"event", event}}, m->reports[t][e]));
			for (unsigned a = 0; a < kMetricActions; a++)
				if (m->events[t][e][a])
					events.metric.push_back(value_metric(
					        {{"action", metric_action_name(a)},
					         {"engine", engine},
					         {"event", event}},
					        MetricType::Counter,
					        static_cast<double>(m->events[t][e][a])));
			if (m->stops[t][e])
				stops.metric.push_back(value_metric(
				        {{"engine", engine}, {"event", event}}, MetricType::Counter,
				        static_cast<double>(m->stops[t][e])));
		}
		for (unsigned r = 0; r < kMetricReasons; r++)
			if (m->resumes[t][r])
				resumes.metric.push_back(
				        value_metric({{"engine", engine},
				                      {"reason", metric_resume_reason_name(r)}},
				                     MetricType::Counter,
				                     static_cast<double>(m->resumes[t][r])));
		if (m->stop_durations[t].count() > 0)
			stop_durations.metric.push_back(
			        histogram_metric({{"engine", engine}}, m->stop_durations[t]));
	}
	for (auto *f : {&reports, &events, &stops, &resumes, &stop_durations})
		out.push_back(std::move(*f));
	return out;
}

std::string serialize_text(const std::vector<MetricFamily> &families)
{
	std::ostringstream out;
	prometheus::TextSerializer().Serialize(out, families);
	return out.str();
}

} // namespace utrace
