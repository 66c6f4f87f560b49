// The recorder: names for values, JSON lines, and the recorded wrappers
// around ptrace(2) and wait(2).
#include "trace.hpp"
#include "arch.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace conf
{

std::vector<Scenario> &scenarios()
{
	static std::vector<Scenario> all;
	return all;
}

std::string sig_name(int sig)
{
	static const std::map<int, const char *> names = {
	        {SIGHUP, "SIGHUP"},       {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
	        {SIGILL, "SIGILL"},       {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},
	        {SIGBUS, "SIGBUS"},       {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
	        {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
	        {SIGPIPE, "SIGPIPE"},     {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
	        {SIGCHLD, "SIGCHLD"},     {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"},
	        {SIGTSTP, "SIGTSTP"},     {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},
	        {SIGURG, "SIGURG"},       {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
	        {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"},
	        {SIGIO, "SIGIO"},         {SIGPWR, "SIGPWR"},   {SIGSYS, "SIGSYS"},
	};
	if (sig == 0)
		return "0";
	if ((sig & 0x80) && (sig & 0x7f) == SIGTRAP)
		return "SIGTRAP|0x80";
	auto it = names.find(sig);
	if (it != names.end())
		return it->second;
	if (sig >= 34 && sig <= 64)
		return "SIGRT" + std::to_string(sig - 34);
	return "sig" + std::to_string(sig);
}

std::string errno_name(int err)
{
	static const std::map<int, const char *> names = {
	        {EPERM, "EPERM"},
	        {ESRCH, "ESRCH"},
	        {EINTR, "EINTR"},
	        {EIO, "EIO"},
	        {EFAULT, "EFAULT"},
	        {EBUSY, "EBUSY"},
	        {EINVAL, "EINVAL"},
	        {ECHILD, "ECHILD"},
	        {EAGAIN, "EAGAIN"},
	        {ENOSYS, "ENOSYS"},
	        {EBADF, "EBADF"},
	        {ENODEV, "ENODEV"},
	        {ENOENT, "ENOENT"},
	        {EACCES, "EACCES"},
	        {ENOMEM, "ENOMEM"},
	        {EEXIST, "EEXIST"},
	        {EOPNOTSUPP, "EOPNOTSUPP"},
	        {ENODATA, "ENODATA"},
	        {EMSGSIZE, "EMSGSIZE"},
	        {512, "ERESTARTSYS"},
	        {513, "ERESTARTNOINTR"},
	        {514, "ERESTARTNOHAND"},
	        {516, "ERESTART_RESTARTBLOCK"},
	};
	auto it = names.find(err);
	return it != names.end() ? it->second : "errno" + std::to_string(err);
}

std::string req_name(long req)
{
	static const std::map<long, const char *> names = {
		{PTRACE_TRACEME, "TRACEME"},
		{PTRACE_PEEKTEXT, "PEEKTEXT"},
		{PTRACE_PEEKDATA, "PEEKDATA"},
		{PTRACE_PEEKUSER, "PEEKUSER"},
		{PTRACE_POKETEXT, "POKETEXT"},
		{PTRACE_POKEDATA, "POKEDATA"},
		{PTRACE_POKEUSER, "POKEUSER"},
		{PTRACE_CONT, "CONT"},
		{PTRACE_KILL, "KILL"},
		{PTRACE_SINGLESTEP, "SINGLESTEP"},
		{PTRACE_GETREGS, "GETREGS"},
		{PTRACE_SETREGS, "SETREGS"},
		{PTRACE_GETFPREGS, "GETFPREGS"},
		{PTRACE_SETFPREGS, "SETFPREGS"},
		{PTRACE_ATTACH, "ATTACH"},
		{PTRACE_DETACH, "DETACH"},
		{PTRACE_SYSCALL, "SYSCALL"},
		{PTRACE_SYSEMU, "SYSEMU"},
		{PTRACE_SYSEMU_SINGLESTEP, "SYSEMU_SINGLESTEP"},
		{PTRACE_SINGLEBLOCK, "SINGLEBLOCK"},
		{PTRACE_SETOPTIONS, "SETOPTIONS"},
		{PTRACE_GETEVENTMSG, "GETEVENTMSG"},
		{PTRACE_GETSIGINFO, "GETSIGINFO"},
		{PTRACE_SETSIGINFO, "SETSIGINFO"},
		{PTRACE_GETREGSET, "GETREGSET"},
		{PTRACE_SETREGSET, "SETREGSET"},
		{PTRACE_SEIZE, "SEIZE"},
		{PTRACE_INTERRUPT, "INTERRUPT"},
		{PTRACE_LISTEN, "LISTEN"},
		{PTRACE_PEEKSIGINFO, "PEEKSIGINFO"},
		{PTRACE_GETSIGMASK, "GETSIGMASK"},
		{PTRACE_SETSIGMASK, "SETSIGMASK"},
		{PTRACE_GET_SYSCALL_INFO, "GET_SYSCALL_INFO"},
		{0x420c, "SECCOMP_GET_FILTER"},
		{0x420d, "SECCOMP_GET_METADATA"},
		{0x420f, "GET_RSEQ_CONFIGURATION"},
		{0x4210, "SET_SYSCALL_USER_DISPATCH_CONFIG"},
		{0x4211, "GET_SYSCALL_USER_DISPATCH_CONFIG"},
#if defined(__x86_64__)
		{PTRACE_ARCH_PRCTL, "ARCH_PRCTL"},
		{PTRACE_GET_THREAD_AREA, "GET_THREAD_AREA"},
		{PTRACE_SET_THREAD_AREA, "SET_THREAD_AREA"},
#else
		{PTRACE_GETVRREGS, "GETVRREGS"},
		{PTRACE_SETVRREGS, "SETVRREGS"},
		{PTRACE_GETVSRREGS, "GETVSRREGS"},
		{PTRACE_SETVSRREGS, "SETVSRREGS"},
		{PTRACE_GETREGS64, "GETREGS64"},
		{PPC_PTRACE_GETHWDBGINFO, "PPC_GETHWDBGINFO"},
		{PTRACE_GET_DEBUGREG, "GET_DEBUGREG"},
#endif
	};
	auto it = names.find(req);
	return it != names.end() ? it->second : "req" + std::to_string(req);
}

std::string event_name(int event)
{
	switch (event) {
	case 0:
		return "";
	case PTRACE_EVENT_FORK:
		return "FORK";
	case PTRACE_EVENT_VFORK:
		return "VFORK";
	case PTRACE_EVENT_CLONE:
		return "CLONE";
	case PTRACE_EVENT_EXEC:
		return "EXEC";
	case PTRACE_EVENT_VFORK_DONE:
		return "VFORK_DONE";
	case PTRACE_EVENT_EXIT:
		return "EXIT";
	case PTRACE_EVENT_SECCOMP:
		return "SECCOMP";
	case PTRACE_EVENT_STOP:
		return "STOP";
	default:
		return "event" + std::to_string(event);
	}
}

std::string options_name(unsigned long options)
{
	static const std::pair<unsigned long, const char *> names[] = {
	        {PTRACE_O_TRACESYSGOOD, "TRACESYSGOOD"},
	        {PTRACE_O_TRACEFORK, "TRACEFORK"},
	        {PTRACE_O_TRACEVFORK, "TRACEVFORK"},
	        {PTRACE_O_TRACECLONE, "TRACECLONE"},
	        {PTRACE_O_TRACEEXEC, "TRACEEXEC"},
	        {PTRACE_O_TRACEVFORKDONE, "TRACEVFORKDONE"},
	        {PTRACE_O_TRACEEXIT, "TRACEEXIT"},
	        {PTRACE_O_TRACESECCOMP, "TRACESECCOMP"},
	        {PTRACE_O_EXITKILL, "EXITKILL"},
	        {PTRACE_O_SUSPEND_SECCOMP, "SUSPEND_SECCOMP"},
	};
	std::string s;
	for (const auto &[bit, name] : names) {
		if (options & bit) {
			s += s.empty() ? "" : "|";
			s += name;
			options &= ~bit;
		}
	}
	if (options) {
		char buf[32];
		snprintf(buf, sizeof buf, "%s0x%lx", s.empty() ? "" : "|", options);
		s += buf;
	}
	return s.empty() ? "0" : s;
}

std::string si_code_name(int signo, int code)
{
	switch (code) {
	case SI_USER:
		return "SI_USER";
	case SI_KERNEL:
		return "SI_KERNEL";
	case SI_QUEUE:
		return "SI_QUEUE";
	case SI_TKILL:
		return "SI_TKILL";
	case SI_TIMER:
		return "SI_TIMER";
	default:
		break;
	}
	if (signo == SIGTRAP) {
		switch (code) {
		case TRAP_BRKPT:
			return "TRAP_BRKPT";
		case TRAP_TRACE:
			return "TRAP_TRACE";
		case TRAP_BRANCH:
			return "TRAP_BRANCH";
		case TRAP_HWBKPT:
			return "TRAP_HWBKPT";
		default:
			break;
		}
		// ptrace's own stops: SIGTRAP | event << 8, or SIGTRAP|0x80.
		if ((code & 0x7f) == SIGTRAP) {
			std::string s = (code & 0x80) ? "SIGTRAP|0x80" : "SIGTRAP";
			if (code >> 8)
				s += "|" + event_name(code >> 8) + "<<8";
			return s;
		}
	}
	if (signo == SIGCHLD) {
		static const char *cld[] = {
		        "?",           "CLD_EXITED",  "CLD_KILLED",   "CLD_DUMPED",
		        "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"};
		if (code >= 1 && code <= 6)
			return cld[code];
	}
	if (signo == SIGSYS && code == 1)
		return "SYS_SECCOMP";
	return "code" + std::to_string(code);
}

std::string syscall_name(long nr)
{
	static const std::map<long, const char *> names = {
		{SYS_read, "read"},
		{SYS_write, "write"},
		{SYS_getpid, "getpid"},
		{SYS_getppid, "getppid"},
		{SYS_gettid, "gettid"},
		{SYS_kill, "kill"},
		{SYS_tgkill, "tgkill"},
		{SYS_exit, "exit"},
		{SYS_exit_group, "exit_group"},
		{SYS_rt_sigreturn, "rt_sigreturn"},
		{SYS_rt_sigprocmask, "rt_sigprocmask"},
		{SYS_rt_sigaction, "rt_sigaction"},
		{SYS_seccomp, "seccomp"},
		{SYS_prctl, "prctl"},
		{SYS_mmap, "mmap"},
		{SYS_brk, "brk"},
		{SYS_restart_syscall, "restart_syscall"},
		{SYS_nanosleep, "nanosleep"},
		{SYS_clock_nanosleep, "clock_nanosleep"},
		{SYS_execve, "execve"},
		{SYS_clone, "clone"},
		{SYS_clone3, "clone3"},
		{SYS_vfork, "vfork"},
#if defined(SYS_fork)
		{SYS_fork, "fork"},
#endif
		{SYS_wait4, "wait4"},
		{SYS_getuid, "getuid"},
		{SYS_getgid, "getgid"},
		{SYS_uname, "uname"},
		{SYS_pause, "pause"},
		{SYS_ppoll, "ppoll"},
		{SYS_futex, "futex"},
		{SYS_sched_yield, "sched_yield"},
		{SYS_close, "close"},
		{SYS_dup, "dup"},
		{SYS_rt_sigsuspend, "rt_sigsuspend"},
		{SYS_rt_sigtimedwait, "rt_sigtimedwait"},
		{-1, "-1"},
	};
	auto it = names.find(nr);
	return it != names.end() ? it->second : "nr" + std::to_string(nr);
}

std::string sigset_name(uint64_t mask)
{
	std::string s;
	for (int sig = 1; sig <= 64; sig++) {
		if (mask & (1ULL << (sig - 1))) {
			s += s.empty() ? "" : "|";
			s += sig_name(sig);
		}
	}
	return s.empty() ? "{}" : s;
}

// ---- Line

static std::string quote(const std::string &s)
{
	std::string q = "\"";
	for (char c : s) {
		if (c == '"' || c == '\\') {
			q += '\\';
			q += c;
		} else if (static_cast<unsigned char>(c) < 0x20) {
			char buf[8];
			snprintf(buf, sizeof buf, "\\u%04x", c);
			q += buf;
		} else {
			q += c;
		}
	}
	return q + "\"";
}

Line::Line(const std::string &op) : body_("{\"op\":" + quote(op)) {}

Line &Line::str(const std::string &key, const std::string &value)
{
	body_ += "," + quote(key) + ":" + quote(value);
	return *this;
}

Line &Line::num(const std::string &key, long long value)
{
	body_ += "," + quote(key) + ":" + std::to_string(value);
	return *this;
}

Line &Line::hex(const std::string &key, unsigned long long value)
{
	char buf[32];
	snprintf(buf, sizeof buf, "0x%llx", value);
	return str(key, buf);
}

Line &Line::boolean(const std::string &key, bool value)
{
	body_ += "," + quote(key) + ":" + (value ? "true" : "false");
	return *this;
}

// ---- Pipe

Pipe::Pipe()
{
	if (pipe2(fd_, O_CLOEXEC) != 0) {
		perror("pipe2");
		_exit(70);
	}
}

Pipe::~Pipe()
{
	close_read();
	close_write();
}

void Pipe::post(char c) const
{
	while (write(fd_[1], &c, 1) < 0 && errno == EINTR) {
	}
}

char Pipe::take() const
{
	char c = 0;
	ssize_t n;
	while ((n = read(fd_[0], &c, 1)) < 0 && errno == EINTR) {
	}
	return n == 1 ? c : 0;
}

void Pipe::close_read()
{
	if (fd_[0] >= 0)
		close(fd_[0]);
	fd_[0] = -1;
}

void Pipe::close_write()
{
	if (fd_[1] >= 0)
		close(fd_[1]);
	fd_[1] = -1;
}

// ---- Trace

Trace::Trace(int fd) : fd_(fd)
{
	names_[getpid()] = "tracer";
}

void Trace::emit(const Line &line) const
{
	std::string s = line.text() + "\n";
	// One write per line to an O_APPEND file (run_one()): lines from
	// several processes never interleave nor overwrite each other.
	if (write(fd_, s.data(), s.size()) != static_cast<ssize_t>(s.size()))
		_exit(71);
}

void Trace::note(const std::string &text) const
{
	emit(Line("note").str("text", text));
}

void Trace::value(const std::string &what, long long v) const
{
	emit(Line("value").str("what", what).num("value", v));
}

void Trace::value(const std::string &what, const std::string &v) const
{
	emit(Line("value").str("what", what).str("value", v));
}

void Trace::check(const std::string &what, bool ok) const
{
	emit(Line("check").str("what", what).boolean("ok", ok));
}

std::string Trace::pid(pid_t p)
{
	if (p <= 0)
		return std::to_string(p);
	auto it = names_.find(p);
	if (it != names_.end())
		return it->second;
	std::string n = "pid#" + std::to_string(next_++);
	names_[p] = n;
	return n;
}

void Trace::name(pid_t p, const std::string &name)
{
	names_[p] = name;
}

static bool is_resume(long req)
{
	switch (req) {
	case PTRACE_CONT:
	case PTRACE_SYSCALL:
	case PTRACE_SINGLESTEP:
	case PTRACE_SINGLEBLOCK:
	case PTRACE_SYSEMU:
	case PTRACE_SYSEMU_SINGLESTEP:
	case PTRACE_DETACH:
	case PTRACE_LISTEN:
		return true;
	default:
		return false;
	}
}

long Trace::ptrace(long req, pid_t pid, unsigned long addr, unsigned long data,
                   const std::string &what)
{
	errno = 0;
	long r = ::ptrace(static_cast<enum __ptrace_request>(req), pid, addr, data);
	int err = errno;
	Line l("ptrace");
	l.str("req", req_name(req)).str("pid", this->pid(pid));
	if (is_resume(req))
		l.str("sig", sig_name(static_cast<int>(data)));
	else if (req == PTRACE_SETOPTIONS || req == PTRACE_SEIZE)
		l.str("options", options_name(data));
	if (!what.empty())
		l.str("what", what);
	l.num("ret", r);
	if (r == -1)
		l.str("errno", errno_name(err));
	emit(l);
	errno = err;
	return r;
}

long Trace::peek(long req, pid_t pid, unsigned long addr, const std::string &what, bool show_value)
{
	errno = 0;
	long r = ::ptrace(static_cast<enum __ptrace_request>(req), pid, addr, 0);
	int err = errno;
	Line l("ptrace");
	l.str("req", req_name(req)).str("pid", this->pid(pid)).str("what", what);
	if (err != 0)
		l.num("ret", -1).str("errno", errno_name(err));
	else if (show_value)
		l.hex("value", static_cast<unsigned long>(r));
	else
		l.str("value", "(not recorded)");
	emit(l);
	errno = err;
	return r;
}

static std::string flags_name(int flags)
{
	std::string s;
	const std::pair<int, const char *> names[] = {
	        {WNOHANG, "WNOHANG"}, {WUNTRACED, "WUNTRACED"}, {WCONTINUED, "WCONTINUED"},
	        {WNOWAIT, "WNOWAIT"}, {WEXITED, "WEXITED"},     {WSTOPPED, "WSTOPPED"},
	        {__WALL, "__WALL"},   {__WCLONE, "__WCLONE"},   {__WNOTHREAD, "__WNOTHREAD"},
	};
	for (const auto &[bit, name] : names) {
		if (flags & bit) {
			s += s.empty() ? "" : "|";
			s += name;
		}
	}
	return s.empty() ? "0" : s;
}

static void decode_status(Line &l, int st)
{
	if (WIFEXITED(st)) {
		l.str("status", "exited").num("code", WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		l.str("status", "signaled").str("sig", sig_name(WTERMSIG(st)));
		if (WCOREDUMP(st))
			l.boolean("core", true);
	} else if (WIFSTOPPED(st)) {
		l.str("status", "stopped").str("sig", sig_name(WSTOPSIG(st)));
		if (st >> 16)
			l.str("event", event_name(st >> 16));
	} else if (WIFCONTINUED(st)) {
		l.str("status", "continued");
	} else {
		l.hex("status", static_cast<unsigned>(st));
	}
}

pid_t Trace::wait(pid_t pid, int flags, int *status)
{
	int st = 0;
	pid_t r;
	do {
		r = waitpid(pid, &st, flags);
	} while (r < 0 && errno == EINTR);
	int err = errno;
	Line l("wait");
	l.str("pid", pid == -1 ? "-1" : this->pid(pid)).str("flags", flags_name(flags));
	if (r < 0)
		l.num("ret", -1).str("errno", errno_name(err));
	else if (r == 0)
		l.num("ret", 0);
	else {
		l.str("ret", this->pid(r));
		decode_status(l, st);
	}
	emit(l);
	if (status)
		*status = st;
	errno = err;
	return r;
}

int Trace::waitid(idtype_t type, id_t id, int flags)
{
	// Not zeroed: the kernel writes its siginfo also when it has nothing
	// to report (si_pid 0), and "empty" must come from that write.
	siginfo_t si;
	memset(&si, 0xa5, sizeof si);
	int r;
	do {
		r = ::waitid(type, id, &si, flags);
	} while (r < 0 && errno == EINTR);
	int err = errno;
	Line l("waitid");
	l.str("id", type == P_ALL ? "P_ALL" : this->pid(static_cast<pid_t>(id)))
	        .str("flags", flags_name(flags))
	        .num("ret", r);
	if (r < 0) {
		l.str("errno", errno_name(err));
	} else if (si.si_pid == 0) {
		l.str("si", "empty");
	} else {
		l.str("signo", sig_name(si.si_signo))
		        .str("code", si_code_name(si.si_signo, si.si_code))
		        .str("si_pid", this->pid(si.si_pid))
		        .num("si_uid", si.si_uid);
		if (si.si_code == CLD_EXITED)
			l.num("si_status", si.si_status);
		else
			l.str("si_status", sig_name(si.si_status));
	}
	emit(l);
	errno = err;
	return r;
}

void Trace::record_siginfo(const char *op, const siginfo_t &si)
{
	Line l(op);
	l.str("signo", sig_name(si.si_signo))
	        .str("code", si_code_name(si.si_signo, si.si_code))
	        .num("errno", si.si_errno);
	if (si.si_code == SI_USER || si.si_code == SI_TKILL || si.si_code == SI_QUEUE ||
	    si.si_signo == SIGCHLD || (si.si_signo == SIGTRAP && (si.si_code & 0x7f) == SIGTRAP))
		l.str("si_pid", pid(si.si_pid));
	if (si.si_code == SI_QUEUE)
		l.num("value", si.si_value.sival_int);
	if (si.si_signo == SIGCHLD) {
		if (si.si_code == CLD_EXITED)
			l.num("si_status", si.si_status);
		else
			l.str("si_status", sig_name(si.si_status));
	}
	if (si.si_signo == SIGSYS) {
		l.str("call_addr", ip_name(reinterpret_cast<unsigned long>(si.si_call_addr)))
		        .str("syscall", syscall_name(si.si_syscall))
		        .num("arch_ok", si.si_arch == audit_arch());
	}
	if (si.si_signo == SIGTRAP && si.si_code > 0 && si.si_code < SIGTRAP)
		l.str("addr", ip_name(reinterpret_cast<unsigned long>(si.si_addr)));
	emit(l);
}

bool Trace::siginfo(pid_t p, siginfo_t *out)
{
	siginfo_t si{};
	errno = 0;
	long r = ::ptrace(PTRACE_GETSIGINFO, p, 0, &si);
	if (r != 0) {
		emit(Line("siginfo").num("ret", r).str("errno", errno_name(errno)));
		return false;
	}
	record_siginfo("siginfo", si);
	if (out)
		*out = si;
	return true;
}

static std::string errval(long v)
{
	if (v == -ENOSYS)
		return "-ENOSYS";
	return "-" + errno_name(static_cast<int>(-v));
}

void Trace::number_or_pid(Line &l, const std::string &key, long long v)
{
	if (v > 0 && v <= 0x7fffffff && names_.count(static_cast<pid_t>(v)))
		l.str(key, pid(static_cast<pid_t>(v)));
	else
		l.num(key, v);
}

void Trace::regs_entry(pid_t p)
{
	SysRegs r{};
	if (!get_sysregs(p, r)) {
		emit(Line("regs").str("errno", errno_name(errno)));
		return;
	}
	Line l("regs");
	l.str("at", "entry").str("nr", syscall_name(r.nr)).str("ip", ip_name(r.ip));
#if defined(__x86_64__)
	l.str("rax", r.ret == -ENOSYS ? "-ENOSYS" : std::to_string(r.ret));
#else
	l.boolean("r3_is_arg0", !r.so && r.ret == r.args[0]);
#endif
	emit(l);
}

void Trace::regs_exit(pid_t p, bool ret_is_pid)
{
	SysRegs r{};
	if (!get_sysregs(p, r)) {
		emit(Line("regs").str("errno", errno_name(errno)));
		return;
	}
	Line l("regs");
	l.str("at", "exit").str("nr", syscall_name(r.nr));
	if (r.ret < 0 && r.ret >= -4095)
		l.str("ret", errval(r.ret));
	else if (ret_is_pid || names_.count(static_cast<pid_t>(r.ret)))
		l.str("ret", pid(static_cast<pid_t>(r.ret)));
	else
		l.num("ret", r.ret);
	l.str("ip", ip_name(r.ip));
	emit(l);
}

// Natively the SIGCHLD of a ptrace stop is built after the stop is
// visible: ptrace_stop() drops the siglock before do_notify_parent_cldstop()
// reads ->exit_code, so a wait that looks in between takes the stop and the
// SIGCHLD says si_status 0 (seen about once in 40 runs on ppc64le).  Where
// a SIGCHLD is recorded, the tracer waits for it to be queued before it
// waits for the stop: only when SIGCHLD is blocked and would be sent, and
// not for long if none comes.
static void await_sigchld()
{
	sigset_t blocked, pending;
	struct sigaction sa {
	};
	if (sigprocmask(SIG_BLOCK, nullptr, &blocked) != 0 || !sigismember(&blocked, SIGCHLD) ||
	    sigaction(SIGCHLD, nullptr, &sa) != 0 || sa.sa_handler == SIG_IGN ||
	    (sa.sa_flags & SA_NOCLDSTOP) != 0)
		return;
	for (int i = 0; i < 200000; i++) {
		if (sigpending(&pending) == 0 && sigismember(&pending, SIGCHLD))
			return;
		sched_yield();
	}
}

int Trace::resume(long req, pid_t p, int sig)
{
	ptrace(req, p, 0, static_cast<unsigned long>(sig));
	await_sigchld();
	int st = 0;
	if (wait(p, __WALL, &st) != p)
		return st;
	if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80)) {
		// Entry or exit: the kernel's own answer (recorded elsewhere).
		__ptrace_syscall_info info{};
		::ptrace(PTRACE_GET_SYSCALL_INFO, p, sizeof info, &info);
		if (info.op == PTRACE_SYSCALL_INFO_EXIT)
			regs_exit(p);
		else
			regs_entry(p);
	} else if (WIFSTOPPED(st)) {
		ip(p);
	}
	return st;
}

void Trace::ip(pid_t p)
{
	SysRegs r{};
	if (!get_sysregs(p, r)) {
		emit(Line("ip").str("errno", errno_name(errno)));
		return;
	}
	emit(Line("ip").str("ip", ip_name(r.ip)));
}

void Trace::syscall_info(pid_t p, int nargs)
{
	__ptrace_syscall_info info{};
	errno = 0;
	long r = ::ptrace(PTRACE_GET_SYSCALL_INFO, p, sizeof info, &info);
	Line l("syscall_info");
	l.num("ret", r);
	if (r < 0) {
		l.str("errno", errno_name(errno));
		emit(l);
		return;
	}
	static const char *ops[] = {"NONE", "ENTRY", "EXIT", "SECCOMP"};
	l.str("kind", info.op < 4 ? ops[info.op] : std::to_string(info.op))
	        .boolean("arch_ok", info.arch == audit_arch())
	        .str("ip", ip_name(info.instruction_pointer));
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY || info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
		l.str("nr", syscall_name(static_cast<long>(info.entry.nr)));
		for (int i = 0; i < nargs && i < 6; i++)
			number_or_pid(l, "arg" + std::to_string(i),
			              static_cast<long long>(info.entry.args[i]));
		if (info.op == PTRACE_SYSCALL_INFO_SECCOMP)
			l.hex("ret_data", info.seccomp.ret_data);
	} else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
		long long v = info.exit.rval;
		if (info.exit.is_error)
			l.str("rval", errval(v));
		else
			number_or_pid(l, "rval", v);
		l.num("is_error", info.exit.is_error);
	}
	emit(l);
}

unsigned long Trace::eventmsg(pid_t p, bool is_pid)
{
	unsigned long msg = 0;
	errno = 0;
	long r = ::ptrace(PTRACE_GETEVENTMSG, p, 0, &msg);
	Line l("eventmsg");
	if (r != 0)
		l.num("ret", r).str("errno", errno_name(errno));
	else if (is_pid)
		l.str("msg", pid(static_cast<pid_t>(msg)));
	else
		l.hex("msg", msg);
	emit(l);
	return msg;
}

void Trace::state(pid_t p)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", p);
	FILE *f = fopen(path, "re");
	std::string st = "(no /proc entry)";
	if (f) {
		char line[256];
		while (fgets(line, sizeof line, f)) {
			if (strncmp(line, "State:", 6) == 0) {
				st = line + 6;
				while (!st.empty() && (st.front() == '\t' || st.front() == ' '))
					st.erase(0, 1);
				while (!st.empty() && (st.back() == '\n'))
					st.pop_back();
				break;
			}
		}
		fclose(f);
	}
	emit(Line("state").str("pid", pid(p)).str("state", st));
}

void Trace::sigchld()
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	timespec zero{};
	siginfo_t si{};
	if (sigtimedwait(&set, &si, &zero) < 0) {
		emit(Line("sigchld").str("pending", "none"));
		return;
	}
	record_siginfo("sigchld", si);
}

pid_t Trace::spawn(const std::string &nm, const std::function<void()> &fn)
{
	pid_t c = fork();
	if (c < 0) {
		perror("fork");
		_exit(72);
	}
	if (c == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		fn();
		_exit(0);
	}
	name(c, nm);
	return c;
}

pid_t Trace::traceme(const std::string &nm, const std::function<void()> &fn)
{
	pid_t c = spawn(nm, [&fn] {
		if (::ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(73);
		kill(getpid(), SIGSTOP);
		fn();
	});
	await_sigchld();
	wait(c);
	return c;
}

void Trace::wait_blocked(pid_t p, long nr) const
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/syscall", p);
	for (int i = 0; i < 200000; i++) {
		FILE *f = fopen(path, "re");
		long got = -2;
		if (f) {
			if (fscanf(f, "%ld", &got) != 1)
				got = -2;
			fclose(f);
		}
		if (got == nr) {
			char spath[64];
			snprintf(spath, sizeof spath, "/proc/%d/stat", p);
			FILE *s = fopen(spath, "re");
			char state = '?';
			if (s) {
				if (fscanf(s, "%*d (%*[^)]) %c", &state) != 1)
					state = '?';
				fclose(s);
			}
			if (state == 'S' || state == 'D')
				return;
		}
		sched_yield();
	}
	emit(Line("error").str("what", "tracee never blocked in " + syscall_name(nr)));
}

void Trace::finish(pid_t p)
{
	int sig = 0;
	for (int i = 0; i < 50; i++) {
		if (ptrace(PTRACE_CONT, p, 0, static_cast<unsigned long>(sig)) != 0)
			return;
		int st = 0;
		if (wait(p, __WALL, &st) != p)
			return;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return;
		sig = (WIFSTOPPED(st) && (st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP &&
		       WSTOPSIG(st) != (SIGTRAP | 0x80))
		              ? WSTOPSIG(st)
		              : 0;
	}
}

} // namespace conf
