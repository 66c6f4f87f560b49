// B1, untraced cost: what a process nobody traces pays for utrace being
// loaded and busy with other processes.
//
// Baseline: the syscall loop with the module not loaded.  Variant: the module
// loaded, count engines (syscalls and lifecycle events) attached to 8 other,
// idle processes.  The same worker process runs both, created before the
// first load.  Target: <= 1.02.  B1.seccomp: the same with a worker under a
// seccomp filter (allow all), whose every call takes the kernel's syscall
// slow path and __secure_computing(): functions the module hooks with ftrace
// (__secure_computing() for the ptrace backend's tracees, only while
// something is ptraced; on powerpc do_syscall_trace_enter/leave too, while
// some task has a utrace, as B1's eight others do), which an untraced task
// must pass without module cost.
#include <memory>
#include <string>

#include "benchmarks.hpp"

namespace bench
{

namespace
{

constexpr unsigned kOthers = 8;

Ratio b1_variant(const Config &c, Worker::Filter filter)
{
	ensure_unloaded();
	const Worker worker(filter);
	const Idlers others(Idlers::Kind::Processes, kOthers);
	std::unique_ptr<utrace::Device> dev;
	std::vector<uint64_t> ids;
	const auto events = utrace::bit(utrace::Event::SyscallEntry) |
	                    utrace::bit(utrace::Event::SyscallExit) |
	                    utrace::bit(utrace::Event::Clone) | utrace::bit(utrace::Event::Exec) |
	                    utrace::bit(utrace::Event::Exit) | utrace::bit(utrace::Event::Death) |
	                    utrace::bit(utrace::Event::Reap);
	const auto loop = [&] { return worker.loop(c.loop_iterations); };

	const Samples s = interleave(
	        {
	                {.name = "unloaded", .setup = ensure_unloaded, .measure = loop},
	                {.name = "loaded",
	                 .setup =
	                         [&] {
		                         ensure_loaded(c);
		                         dev = std::make_unique<utrace::Device>();
		                         for (const pid_t pid : others.tids())
			                         ids.push_back(dev->attach(
			                                 pid, utrace::EngineType::Count, events));
	                         },
	                 .measure = loop,
	                 .teardown =
	                         [&] {
		                         detach_all(*dev, ids);
		                         dev.reset();
	                         }},
	        },
	        c.reps);
	ensure_unloaded();

	const bool sc = filter == Worker::Filter::Seccomp;
	Ratio r{.id = sc ? "B1.seccomp" : "B1",
	        .title = std::string("untraced syscall loop") +
	                 (sc ? " under a seccomp filter" : "") +
	                 ": module loaded, engines on 8 other processes / module not loaded",
	        .better = "lower",
	        .target = 1.02};
	set_ratio(r, walls(s.at("loaded")), walls(s.at("unloaded")), instrs(s.at("loaded")),
	          instrs(s.at("unloaded")), Pairing::PerRound);
	const double calls = 2.0 * static_cast<double>(c.loop_iterations);
	r.details = {{"ns_per_syscall_unloaded", median(walls(s.at("unloaded"))) / calls},
	             {"ns_per_syscall_loaded", median(walls(s.at("loaded"))) / calls}};
	if (!instrs(s.at("loaded")).empty())
		r.details.emplace_back("instructions_per_syscall_loaded",
		                       median(instrs(s.at("loaded"))) / calls);
	r.note = sc ? "the filter puts the thread on the syscall slow path and through "
	              "__secure_computing(): the ptrace backend hooks the latter only while "
	              "something is ptraced; powerpc's slow path (do_syscall_trace_enter/"
	              "leave) is hooked while some task has a utrace (here the eight "
	              "others), and each hook's ftrace entry saves the registers before its "
	              "filter turns the untraced thread away"
	            : "untraced threads keep the syscall fast path: no work bit is set on them";
	return r;
}

} // namespace

std::vector<Ratio> b1_untraced(const Config &c)
{
	return {b1_variant(c, Worker::Filter::None), b1_variant(c, Worker::Filter::Seccomp)};
}

} // namespace bench
