// SPDX-License-Identifier: GPL-2.0
/*
 * ptrace(2) and wait(2) through x86's ia32 entries: built -m32 -static and
 * run by tests/guest/ptrace-compat.sh under the native ptrace and under the
 * utrace backend, whose transcripts must then be the same.
 *
 * Every call is a raw system call (int $0x80 through glibc's syscall()), so
 * each reaches the kernel's ia32 entry as written: ptrace, waitpid, wait4,
 * waitid.  Memory the kernel writes for the caller (PEEKDATA's word,
 * GETEVENTMSG, rusage, siginfo) is preceded by known bytes and followed by a
 * guard: a write in the 64-bit layout shows as a changed guard or a field in
 * the wrong place.
 *
 * Three tracees:
 *   traceme: PTRACE_TRACEME, stops itself with SIGSTOP (SIGUSR2 blocked and
 *     pending); the tracer sets options, reads siginfo, the signal mask and
 *     the pending queue, peeks and pokes a word, reads the registers (GETREGS,
 *     GETREGSET), follows getppid() through its syscall stops, rewrites the
 *     siginfo of a SIGUSR1 stop, sees a fork event and the auto-attached
 *     grandchild, an exec event and an exit event, and reaps it with wait4.
 *   attach: PTRACE_ATTACH to a pausing child, waitid for the stop, DETACH
 *     with SIGTERM, waitid for its death.
 *   seize: PTRACE_SEIZE, INTERRUPT, the PTRACE_EVENT_STOP, KILL, waitpid.
 *
 * Pids are printed as names (tracer, tracee, grandchild).  The lines
 * "TRACERPID <scenario> <name>" give /proc/<tracee>/status's TracerPid
 * while traced: the tracer natively, 0 under the utrace backend (a
 * documented difference), which shows which backend served the calls;
 * the test compares them apart from the rest.
 *
 * Modes: no argument runs the tracer; "exec-tail CODE" is the traceme
 * tracee after its exec: it exits with CODE.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __i386__
#error "ptrace_compat.c is the ia32 test: build it with -m32"
#endif

#define GUARD 0xaa
#define AUDIT_ARCH_I386_ 0x40000003u

/* struct ptrace_syscall_info of the kernel's uapi, as the kernel writes it */
struct syscall_info {
	uint8_t op;
	uint8_t pad[3];
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t stack_pointer;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
	};
};

/* The i386 struct rusage (32-bit time): what the compat entries write. */
struct rusage32 {
	int32_t utime_sec, utime_usec, stime_sec, stime_usec;
	int32_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock;
	int32_t msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
};

static pid_t tracer, tracee, grandchild;
static volatile uint32_t magic[2] = { 0x11223344, 0x55667788 };
static volatile sig_atomic_t usr1_code, usr1_int, usr1_got;

static const char *name(long pid)
{
	static char buf[4][32];
	static int n;
	char *b = buf[n++ % 4];

	if (pid == tracer)
		return "tracer";
	if (pid == tracee)
		return "tracee";
	if (grandchild && pid == grandchild)
		return "grandchild";
	snprintf(b, sizeof(buf[0]), "%ld", pid);
	return b;
}

static long pt(long req, long pid, unsigned long addr, unsigned long data)
{
	return syscall(SYS_ptrace, req, pid, addr, data);
}

/* A request's result as the transcript shows it. */
static void show(const char *what, long ret)
{
	if (ret < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno) ?: "?");
	else
		printf("%s = %ld\n", what, ret);
}

static bool guard_ok(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != GUARD)
			return false;
	return true;
}

