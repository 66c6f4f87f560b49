// SPDX-License-Identifier: GPL-2.0
/*
 * Redirecting a kernel function to a replacement in this module with ftrace
 * (FTRACE_OPS_FL_IPMODIFY), the way livepatch does.
 *
 * The ftrace callback runs at the traced function's entry, before its
 * prologue, with preemption disabled; it only rewrites the return address
 * of the ftrace trampoline (arch: utrace_arch_redirect()).  The replacement
 * then runs in the caller's context, with the function's arguments, and may
 * sleep if the caller may.  On powerpc a call to the original from the
 * replacement reaches the callback again, which lets it through because the
 * caller is this module (utrace_fhook_ours(parent_ip)): a direct call (a static
 * call, kcall.h), never a tail call (Kbuild).  On x86_64 the original is
 * called past its ftrace site (utrace_fhook_resolve()).  A hook with a
 * filter redirects only the calls for which the filter, called from the
 * callback in the calling task, returns true: the others never enter this
 * module.  A filter_arg is given the function's first argument (the system
 * call's registers, for a syscall entry).  A probe hook redirects nothing:
 * its probe sees the first argument at the entry, as a kprobe would, but
 * joins the other hooks' code update (utrace_fhooks_enable()).
 *
 * On x86_64 the hooks that are hot, on every system call of a traced task
 * or on every ptrace stop and request, are ftrace direct calls instead
 * (hook->direct): each has its own ftrace_ops, whose site calls a
 * trampoline in the module (arch_x86_tramp.S) that calls the filter itself,
 * preemptible if the caller is, and jumps to the replacement or returns
 * into the function: no register save, no callback, no lookup of the hook.
 *
 * What breaks if the kernel changes: a renamed or inlined function (install
 * fails with -ENOENT), a function that becomes notrace (-EINVAL from ftrace).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>

#include "utrace_internal.h"

/*
 * One ftrace_ops for every hook.  Each registered ops costs the kernel a
 * trampoline, and each unregistration a Tasks RCU grace period (and a
 * Tasks Rude one): with an ops per hook, two dozen of them made loading and
 * unloading take seconds.  Hooks join and leave the shared ops' filter
 * (one code update each); only the first registers the ops and only the
 * last unregisters it.  The callback finds its hook by the ftrace site's
 * address in a small open-addressing table.
 */
#define UTRACE_FHOOK_SLOTS	64	/* a power of two, above the hook count */

static struct utrace_fhook *utrace_fhook_slots[UTRACE_FHOOK_SLOTS];
static unsigned int utrace_fhook_count;	/* hooks in the ops' filter */
static DEFINE_MUTEX(utrace_fhook_mutex);

static void notrace utrace_fhook_thunk(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *ops, struct ftrace_regs *fregs);

static struct ftrace_ops utrace_fhook_ops = {
	.func = utrace_fhook_thunk,
	.flags = UTRACE_FHOOK_OPS_REGS | FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_IPMODIFY,
};

/*
 * The module's text (utrace_module_text()), set before the first hook is
 * enabled: a call from there is one of ours of an original.  One range
 * test, where within_module() tests every part of the module, init and
 * data too (seven ranges on 6.12), in every callback.
 */
static unsigned long utrace_fhook_text, utrace_fhook_text_size;

static inline bool utrace_fhook_ours(unsigned long parent_ip)
{
	return parent_ip - utrace_fhook_text < utrace_fhook_text_size;
}

static inline unsigned int utrace_fhook_slot(unsigned long ip)
{
	return hash_long(ip, ilog2(UTRACE_FHOOK_SLOTS));
}

/* Preemption off (ftrace callback): slots are only ever filled. */
static struct utrace_fhook *notrace utrace_fhook_find(unsigned long ip)
{
	unsigned int i = utrace_fhook_slot(ip), n;

	for (n = 0; n < UTRACE_FHOOK_SLOTS; n++, i = (i + 1) % UTRACE_FHOOK_SLOTS) {
		struct utrace_fhook *hook = READ_ONCE(utrace_fhook_slots[i]);

		if (!hook || hook->ip == ip)
			return hook;
	}
	return NULL;
}

/* utrace_fhook_mutex held.  A hook keeps its slot until the module goes. */
static int utrace_fhook_slot_add(struct utrace_fhook *hook)
{
	unsigned int i = utrace_fhook_slot(hook->ip), n;

	for (n = 0; n < UTRACE_FHOOK_SLOTS; n++, i = (i + 1) % UTRACE_FHOOK_SLOTS) {
		struct utrace_fhook *cur = utrace_fhook_slots[i];

		if (cur == hook)
			return 0;
		if (!cur) {
			/* the hook's fields before it can be found */
			smp_store_release(&utrace_fhook_slots[i], hook);
			return 0;
		}
	}
	return -ENOSPC;
}

