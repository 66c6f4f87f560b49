// B3, ptrace round trip: PTRACE_SYSCALL stop/resume cycles per second under
// ptrace-on-utrace against native ptrace, on the same kernel.
//
// The backend is issue 4: when /sys/module/utrace/parameters/ptrace_backend
// exists, writing 1 there serves ptrace(2)/wait(2) of every process through
// utrace and 0 gives them back to the kernel's own ptrace; the two settings
// are interleaved.  Without the parameter only the native half runs and the
// ratio is reported as not measured.  Target: >= 0.9.
#include <ctime>

#include "benchmarks.hpp"
#include "tracer.hpp"

namespace bench
{

namespace
{

// Cycles through one traced child's loop; per-stop wall time and
// instructions (tracer and tracee together).
Sample cycles(uint64_t stops)
{
	// Two calls per iteration, an entry and an exit stop each.
	LoopChild child((stops + 3) / 4, true);
	const Counter tracer(0);
	const Counter tracee(child.pid());
	timespec t0{};
	timespec t1{};
	tracer.start();
	tracee.start();
	::clock_gettime(CLOCK_MONOTONIC, &t0);
	child.go();
	const uint64_t n = ptrace_syscall_loop(child, nullptr);
	::clock_gettime(CLOCK_MONOTONIC, &t1);
	const auto a = tracer.stop();
	const auto b = tracee.stop();
	(void)child.result();
	const double ns = static_cast<double>((t1.tv_sec - t0.tv_sec) * 1000000000 +
	                                      (t1.tv_nsec - t0.tv_nsec));
	Sample s{.ns = ns / static_cast<double>(n)};
	if (a && b)
		s.instructions = static_cast<double>(*a + *b) / static_cast<double>(n);
	return s;
}

} // namespace

std::vector<Ratio> b3_ptrace_round_trip(const Config &c)
{
	ensure_loaded(c);
	Ratio r{.id = "B3",
	        .title = "PTRACE_SYSCALL stop/resume cycles per second: ptrace on utrace / native "
	                 "ptrace",
	        .better = "higher",
	        .target = 0.9};
	const auto measure = [&] { return cycles(c.ptrace_stops); };
	if (!ptrace_backend_available()) {
		// The native half alone, so the harness is exercised and the
		// figure the backend will be held to is known.
		const Samples s =
		        interleave({{.name = "native", .measure = measure}}, c.quick ? 3 : c.reps);
		r.status = "not measured: no backend";
		r.note = std::string(kPtraceBackendParam) +
		         " does not exist (ptrace on utrace is issue 4); native half only";
		r.details = {{"native_cycles_per_second", 1e9 / median(walls(s.at("native")))}};
		return {r};
	}
	const Samples s = interleave(
	        {
	                {.name = "native",
	                 .setup = [] { set_ptrace_backend(false); },
	                 .measure = measure},
	                {.name = "utrace",
	                 .setup = [] { set_ptrace_backend(true); },
	                 .measure = measure,
	                 .teardown = [] { set_ptrace_backend(false); }},
	        },
	        c.reps);
	// Cycles per second is the inverse of time per cycle.
	set_ratio(r, walls(s.at("native")), walls(s.at("utrace")), instrs(s.at("native")),
	          instrs(s.at("utrace")), Pairing::PerRound);
	r.details = {{"native_cycles_per_second", 1e9 / median(walls(s.at("native")))},
	             {"utrace_cycles_per_second", 1e9 / median(walls(s.at("utrace")))}};
	return {r};
}

} // namespace bench