static void show_status(const char *how, long pid, int st)
{
	printf("%s: %s ", how, name(pid));
	if (WIFEXITED(st)) {
		printf("exited %d\n", WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		printf("killed by %d\n", WTERMSIG(st));
	} else if (WIFSTOPPED(st)) {
		printf("stopped %d", WSTOPSIG(st) & 0x7f);
		if (WSTOPSIG(st) & 0x80)
			printf("|0x80");
		if (st >> 16)
			printf(" event %d", st >> 16);
		printf("\n");
	} else {
		printf("status %#x\n", st);
	}
}

/* waitpid through the ia32 waitpid entry (syscall 7). */
static int wait_pid(pid_t pid, int options)
{
	int st = 0;
	long ret = syscall(SYS_waitpid, pid, &st, options);

	if (ret < 0) {
		show("waitpid", ret);
		return -1;
	}
	show_status("waitpid", ret, st);
	return st;
}

static void show_siginfo(const char *what, const siginfo_t *si)
{
	printf("%s: signo %d errno %d code %d pid %s uid %d", what, si->si_signo, si->si_errno,
	       si->si_code, name(si->si_pid), (int)si->si_uid);
	if (si->si_code == SI_QUEUE)
		printf(" int %d", si->si_value.sival_int);
	printf("\n");
}

static void getsiginfo(const char *what, pid_t pid)
{
	struct {
		siginfo_t si;
		unsigned char guard[64];
	} b;
	long ret;

	memset(&b, GUARD, sizeof(b));
	ret = pt(PTRACE_GETSIGINFO, pid, 0, (unsigned long)&b.si);
	show(what, ret);
	if (ret == 0) {
		printf("  siginfo size %zu guard %s\n", sizeof(b.si),
		       guard_ok(b.guard, sizeof(b.guard)) ? "ok" : "CLOBBERED");
		show_siginfo("  ", &b.si);
	}
}

/*
 * GETEVENTMSG: a compat_ulong_t; the following bytes must stay untouched.
 * @is_pid: a pid, which the caller shows by name, else shown as a number.
 */
static unsigned long geteventmsg(const char *what, pid_t pid, bool is_pid)
{
	unsigned char b[16];
	uint32_t msg;
	long ret;

	memset(b, GUARD, sizeof(b));
	ret = pt(PTRACE_GETEVENTMSG, pid, 0, (unsigned long)b);
	show(what, ret);
	memcpy(&msg, b, sizeof(msg));
	printf("  eventmsg guard %s\n", guard_ok(b + 4, sizeof(b) - 4) ? "ok" : "CLOBBERED");
	if (!is_pid)
		printf("  eventmsg %#x\n", msg);
	return msg;
}

static void peek(const char *what, pid_t pid, volatile uint32_t *addr)
{
	unsigned char b[16];
	uint32_t word;
	long ret;

	memset(b, GUARD, sizeof(b));
	ret = pt(PTRACE_PEEKDATA, pid, (unsigned long)addr, (unsigned long)b);
	show(what, ret);
	memcpy(&word, b, sizeof(word));
	printf("  word %#x guard %s\n", word, guard_ok(b + 4, sizeof(b) - 4) ? "ok" : "CLOBBERED");
}

static void regs(pid_t pid, struct user_regs_struct *r)
{
	struct {
		struct user_regs_struct r;
		unsigned char guard[64];
	} b;
	long ret;

	memset(&b, GUARD, sizeof(b));
	ret = pt(PTRACE_GETREGS, pid, 0, (unsigned long)&b.r);
	show("GETREGS", ret);
	printf("  regs size %zu guard %s\n", sizeof(b.r),
	       guard_ok(b.guard, sizeof(b.guard)) ? "ok" : "CLOBBERED");
	*r = b.r;
}

static void syscall_info(pid_t pid)
{
	struct {
		struct syscall_info i;
		unsigned char guard[64];
	} b;
	long ret;

	memset(&b, GUARD, sizeof(b));
	ret = pt(PTRACE_GET_SYSCALL_INFO, pid, sizeof(b.i), (unsigned long)&b.i);
	show("GET_SYSCALL_INFO", ret);
	if (ret < 0)
		return;
	printf("  op %u arch %s guard %s", b.i.op,
	       b.i.arch == AUDIT_ARCH_I386_ ? "i386" : "other",
	       guard_ok(b.guard, sizeof(b.guard)) ? "ok" : "CLOBBERED");
	if (b.i.op == 1)
		printf(" nr %llu", (unsigned long long)b.i.entry.nr);
	else if (b.i.op == 2)
		printf(" rval %s is_error %u", name((long)b.i.exit.rval), b.i.exit.is_error);
	printf("\n");
}

static void tracerpid(const char *scenario, pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long tp = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f) {
		printf("TRACERPID %s unreadable\n", scenario);
		return;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &tp) == 1)
			break;
	fclose(f);
	printf("TRACERPID %s %s\n", scenario, tp == 0 ? "0" : name(tp));
}

/* A struct rusage32 the kernel wrote, with the guard after it. */
struct rusage_buf {
	struct rusage32 ru;
	unsigned char guard[64];
};

