// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: an engine written against <linux/utrace.h> from another
 * module, as SystemTap once was.  Loaded with pid=N (a thread blocked in a
 * read, see tests/guest/api_test.cpp), its init checks the API's contract
 * on that thread: attach flags and their errors, set_events, control and
 * its return codes, stop, examine, barrier, detach, and what a detached
 * engine gets; then report_signal with a changed return_ka; with spin=N,
 * the detach and event-removal races on a thread in a system call loop.  Init fails
 * with -EINVAL after logging each broken check.  Never shipped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/jobctl.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/utrace.h>

static int pid;
module_param(pid, int, 0444);
MODULE_PARM_DESC(pid, "thread to run the checks on (blocked in a read)");

static int spin;
module_param(spin, int, 0444);
MODULE_PARM_DESC(spin, "thread in a system call loop for the detach races (0: none)");

static int failures;
static atomic_t quiesce_reports;
static bool keep_stopped;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		pr_err("check failed at line %d: %s\n", __LINE__, #cond); \
		failures++;						\
	}								\
} while (0)

static u32 api_quiesce(u32 action, struct utrace_engine *engine, unsigned long event)
{
	atomic_inc(&quiesce_reports);
	return READ_ONCE(keep_stopped) ? UTRACE_STOP : UTRACE_RESUME;
}

static const struct utrace_engine_ops api_ops = {
	.report_quiesce = api_quiesce,
};

static const struct utrace_engine_ops other_ops = {
	.report_quiesce = api_quiesce,
};

static atomic_t signal_reports;
static int signal_seen;
static u32 signal_disposition;
static bool orig_ka_default;

/* Delivers the signal with a changed sigaction: as if the thread ignored it. */
static u32 api_signal(u32 action, struct utrace_engine *engine, struct pt_regs *regs,
		      kernel_siginfo_t *info, const struct k_sigaction *orig_ka,
		      struct k_sigaction *return_ka)
{
	WRITE_ONCE(signal_seen, info->si_signo);
	WRITE_ONCE(signal_disposition, utrace_signal_action(action));
	WRITE_ONCE(orig_ka_default, orig_ka && orig_ka->sa.sa_handler == SIG_DFL);
	return_ka->sa.sa_handler = SIG_IGN;
	atomic_inc(&signal_reports);
	return UTRACE_SIGNAL_DELIVER | UTRACE_RESUME;
}

static const struct utrace_engine_ops signal_ops = {
	.report_signal = api_signal,
};

/* Polls utrace_control(STOP) until it says the thread is stopped. */
static bool wait_stopped(struct task_struct *task, struct utrace_engine *engine)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (utrace_control(task, engine, UTRACE_STOP) == 0)
			return true;
		msleep(20);
	}
	return false;
}

