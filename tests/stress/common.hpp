// Race stress suite (tests/stress): what every scenario shares.  The suite
// runs inside a guest as root; utrace_stress loads and unloads the module
// itself (--module), so it can measure the module's state from its load on
// and unload it with engines attached.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <new>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <sys/types.h>
#include <vector>

namespace stress
{

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Options of the run (main.cpp).
struct Options {
	std::string module;               // utrace.ko to load (--module)
	std::chrono::seconds seconds{20}; // budget of each scenario (--seconds)
	std::string self;                 // this binary, for exec'ing children
};
Options &options();

// A scenario's time budget: loops run while it is not over.
class Budget
{
public:
	explicit Budget(std::chrono::milliseconds total) : end_(Clock::now() + total) {}
	[[nodiscard]] bool over() const { return Clock::now() >= end_; }

private:
	Clock::time_point end_;
};

// Named counters a scenario prints at its end ("loops", "attach", ...).
class Counters
{
public:
	void add(const std::string &name, uint64_t n = 1);
	[[nodiscard]] uint64_t get(const std::string &name) const;
	// "scenario NAME: 12.3 s, attach=5 detach=5 ..." on stdout.
	void print(const std::string &scenario, Clock::duration took) const;

private:
	mutable std::mutex mu_;
	std::map<std::string, uint64_t> counts_;
};

// Unexpected outcomes collected from many threads; the test fails on any.
class Failures
{
public:
	void add(const std::string &what);
	[[nodiscard]] std::vector<std::string> all() const;
	[[nodiscard]] size_t size() const;

private:
	mutable std::mutex mu_;
	std::vector<std::string> list_;
	size_t dropped_ = 0;
};

// A per-thread random generator seeded from the test's seed.
std::mt19937_64 rng_for(uint64_t salt);

// Process helpers.  fork_child() runs @body in a child that _exit()s with its
// return value.  The child closes every inherited file descriptor from 3 on
// but those in @keep: a /dev/utrace file the parent closes must not stay
// open in its children (it would keep its engines and the module).
pid_t fork_child(const std::function<int()> &body, std::vector<int> keep = {});
// waitpid(@pid, __WALL) polled until it returns or @bound passes; nullopt on
// timeout (the child is still there).
std::optional<int> wait_bounded(pid_t pid, std::chrono::milliseconds bound);
// Kills (SIGKILL) and reaps @pid within @bound; false (and a description in
// @why) if it could not be reaped.
bool kill_and_reap(pid_t pid, std::chrono::milliseconds bound, std::string *why = nullptr);
// "exited 0", "killed by SIGSYS", ...
std::string describe_status(int status);
// One line about a task: state, wchan, kernel stack (first lines).
std::string describe_task(pid_t pid);
// The state letter of a task (/proc/PID/stat), 0 if it is gone.
char task_state(pid_t pid, pid_t tid = 0);

// "Nothing lost": reaps every remaining child within @bound (each one left is
// a failure, then killed), and checks that no user task is a zombie or in D,
// t or T state (waiting up to @bound for them to settle).  Appends problems.
void check_nothing_lost(std::vector<std::string> &problems, std::chrono::milliseconds bound = 10s);

// The module.
bool module_loaded();
// Loads options().module; returns the error text, or "" on success.  A
// slab cache that appears with the load is counted as the module's.
std::string load_module();
// delete_module(O_NONBLOCK): 0 or the errno.
int try_unload_module();
// Tasks that hold /dev/utrace open ("pid 12 fd 5, ..."), for a refused unload.
std::string utrace_file_holders();
// /sys/module/utrace/refcnt, -1 if not loaded.
long module_refcnt();
// In-use objects of each of the module's slab caches (utrace,
// utrace_engine), exact: each cache is shrunk first so per-CPU slabs are
// counted (needs slab_nomerge on the kernel command line for the caches to
// be the module's own).  Empty map if not loaded.
std::map<std::string, long> module_slab_objects();
// The module's baseline: refcnt and slab objects right after this binary
// loaded it (or found it loaded).
struct ModuleBaseline {
	long refcnt = -1;
	std::map<std::string, long> slabs;
};
ModuleBaseline &baseline();
void record_baseline();
std::string format_slabs(const std::map<std::string, long> &slabs);
// Detaches every /dev/utrace engine left (a failure each: scenarios detach
// theirs), then checks ptrace_tracees is 0 and refcnt/slab counts are back
// to the baseline (waiting up to @bound for REAP work).  Appends problems.
void check_module_state(std::vector<std::string> &problems, std::chrono::milliseconds bound = 15s);

// The ptrace_backend parameter.
inline constexpr const char *kBackendParam = "/sys/module/utrace/parameters/ptrace_backend";
// Writes "Y"/"N": 0 or the errno.
int set_backend(bool on);
bool backend_on();
long ptrace_tracees();
// A PTRACE_TRACEME child run to its end with PTRACE_SYSCALL: 0 if every
// request worked and the child exited 0 after at least 2 * @calls stops;
// 40-45: a ptrace request or wait failed (see common.cpp).
int traceme_cycle(int calls);
// Forks a child that asks for PTRACE_TRACEME (exit 30 if refused), stops
// itself with SIGSTOP, makes @calls getppid() calls (exit 31 if one does
// not return this process), then exits 0; returns its pid.
pid_t fork_traceme_child(int calls = 0);

// Small file helpers.
std::string read_file(const std::string &path);
int write_file(const std::string &path, const std::string &text); // 0 or errno

// Polls @cond every 5 ms until it holds or @bound passes.
bool eventually(const std::function<bool()> &cond, std::chrono::milliseconds bound);

// Memory shared with forked children (MAP_SHARED | MAP_ANONYMOUS), never
// freed (a few pages per test).
void *shared_alloc(size_t size);
template <typename T> T *shared_new()
{
	return new (shared_alloc(sizeof(T))) T();
}

} // namespace stress
