// SPDX-License-Identifier: GPL-2.0
/*
 * Where each utrace event comes from on 6.1 (arch syscall hooks are in
 * arch_x86.c and arch_powerpc.c):
 *
 *  CLONE	wake_up_new_task(), ftrace-redirected: runs in the parent,
 *		sleepable, after copy_process() and before the child first
 *		runs; a stop takes effect once the child is woken (for
 *		vfork, before the parent's vfork wait).  The clone's flags
 *		(CLONE_PTRACE, CLONE_UNTRACED, the exit signal asked for) are
 *		noted at kernel_clone()'s entry by a probe hook (fhook.c): a
 *		wrapper would keep a vfork parent inside this module for its
 *		whole wait.
 *  EXEC	proc_exec_connector(), ftrace-redirected: exec_binprm() calls
 *		it right after ptrace_event(PTRACE_EVENT_EXEC), in the task,
 *		sleepable, before the system call returns; a stop takes
 *		effect there, as native ptrace's exec event stop.  The
 *		tracepoint sched_process_exec (atomic, just before) restores
 *		the syscall slow path begin_new_exec() cleared.
 *  EXIT	do_exit(), ftrace-redirected: sleepable, before exit_mm().
 *  DEATH	tracepoint sched_process_exit (atomic, in the task, after
 *		exit_mm() and before exit_notify()).
 *  REAP	cgroup_release(), kprobe (atomic, in the reaper), which
 *		release_task() calls once for each task it releases: a kprobe
 *		on release_task() itself would miss a zombie leader released
 *		by its last thread's release_task() ("goto repeat").  The
 *		entry is unhashed and the REAP reports run from a workqueue.
 *  QUIESCE	task work (utrace.c) at the resume point.
 *  SIGNAL*, JCTL  get_signal(), ftrace-redirected for tasks whose engines
 *		want them (signal.c).
 *
 * Hooks that every task passes (fork, exit) return at once when no task is
 * traced, and look up the side table otherwise; exec is not redirected at
 * all then (its ftrace filter).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/tracepoint.h>
/* after linux/sched.h: cn_proc.h does not declare struct task_struct */
#include <linux/cn_proc.h>

#include "utrace_internal.h"

UTRACE_DECLARE_REPLACEMENT(utrace_wake_up_new_task);
UTRACE_DECLARE_REPLACEMENT(utrace_do_exit);
UTRACE_DECLARE_REPLACEMENT(utrace_proc_exec_connector);

/* The originals; do_exit() without __noreturn: objtool cannot see it through a call. */
typedef void utrace_do_exit_t(long code);
UTRACE_KCALL_DEFINE(orig_wake_up_new_task, wake_up_new_task);
UTRACE_KCALL_DEFINE(orig_do_exit, utrace_do_exit_t);
UTRACE_KCALL_DEFINE(orig_proc_exec_connector, proc_exec_connector);

static struct utrace_fhook utrace_hook_clone = {
	.name = "wake_up_new_task",
	.replacement = UTRACE_REPLACEMENT(utrace_wake_up_new_task),
	.filter = utrace_active,
	.lazy = true,
	UTRACE_FHOOK_ORIG(orig_wake_up_new_task),
};

static struct utrace_fhook utrace_hook_exit = {
	.name = "do_exit", .replacement = UTRACE_REPLACEMENT(utrace_do_exit),
	UTRACE_FHOOK_ORIG(orig_do_exit),
};

/* Untraced systems keep the kernel's own exec path: redirect only then. */
static struct utrace_fhook utrace_hook_exec = {
	.name = "proc_exec_connector",
	.replacement = UTRACE_REPLACEMENT(utrace_proc_exec_connector),
	.filter = utrace_active,
	.lazy = true,
	UTRACE_FHOOK_ORIG(orig_proc_exec_connector),
};

UTRACE_CHECK_REPLACEMENT(wake_up_new_task, utrace_wake_up_new_task);
UTRACE_CHECK_REPLACEMENT(do_exit, utrace_do_exit);
UTRACE_CHECK_REPLACEMENT(proc_exec_connector, utrace_proc_exec_connector);

void utrace_wake_up_new_task(struct task_struct *p)
{
	utrace_inflight_get();
	utrace_report_clone(p);
	utrace_kcall(orig_wake_up_new_task)(p);
	utrace_finish_clone();
	utrace_inflight_put();
}

void __noreturn utrace_do_exit(long code)
{
	/* A tracer's tracees may all be reaped (utrace idle) yet still linked. */
	if (utrace_active() || utrace_ptrace_active()) {
		struct utrace *utrace = utrace_lookup(current);

		utrace_inflight_get();
		/* Dying inside a replacement: what it borrowed goes first. */
		if (utrace) {
			utrace_ptrace_task_exit(utrace);
			utrace_frames_drop(utrace);
		}
		utrace_report_exit(&code);
		utrace_ptrace_exit_tracer();
		utrace_signal_task_exit();
		/* do_exit() never returns here: count us out first. */
		utrace_inflight_put();
	}
	utrace_kcall(orig_do_exit)(code);
	/*
	 * do_exit() does not return.  Not unreachable(): from 6.12 on objtool
	 * no longer takes that as the end of the function and finds it falling
	 * through into the next one; a trap instruction ends it on both.
	 */
	__builtin_trap();
}

