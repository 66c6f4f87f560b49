// Tracee-side helpers shared by the scenarios: signal handlers that count,
// the labelled probe, and small conversions.
#pragma once

#include "arch.hpp"
#include "trace.hpp"

#include <csignal>
#include <cstdint>
#include <functional>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace conf
{

// Counted in the tracee by handler(); read back through its exit code or
// PTRACE_PEEKDATA (a forked tracee has the same addresses).
extern volatile sig_atomic_t g_count[65];
extern volatile int g_si_signo, g_si_code, g_si_value, g_si_pid_is_parent;
extern volatile long g_var;

void handler(int sig);
void info_handler(int sig, siginfo_t *si, void *ctx);
// Installs handler (or info_handler) for sig; flags as for sigaction.
void install(int sig, bool info = false, int flags = 0);
void block(int sig);

inline void probe()
{
	conf_probe(getpid());
}
inline pid_t tid()
{
	return static_cast<pid_t>(syscall(SYS_gettid));
}
template <typename T> unsigned long U(T *p)
{
	return reinterpret_cast<unsigned long>(p);
}
inline unsigned long sig(int s)
{
	return static_cast<unsigned long>(s);
}

// A TRACEME tracee that sets options at its first stop, runs `before`, then
// conf_probe() (stop at conf_L_stopped, recorded), `after`, and _exit(0).
pid_t probe_tracee(Trace &t, unsigned long options, const std::function<void()> &before = {},
                   const std::function<void()> &after = {});

// A tracee blocked in read(2) on `p` until the tracer posts a byte; then it
// runs `then` and exits 0.  Returns once it sleeps in read.
pid_t blocked_tracee(Trace &t, const std::string &name, const class Pipe &p,
                     const std::function<void()> &then = {});

// Exec the suite's own binary as a small helper program (helper_main).
[[noreturn]] void exec_helper(const char *mode, const char *code);
// Wait until pid is a zombie (from /proc/PID/stat).
void wait_zombie(Trace &t, pid_t pid);
// Wait (bounded) until /proc/PID/stat shows state `st`.
void wait_state(pid_t pid, char st);
// fork() a second tracer process ("subtracer") that runs fn; returns its pid.
pid_t subtracer(Trace &t, const std::function<void()> &fn);

// Read one field of /proc/PID/status ("TracerPid", "SigBlk").
std::string proc_status_field(pid_t pid, const char *field);

} // namespace conf
