// B3, ptrace round trip: PTRACE_SYSCALL stop/resume cycles per second under
// ptrace-on-utrace against native ptrace, on the same kernel without the
// module.  B3.loaded: native ptrace with the module loaded and its backend
// off, against the same.
//
// The backend is issue 4: when /sys/module/utrace/parameters/ptrace_backend
// exists, writing 1 there serves ptrace(2)/wait(2) of every process through
// utrace and 0 gives them back to the kernel's own ptrace; the three
// settings (module not loaded, backend off, backend on) are interleaved.
// Without the parameter only the native half runs and the ratio is
// reported as not measured.  Targets: >= 0.9 (goal 1.0); B3.loaded >= 0.98.
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
	                 "ptrace, module not loaded",
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
	// Native ptrace is the kernel's without the module, as a user who never
	// loads it has it; with the module loaded and the backend off it passes
	// the hooks the module keeps while loaded (B3.loaded).
	const Samples s = interleave(
	        {
	                {.name = "native", .setup = [] { ensure_unloaded(); }, .measure = measure},
	                {.name = "native_loaded",
	                 .setup =
	                         [&] {
		                         ensure_loaded(c);
		                         set_ptrace_backend(false);
	                         },
	                 .measure = measure},
	                {.name = "utrace",
	                 .setup =
	                         [&] {
		                         ensure_loaded(c);
		                         set_ptrace_backend(true);
	                         },
	                 .measure = measure,
	                 .teardown = [] { set_ptrace_backend(false); }},
	        },
	        c.reps);
	ensure_loaded(c);
	// Cycles per second is the inverse of time per cycle.
	set_ratio(r, walls(s.at("native")), walls(s.at("utrace")), instrs(s.at("native")),
	          instrs(s.at("utrace")), Pairing::PerRound);
	r.details = {
	        {"native_cycles_per_second", 1e9 / median(walls(s.at("native")))},
	        {"native_loaded_cycles_per_second", 1e9 / median(walls(s.at("native_loaded")))},
	        {"utrace_cycles_per_second", 1e9 / median(walls(s.at("utrace")))}};
	Ratio l{.id = "B3.loaded",
	        .title = "PTRACE_SYSCALL stop/resume cycles per second: native ptrace with the "
	                 "module loaded (backend off) / module not loaded",
	        .better = "higher",
	        .target = 0.98};
	set_ratio(l, walls(s.at("native")), walls(s.at("native_loaded")), instrs(s.at("native")),
	          instrs(s.at("native_loaded")), Pairing::PerRound);
	l.note = "native ptrace passes the hooks the module keeps while loaded: sys_ptrace "
	         "(which serves TRACEME, ATTACH and SEIZE under the backend switch's lock) "
	         "and, on x86_64, ptrace_notify and user_disable_single_step; ftrace direct "
	         "calls on x86_64, ftrace's register-saving callback on powerpc (whose "
	         "ptrace_notify hook comes and goes with backend relationships)";
	return {r, l};
}

} // namespace bench