static void show_rusage(const struct rusage_buf *b)
{
	const struct rusage32 *r = &b->ru;
	bool usec_ok = r->utime_usec >= 0 && r->utime_usec < 1000000 && r->stime_usec >= 0 &&
		       r->stime_usec < 1000000;

	printf("  rusage size %zu guard %s usec<1e6 %s maxrss>0 %s\n", sizeof(*r),
	       guard_ok(b->guard, sizeof(b->guard)) ? "ok" : "CLOBBERED", usec_ok ? "yes" : "no",
	       r->maxrss > 0 ? "yes" : "no");
}

/* wait4 with a rusage through the ia32 wait4 entry; the status or -1. */
static int wait4_ru(pid_t pid, int options)
{
	struct rusage_buf b;
	int st = 0;
	long ret;

	memset(&b, GUARD, sizeof(b));
	ret = syscall(SYS_wait4, pid, &st, options, &b.ru);
	if (ret < 0) {
		show("wait4", ret);
		return -1;
	}
	show_status("wait4", ret, st);
	show_rusage(&b);
	return st;
}

/* waitid(P_PID) through the ia32 waitid entry, with a rusage if @ru. */
static void waitid_show(const char *what, pid_t pid, int options, bool ru)
{
	struct {
		siginfo_t si;
		unsigned char guard[64];
	} b;
	struct rusage_buf r;
	long ret;

	memset(&b, GUARD, sizeof(b));
	memset(&r, GUARD, sizeof(r));
	ret = syscall(SYS_waitid, P_PID, pid, &b.si, options, ru ? &r.ru : NULL);
	show(what, ret);
	/* Also with nothing to report, or an error: the kernel zeroes the fields. */
	show_siginfo("  waitid", &b.si);
	printf("  waitid status %d guard %s\n", b.si.si_status,
	       guard_ok(b.guard, sizeof(b.guard)) ? "ok" : "CLOBBERED");
	if (ru && ret == 0 && b.si.si_signo)
		show_rusage(&r);
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	usr1_got = 1;
	usr1_code = si->si_code;
	usr1_int = si->si_value.sival_int;
}

/* The traceme tracee: see the file comment; exec-tail exits with the result. */
static void traceme_child(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
	sigset_t set;
	char code[16];
	int flags = 0, st;
	pid_t gc;

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0))
		_exit(100);
	syscall(SYS_tgkill, getpid(), getpid(), SIGUSR2);	/* stays pending: PEEKSIGINFO */
	syscall(SYS_kill, getpid(), SIGSTOP);
	syscall(SYS_getppid);			/* followed through its syscall stops */
	syscall(SYS_kill, getpid(), SIGUSR1);	/* its siginfo is rewritten */
	if (usr1_got && usr1_code == SI_QUEUE && usr1_int == 42)
		flags |= 1;
	if (magic[0] == 0xdeadbeef && magic[1] == 0x55667788)
		flags |= 2;			/* POKEDATA wrote one 32-bit word */
	gc = fork();
	if (gc == 0)
		_exit(3);
	if (gc > 0 && syscall(SYS_wait4, gc, &st, 0, NULL) == gc && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 3)
		flags |= 4;
	snprintf(code, sizeof(code), "%d", 0x10 | flags);
	execl("/proc/self/exe", "ptrace_compat", "exec-tail", code, (char *)NULL);
	_exit(101);
}