void utrace_proc_exec_connector(struct task_struct *task)
{
	utrace_inflight_get();
	utrace_report_exec();
	utrace_inflight_put();
	utrace_kcall(orig_proc_exec_connector)(task);
}

static void utrace_tp_exec(void *data, struct task_struct *p, pid_t old_pid,
			   struct linux_binprm *bprm)
{
	utrace_report_exec_event();
}

static void utrace_tp_exit(void *data, struct task_struct *p)
{
	utrace_ptrace_parent_exit(p);
	utrace_report_death(p);
}

struct utrace_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

static struct utrace_tp utrace_tps[] = {
	{ .name = "sched_process_exec", .probe = utrace_tp_exec },
	{ .name = "sched_process_exit", .probe = utrace_tp_exit },
};

static void utrace_find_tp(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(utrace_tps); i++)
		if (!strcmp(tp->name, utrace_tps[i].name))
			utrace_tps[i].tp = tp;
}

static int utrace_release_pre(struct kprobe *kp, struct pt_regs *regs)
{
	utrace_release_task((struct task_struct *)utrace_arch_arg0(regs));
	return 0;
}

static struct kprobe utrace_kp_release = {
	.symbol_name = "cgroup_release",
	.pre_handler = utrace_release_pre,
};

/* kernel_clone(struct kernel_clone_args *): atomic, in the task that clones. */
static void utrace_clone_probe(unsigned long arg0)
{
	const struct kernel_clone_args *args = (const struct kernel_clone_args *)arg0;

	if (!utrace_active())
		return;
	utrace_note_clone(args->flags, args->exit_signal);
}

static struct utrace_fhook utrace_probe_clone = {
	.name = "kernel_clone",
	.probe = utrace_clone_probe,
	.lazy = true,
};

static struct utrace_fhook *utrace_fhooks[] = {
	&utrace_probe_clone,
	&utrace_hook_clone,
	&utrace_hook_exit,
	&utrace_hook_exec,
};

/* The hook @i of utrace_fhooks[] then utrace_arch_hooks[]. */
static struct utrace_fhook *utrace_fhook_nr(unsigned int i)
{
	const unsigned int ncommon = ARRAY_SIZE(utrace_fhooks);

	return i < ncommon ? utrace_fhooks[i] : &utrace_arch_hooks[i - ncommon];
}

static unsigned int utrace_fhooks_nr(void)
{
	return ARRAY_SIZE(utrace_fhooks) + utrace_arch_nhooks;
}

/*
 * Lazy hooks (utrace_fhook.lazy) are enabled while some task has a utrace,
 * and a while after the last one went (UTRACE_LAZY_LINGER): the fork, exec
 * and signal paths every task takes, and on powerpc the syscall slow path,
 * which every task with seccomp or audit takes.  Their filters turn away
 * every task without a utrace, so only the trampoline's cost goes.  An
 * attach counts its task in utrace_tasks, then enables them if they are
 * off, before any engine can ask for events; turning them off marks them
 * off, then looks at utrace_tasks again, with a full barrier on each side:
 * either the attach sees them off and waits for the mutex to enable them
 * again, or the work sees its task and leaves them on.  They go together,
 * the entry probes (kernel_clone(), signal_setup_done()) with the others:
 * each code update walks every ftrace record of the kernel, and the first
 * attach after a pause pays for it (one update, not one per probe).
 */
#define UTRACE_LAZY_LINGER	HZ
#define UTRACE_LAZY_MAX		12

static DEFINE_MUTEX(utrace_lazy_mutex);
static bool utrace_lazy_on;	/* written under the mutex */
static bool utrace_lazy_gone;	/* unloading: the mutex */
static struct utrace_fhook *utrace_lazy_fhooks[UTRACE_LAZY_MAX];	/* at init */
static unsigned int utrace_lazy_nfhooks;
static void utrace_lazy_off(struct work_struct *work);
static DECLARE_DELAYED_WORK(utrace_lazy_work, utrace_lazy_off);

/*
 * At init: find @hook's function (a missing one fails the load, lazy or
 * not), then enable it, or, lazy, leave that to utrace_lazy_hooks_get().
 * Undone by utrace_fhook_remove().
 */
int utrace_hook_setup(struct utrace_fhook *hook)
{
	int ret = utrace_fhook_resolve(hook);

	if (ret)
		return ret;
	if (!hook->lazy)
		return utrace_fhook_enable(hook);
	if (WARN_ON_ONCE(utrace_lazy_nfhooks == UTRACE_LAZY_MAX))
		return -ENOSPC;
	utrace_lazy_fhooks[utrace_lazy_nfhooks++] = hook;
	return 0;
}