static void run_checks(struct task_struct *task)
{
	struct utrace_engine *e, *e2, *kt_engine;
	struct utrace_examiner exam;
	struct task_struct *kthread;
	unsigned long ip;
	int ret;

	/* Lookup without CREATE finds nothing yet. */
	e = utrace_attach_task(task, UTRACE_ATTACH_MATCH_OPS, &api_ops, NULL);
	CHECK(PTR_ERR(e) == -ENOENT);

	e = utrace_attach_task(task, UTRACE_ATTACH_CREATE | UTRACE_ATTACH_EXCLUSIVE |
			       UTRACE_ATTACH_MATCH_OPS, &api_ops, &pid);
	CHECK(!IS_ERR(e));
	if (IS_ERR(e))
		return;

	e2 = utrace_attach_task(task, UTRACE_ATTACH_CREATE | UTRACE_ATTACH_EXCLUSIVE |
				UTRACE_ATTACH_MATCH_OPS, &api_ops, NULL);
	CHECK(PTR_ERR(e2) == -EEXIST);
	e2 = utrace_attach_task(task, UTRACE_ATTACH_MATCH_OPS, &api_ops, NULL);
	CHECK(e2 == e);
	if (!IS_ERR(e2))
		utrace_engine_put(e2);
	e2 = utrace_attach_task(task, UTRACE_ATTACH_MATCH_OPS | UTRACE_ATTACH_MATCH_DATA,
				&api_ops, &failures);
	CHECK(PTR_ERR(e2) == -ENOENT);
	/* Other ops: EXCLUSIVE|MATCH_OPS does not see ours. */
	e2 = utrace_attach_task(task, UTRACE_ATTACH_CREATE | UTRACE_ATTACH_EXCLUSIVE |
				UTRACE_ATTACH_MATCH_OPS, &other_ops, NULL);
	CHECK(!IS_ERR(e2));
	if (!IS_ERR(e2)) {
		CHECK(utrace_control(task, e2, UTRACE_DETACH) == 0);
		utrace_engine_put(e2);
	}

	kthread = get_pid_task(find_vpid(2), PIDTYPE_PID);
	if (kthread) {
		kt_engine = utrace_attach_task(kthread, UTRACE_ATTACH_CREATE, &api_ops, NULL);
		CHECK(PTR_ERR(kt_engine) == -EPERM);
		put_task_struct(kthread);
	}

	CHECK(utrace_set_events(task, e, 1UL << 20) == -EINVAL);
	CHECK(utrace_set_events(task, e, UTRACE_EVENT(QUIESCE)) == 0);
	CHECK(utrace_control(task, e, UTRACE_RESUME_MAX) == -EINVAL);

	/* Not stopped: examine is refused. */
	CHECK(utrace_prepare_examine(task, e, &exam) == -EINVAL);

	/* STOP of a thread blocked in a read: in progress until it reports. */
	WRITE_ONCE(keep_stopped, true);
	CHECK(utrace_control(task, e, UTRACE_STOP) == -EINPROGRESS);
	CHECK(utrace_control(task, e, UTRACE_INTERRUPT) == 0);
	CHECK(wait_stopped(task, e));
	CHECK(atomic_read(&quiesce_reports) >= 1);
	CHECK(task_is_traced(task) == false);	/* not a ptrace stop */
	CHECK(READ_ONCE(task->__state) == TASK_TRACED);

	/* Stopped: examine works and the registers are stable. */
	ret = utrace_prepare_examine(task, e, &exam);
	CHECK(ret == 0);
	ip = instruction_pointer(task_pt_regs(task));
	CHECK(ip != 0);
	CHECK(utrace_finish_examine(task, e, &exam) == 0);
	CHECK(utrace_barrier(task, e) == 0);

	/* Resume; then a running thread is not examinable again. */
	WRITE_ONCE(keep_stopped, false);
	CHECK(utrace_control(task, e, UTRACE_RESUME) == 0);
	msleep(100);
	CHECK(utrace_prepare_examine(task, e, &exam) == -EINVAL);

	/* Detach, then the engine is gone for every call. */
	CHECK(utrace_control(task, e, UTRACE_DETACH) == 0);
	CHECK(utrace_set_events(task, e, UTRACE_EVENT(QUIESCE)) == -ESRCH);
	CHECK(utrace_control(task, e, UTRACE_RESUME) == -ESRCH);
	CHECK(utrace_barrier(task, e) == -ESRCH);
	CHECK(utrace_prepare_examine(task, e, &exam) == -ESRCH);
	utrace_engine_put(e);

	e = utrace_attach_task(task, UTRACE_ATTACH_MATCH_OPS, &api_ops, NULL);
	CHECK(PTR_ERR(e) == -ENOENT);
}

/*
 * report_signal from a kernel engine: the default-fatal SIGUSR1 is reported
 * as SIGNAL_TERM with the thread's sigaction, and a changed return_ka
 * decides how it is delivered (ignored: the thread lives on).
 */
static void run_signal_checks(struct task_struct *task)
{
	struct utrace_engine *e;
	int i;

	e = utrace_attach_task(task, UTRACE_ATTACH_CREATE, &signal_ops, NULL);
	CHECK(!IS_ERR(e));
	if (IS_ERR(e))
		return;
	CHECK(utrace_set_events(task, e, UTRACE_EVENT(SIGNAL_TERM)) == 0);
	CHECK(send_sig(SIGUSR1, task, 0) == 0);
	for (i = 0; i < 250 && !atomic_read(&signal_reports); i++)
		msleep(20);
	CHECK(atomic_read(&signal_reports) == 1);
	CHECK(READ_ONCE(signal_seen) == SIGUSR1);
	CHECK(READ_ONCE(signal_disposition) == UTRACE_SIGNAL_TERM);
	CHECK(READ_ONCE(orig_ka_default));
	msleep(50);
	CHECK(!(task->flags & PF_EXITING));
	CHECK(utrace_control(task, e, UTRACE_DETACH) == 0);
	utrace_engine_put(e);
}

/*
 * The detach and event-removal races, on a thread making system calls: a
 * callback runs lock-free, so what utrace_control(DETACH) or
 * utrace_set_events() return must still be true.  0 means no callback of
 * the engine runs, and none starts, once it returned; -EINPROGRESS means
 * utrace_barrier() waits for the one running.  Each round's engine counts
 * its callbacks; after the detach (or removal) and barrier, the round is
 * closed, and a callback that runs after that is a failure, as is one
 * still running.
 */
