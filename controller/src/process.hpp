// Processes for the commands that attach: a command held before its exec,
// and a process's threads.  Shared by "attach" and "trace".
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace utracectl
{

// The thread ids of process @pid, from /proc/PID/task.  Throws utrace::Error
// (ESRCH) when there is no such process.
std::vector<pid_t> threads_of(pid_t pid);

// A command forked and held before its exec: a tracer attaches to the child
// first, then lets it go, so that nothing the command runs escapes.

class HeldCommand
{
public:
	// Forks a child that waits for go(), then runs @argv: execv(@path) when
	// @path is given, execvp(argv[0]) otherwise.  A failed exec says so on
	// stderr, as @who, and exits 127.  Throws utrace::Error (pipe, fork).
	HeldCommand(const std::vector<std::string> &argv, const std::string &path, const char *who);
	// A child never reaped is killed and reaped (a failed attach, say).
	~HeldCommand();
	HeldCommand(const HeldCommand &) = delete;
	HeldCommand &operator=(const HeldCommand &) = delete;

	[[nodiscard]] pid_t pid() const { return pid_; }
	// Lets the child exec.  Throws utrace::Error, naming @what.
	void go(const char *what);
	// Waits for the child's end: its exit status, or 128 + the signal that
	// killed it, as a shell gives it.
	int wait();

private:
	pid_t pid_ = -1;
	int go_fd_ = -1;
	bool reaped_ = false;
};

} // namespace utracectl
