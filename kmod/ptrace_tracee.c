// SPDX-License-Identifier: GPL-2.0
/*
 * The ptrace backend in the tracee's own kernel paths that read ->ptrace:
 * seccomp's PTRACE_EVENT_SECCOMP and PTRACE_O_SUSPEND_SECCOMP, and exec's
 * unsafe-exec and LSM decisions.  A utrace tracee has ->ptrace 0 and no
 * ->parent tracer, so each of these paths is redirected for tasks with a
 * utrace while relationships exist (pt_tracee_filter()).
 *
 * Seccomp.  __seccomp_filter() asks ptrace_event_enabled(current,
 * PTRACE_EVENT_SECCOMP), i.e. ->ptrace, before it reports SECCOMP_RET_TRACE
 * through ptrace_event() (else it fails the call with ENOSYS), and
 * __secure_computing() skips the filters for PT_SUSPEND_SECCOMP.  So a
 * tracee whose tracer suspended seccomp skips it; one with TRACESECCOMP runs
 * it with PT_TRACE_SECCOMP, and nothing else, in ->ptrace for the call (a
 * "window").  ptrace_notify() is redirected exactly when ->ptrace holds that
 * bit alone (never so for a native tracee, which has PT_PTRACED): the bit is
 * cleared and the engine stops the tracee there with PTRACE_EVENT_SECCOMP,
 * synchronously (utrace_stop_current()), so the tracer sees and may change
 * the call before seccomp looks at it again, as natively.
 *
 * ->ptrace is the kernel's field, and others read it meanwhile, so a window
 * must survive two things (finding 3 of issue 12):
 *  - the tracee dying inside it: strict mode, SECCOMP_RET_KILL_* and
 *    SIGSYS call do_exit() from within __secure_computing().  exit_notify()
 *    would then keep a non-leader thread as an unreapable zombie for its
 *    "tracer", and the module reference the filter took would leak.  The
 *    do_exit() hook (utrace_ptrace_task_exit()) ends the window first.
 *  - its real parent exiting meanwhile: forget_original_parent() does
 *    BUG_ON((!t->ptrace) != (t->parent == father)), which a borrowed
 *    ->ptrace with ->parent the real parent trips.  A window records the
 *    real parent; the parent's exit, before exit_notify() (the
 *    sched_process_exit tracepoint, after exit_signals() set PF_EXITING),
 *    revokes the windows it is the parent of (->ptrace back to 0), and a
 *    window does not open while its real parent is PF_EXITING: the tracee
 *    waits until it is reparented.  pt_window_lock orders the two: a
 *    tracee that opens a window after the parent's revoke sees PF_EXITING.
 *    A revoked window's filter that returns SECCOMP_RET_TRACE afterwards
 *    fails the call with ENOSYS (as if untraced): a narrow race, the price
 *    of not holding tasklist_lock, which powerpc's kallsyms lacks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/seccomp.h>
#include <linux/security.h>

#include "utrace_internal.h"
#include "ptrace_internal.h"

/* An open window: the tracee borrowed ->ptrace for __secure_computing(). */
struct pt_window {
	struct list_head node;
	struct task_struct *task;
	struct task_struct *parent;	/* ->real_parent when it opened */
};

static DEFINE_SPINLOCK(pt_window_lock);
static LIST_HEAD(pt_windows);		/* pt_window_lock */
static atomic_t pt_nwindows = ATOMIC_INIT(0);

static bool pt_tracee_filter(void);
static bool pt_exec_filter(void);

UTRACE_DECLARE_REPLACEMENT(utrace_pt_secure_computing);
UTRACE_DECLARE_REPLACEMENT(utrace_pt_notify);
UTRACE_DECLARE_REPLACEMENT(utrace_pt_bprm_creds_for_exec);
UTRACE_DECLARE_REPLACEMENT(utrace_pt_bprm_creds_from_file);

