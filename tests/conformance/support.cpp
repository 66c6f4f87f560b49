#include "support.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sched.h>

namespace conf
{

volatile sig_atomic_t g_count[65];
volatile int g_si_signo, g_si_code, g_si_value, g_si_pid_is_parent;
volatile long g_var = 0x1234;

void handler(int s)
{
	if (s > 0 && s < 65)
		g_count[s] = g_count[s] + 1;
}

void info_handler(int s, siginfo_t *si, void *)
{
	handler(s);
	g_si_signo = si->si_signo;
	g_si_code = si->si_code;
	g_si_value = si->si_value.sival_int;
	g_si_pid_is_parent = si->si_pid == getppid();
}

namespace
{
const bool labels_added = [] {
	add_ip_label("handler", reinterpret_cast<const void *>(&handler), 0);
	add_ip_label("info_handler", reinterpret_cast<const void *>(&info_handler), 0);
	return true;
}();
} // namespace

void install(int s, bool info, int flags)
{
	struct sigaction sa {
	};
	if (info) {
		sa.sa_sigaction = info_handler;
		flags |= SA_SIGINFO;
	} else {
		sa.sa_handler = handler;
	}
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(s, &sa, nullptr);
}

void block(int s)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, s);
	sigprocmask(SIG_BLOCK, &set, nullptr);
}

pid_t probe_tracee(Trace &t, unsigned long options, const std::function<void()> &before,
                   const std::function<void()> &after)
{
	pid_t c = t.traceme("tracee", [&] {
		if (before)
			before();
		probe();
		if (after)
			after();
	});
	if (options)
		t.ptrace(PTRACE_SETOPTIONS, c, 0, options);
	t.resume(PTRACE_CONT, c);
	return c;
}

pid_t blocked_tracee(Trace &t, const std::string &name, const Pipe &p,
                     const std::function<void()> &then)
{
	pid_t c = t.spawn(name, [&] {
		p.take();
		if (then)
			then();
	});
	t.wait_blocked(c, SYS_read);
	return c;
}

std::string proc_status_field(pid_t pid, const char *field)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return "(no /proc entry)";
	char line[512];
	std::string v = "(none)";
	size_t n = strlen(field);
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			v = line + n + 1;
			while (!v.empty() && (v.front() == '\t' || v.front() == ' '))
				v.erase(0, 1);
			while (!v.empty() && v.back() == '\n')
				v.pop_back();
			break;
		}
	}
	fclose(f);
	return v;
}

void exec_helper(const char *mode, const char *code)
{
	char self[] = "/proc/self/exe";
	char helper[] = "--helper";
	char *argv[] = {self, helper, const_cast<char *>(mode), const_cast<char *>(code), nullptr};
	char *envp[] = {nullptr};
	execve(self, argv, envp);
	_exit(127);
}

static char proc_state(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	char st = '?';
	if (f) {
		if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
			st = '?';
		fclose(f);
	}
	return st;
}

void wait_zombie(Trace &t, pid_t pid)
{
	for (int i = 0; i < 200000; i++) {
		if (proc_state(pid) == 'Z')
			return;
		sched_yield();
	}
	t.emit(Line("error").str("what", "never became a zombie"));
}

void wait_state(pid_t pid, char st)
{
	for (int i = 0; i < 200000 && proc_state(pid) != st; i++)
		sched_yield();
}

pid_t subtracer(Trace &t, const std::function<void()> &fn)
{
	pid_t r = fork();
	if (r == 0) {
		t.name(getpid(), "subtracer");
		fn();
		_exit(0);
	}
	t.name(r, "subtracer");
	return r;
}

int helper_main(int argc, char **argv)
{
	std::string mode = argc > 2 ? argv[2] : "";
	int code = argc > 3 ? atoi(argv[3]) : 0;
	if (mode == "getppid-exit")
		syscall(SYS_getppid);
	return code;
}

} // namespace conf
