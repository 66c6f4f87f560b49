// The BPF programs of bpf/utrace_metrics.bpf.c: loaded, attached to utrace.ko's
// tracepoints and pinned by one process (utracectl load), read by any other
// (utracectl stats/top/serve) through the pins, removed by utracectl unload.
//
// Pins: kBpfPinDir/maps/<map> and kBpfPinDir/links/<program>.  A pinned link
// keeps its program attached after the loader exits; removing the pins
// detaches the programs, which releases their reference on utrace.ko.
#pragma once

#include <string>

#include "utrace/metrics.hpp"

namespace utrace
{

inline constexpr const char *kBpfFsDir = "/sys/fs/bpf";
inline constexpr const char *kBpfPinDir = "/sys/fs/bpf/utrace";

// Which program set attaches: "btf" (tp_btf, typed by the module's BTF) or
// "raw" (raw_tp, scalar arguments, for kernels without BTF: ppc64le).
enum class BpfMode { Auto, Btf, Raw };

// Loads, attaches and pins the programs; returns the mode used ("btf" or
// "raw").  Errors (Error, one sentence): utrace.ko not loaded (ENOENT),
// already loaded (EEXIST), no bpffs at /sys/fs/bpf (ENODEV), not root
// (EPERM), the kernel refused a program (libbpf's last message).  On any
// error nothing stays pinned.
std::string load_bpf(BpfMode mode = BpfMode::Auto);

// Removes the pins and waits until the kernel has released the links, so
// that no program is left on a tracepoint.  Throws Error(ENOENT) when
// nothing is pinned, Error(EBUSY) if a link outlives 10 s.
void unload_bpf();

// Whether the programs are pinned (kBpfPinDir exists).
bool bpf_loaded();

// The mode of the pinned programs ("btf", "raw"), or "" if none are pinned.
std::string bpf_mode();

// Reads every map through its pin.  Throws Error(ENOENT) "BPF metrics are
// not loaded (utracectl load)" when nothing is pinned.
Metrics read_bpf_metrics();

} // namespace utrace