/*
 * The exec-credentials hook serves /dev/utrace engines too, and stays while
 * the module is loaded.  The others only while relationships exist
 * (pt_tracee_lazy_hooks()): __secure_computing() is called at every system
 * call of every task under a seccomp filter, traced or not, and
 * ptrace_notify() at every stop of a native tracee.  A direct hook
 * (x86_64's ptrace_notify()) stays from load to unload, as ptrace.c's do
 * (pt_hook_lazy()).  A window may outlive its relationship: the lazy hooks
 * go only once no window is open (pt_tracee_hooks_may_go()).
 */
enum {
	PT_TRACEE_CREDS_FROM_FILE,
	PT_TRACEE_LAZY,
	PT_TRACEE_NOTIFY = PT_TRACEE_LAZY,
	PT_TRACEE_SECCOMP,
	PT_TRACEE_CREDS_FOR_EXEC,
	PT_TRACEE_NHOOKS
};

/* The originals the replacements call (kcall.h). */
UTRACE_KCALL_DEFINE(orig_secure_computing, __secure_computing);
UTRACE_KCALL_DEFINE(orig_bprm_creds_for_exec, security_bprm_creds_for_exec);
UTRACE_KCALL_DEFINE(orig_bprm_creds_from_file, security_bprm_creds_from_file);

static_assert(PT_TRACEE_NHOOKS <= PT_TRACEE_NHOOKS_MAX);

static struct utrace_fhook pt_tracee_hooks[PT_TRACEE_NHOOKS] = {
	[PT_TRACEE_SECCOMP] = {
		.name = "__secure_computing",
		.replacement = UTRACE_REPLACEMENT(utrace_pt_secure_computing),
		.filter = pt_tracee_filter,
		UTRACE_FHOOK_ORIG(orig_secure_computing) },
	[PT_TRACEE_NOTIFY] = {
		.name = "ptrace_notify",
		.replacement = UTRACE_REPLACEMENT(utrace_pt_notify),
		.filter = pt_notify_filter,
		UTRACE_FHOOK_DIRECT(ptrace_notify) },
	[PT_TRACEE_CREDS_FOR_EXEC] = {
		.name = "security_bprm_creds_for_exec",
		.replacement = UTRACE_REPLACEMENT(utrace_pt_bprm_creds_for_exec),
		.filter = pt_tracee_filter,
		UTRACE_FHOOK_ORIG(orig_bprm_creds_for_exec) },
	[PT_TRACEE_CREDS_FROM_FILE] = {
		.name = "security_bprm_creds_from_file",
		.replacement = UTRACE_REPLACEMENT(utrace_pt_bprm_creds_from_file),
		.filter = pt_exec_filter,
		UTRACE_FHOOK_ORIG(orig_bprm_creds_from_file) },
};

UTRACE_CHECK_REPLACEMENT(__secure_computing, utrace_pt_secure_computing);
UTRACE_CHECK_REPLACEMENT(ptrace_notify, utrace_pt_notify);
UTRACE_CHECK_REPLACEMENT(security_bprm_creds_for_exec, utrace_pt_bprm_creds_for_exec);
UTRACE_CHECK_REPLACEMENT(security_bprm_creds_from_file, utrace_pt_bprm_creds_from_file);

/*
 * ftrace callbacks, in the calling task.  The module reference they take is
 * dropped when the replacement returns, or by utrace_ptrace_task_exit() if
 * the task dies inside it (it is counted in the task's utrace->modrefs).
 */
static bool pt_tracee_filter(void)
{
	return utrace_ptrace_active() && utrace_lookup(current) && try_module_get(THIS_MODULE);
}

/*
 * The exec-credentials hook also runs for a task with a utrace while
 * /dev/utrace engines exist (utrace_engines_exec_unsafe()).
 */
static bool pt_exec_filter(void)
{
	return (utrace_ptrace_active() || utrace_engines_active()) && utrace_lookup(current) &&
	       try_module_get(THIS_MODULE);
}

bool pt_notify_filter(void)
{
	return READ_ONCE(current->ptrace) == PT_TRACE_SECCOMP && try_module_get(THIS_MODULE);
}

static bool pt_tracee_hook_lazy(unsigned int i)
{
	return i >= PT_TRACEE_LAZY && !pt_tracee_hooks[i].direct;
}