static void notrace utrace_fhook_thunk(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = utrace_arch_fregs(fregs);
	struct utrace_fhook *hook;

	if (utrace_fhook_ours(parent_ip))
		return;
	hook = utrace_fhook_find(ip);
	if (!hook)
		return;
	if (hook->filter && !hook->filter())
		return;
	if (hook->filter_arg && !hook->filter_arg(utrace_arch_arg0(regs)))
		return;
	/* after the filters: a call they turn away pays no test for it */
	if (hook->probe) {
		hook->probe(utrace_arch_arg0(regs));
		return;
	}
	utrace_arch_redirect(regs, hook->replacement);
}

/*
 * A direct call: the hook's own ftrace_ops, whose one site calls its
 * trampoline (arch_x86_tramp.S) with neither a pt_regs save nor a callback.
 * utrace_fhook_mutex held.
 */
static int utrace_fhook_install_direct(struct utrace_fhook *hook)
{
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS
	struct ftrace_ops *ops = &hook->direct_ops;
	int ret;

	ret = ftrace_set_filter_ip(ops, hook->ip, 0, 0);
	if (ret)
		return ret;
	ret = utrace_register_ftrace_direct(ops, (unsigned long)hook->direct);
	if (ret) {
		utrace_ftrace_reset_filter(ops);
		return ret;
	}
	hook->direct_on = true;
	hook->installed = true;
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

/*
 * Unregistering waits for every task to leave the trampoline (Tasks RCU,
 * as for any module's ftrace_ops); the replacement is left to the caller's
 * utrace_fhook_sync() and the module's in-flight count, as for the others.
 * utrace_fhook_mutex held.
 */
static void utrace_fhook_remove_direct(struct utrace_fhook *hook)
{
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS
	int ret = utrace_unregister_ftrace_direct(&hook->direct_ops, (unsigned long)hook->direct);

	if (ret)
		pr_err("cannot unhook %s: unregister_ftrace_direct: %d\n", hook->name, ret);
	hook->direct_on = false;
#endif
}

/*
 * Find the hook's function and its ftrace site, and point its static call
 * at the original: once, at load, for every hook (a missing or unsafe
 * function fails the load), whether or not it is enabled then.
 */
int utrace_fhook_resolve(struct utrace_fhook *hook)
{
	int ret;

	hook->addr = utrace_lookup_name(hook->name);
	if (!hook->addr) {
		pr_err("cannot hook %s: no such kernel symbol\n", hook->name);
		return -ENOENT;
	}
	/* The site: not the symbol's address on powerpc (global entry), nor with IBT. */
	hook->ip = utrace_kcall(ftrace_location)(hook->addr);
	if (!hook->ip) {
		pr_err("cannot hook %s: no ftrace site\n", hook->name);
		return -EINVAL;
	}
	/*
	 * Only a replacement that calls the original has the static call.  A
	 * direct hook's calls the original past its ftrace site, as a BPF
	 * trampoline does (BPF_TRAMP_F_SKIP_FRAME): its trampoline cannot
	 * tell our call from the kernel's.  So does every hook's on x86_64,
	 * where the site is the function's first instruction (after an ENDBR)
	 * and nothing before the prologue is skipped: the module's own calls
	 * of a hooked function (a SIGCHLD it sends through
	 * __send_signal_locked()) then pass no ftrace callback only to be let
	 * through.  powerpc's site follows the entry's mflr, and there the
	 * callback lets our calls through (utrace_fhook_ours()).
	 */
	if (hook->orig.key) {
		unsigned long target = hook->addr;

		if (hook->direct || IS_ENABLED(CONFIG_X86_64))
			target = hook->ip + MCOUNT_INSN_SIZE;
		hook->orig.name = hook->name;
		hook->orig.offset = target - hook->addr;
		ret = utrace_kcall_set(&hook->orig, target);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Redirect the resolved hooks' calls from now on.  The shared ops' hooks
 * join its filter together: one filter change, so one code update, which
 * walks every ftrace record of the kernel (some 50 000: about 10 ms under
 * qemu, each); hook by hook, the lazy hooks cost the first attach five of
 * them.  A direct hook has its own ops: one update
 * each.  On failure some of @hooks may be enabled: the caller removes them
 * all (utrace_fhooks_remove() skips a hook that is not).  A hook may be
 * enabled again after its removal: a replacement still running from before
 * keeps its static call, which nothing changes.
 */
int utrace_fhooks_enable(struct utrace_fhook *const *hooks, unsigned int n)
{
	unsigned long ips[UTRACE_FHOOK_BATCH];
	unsigned int i, nips = 0;
	int ret = 0;

	if (WARN_ON_ONCE(n > ARRAY_SIZE(ips)))
		return -E2BIG;
	mutex_lock(&utrace_fhook_mutex);
	if (!utrace_fhook_text_size)
		utrace_module_text(THIS_MODULE, &utrace_fhook_text, &utrace_fhook_text_size);
	for (i = 0; i < n; i++) {
		struct utrace_fhook *hook = hooks[i];

		if (hook->installed)
			continue;
		if (hook->direct) {
			ret = utrace_fhook_install_direct(hook);
			if (!ret)
				continue;
			/* e.g. -EBUSY: a BPF trampoline has the site */
			pr_info("%s: no ftrace direct call (%d), redirecting it through ftrace_regs\n",
				hook->name, ret);
		}
		ret = utrace_fhook_slot_add(hook);
		if (ret) {
			pr_err("cannot hook %s: more than %d hooks\n", hook->name,
			       UTRACE_FHOOK_SLOTS);
			goto out;
		}
		ips[nips++] = hook->ip;
	}
	ret = 0;
	if (!nips)
		goto out;
	ret = ftrace_set_filter_ips(&utrace_fhook_ops, ips, nips, 0, 0);
	if (ret) {
		pr_err("cannot hook %s%s: ftrace_set_filter_ips: %d\n", hooks[0]->name,
		       n > 1 ? " and the others" : "", ret);
		goto out;
	}
	if (!utrace_fhook_count) {
		ret = register_ftrace_function(&utrace_fhook_ops);
		if (ret) {
			pr_err("cannot hook %s%s: register_ftrace_function: %d\n", hooks[0]->name,
			       n > 1 ? " and the others" : "", ret);
			utrace_ftrace_reset_filter(&utrace_fhook_ops);
			goto out;
		}
	}
	utrace_fhook_count += nips;
	for (i = 0; i < n; i++)
		hooks[i]->installed = true;
out:
	mutex_unlock(&utrace_fhook_mutex);
	return ret;
}

int utrace_fhook_enable(struct utrace_fhook *hook)
{
	return utrace_fhooks_enable(&hook, 1);
}

/*
 * Removing the last of the shared ops' hooks unregisters the ops, which
 * waits for every task to leave the callback and any replacement it was in
 * without sleeping there; the others only leave the filter, together (one
 * code update): a caller that must not race the replacements it removed
 * calls utrace_fhook_sync() after them.
 */
void utrace_fhooks_remove(struct utrace_fhook *const *hooks, unsigned int n)
{
	unsigned long ips[UTRACE_FHOOK_BATCH];
	unsigned int i, nips = 0;
	int ret;

	if (WARN_ON_ONCE(n > ARRAY_SIZE(ips)))
		return;
	mutex_lock(&utrace_fhook_mutex);
	for (i = 0; i < n; i++) {
		struct utrace_fhook *hook = hooks[i];

		if (!hook->installed)
			continue;
		if (hook->direct_on) {
			utrace_fhook_remove_direct(hook);
			hook->installed = false;
			continue;
		}
		ips[nips++] = hook->ip;
		hook->installed = false;
	}
	if (!nips)
		goto out;
	if (utrace_fhook_count == nips) {
		/* an empty filter would trace every function: unregister first */
		unregister_ftrace_function(&utrace_fhook_ops);
		utrace_ftrace_reset_filter(&utrace_fhook_ops);
	} else {
		/*
		 * Only an allocation can fail: the hooks then stay in the
		 * filter, harmless (their replacements stay until the module
		 * goes), until the last hook unregisters the ops.
		 */
		ret = ftrace_set_filter_ips(&utrace_fhook_ops, ips, nips, 1, 0);
		if (ret)
			pr_err("cannot unhook %u hooks: ftrace_set_filter_ips: %d\n", nips, ret);
	}
	utrace_fhook_count -= nips;
out:
	mutex_unlock(&utrace_fhook_mutex);
}

void utrace_fhook_remove(struct utrace_fhook *hook)
{
	utrace_fhooks_remove(&hook, 1);
}

/* Every task has left the replacements of hooks removed before (unless asleep there). */
void utrace_fhook_sync(void)
{
#ifdef CONFIG_TASKS_RCU
	synchronize_rcu_tasks();
#else
	synchronize_rcu();
#endif
}
