// Scenarios: syscall user dispatch (SUD) under ptrace.  The requests
// PTRACE_GET/SET_SYSCALL_USER_DISPATCH_CONFIG (6.11 on, generic
// ptrace_request(); an unknown request, EIO, on 6.1; EINVAL on a kernel
// without generic entry, as ppc64le's 6.12), and a tracee's own
// prctl(PR_SET_SYSCALL_USER_DISPATCH) while its tracer asks for syscall
// stops.  On x86_64 the utrace module's syscall-entry hook uses the SUD work
// bit too: the configuration a tracer reads, the dispatch and the syscall
// stops must all stay what they are natively.
#include "support.hpp"

#include <cstdint>
#include <sys/prctl.h>
#include <sys/resource.h>

using namespace conf;

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_OFF
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYSCALL_DISPATCH_FILTER_ALLOW
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif

namespace
{

constexpr long kSetConfig = 0x4210; // PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG
constexpr long kGetConfig = 0x4211; // PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG

// struct ptrace_sud_config (uapi/linux/ptrace.h, 6.11 on).
struct SudConfig {
	uint64_t mode;
	uint64_t selector;
	uint64_t offset;
	uint64_t len;
};

// The tracee's selector byte (a forked tracee has the same address).
volatile char g_sud_sel;

// SIGSYS from a dispatch: let the calls through again (rt_sigreturn too).
void sigsys_handler(int s, siginfo_t *si, void *ctx)
{
	g_sud_sel = SYSCALL_DISPATCH_FILTER_ALLOW;
	info_handler(s, si, ctx);
}

const bool labels_added = [] {
	add_ip_label("sigsys_handler", reinterpret_cast<const void *>(&sigsys_handler), 0);
	return true;
}();

std::string mode_name(uint64_t mode)
{
	if (mode == PR_SYS_DISPATCH_OFF)
		return "OFF";
	if (mode == PR_SYS_DISPATCH_ON)
		return "ON";
	return std::to_string(mode);
}

std::string selector_name(uint64_t sel)
{
	if (sel == 0)
		return "NULL";
	if (sel == U(&g_sud_sel))
		return "g_sud_sel";
	return "other";
}

// GET_SYSCALL_USER_DISPATCH_CONFIG, recorded with what it filled in.
void get_config(Trace &t, pid_t c)
{
	SudConfig cfg{~0ULL, ~0ULL, ~0ULL, ~0ULL};
	if (t.ptrace(kGetConfig, c, sizeof cfg, U(&cfg), "config") != 0)
		return;
	t.emit(Line("sud_config")
	               .str("mode", mode_name(cfg.mode))
	               .hex("offset", cfg.offset)
	               .hex("len", cfg.len)
	               .str("selector", selector_name(cfg.selector)));
}

long set_config(Trace &t, pid_t c, uint64_t mode, uint64_t offset, uint64_t len,
                const volatile char *selector, unsigned long size = sizeof(SudConfig))
{
	SudConfig cfg{mode, U(selector), offset, len};
	return t.ptrace(kSetConfig, c, size, U(&cfg),
	                mode_name(mode) + " offset " + std::to_string(offset) + " len " +
	                        std::to_string(len) + " selector " + selector_name(cfg.selector));
}

// Resume with PTRACE_SYSCALL until the tracee is gone (or `limit` stops),
// reading its SUD configuration at every syscall stop and its siginfo at
// every other stop.  A signal-delivery stop's signal is passed on, but
// SIGSYS, which is suppressed (unless `deliver_sigsys`): until
// `kill_at_sigsys` such stops, then SIGKILL ends the tracee.
void syscall_stops(Trace &t, pid_t c, int kill_at_sigsys = 0, int limit = 40,
                   bool deliver_sigsys = false)
{
	int sig = 0;
	int sigsys = 0;
	for (int i = 0; i < limit; i++) {
		int st = t.resume(PTRACE_SYSCALL, c, sig);
		if (!WIFSTOPPED(st))
			return;
		sig = 0;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			get_config(t, c);
			continue;
		}
		t.siginfo(c);
		if (WSTOPSIG(st) == SIGSYS && ++sigsys == kill_at_sigsys) {
			kill(c, SIGKILL);
			t.wait(c);
			return;
		}
		if (WSTOPSIG(st) != SIGTRAP && (WSTOPSIG(st) != SIGSYS || deliver_sigsys))
			sig = WSTOPSIG(st);
	}
	kill(c, SIGKILL);
	t.wait(c);
}

long sud_prctl(unsigned long mode, unsigned long offset, unsigned long len,
               const volatile char *sel)
{
	return syscall(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, mode, offset, len, sel);
}

} // namespace

SCENARIO(sud_config_fresh_tracee, "GET_SYSCALL_USER_DISPATCH_CONFIG of a tracee that never enabled "
                                  "SUD: OFF at a signal stop and at syscall stops (EIO on 6.1)")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, {},
	                       [] { _exit(static_cast<int>(syscall(SYS_getppid) > 0)); });
	get_config(t, c);
	syscall_stops(t, c);
}