/*
 * ptrace_notify() is hooked: a window may open.  Set once the lazy hooks
 * are enabled (pt_tracee_hooks_on()), and cleared by
 * pt_tracee_hooks_may_go() before they go; always set where the hook is
 * direct.  Without the hook, the kernel's ptrace_notify() would stop a
 * window's task in TASK_TRACED and report it to its real parent.
 */
static bool pt_notify_hooked;

static void __pt_window_close(struct pt_window *win);

/*
 * Open a window for current: ->ptrace becomes PT_TRACE_SECCOMP unless the
 * real parent is exiting, in which case we wait to be reparented (its
 * exit_notify() comes soon).  False if a fatal signal came first: the call
 * then runs without the bit (it is skipped, the task dies).  False too if
 * ptrace_notify() is no longer hooked: no relationship is left then
 * (pt_tracee_hooks_may_go()), and the call runs as an untraced task's.
 */
static bool pt_window_open(struct pt_window *win)
{
	for (;;) {
		bool exiting;

		spin_lock(&pt_window_lock);
		rcu_read_lock();
		win->parent = rcu_dereference(current->real_parent);
		exiting = READ_ONCE(win->parent->flags) & PF_EXITING;
		rcu_read_unlock();
		if (!exiting) {
			win->task = current;
			list_add(&win->node, &pt_windows);
			atomic_inc(&pt_nwindows);
			smp_mb__after_atomic();	/* pairs with pt_tracee_hooks_may_go() */
			if (!READ_ONCE(pt_notify_hooked)) {
				__pt_window_close(win);
				spin_unlock(&pt_window_lock);
				return false;
			}
			WRITE_ONCE(current->ptrace, PT_TRACE_SECCOMP);
			spin_unlock(&pt_window_lock);
			return true;
		}
		spin_unlock(&pt_window_lock);
		if (fatal_signal_pending(current))
			return false;
		schedule_timeout_killable(1);
	}
}

/* Close current's window (open or revoked).  pt_window_lock held. */
static void __pt_window_close(struct pt_window *win)
{
	list_del(&win->node);
	atomic_dec(&pt_nwindows);
	if (READ_ONCE(current->ptrace) == PT_TRACE_SECCOMP)
		WRITE_ONCE(current->ptrace, 0);
}

static void pt_window_close(struct pt_window *win)
{
	spin_lock(&pt_window_lock);
	__pt_window_close(win);
	spin_unlock(&pt_window_lock);
}

/*
 * From the sched_process_exit tracepoint of every exiting task while a
 * window is open (atomic; @father is current, PF_EXITING set, before its
 * exit_notify()): the windows of its children end, so that
 * forget_original_parent() finds their ->ptrace as it expects.
 */
void utrace_ptrace_parent_exit(struct task_struct *father)
{
	struct pt_window *win;

	if (likely(!atomic_read(&pt_nwindows)))
		return;
	spin_lock(&pt_window_lock);
	list_for_each_entry(win, &pt_windows, node)
		if (win->parent == father &&
		    READ_ONCE(win->task->ptrace) == PT_TRACE_SECCOMP)
			WRITE_ONCE(win->task->ptrace, 0);
	spin_unlock(&pt_window_lock);
}

/*
 * From the do_exit() hook, in a tracee that dies inside one of our
 * replacements (seccomp killed it): its window ends, its module references
 * go.  The replacement's frame stays on the stack and is never returned to.
 */
void utrace_ptrace_task_exit(struct utrace *utrace)
{
	struct pt_window *win;

	if (atomic_read(&pt_nwindows)) {
		spin_lock(&pt_window_lock);
		list_for_each_entry(win, &pt_windows, node) {
			if (win->task == current) {
				__pt_window_close(win);
				break;
			}
		}
		spin_unlock(&pt_window_lock);
	}
	while (utrace->modrefs) {
		utrace->modrefs--;
		module_put(THIS_MODULE);
	}
}

/* The filter's module reference, counted in the task until it is dropped. */
static struct utrace *pt_modref_enter(void)
{
	struct utrace *utrace = utrace_lookup(current);

	if (utrace)
		utrace->modrefs++;
	return utrace;
}

