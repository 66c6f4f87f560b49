// SPDX-License-Identifier: GPL-2.0
/*
 * A small deterministic workload for real tracers (strace -f, gdb), run by
 * tests/guest/ptrace-real-tracers.sh under the native ptrace and under the
 * utrace backend, whose outputs must then be the same.
 *
 * It forks a child that takes a signal with a handler and execs this program
 * again ("child": exits 7), vforks a child that execs /bin/true, takes a
 * signal with a handler itself and waits for both.  SIGCHLD is blocked until
 * both are reaped, so the one SIGCHLD it then takes arrives at a fixed point
 * (unblocking), not wherever the children happen to exit.
 *
 * getppid()'s result is printed only as "ppid=42?", so that strace's
 * -e inject=getppid:retval=42 shows in the output.  "reader" mode: read one
 * byte from stdin, then exit with it; ptrace-real-tracers.py attaches to it
 * (strace -p) while it is blocked in that read.  "threads" mode: a thread
 * calls square(7), main joins it and exits with the result (50; not printed:
 * the thread's exit, which gdb reports as it comes, would race with it).
 * The thread calls square() only once main sleeps in its join (state S in
 * /proc), so a tracer stopping both there finds main at a fixed place: inside
 * the join's futex wait, not on its way to it.
 *
 * Built with -g -O0: gdb breaks in square(), steps and prints its locals.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	got = sig;
}

static int square(int x)
{
	int y = x * x;

	return y + 1;
}

/* Whether the main thread (tid == pid) is sleeping: its /proc state is S. */
static int main_sleeps(void)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)getpid());
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 1;	/* no /proc: do not wait forever */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return !p || p[1] != ' ' || p[2] == 'S';
}

static void *thread_body(void *arg)
{
	while (!main_sleeps())
		usleep(1000);
	return (void *)(long)square((int)(long)arg);
}

static int threads(void)
{
	pthread_t th;
	void *r = NULL;

	if (pthread_create(&th, NULL, thread_body, (void *)7L) || pthread_join(th, &r))
		return 1;
	return (int)(long)r;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t chld, old;
	int st1 = -1, st2 = -1;
	int value;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "child"))
		return 7;
	if (argc > 1 && !strcmp(argv[1], "threads"))
		return threads();
	if (argc > 1 && !strcmp(argv[1], "reader")) {
		char c = 0;

		if (read(0, &c, 1) != 1)
			return 1;
		printf("read %c, ppid=42? %d\n", c, getppid() == 42);
		return c;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);

	value = square(6);
	if (getppid() == 42)
		value = -value;

	pid = fork();
	if (pid == 0) {
		raise(SIGUSR1);
		execl(argv[0], argv[0], "child", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st1, 0) != pid)
		return 1;

	pid = vfork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st2, 0) != pid)
		return 1;

	raise(SIGUSR1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("value=%d got=%d child=%d true=%d\n", value, got, WEXITSTATUS(st1),
	       WEXITSTATUS(st2));
	return 0;
}
