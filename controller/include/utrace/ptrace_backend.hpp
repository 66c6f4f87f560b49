// The ptrace backend switch: the module parameter ptrace_backend (Y: ptrace(2)
// and wait(2) are served by utrace; N: by the kernel's own ptrace), and the
// number of ptrace relationships that keep it from switching.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "utrace/error.hpp"

namespace utrace
{

// Where the module's parameters are; a test passes its own directory.
inline constexpr const char *kParamDir = "/sys/module/utrace/parameters";

enum class PtraceBackend { Native, Utrace };

// "native" or "utrace".
const char *backend_name(PtraceBackend b);

// The value of a bool parameter as sysfs shows it ("Y\n" / "N\n").  Throws
// Error(EPROTO) for anything else.
PtraceBackend parse_backend_param(std::string_view text);

// The current backend.  Errors: the module is not loaded (ENOENT), this
// module has no ptrace backend (EOPNOTSUPP), not readable.
PtraceBackend read_ptrace_backend(const std::string &param_dir = kParamDir);

// The utrace backend's relationships (the read-only parameter
// ptrace_tracees), or nullopt if this module does not expose the count.
std::optional<unsigned> read_utrace_tracees(const std::string &param_dir = kParamDir);

// Threads traced through the kernel's own ptrace: those whose
// /proc/PID/task/TID/status shows a TracerPid (utrace tracees show 0).
unsigned count_native_tracees(const std::string &proc = "/proc");

// The Error a failed write of the parameter gives, from write(2)'s errno:
// EBUSY says which backend's tracees keep it (with their number, if known);
// EACCES/EPERM, ENOENT and EINVAL have their own sentence.  A pure function,
// so the messages can be tested without a kernel.
Error backend_write_error(int err, PtraceBackend from, PtraceBackend to,
                          std::optional<unsigned> tracees);

// Switches to @to (writes Y or N).  Switching to the current backend is not an
// error.  Returns the backend that was in force before.  Errors as
// backend_write_error().
PtraceBackend set_ptrace_backend(PtraceBackend to, const std::string &param_dir = kParamDir,
                                 const std::string &proc = "/proc");

} // namespace utrace