SCENARIO(sud_config_set_get, "SET_SYSCALL_USER_DISPATCH_CONFIG ON with a selector and a region, "
                             "GET, syscall stops, SET OFF, GET, the errors (EINVAL, EFAULT)")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, {},
	                       [] { _exit(static_cast<int>(syscall(SYS_getppid) > 0)); });
	get_config(t, c);
	set_config(t, c, PR_SYS_DISPATCH_ON, 0x1000, 0x2000, &g_sud_sel);
	get_config(t, c);
	// A syscall-entry stop (the probe's getpid): the selector says ALLOW.
	t.resume(PTRACE_SYSCALL, c);
	get_config(t, c);
	set_config(t, c, PR_SYS_DISPATCH_OFF, 0, 0, nullptr);
	get_config(t, c);
	set_config(t, c, PR_SYS_DISPATCH_OFF, 0, 1, nullptr);
	set_config(t, c, 7, 0, 0, nullptr);
	set_config(t, c, PR_SYS_DISPATCH_ON, 0, 0, nullptr, sizeof(SudConfig) - 1);
	t.ptrace(kSetConfig, c, sizeof(SudConfig), 0, "config at NULL");
	t.ptrace(kGetConfig, c, sizeof(SudConfig), 0, "config at NULL");
	t.ptrace(kGetConfig, c, sizeof(SudConfig) + 1, 0, "size + 1");
	get_config(t, c);
	syscall_stops(t, c);
}

SCENARIO(sud_config_dispatch_sigsys, "SET_SYSCALL_USER_DISPATCH_CONFIG ON, selector BLOCK: a "
                                     "getppid gives no syscall stop but SIGSYS SYS_USER_DISPATCH; "
                                     "the handler allows again, and the calls after it stop")
{
	pid_t c = probe_tracee(
	        t, PTRACE_O_TRACESYSGOOD,
	        [] {
		        struct sigaction sa {
		        };
		        sa.sa_sigaction = sigsys_handler;
		        sa.sa_flags = SA_SIGINFO;
		        sigaction(SIGSYS, &sa, nullptr);
		        g_sud_sel = SYSCALL_DISPATCH_FILTER_BLOCK;
	        },
	        [] {
		        syscall(SYS_getppid);
		        _exit(g_count[SIGSYS] * 10 + (g_si_code == 2 /* SYS_USER_DISPATCH */));
	        });
	set_config(t, c, PR_SYS_DISPATCH_ON, 0, 0, &g_sud_sel);
	get_config(t, c);
	syscall_stops(t, c, 0, 40, true);
}

SCENARIO(sud_prctl_on_off_syscall_stops, "the tracee turns SUD on (all allowed) and off by prctl "
                                         "under PTRACE_SYSCALL: every syscall stop stays, GET "
                                         "follows")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD, {}, [] {
		long on = sud_prctl(PR_SYS_DISPATCH_ON, 0, ~0UL, nullptr);
		long off = sud_prctl(PR_SYS_DISPATCH_OFF, 0, 0, nullptr);
		long ppid = syscall(SYS_getppid);
		_exit(static_cast<int>((on == 0) + 2 * (off == 0) + 4 * (ppid > 0)));
	});
	syscall_stops(t, c);
}

SCENARIO(sud_prctl_on_dispatches_all, "the tracee turns SUD on by prctl with no selector and "
                                      "no region under PTRACE_SYSCALL: every later call is "
                                      "dispatched (SIGSYS, no syscall stop)")
{
	pid_t c = probe_tracee(
	        t, PTRACE_O_TRACESYSGOOD,
	        [] {
		        struct rlimit no_core {
		        };
		        setrlimit(RLIMIT_CORE, &no_core);
	        },
	        [] {
		        sud_prctl(PR_SYS_DISPATCH_ON, 0, 0, nullptr);
		        syscall(SYS_getppid);
		        syscall(SYS_getppid);
		        _exit(3);
	        });
	syscall_stops(t, c, 2);
}

SCENARIO(sud_prctl_off_keeps_dispatch_of_tracer, "the tracer turns SUD on (selector BLOCK) at a "
                                                 "syscall stop, the tracee's prctl OFF is itself "
                                                 "dispatched (SIGSYS), the handler allows, prctl "
                                                 "OFF again succeeds")
{
	pid_t c = probe_tracee(
	        t, PTRACE_O_TRACESYSGOOD,
	        [] {
		        struct sigaction sa {
		        };
		        sa.sa_sigaction = sigsys_handler;
		        sa.sa_flags = SA_SIGINFO;
		        sigaction(SIGSYS, &sa, nullptr);
	        },
	        [] {
		        g_sud_sel = SYSCALL_DISPATCH_FILTER_BLOCK;
		        long r = sud_prctl(PR_SYS_DISPATCH_OFF, 0, 0, nullptr);
		        long r2 = sud_prctl(PR_SYS_DISPATCH_OFF, 0, 0, nullptr);
		        _exit(static_cast<int>(g_count[SIGSYS] * 10 + (r2 == 0) + 2 * (r != 0)));
	        });
	set_config(t, c, PR_SYS_DISPATCH_ON, 0, 0, &g_sud_sel);
	syscall_stops(t, c, 0, 40, true);
}
