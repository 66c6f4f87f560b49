// The recorder of the conformance suite: every observable result of a
// ptrace(2)/wait(2) call becomes one JSON line, with everything that varies
// between two correct runs normalised away (pids become names, addresses
// become labels, times are never recorded).  Two runs of a scenario under two
// ptrace backends must give the same lines, except for the entries of
// tests/conformance/DIFFERENCES.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <vector>

namespace conf
{

// Names for the values a trace shows.
std::string sig_name(int sig);
std::string errno_name(int err);
std::string req_name(long req);
std::string event_name(int event);
std::string options_name(unsigned long options);
std::string si_code_name(int signo, int code);
std::string syscall_name(long nr);
std::string sigset_name(uint64_t mask);

// One trace line: {"op":...,"key":value,...}, keys in the order added.
class Line
{
public:
	explicit Line(const std::string &op);
	Line &str(const std::string &key, const std::string &value);
	Line &num(const std::string &key, long long value);
	Line &hex(const std::string &key, unsigned long long value);
	Line &boolean(const std::string &key, bool value);
	std::string text() const { return body_ + "}"; }

private:
	std::string body_;
};

// A pipe used to order the tracer and its tracees without sleeping.
class Pipe
{
public:
	Pipe();
	~Pipe();
	Pipe(const Pipe &) = delete;
	Pipe &operator=(const Pipe &) = delete;
	void post(char c = 'x') const;
	char take() const; // blocks; 0 at EOF
	int rfd() const { return fd_[0]; }
	int wfd() const { return fd_[1]; }
	void close_read();
	void close_write();

private:
	int fd_[2];
};

// What a scenario uses to drive its tracees and record what it sees.
class Trace
{
public:
	explicit Trace(int fd);

	void emit(const Line &line) const;
	void note(const std::string &text) const;
	// A result the scenario computed itself (a tracee's memory, a count).
	void value(const std::string &what, long long v) const;
	void value(const std::string &what, const std::string &v) const;
	void check(const std::string &what, bool ok) const;

	// pid normalisation: known pids have names ("tracee", "child#2");
	// unknown ones are named in order of first appearance.
	std::string pid(pid_t p);
	void name(pid_t p, const std::string &name);

	// ptrace(2), recorded.  Resume requests show data as a signal,
	// SETOPTIONS/SEIZE as option names; others as `what` says.
	long ptrace(long req, pid_t pid, unsigned long addr = 0, unsigned long data = 0,
	            const std::string &what = "");
	// PEEK{TEXT,DATA,USER}: the word read (hex), or the error.
	long peek(long req, pid_t pid, unsigned long addr, const std::string &what,
	          bool show_value = true);

	// waitpid(2), recorded with the decoded status.
	pid_t wait(pid_t pid, int flags = __WALL, int *status = nullptr);
	// waitid(2), recorded with the siginfo it fills.
	int waitid(idtype_t type, id_t id, int flags);

	// At a stop: PTRACE_GETSIGINFO, the syscall register view,
	// PTRACE_GET_SYSCALL_INFO, PTRACE_GETEVENTMSG, /proc State.
	bool siginfo(pid_t pid, siginfo_t *out = nullptr);
	void record_siginfo(const char *op, const siginfo_t &si);
	// Syscall stops: the number, the instruction pointer, and at entry the
	// x86 "rax is -ENOSYS" (ppc: "r3 still holds arg0"), at exit the
	// return value (a pid by its name when ret_is_pid).
	void regs_entry(pid_t pid);
	void regs_exit(pid_t pid, bool ret_is_pid = false);
	void ip(pid_t pid);
	// PTRACE_GET_SYSCALL_INFO with the first nargs arguments (pointers vary:
	// only scenarios that pass plain numbers record them).
	void syscall_info(pid_t pid, int nargs = 0);
	unsigned long eventmsg(pid_t pid, bool is_pid);
	void state(pid_t pid);
	// SIGCHLD pending for the tracer (blocked by the harness): consumed and
	// recorded, or "none".
	void sigchld();

	// fork() a child that runs fn and then _exit(0)s.
	pid_t spawn(const std::string &name, const std::function<void()> &fn);
	// fork() a child that does PTRACE_TRACEME, stops itself with SIGSTOP,
	// then runs fn; the tracer's wait for that first stop is recorded.
	pid_t traceme(const std::string &name, const std::function<void()> &fn);
	// Wait until pid sleeps in system call nr (from /proc/PID/syscall).
	void wait_blocked(pid_t pid, long nr) const;
	// Resume with req/sig, wait for pid and record the stop: SIGTRAP|0x80
	// stops with regs_entry/regs_exit, other stops with ip.
	int resume(long req, pid_t pid, int sig = 0);
	// Resume with PTRACE_CONT and record every stop until pid is gone,
	// passing signal-delivery stops' signals through.
	void finish(pid_t pid);

	// A number, or a known pid's name when it equals one.
	void number_or_pid(Line &l, const std::string &key, long long v);

private:
	int fd_;
	std::map<pid_t, std::string> names_;
	int next_ = 1;
};

// The registry of scenarios.
struct Scenario {
	std::string name;
	std::string doc;
	void (*fn)(Trace &);
};
std::vector<Scenario> &scenarios();
struct Register {
	Register(const char *name, const char *doc, void (*fn)(Trace &))
	{
		scenarios().push_back({name, doc, fn});
	}
};
#define SCENARIO(id, doc)                                                                          \
	static void scenario_##id(conf::Trace &t);                                                 \
	static const conf::Register register_##id{#id, doc, scenario_##id};                        \
	static void scenario_##id(conf::Trace &t)

// Exec target (argv[1] == "--helper"): small deterministic programs.
int helper_main(int argc, char **argv);

} // namespace conf
