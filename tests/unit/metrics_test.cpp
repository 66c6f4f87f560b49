// Host unit tests of the metrics arithmetic (histogram quantiles, deltas,
// label names) and presentation (stats table, JSON, Prometheus text).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "utrace/metrics.hpp"
#include "utrace/metrics_format.hpp"
#include "utrace/metrics_prometheus.hpp"

using utrace::Histogram;
using utrace::Metrics;

namespace
{

constexpr unsigned kCount = 1;
constexpr unsigned kStopper = 2;
constexpr unsigned kEntry = 6;
constexpr unsigned kResume = 5;

// 100 samples: 90 in [1024, 2048) ns, 10 in [1 ms, 2 ms) (slot 19..20).
Histogram sample_hist()
{
	Histogram h;
	h.slots[10] = 90;
	h.slots[20] = 10;
	h.sum_ns = 90 * 1500 + 10 * 1'500'000;
	h.max_ns = 1'900'000;
	return h;
}

std::unique_ptr<Metrics> sample_metrics()
{
	auto m = std::make_unique<Metrics>();
	m->reports[kCount][kEntry] = sample_hist();
	m->events[kCount][kEntry][kResume] = 100;
	m->stops[kStopper][kEntry] = 3;
	m->resumes[kStopper][0] = 3;
	m->stop_durations[kStopper].slots[30] = 3; // about a second
	m->stop_durations[kStopper].sum_ns = 3'300'000'000;
	m->stop_durations[kStopper].max_ns = 1'500'000'000;
	return m;
}

TEST(Histogram, CountsAndQuantilesFollowTheLog2Slots)
{
	const Histogram h = sample_hist();
	EXPECT_EQ(h.count(), 100U);
	// The median is inside slot 10: [1024, 2048) ns.
	EXPECT_GE(h.quantile_ns(0.5), 1024.0);
	EXPECT_LT(h.quantile_ns(0.5), 2048.0);
	// p99 is in slot 20 and never above the maximum.
	EXPECT_GE(h.quantile_ns(0.99), 1048576.0);
	EXPECT_LE(h.quantile_ns(0.99), 1'900'000.0);
	EXPECT_EQ(h.quantile_ns(1.0), 1'900'000.0);
	EXPECT_EQ(Histogram{}.quantile_ns(0.5), 0.0) << "empty: nothing measured";
	EXPECT_EQ(Histogram::slot_upper_ns(0), 2.0);
	EXPECT_EQ(Histogram::slot_upper_ns(9), 1024.0);
}

TEST(Histogram, MergeAddsAndKeepsTheLargestMaximum)
{
	Histogram a = sample_hist();
	Histogram b;
	b.slots[3] = 5;
	b.sum_ns = 50;
	b.max_ns = 12;
	a.merge(b);
	EXPECT_EQ(a.count(), 105U);
	EXPECT_EQ(a.max_ns, 1'900'000U);
	EXPECT_EQ(a.sum_ns, sample_hist().sum_ns + 50);
}

TEST(Metrics, SinceGivesTheCountsOfTheInterval)
{
	const auto before = sample_metrics();
	auto after = std::make_unique<Metrics>(*before);
	after->reports[kCount][kEntry].slots[10] += 40;
	after->events[kCount][kEntry][kResume] += 40;
	after->stops[kStopper][kEntry] += 1;
	const Metrics d = after->since(*before);
	EXPECT_EQ(d.reports[kCount][kEntry].count(), 40U);
	EXPECT_EQ(d.events[kCount][kEntry][kResume], 40U);
	EXPECT_EQ(d.stops[kStopper][kEntry], 1U);
	// A reading older than the maps (programs reloaded) never goes negative.
	const Metrics back = before->since(*after);
	EXPECT_EQ(back.stops[kStopper][kEntry], 0U);
}

TEST(Metrics, LabelNamesAreStableAndBounded)
{
	EXPECT_EQ(utrace::metric_engine_name(0), "module");
	EXPECT_EQ(utrace::metric_engine_name(1), "count");
	EXPECT_EQ(utrace::metric_engine_name(3), "user");
	EXPECT_EQ(utrace::metric_engine_name(7), "type7");
	EXPECT_EQ(utrace::metric_event_name(6), "syscall-entry");
	EXPECT_EQ(utrace::metric_event_name(13), "jctl");
	EXPECT_EQ(utrace::metric_event_name(14), "requested");
	EXPECT_EQ(utrace::metric_action_name(0), "stop");
	EXPECT_EQ(utrace::metric_action_name(6), "detach");
	EXPECT_EQ(utrace::metric_resume_reason_name(1), "killed");
}

TEST(Format, DurationsReadInTheirUnit)
{
	EXPECT_EQ(utrace::format_duration_ns(0), "-");
	EXPECT_EQ(utrace::format_duration_ns(850), "850ns");
	EXPECT_EQ(utrace::format_duration_ns(12'300), "12.3us");
	EXPECT_EQ(utrace::format_duration_ns(4'560'000), "4.56ms");
	EXPECT_EQ(utrace::format_duration_ns(1.2e9), "1.20s");
}

TEST(Format, StatsTableHasOneRowPerEngineAndEventWithReports)
{
	const std::string t = utrace::format_stats_table(*sample_metrics());
	EXPECT_NE(t.find("ENGINE   EVENT"), std::string::npos) << t;
	EXPECT_NE(t.find("count    syscall-entry         100"), std::string::npos) << t;
	EXPECT_NE(t.find("stopper  syscall-entry           0"), std::string::npos) << t;
	EXPECT_NE(t.find("1.90ms"), std::string::npos) << "max column\n" << t;
	EXPECT_EQ(t.find("exec"), std::string::npos) << "no row without reports\n" << t;
	EXPECT_EQ(utrace::format_stats_table(Metrics{}), "no reports measured yet\n");
}

TEST(Format, StatsJsonCarriesSecondsAndActions)
{
	const auto j = utrace::stats_json(*sample_metrics());
	ASSERT_EQ(j["reports"].size(), 2U);
	const auto &r = j["reports"][0];
	EXPECT_EQ(r["engine"], "count");
	EXPECT_EQ(r["event"], "syscall-entry");
	EXPECT_EQ(r["reports"], 100);
	EXPECT_DOUBLE_EQ(r["max_seconds"].get<double>(), 0.0019);
	EXPECT_EQ(r["actions"]["resume"], 100);
	ASSERT_EQ(j["stops"].size(), 1U);
	EXPECT_EQ(j["stops"][0]["engine"], "stopper");
	EXPECT_EQ(j["stops"][0]["stops"], 3);
	EXPECT_EQ(j["stops"][0]["resumes"]["resumed"], 3);
}

TEST(Format, PrometheusTextFollowsTheNamingConventions)
{
	utrace::ServeStatus st;
	st.version = "0.1.0";
	st.arch = "x86_64";
	st.kernel = "6.1.0-50-amd64";
	st.module_loaded = true;
	st.bpf_loaded = true;
	st.bpf_mode = "btf";
	st.engines_attached = std::array<uint64_t, utrace::kMetricTypes>{0, 2, 1, 0};
	const std::string text =
	        utrace::serialize_text(utrace::metric_families(st, sample_metrics().get()));
	auto has = [&](const std::string &line) {
		EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
	};
	has("utrace_build_info{arch=\"x86_64\",kernel=\"6.1.0-50-amd64\",version=\"0.1.0\"} 1");
	has("utrace_module_loaded 1");
	has("utrace_bpf_loaded{mode=\"btf\"} 1");
	has("utrace_engines_attached{engine=\"count\"} 2");
	has("utrace_engines_attached{engine=\"stopper\"} 1");
	has("# TYPE utrace_report_duration_seconds histogram");
	// Cumulative buckets in seconds: 90 samples are below 2048 ns.
	has("utrace_report_duration_seconds_bucket{engine=\"count\",event=\"syscall-entry\","
	    "le=\"2.048e-06\"} 90");
	has("utrace_report_duration_seconds_bucket{engine=\"count\",event=\"syscall-entry\","
	    "le=\"+Inf\"} 100");
	has("utrace_report_duration_seconds_count{engine=\"count\",event=\"syscall-entry\"} 100");
	has("utrace_events_total{action=\"resume\",engine=\"count\",event=\"syscall-entry\"} 100");
	has("utrace_stops_total{engine=\"stopper\",event=\"syscall-entry\"} 3");
	has("utrace_resumes_total{engine=\"stopper\",reason=\"resumed\"} 3");
	has("utrace_stop_duration_seconds_count{engine=\"stopper\"} 3");
	EXPECT_EQ(text.find("pid"), std::string::npos) << "no per-process labels";
}

TEST(Format, WithoutBpfOnlyTheStatusIsExposed)
{
	utrace::ServeStatus st;
	st.arch = "ppc64le";
	const std::string text = utrace::serialize_text(utrace::metric_families(st, nullptr));
	EXPECT_NE(text.find("utrace_bpf_loaded{mode=\"none\"} 0\n"), std::string::npos) << text;
	EXPECT_NE(text.find("utrace_module_loaded 0\n"), std::string::npos) << text;
	EXPECT_EQ(text.find("utrace_engines_attached"), std::string::npos) << text;
	EXPECT_EQ(text.find("utrace_report_duration_seconds"), std::string::npos) << text;
}

} // namespace
