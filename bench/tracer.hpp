// Traced children for B3 and B4: a child that runs the syscall loop once and
// exits, optionally under native ptrace (PTRACE_TRACEME), and a ptrace
// tracer that resumes it with PTRACE_SYSCALL at every stop.
#pragma once

#include <cstdint>
#include <optional>
#include <sys/types.h>
#include <vector>

#include "harness.hpp"

namespace bench
{

// A child that waits for go(), runs syscall_loop(@iterations) timing itself,
// sends its Sample, and exits 0.  With @traceme it first calls
// PTRACE_TRACEME and stops itself with SIGSTOP; the constructor then waits
// for that stop.
class LoopChild
{
public:
	LoopChild(uint64_t iterations, bool traceme);
	~LoopChild();
	LoopChild(const LoopChild &) = delete;
	LoopChild &operator=(const LoopChild &) = delete;

	[[nodiscard]] pid_t pid() const { return pid_; }
	void go() const;
	// The child's own measurement; reaps it unless a tracer already did.
	[[nodiscard]] Sample result();
	// The tracer saw it exit (waitpid returned its exit status).
	void reaped() { reaped_ = true; }

private:
	pid_t pid_ = -1;
	int go_fd_ = -1;
	int res_fd_ = -1;
	bool reaped_ = false;
};

// Runs a PTRACE_SYSCALL loop over @child (stopped, traced by us) until it
// exits.  Returns the number of syscall stops; with @record, the syscall
// number read (PTRACE_GETREGSET) at each stop is appended to it.
uint64_t ptrace_syscall_loop(LoopChild &child, std::vector<int64_t> *record);

// Whether the ptrace-on-utrace backend exists (issue 4), and switching it.
inline constexpr const char *kPtraceBackendParam = "/sys/module/utrace/parameters/ptrace_backend";
bool ptrace_backend_available();
void set_ptrace_backend(bool on);

} // namespace bench
