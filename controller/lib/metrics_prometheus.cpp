#include "utrace/metrics_prometheus.hpp"

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