/* An attach whose task is counted in utrace_tasks; sleepable. */
int utrace_lazy_hooks_get(void)
{
	int ret = 0;

	BUILD_BUG_ON(UTRACE_LAZY_MAX > UTRACE_FHOOK_BATCH);
	smp_mb();	/* counted before we look: pairs with utrace_lazy_off() */
	if (READ_ONCE(utrace_lazy_on))
		return 0;
	mutex_lock(&utrace_lazy_mutex);
	if (utrace_lazy_on || utrace_lazy_gone)
		goto out;
	/* together: one code update */
	ret = utrace_fhooks_enable(utrace_lazy_fhooks, utrace_lazy_nfhooks);
	if (ret) {
		utrace_fhooks_remove(utrace_lazy_fhooks, utrace_lazy_nfhooks);
		goto out;
	}
	WRITE_ONCE(utrace_lazy_on, true);
out:
	mutex_unlock(&utrace_lazy_mutex);
	return ret;
}

/*
 * The last task left the table: any context.  Not once unloading began: the
 * hooks go with the others (utrace_hooks_exit()), and utrace_core_exit()
 * empties the table afterwards.  utrace_lazy_hooks_flush() cancels what a
 * racing caller queued anyway.
 */
void utrace_lazy_hooks_idle(void)
{
	if (!READ_ONCE(utrace_lazy_gone))
		queue_delayed_work(system_wq, &utrace_lazy_work, UTRACE_LAZY_LINGER);
}

/* Unload, after utrace_core_exit(): no task is left in the table to go. */
void utrace_lazy_hooks_flush(void)
{
	cancel_delayed_work_sync(&utrace_lazy_work);
}

static void utrace_lazy_off(struct work_struct *work)
{
	mutex_lock(&utrace_lazy_mutex);
	if (!utrace_lazy_on || utrace_lazy_gone || utrace_active())
		goto out;
	WRITE_ONCE(utrace_lazy_on, false);
	smp_mb();	/* off before we look: pairs with utrace_lazy_hooks_get() */
	if (utrace_active()) {
		WRITE_ONCE(utrace_lazy_on, true);
		goto out;
	}
	/* A replacement or probe still running finishes as it would have. */
	utrace_fhooks_remove(utrace_lazy_fhooks, utrace_lazy_nfhooks);
out:
	mutex_unlock(&utrace_lazy_mutex);
}

static void utrace_hooks_unwind(unsigned int nfhooks, unsigned int ntps)
{
	while (ntps--)
		tracepoint_probe_unregister(utrace_tps[ntps].tp, utrace_tps[ntps].probe, NULL);
	while (nfhooks--)
		utrace_fhook_remove(utrace_fhook_nr(nfhooks));
	tracepoint_synchronize_unregister();
}

int utrace_hooks_init(void)
{
	unsigned int nf = 0, nt = 0, i;
	int ret;

	for_each_kernel_tracepoint(utrace_find_tp, NULL);
	for (i = 0; i < ARRAY_SIZE(utrace_tps); i++) {
		if (!utrace_tps[i].tp) {
			pr_err("tracepoint %s not found\n", utrace_tps[i].name);
			return -ENOENT;
		}
	}

	/* REAP first: no entry may outlive its task. */
	ret = register_kprobe(&utrace_kp_release);
	if (ret) {
		pr_err("cannot probe cgroup_release: %d\n", ret);
		return ret;
	}
	for (; nt < ARRAY_SIZE(utrace_tps); nt++) {
		ret = tracepoint_probe_register(utrace_tps[nt].tp, utrace_tps[nt].probe, NULL);
		if (ret)
			goto fail;
	}
	for (; nf < utrace_fhooks_nr(); nf++) {
		ret = utrace_hook_setup(utrace_fhook_nr(nf));
		if (ret)
			goto fail;
	}
	ret = utrace_signal_init();
	if (ret)
		goto fail;
	return 0;

fail:
	utrace_hooks_unwind(nf, nt);
	unregister_kprobe(&utrace_kp_release);
	return ret;
}

/*
 * After this, no hook starts a new report.  A task released from now on
 * stays in the table (which holds a reference on it) until
 * utrace_core_exit() empties it.
 */
void utrace_hooks_exit(void)
{
	mutex_lock(&utrace_lazy_mutex);
	WRITE_ONCE(utrace_lazy_gone, true);
	mutex_unlock(&utrace_lazy_mutex);
	cancel_delayed_work_sync(&utrace_lazy_work);
	utrace_signal_exit();
	utrace_hooks_unwind(ARRAY_SIZE(utrace_fhooks) + utrace_arch_nhooks,
			    ARRAY_SIZE(utrace_tps));
	unregister_kprobe(&utrace_kp_release);
}
