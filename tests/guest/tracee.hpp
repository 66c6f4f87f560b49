// A child process the guest tests trace: it runs one command per byte read
// from a pipe and acknowledges each, so a test decides exactly which system
// calls and events happen while an engine is attached.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include <sys/types.h>

namespace utrace_test
{

class Tracee
{
public:
	// Commands (one byte each):
	static constexpr char kGetppid = 'g';      // one getppid() system call
	static constexpr char kMkdir = 'm';        // mkdirat(marker()), then ack
	static constexpr char kFork = 'f';         // fork a child that exits 0, wait for it
	static constexpr char kExec = 'e';         // execve /bin/sh -c 'exit 7' (no ack)
	static constexpr char kExit = 'x';         // _exit(5) (no ack)
	static constexpr char kSpin = 's';         // spin in user mode forever (no ack)
	static constexpr char kGetppidValue = 'v'; // getppid(), its result instead of an ack
	static constexpr char kThread = 't';       // start a thread spinning in user mode;
	                                           // its tid instead of an ack
	static constexpr char kVfork = 'w';        // vfork a child that exits 0, wait for it
	static constexpr char kHandlers = 'h';     // SA_RESTART handlers for SIGUSR1 and SIGUSR2
	static constexpr char kHandled = 'n';      // handled SIGUSR1 + 1000 * SIGUSR2, as a value
	static constexpr char kThreadExec = 'E';   // start a thread that waits for kGo, then
	                                           // execs `sh -c 'exit 7'`; its tid as value
	static constexpr char kGo = 'G';           // let that thread exec (no ack)

	Tracee();
	~Tracee();
	Tracee(const Tracee &) = delete;
	Tracee &operator=(const Tracee &) = delete;

	[[nodiscard]] pid_t pid() const { return pid_; }
	// Sends a command without waiting.
	void send(char cmd) const;
	// Sends a command and waits for its acknowledgement; false on timeout.
	[[nodiscard]] bool run(char cmd,
	                       std::chrono::seconds timeout = std::chrono::seconds(60)) const;
	// kGetppidValue's result (syscall(2)'s return), nullopt on timeout.
	[[nodiscard]] std::optional<long>
	read_value(std::chrono::seconds timeout = std::chrono::seconds(60)) const;
	// Waits for an acknowledgement of a command sent earlier.
	[[nodiscard]] bool wait_ack(std::chrono::seconds timeout = std::chrono::seconds(60)) const;
	// Waits (at most 5 s) until the child is blocked in its read() of commands.
	void wait_in_read() const;
	// The directory kMkdir creates.
	[[nodiscard]] std::string marker() const;
	// waitpid() with a timeout; returns the status, or -1 on timeout.
	int wait_exit(std::chrono::seconds timeout = std::chrono::seconds(60));
	// The "State:" line of /proc/PID/status, e.g. "t (tracing stop)".
	[[nodiscard]] std::string proc_state() const;
	// waitpid(@options) with a timeout, without reaping for good; -1 on timeout.
	int wait_status(int options, std::chrono::seconds timeout = std::chrono::seconds(60));
	// The tracee's SIGUSR1/SIGUSR2 handler (same address in the child).
	static uintptr_t handler_address();

private:
	pid_t pid_ = -1;
	int cmd_fd_ = -1;
	int ack_fd_ = -1;
	bool reaped_ = false;
	std::string marker_;
};

// The "State:" line of /proc/@pid/status, e.g. "S (sleeping)"; "" if it has none.
std::string proc_state(pid_t pid);

// A child that waits for a byte on a pipe (go()), then runs @body and
// _exit()s with what it returns.  The constructor returns once the child
// sleeps in that read, so an engine attached then finds it in the kernel.
class HeldChild
{
public:
	explicit HeldChild(const std::function<int()> &body);
	// A child not waited for is killed and reaped.
	~HeldChild();
	HeldChild(const HeldChild &) = delete;
	HeldChild &operator=(const HeldChild &) = delete;

	// Stays valid after wait(), for the records' tids.
	[[nodiscard]] pid_t pid() const { return pid_; }
	// Lets it run @body; throws std::runtime_error if the write fails.
	void go();
	// Its wait status, waiting as long as it takes (the guest's timeout
	// bounds it); -1 if it was already waited for.
	int wait();
	// SIGKILL, then wait().
	void kill();

private:
	pid_t pid_ = -1;
	int go_fd_ = -1;
	bool reaped_ = false;
};

// Whether @path exists.
bool path_exists(const std::string &path);

// Whether ftrace has a callback on kernel function @fn: its line in
// /sys/kernel/tracing/enabled_functions (tracefs mounted there if it is not).
bool ftrace_hooked(const std::string &fn);
// Whether every one, or any one, of @fns is.
bool ftrace_hooked_all(const std::vector<std::string> &fns);
bool ftrace_hooked_any(const std::vector<std::string> &fns);
// @fn's line in enabled_functions, e.g. "do_exit (1) R I  " (flags: R a full
// register save, I an IP-modifying callback); "" if it has none.
std::string ftrace_hook_line(const std::string &fn);

// Polls @cond every 10 ms until it holds or @timeout passes.
bool eventually(const std::function<bool()> &cond,
                std::chrono::seconds timeout = std::chrono::seconds(60));

} // namespace utrace_test
