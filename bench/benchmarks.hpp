// The benchmarks B1..B6 (issue 6).  Each returns its ratios; a benchmark
// that cannot run here returns them with status "not measured: <why>".
#pragma once

#include <string>
#include <vector>

#include "harness.hpp"
#include "utrace/device.hpp"

namespace bench
{

std::vector<Ratio> b1_untraced(const Config &c);
std::vector<Ratio> b2_engine_vs_bpf(const Config &c);
std::vector<Ratio> b3_ptrace_round_trip(const Config &c);
std::vector<Ratio> b4_observe(const Config &c);
std::vector<Ratio> b5_metrics(const Config &c);
std::vector<Ratio> b6_scaling(const Config &c);
std::vector<Ratio> b7_workloads(const Config &c);

// utrace.ko in the state a benchmark needs (loaded from Config::module_path).
void ensure_loaded(const Config &c);
void ensure_unloaded();
// Until the module's lazy hooks are off (kmod/hooks.c): no task has had a
// utrace for UTRACE_LAZY_LINGER, and the next attach enables them again.
void wait_lazy_hooks_off();

// Detaches each engine; engines already gone (their task died) are skipped.
void detach_all(const utrace::Device &dev, std::vector<uint64_t> &ids);

} // namespace bench
