// B5, metrics cost: per-report overhead of the count engine on
// SYSCALL_ENTRY+EXIT with the BPF metrics programs (bpf/utrace_metrics.bpf.c,
// loaded and pinned as `utracectl load` does) against without them.
//
// Three variants interleaved: the untraced loop, the engine alone, the
// engine with the metrics attached; the ratio is (engine+metrics - untraced)
// / (engine - untraced), per report.  Afterwards the metrics must have
// counted the count engine's syscall reports, so a variant whose programs
// did not run cannot look cheap.
#include <stdexcept>
#include <vector>

#include "benchmarks.hpp"
#include "utrace/bpf_metrics.hpp"
#include "utrace/metrics.hpp"

namespace bench
{

namespace
{

// Syscall reports the metrics counted for the count engine type.
uint64_t counted_reports()
{
	const utrace::Metrics m = utrace::read_bpf_metrics();
	const auto &count = m.reports.at(static_cast<unsigned>(utrace::EngineType::Count));
	return count.at(static_cast<unsigned>(utrace::Event::SyscallEntry)).count() +
	       count.at(static_cast<unsigned>(utrace::Event::SyscallExit)).count();
}

} // namespace

std::vector<Ratio> b5_metrics(const Config &c)
{
	ensure_loaded(c);
	if (utrace::bpf_loaded())
		utrace::unload_bpf();
	const Worker worker;
	const utrace::Device dev;
	const uint64_t reports = 2 * c.loop_iterations;
	uint64_t engine_id = 0;
	uint64_t counted = 0;
	const auto loop = [&] { return worker.loop(c.loop_iterations); };
	const auto attach = [&] {
		engine_id = dev.attach(worker.pid(), utrace::EngineType::Count,
		                       utrace::bit(utrace::Event::SyscallEntry) |
		                               utrace::bit(utrace::Event::SyscallExit));
	};
	const auto detach = [&] { dev.detach(engine_id); };
	const Samples s = interleave(
	        {
	                {.name = "untraced", .measure = loop},
	                {.name = "engine", .setup = attach, .measure = loop, .teardown = detach},
	                {.name = "engine+metrics",
	                 .setup =
	                         [&] {
		                         (void)utrace::load_bpf();
		                         attach();
	                         },
	                 .measure = loop,
	                 .teardown =
	                         [&] {
		                         detach();
		                         counted = counted_reports();
		                         utrace::unload_bpf();
		                         if (counted < reports)
			                         throw std::runtime_error(
			                                 "B5: the metrics missed reports");
	                         }},
	        },
	        c.reps);

	const auto &u = s.at("untraced");
	const auto &e = s.at("engine");
	const auto &m = s.at("engine+metrics");
	Ratio r{.id = "B5",
	        .title = "overhead per report: count engine with the BPF metrics / without",
	        .better = "lower"};
	const auto ui = instrs(u);
	set_ratio(r, minus(walls(m), walls(u)), minus(walls(e), walls(u)),
	          ui.empty() ? ui : minus(instrs(m), ui), ui.empty() ? ui : minus(instrs(e), ui),
	          Pairing::OfMedians);
	const double n = static_cast<double>(reports);
	r.details = {
	        {"ns_overhead_per_report_engine", median(minus(walls(e), walls(u))) / n},
	        {"ns_overhead_per_report_engine_metrics", median(minus(walls(m), walls(u))) / n}};
	r.note = "the metrics add two tracepoint calls per report (begin/end), each a per-CPU "
	         "histogram update";
	return {r};
}

} // namespace bench