static void scenario_traceme(void)
{
	struct user_regs_struct r, rs;
	struct iovec iov;
	struct {
		struct iovec iov;
		unsigned char guard[32];
	} io;
	struct {
		siginfo_t si[4];
		unsigned char guard[64];
	} q;
	struct __ptrace_peeksiginfo_args pa = { .off = 0, .flags = 0, .nr = 4 };
	siginfo_t si;
	unsigned char mask[16];
	int st, in_getppid = 0;
	long ret;

	printf("== traceme\n");
	tracee = fork();
	if (tracee == 0)
		traceme_child();
	st = wait_pid(tracee, __WALL);
	if (st < 0 || !WIFSTOPPED(st))
		return;
	tracerpid("traceme", tracee);
	show("SETOPTIONS", pt(PTRACE_SETOPTIONS, tracee, 0,
			      PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEEXEC |
			      PTRACE_O_TRACEEXIT));
	getsiginfo("GETSIGINFO sigstop", tracee);

	memset(mask, GUARD, sizeof(mask));
	ret = pt(PTRACE_GETSIGMASK, tracee, 8, (unsigned long)mask);
	show("GETSIGMASK", ret);
	printf("  mask %02x%02x%02x%02x%02x%02x%02x%02x guard %s\n", mask[7], mask[6], mask[5],
	       mask[4], mask[3], mask[2], mask[1], mask[0],
	       guard_ok(mask + 8, sizeof(mask) - 8) ? "ok" : "CLOBBERED");

	memset(&q, GUARD, sizeof(q));
	ret = pt(PTRACE_PEEKSIGINFO, tracee, (unsigned long)&pa, (unsigned long)q.si);
	show("PEEKSIGINFO", ret);
	for (long i = 0; i < ret && i < 4; i++)
		show_siginfo("  pending", &q.si[i]);
	if (ret >= 0) {
		bool next_ok = guard_ok(&q.si[ret > 3 ? 3 : ret], sizeof(siginfo_t));

		printf("  next entry %s guard %s\n", next_ok ? "untouched" : "WRITTEN",
		       guard_ok(q.guard, sizeof(q.guard)) ? "ok" : "CLOBBERED");
	}

	peek("PEEKDATA magic[0]", tracee, &magic[0]);
	ret = pt(PTRACE_POKEDATA, tracee, (unsigned long)&magic[0], 0xdeadbeef);
	show("POKEDATA magic[0]", ret);
	peek("PEEKDATA magic[0]", tracee, &magic[0]);
	peek("PEEKDATA magic[1]", tracee, &magic[1]);

	regs(tracee, &r);
	memset(&io, GUARD, sizeof(io));
	memset(&rs, 0, sizeof(rs));
	io.iov.iov_base = &rs;
	io.iov.iov_len = sizeof(rs) + 16;	/* more than the regset: trimmed */
	ret = pt(PTRACE_GETREGSET, tracee, NT_PRSTATUS, (unsigned long)&io.iov);
	show("GETREGSET NT_PRSTATUS", ret);
	printf("  iov_len %zu (user_regs_struct %zu) base %s guard %s same-as-GETREGS %s\n",
	       io.iov.iov_len, sizeof(rs), io.iov.iov_base == &rs ? "kept" : "CHANGED",
	       guard_ok(io.guard, sizeof(io.guard)) ? "ok" : "CLOBBERED",
	       memcmp(&r, &rs, sizeof(r)) ? "no" : "yes");
	iov.iov_base = &rs;
	iov.iov_len = 3;	/* not a multiple of the register size */
	ret = pt(PTRACE_GETREGSET, tracee, NT_PRSTATUS, (unsigned long)&iov);
	show("GETREGSET bad length", ret);

	/* getppid(): its entry and exit stops. */
	show("SYSCALL", pt(PTRACE_SYSCALL, tracee, 0, 0));
	for (int n = 0; n < 8; n++) {
		st = wait_pid(tracee, __WALL);
		if (st < 0 || !WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80))
			return;
		regs(tracee, &r);
		printf("  orig_eax %ld eax %s\n", r.orig_eax,
		       r.eax == -ENOSYS ? "-ENOSYS" : name(r.eax));
		syscall_info(tracee);
		geteventmsg("GETEVENTMSG syscall stop", tracee, false);
		if (r.orig_eax == SYS_getppid) {
			if (in_getppid++) {
				getsiginfo("GETSIGINFO syscall exit", tracee);
				break;
			}
		}
		show("SYSCALL", pt(PTRACE_SYSCALL, tracee, 0, 0));
	}
	show("CONT", pt(PTRACE_CONT, tracee, 0, 0));

	/* SIGUSR1 (a stop reported with a rusage): rewrite its siginfo, deliver it. */
	st = wait4_ru(tracee, __WALL);
	if (st < 0 || !WIFSTOPPED(st))
		return;
	getsiginfo("GETSIGINFO sigusr1", tracee);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = tracer;
	si.si_uid = 0;
	si.si_value.sival_int = 42;
	show("SETSIGINFO", pt(PTRACE_SETSIGINFO, tracee, 0, (unsigned long)&si));
	getsiginfo("GETSIGINFO after SETSIGINFO", tracee);
	show("CONT SIGUSR1", pt(PTRACE_CONT, tracee, 0, SIGUSR1));

	/* fork: the event, its message, the auto-attached grandchild. */
	st = wait_pid(tracee, __WALL);
	if (st < 0 || st >> 16 != PTRACE_EVENT_FORK)
		return;
	grandchild = geteventmsg("GETEVENTMSG fork", tracee, true);
	printf("  eventmsg is grandchild's pid: %s\n", name(grandchild));
	waitid_show("waitid grandchild", grandchild, WSTOPPED | __WALL, true);
	show("DETACH grandchild", pt(PTRACE_DETACH, grandchild, 0, 0));
	show("CONT", pt(PTRACE_CONT, tracee, 0, 0));

	/* The grandchild's SIGCHLD (delivered: ignored), exec, exit. */
	st = wait_pid(tracee, __WALL);
	if (st < 0 || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGCHLD)
		return;
	getsiginfo("GETSIGINFO sigchld", tracee);
	show("CONT SIGCHLD", pt(PTRACE_CONT, tracee, 0, SIGCHLD));
	st = wait_pid(tracee, __WALL);
	if (st < 0 || st >> 16 != PTRACE_EVENT_EXEC)
		return;
	printf("  eventmsg (former tid): %s\n",
	       name(geteventmsg("GETEVENTMSG exec", tracee, true)));
	show("CONT", pt(PTRACE_CONT, tracee, 0, 0));
	st = wait_pid(tracee, __WALL);
	if (st < 0 || st >> 16 != PTRACE_EVENT_EXIT)
		return;
	geteventmsg("GETEVENTMSG exit", tracee, false);
	show("CONT", pt(PTRACE_CONT, tracee, 0, 0));

	st = wait4_ru(tracee, __WALL);
	if (st >= 0 && WIFEXITED(st))
		printf("  tracee's checks: SETSIGINFO delivered %s, POKEDATA 32-bit %s, %s %s\n",
		       WEXITSTATUS(st) & 1 ? "yes" : "no", WEXITSTATUS(st) & 2 ? "yes" : "no",
		       "grandchild reaped", WEXITSTATUS(st) & 4 ? "yes" : "no");
	grandchild = 0;
}

