// B5, metrics cost: report latency with the BPF metrics programs loaded
// against without them.
//
// HOOK(B5): the metrics programs (issue 5) are being written on another
// branch and are not in this tree yet.  When they are merged, measure here:
// the worker's syscall loop under a count engine on SYSCALL_ENTRY+EXIT
// (as in B2), interleaved with and without the metrics skeleton attached;
// ratio = per-report overhead with metrics / without, better "lower", and
// add the skeleton's target (bpf_<name>) to bench/CMakeLists.txt.  Until
// then B5 is reported as not measured, never as a number.
#include "benchmarks.hpp"

namespace bench
{

std::vector<Ratio> b5_metrics(const Config & /*c*/)
{
	Ratio r{.id = "B5",
	        .title = "report latency: BPF metrics programs loaded / not loaded",
	        .better = "lower"};
	r.status = "not measured: metrics BPF programs not merged yet";
	r.note = "hook point HOOK(B5) in bench/b5_metrics.cpp (issue 5)";
	return {r};
}

} // namespace bench