static void pt_modref_leave(struct utrace *utrace)
{
	if (utrace)
		utrace->modrefs--;
	module_put(THIS_MODULE);
}

int utrace_pt_secure_computing(const struct seccomp_data *sd)
{
	struct utrace *utrace = pt_modref_enter();
	struct pt_ctx *ctx = pt_find(current, NULL);
	unsigned long options = 0;
	struct pt_window win;
	int ret;

	if (ctx) {
		options = READ_ONCE(ctx->options);
		utrace_engine_put(ctx->engine);
	}
	if (options & PTRACE_O_SUSPEND_SECCOMP) {
		ret = 0;
	} else if ((options & PTRACE_O_TRACESECCOMP) && !current->ptrace &&
		   pt_window_open(&win)) {
		ret = utrace_kcall(orig_secure_computing)(sd);
		pt_window_close(&win);
	} else {
		ret = utrace_kcall(orig_secure_computing)(sd);
	}
	pt_modref_leave(utrace);
	return ret;
}

/*
 * ptrace_notify() returns the signal the tracer resumed with; its caller
 * here, ptrace_event(), ignores it, and a resume signal of ours is
 * delivered by the engine: 0.
 */
int utrace_pt_notify(int exit_code, unsigned long message)
{
	struct pt_ctx *ctx;

	/* The window stays open: __secure_computing() is still running. */
	WRITE_ONCE(current->ptrace, 0);
	ctx = pt_find(current, NULL);
	if (ctx) {
		if (exit_code == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)) &&
		    pt_event_stop(ctx, PTRACE_EVENT_SECCOMP, message) == UTRACE_STOP)
			utrace_stop_current(ctx->engine);
		utrace_engine_put(ctx->engine);
	}
	module_put(THIS_MODULE);
	return 0;
}

/*
 * Exec by a tracee (finding 2 of issue 12).  Natively check_unsafe_exec()
 * marks LSM_UNSAFE_PTRACE from ->ptrace before the LSMs decide the domain
 * transition in security_bprm_creds_for_exec(); an LSM then checks that
 * the tracer (ptrace_parent()) may trace the new domain, or refuses the
 * exec (AppArmor, SELinux, Smack); and commoncap's
 * security_bprm_creds_from_file() lets a setuid or file-capability exec gain
 * privileges only if the tracer's credentials at attach (->ptracer_cred)
 * have CAP_SYS_PTRACE over the new ones.
 *
 * A utrace tracee has neither ->ptrace nor ->parent nor ->ptracer_cred:
 *  - security_bprm_creds_for_exec() marks the exec LSM_UNSAFE_PTRACE before
 *    the LSMs run, so they treat it as ptraced; since they find no
 *    ptrace_parent(), their tracer check is made right after, the way the
 *    LSMs make it at PTRACE_TRACEME: security_ptrace_traceme(tracer) with
 *    current's subjective credentials overridden by the new ones, i.e. "may
 *    this tracer trace a task with these credentials" -- the same relation
 *    (AppArmor: aa_may_ptrace(tracer, new label, TRACE); SELinux: PTRACE
 *    permission from the tracer's SID to the new SID; Smack: the same
 *    rule).  A refusal fails the exec with that error, as natively.
 *  - security_bprm_creds_from_file() runs commoncap with the tracer's
 *    credentials from attach in ->ptracer_cred for the call, so the
 *    privilege decision is native's.
 * An exec under a /dev/utrace engine whose owner lacks CAP_SYS_PTRACE over
 * the new credentials (engines.c) is marked unsafe in the second hook too:
 * keyed on the owner's credentials, native's rule for a ptracer.
 * Both writes are to the task itself, in its own exec, under its
 * cred_guard_mutex (no attach runs meanwhile), and are undone before the
 * call returns; nothing in these two calls ends the task.
 */