#define RACE_ROUNDS 400

struct race_round {
	atomic_t calls;
	atomic_t running;
	bool closed;
	unsigned int closing_calls;	/* @calls when the round closed */
};

static struct race_round race_rounds[RACE_ROUNDS];
static atomic_t race_late;

static u32 race_syscall(struct utrace_engine *engine)
{
	struct race_round *r = engine->data;

	atomic_inc(&r->running);
	atomic_inc(&r->calls);
	if (READ_ONCE(r->closed))
		atomic_inc(&race_late);
	atomic_dec(&r->running);
	return UTRACE_RESUME;
}

static u32 race_entry(u32 action, struct utrace_engine *engine, struct pt_regs *regs)
{
	return race_syscall(engine);
}

static u32 race_exit(u32 action, struct utrace_engine *engine, struct pt_regs *regs)
{
	return race_syscall(engine);
}

static const struct utrace_engine_ops race_ops = {
	.report_syscall_entry = race_entry,
	.report_syscall_exit = race_exit,
};

static void run_race_checks(struct task_struct *task)
{
	int i, n, ret, seen = 0, inprogress = 0;
	struct utrace_engine *e;
	struct race_round *r;

	for (i = 0; i < RACE_ROUNDS; i++) {
		r = &race_rounds[i];
		e = utrace_attach_task(task, UTRACE_ATTACH_CREATE, &race_ops, r);
		CHECK(!IS_ERR(e));
		if (IS_ERR(e))
			return;
		CHECK(utrace_set_events(task, e, UTRACE_EVENT_SYSCALL) == 0);
		/* Let it report a few times, or not at all: both race. */
		for (n = 0; n < (i & 7) * 20 && atomic_read(&r->calls) < (i & 7); n++)
			usleep_range(50, 100);
		if (i & 1) {
			ret = utrace_control(task, e, UTRACE_DETACH);
			CHECK(ret == 0 || ret == -EINPROGRESS);
			if (ret == -EINPROGRESS) {
				inprogress++;
				CHECK(utrace_barrier(task, e) == -ESRCH);
			}
		} else {
			ret = utrace_set_events(task, e, 0);
			CHECK(ret == 0 || ret == -EINPROGRESS);
			if (ret == -EINPROGRESS) {
				inprogress++;
				CHECK(utrace_barrier(task, e) == 0);
			}
		}
		CHECK(atomic_read(&r->running) == 0);
		WRITE_ONCE(r->closed, true);
		smp_mb();	/* closed before the count: a later callback sees it */
		r->closing_calls = atomic_read(&r->calls);
		seen += r->closing_calls != 0;
		if (!(i & 1)) {
			/*
			 * The task may still publish the engine for a moment
			 * before it sees no event is left (start_callback(),
			 * as upstream's): -EINPROGRESS, with no callback.
			 */
			ret = utrace_control(task, e, UTRACE_DETACH);
			CHECK(ret == 0 || ret == -EINPROGRESS);
			if (ret == -EINPROGRESS)
				CHECK(utrace_barrier(task, e) == -ESRCH);
		}
		utrace_engine_put(e);
	}
	msleep(20);
	for (i = 0; i < RACE_ROUNDS; i++)
		CHECK(atomic_read(&race_rounds[i].calls) == race_rounds[i].closing_calls);
	CHECK(atomic_read(&race_late) == 0);
	/* The thread did report: the rounds raced something. */
	CHECK(seen > RACE_ROUNDS / 2);
	pr_info("detach races: %d rounds, %d reported, %d in progress\n", RACE_ROUNDS, seen,
		inprogress);
}

static int __init utrace_test_api_init(void)
{
	struct task_struct *task = get_pid_task(find_vpid(pid), PIDTYPE_PID);

	if (!task) {
		pr_err("no thread %d\n", pid);
		return -ESRCH;
	}
	run_checks(task);
	run_signal_checks(task);
	put_task_struct(task);
	if (spin) {
		task = get_pid_task(find_vpid(spin), PIDTYPE_PID);
		if (!task) {
			pr_err("no thread %d\n", spin);
			return -ESRCH;
		}
		run_race_checks(task);
		put_task_struct(task);
	}
	if (failures) {
		pr_err("%d checks failed\n", failures);
		return -EINVAL;
	}
	pr_info("all checks passed on thread %d\n", pid);
	return 0;
}

static void __exit utrace_test_api_exit(void)
{
}

module_init(utrace_test_api_init);
module_exit(utrace_test_api_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("utrace test: the in-kernel engine API from another module");