/* A child that waits for signals until one kills it. */
static pid_t fork_pauser(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void scenario_attach(void)
{
	printf("== attach\n");
	tracee = fork_pauser();
	waitid_show("waitid WNOHANG, nothing to report", tracee, WEXITED | WNOHANG, true);
	show("ATTACH", pt(PTRACE_ATTACH, tracee, 0, 0));
	waitid_show("waitid stop", tracee, WSTOPPED, false);
	tracerpid("attach", tracee);
	getsiginfo("GETSIGINFO attach stop", tracee);
	show("DETACH SIGTERM", pt(PTRACE_DETACH, tracee, 0, SIGTERM));
	waitid_show("waitid exit", tracee, WEXITED, true);
	waitid_show("waitid reaped", tracee, WEXITED | WNOHANG, true);
}

static void scenario_seize(void)
{
	printf("== seize\n");
	tracee = fork_pauser();
	show("SEIZE", pt(PTRACE_SEIZE, tracee, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT));
	show("SEIZE bad flags", pt(PTRACE_SEIZE, tracee, 0, 0x80000000u));
	tracerpid("seize", tracee);
	show("INTERRUPT", pt(PTRACE_INTERRUPT, tracee, 0, 0));
	wait_pid(tracee, __WALL);
	getsiginfo("GETSIGINFO event stop", tracee);
	show("KILL", pt(PTRACE_KILL, tracee, 0, 0));
	if (wait_pid(tracee, __WALL) >> 16 == PTRACE_EVENT_EXIT) {
		geteventmsg("GETEVENTMSG exit", tracee, false);
		show("CONT", pt(PTRACE_CONT, tracee, 0, 0));
		wait_pid(tracee, __WALL);
	}
	show("waitpid none left", syscall(SYS_waitpid, -1, NULL, __WALL | WNOHANG));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exec-tail"))
		return atoi(argv[2]);
	setvbuf(stdout, NULL, _IONBF, 0);
	tracer = getpid();
	scenario_traceme();
	scenario_attach();
	scenario_seize();
	printf("== done\n");
	return 0;
}