int utrace_pt_bprm_creds_for_exec(struct linux_binprm *bprm)
{
	struct pt_ctx *ctx = pt_find(current, NULL);
	const struct cred *old;
	int ret;

	if (ctx)
		bprm->unsafe |= LSM_UNSAFE_PTRACE;
	ret = utrace_kcall(orig_bprm_creds_for_exec)(bprm);
	if (ctx && !ret) {
		old = override_creds(bprm->cred);
		ret = utrace_kcall(security_ptrace_traceme)(ctx->tracer);
		revert_creds(old);
	}
	if (ctx)
		utrace_engine_put(ctx->engine);
	module_put(THIS_MODULE);
	return ret;
}

int utrace_pt_bprm_creds_from_file(struct linux_binprm *bprm,
				   UTRACE_BPRM_FILE_CONST struct file *file)
{
	struct pt_ctx *ctx = pt_find(current, NULL);
	const struct cred *saved = NULL;
	int ret;

	if (ctx) {
		bprm->unsafe |= LSM_UNSAFE_PTRACE;
		saved = rcu_dereference_protected(current->ptracer_cred, true);
		rcu_assign_pointer(current->ptracer_cred, ctx->ptracer_cred);
	} else if (utrace_engines_exec_unsafe(current, bprm->cred)) {
		/*
		 * A /dev/utrace engine whose owner could not trace the
		 * result: no ->ptracer_cred to judge by (ptracer_capable()
		 * passes a NULL one), so also no_new_privs.
		 */
		bprm->unsafe |= LSM_UNSAFE_PTRACE | LSM_UNSAFE_NO_NEW_PRIVS;
	}
	ret = utrace_kcall(orig_bprm_creds_from_file)(bprm, file);
	if (ctx) {
		rcu_assign_pointer(current->ptracer_cred, saved);
		utrace_engine_put(ctx->engine);
	}
	module_put(THIS_MODULE);
	return ret;
}

int pt_tracee_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(pt_tracee_hooks); i++) {
		ret = utrace_fhook_resolve(&pt_tracee_hooks[i]);
		if (ret)
			return ret;
	}
	for (i = 0; i < ARRAY_SIZE(pt_tracee_hooks); i++) {
		if (pt_tracee_hook_lazy(i))
			continue;
		ret = utrace_fhook_enable(&pt_tracee_hooks[i]);
		if (ret) {
			pt_tracee_exit();	/* removes those enabled */
			return ret;
		}
	}
	if (!pt_tracee_hook_lazy(PT_TRACEE_NOTIFY))
		WRITE_ONCE(pt_notify_hooked, true);
	return 0;
}

/*
 * The hooks only tracees need, enabled for the first relationship and
 * disabled after the last one, with ptrace.c's (pt_hooks_enable()): put in
 * @hooks (room for PT_TRACEE_NHOOKS), counted.
 */
unsigned int pt_tracee_lazy_hooks(struct utrace_fhook **hooks)
{
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(pt_tracee_hooks); i++)
		if (pt_tracee_hook_lazy(i))
			hooks[n++] = &pt_tracee_hooks[i];
	return n;
}

/* pt_hooks_enable(), pt_mutex held: the lazy hooks are enabled. */
void pt_tracee_hooks_on(void)
{
	WRITE_ONCE(pt_notify_hooked, true);
}

/*
 * pt_hooks_off(), pt_mutex held, no relationship left: whether the lazy
 * hooks may go.  Not while a window is open, whose ptrace_notify() must
 * still come here; the caller tries again later.  A Dekker pair with
 * pt_window_open(): a window counts itself, then looks at the hook; this
 * marks the hook going, then counts the windows.  Either this sees the
 * window, or the window sees the hook going and does not open.
 */
bool pt_tracee_hooks_may_go(void)
{
	if (!pt_tracee_hook_lazy(PT_TRACEE_NOTIFY))
		return true;
	WRITE_ONCE(pt_notify_hooked, false);
	smp_mb();	/* pairs with pt_window_open() */
	if (!atomic_read(&pt_nwindows))
		return true;
	WRITE_ONCE(pt_notify_hooked, true);
	return false;
}

void pt_tracee_exit(void)
{
	unsigned int i = ARRAY_SIZE(pt_tracee_hooks);

	while (i--)
		utrace_fhook_remove(&pt_tracee_hooks[i]);
}
