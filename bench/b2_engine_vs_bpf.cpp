// B2, in-kernel engine cost: the count engine on SYSCALL_ENTRY and
// SYSCALL_EXIT against the syscount BPF programs on the raw sys_enter and
// sys_exit tracepoints, both counting the same worker's system calls.
//
// Each is measured as its overhead per system call over the untraced loop
// (the same worker, nothing attached), all three interleaved; the ratio is
// engine overhead / BPF overhead.  Both counts are checked afterwards, so a
// variant that stopped counting cannot look cheap.  Target: <= 1.0.
#include <memory>
#include <stdexcept>
#include <vector>

#include "benchmarks.hpp"
#include "syscount.h"
#include "syscount.skel.h"

namespace bench
{

namespace
{

struct SkelDeleter {
	void operator()(syscount *s) const { syscount::destroy(s); }
};

uint64_t bpf_count(const syscount &skel, __u32 slot)
{
	const int ncpu = libbpf_num_possible_cpus();
	std::vector<__u64> vals(static_cast<size_t>(ncpu));
	if (bpf_map__lookup_elem(skel.maps.counts, &slot, sizeof(slot), vals.data(),
	                         sizeof(__u64) * vals.size(), 0))
		throw std::runtime_error("B2: reading the syscount map failed");
	uint64_t sum = 0;
	for (const auto v : vals)
		sum += v;
	return sum;
}

} // namespace

std::vector<Ratio> b2_engine_vs_bpf(const Config &c)
{
	ensure_loaded(c);
	const Worker worker;
	const utrace::Device dev;
	std::unique_ptr<syscount, SkelDeleter> skel(syscount::open());
	if (!skel)
		throw std::runtime_error("B2: opening the syscount BPF object failed");
	skel->rodata->target_tgid = static_cast<__u32>(worker.pid());
	if (syscount::load(skel.get()))
		throw std::runtime_error("B2: loading syscount failed");

	const uint64_t calls = 2 * c.loop_iterations;
	uint64_t engine_id = 0;
	uint64_t bpf_before = 0;
	const auto loop = [&] { return worker.loop(c.loop_iterations); };
	const Samples s = interleave(
	        {
	                {.name = "untraced", .measure = loop},
	                {.name = "engine",
	                 .setup =
	                         [&] {
		                         engine_id = dev.attach(
		                                 worker.pid(), utrace::EngineType::Count,
		                                 utrace::bit(utrace::Event::SyscallEntry) |
		                                         utrace::bit(utrace::Event::SyscallExit));
	                         },
	                 .measure = loop,
	                 .teardown =
	                         [&] {
		                         const auto info = dev.info(engine_id);
		                         dev.detach(engine_id);
		                         if (info.count(utrace::Event::SyscallEntry) < calls ||
		                             info.count(utrace::Event::SyscallExit) < calls)
			                         throw std::runtime_error(
			                                 "B2: the count engine missed calls");
	                         }},
	                {.name = "bpf",
	                 .setup =
	                         [&] {
		                         bpf_before = bpf_count(*skel, SYSCOUNT_ENTER);
		                         if (syscount::attach(skel.get()))
			                         throw std::runtime_error(
			                                 "B2: attaching syscount failed");
	                         },
	                 .measure = loop,
	                 .teardown =
	                         [&] {
		                         syscount::detach(skel.get());
		                         if (bpf_count(*skel, SYSCOUNT_ENTER) - bpf_before < calls)
			                         throw std::runtime_error(
			                                 "B2: the BPF programs missed calls");
	                         }},
	        },
	        c.reps);

	const auto &u = s.at("untraced");
	const auto &e = s.at("engine");
	const auto &b = s.at("bpf");
	Ratio r{.id = "B2",
	        .title = "overhead per syscall: count engine (entry+exit) / BPF on raw "
	                 "sys_enter+sys_exit",
	        .better = "lower",
	        .target = 1.0};
	const auto ui = instrs(u);
	set_ratio(r, minus(walls(e), walls(u)), minus(walls(b), walls(u)),
	          ui.empty() ? ui : minus(instrs(e), ui), ui.empty() ? ui : minus(instrs(b), ui),
	          Pairing::OfMedians);
	const double n = static_cast<double>(calls);
	r.details = {{"ns_per_syscall_untraced", median(walls(u)) / n},
	             {"ns_overhead_per_syscall_engine", median(minus(walls(e), walls(u))) / n},
	             {"ns_overhead_per_syscall_bpf", median(minus(walls(b), walls(u))) / n}};
	if (!ui.empty()) {
		r.details.emplace_back("instructions_per_syscall_untraced", median(ui) / n);
		r.details.emplace_back("instructions_overhead_per_syscall_engine",
		                       median(minus(instrs(e), ui)) / n);
		r.details.emplace_back("instructions_overhead_per_syscall_bpf",
		                       median(minus(instrs(b), ui)) / n);
	}
	r.note = "BPF's raw syscall tracepoints put every task on the syscall slow path; the "
	         "engine only its own";
	return {r};
}

} // namespace bench
