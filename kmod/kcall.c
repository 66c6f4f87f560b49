// SPDX-License-Identifier: GPL-2.0
/*
 * Setting the static calls of kcall.h, and checking what they became.
 *
 * On x86_64 every call site of a static call in this module is listed in
 * THIS_MODULE->static_call_sites (objtool, at build); the kernel patches
 * them when the module loads and at each static_call_update().  After the
 * update, each of the key's sites must be a rel32 CALL (e8) to the target,
 * or to the call-depth thunk in the padding just before it (call-depth
 * tracking, callthunks.c), or still to the key's trampoline, itself a rel32
 * JMP (e9) to the target.  Anything else counts as an indirect call.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/static_call.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#ifdef CONFIG_X86
#include <asm/cpufeature.h>
#endif

#include "kcall.h"
#include "utrace_internal.h"

static LIST_HEAD(utrace_kcalls);
static DEFINE_MUTEX(utrace_kcalls_lock);

/*
 * Test only (tests/guest/ibt_check.py): judge every call as if this CPU
 * enforced IBT and the kernel had no static calls, so that the real targets'
 * ENDBR64 bytes decide whether loading is refused.
 */
static bool ibt_assume_unsafe;
module_param(ibt_assume_unsafe, bool, 0400);
MODULE_PARM_DESC(ibt_assume_unsafe,
		 "Test only: refuse as if IBT were enforced and no call were direct");

static bool utrace_ibt_enforced(void)
{
#if defined(CONFIG_X86_KERNEL_IBT)
	return cpu_feature_enabled(X86_FEATURE_IBT);
#else
	return false;
#endif
}

#ifdef CONFIG_X86_64
static const u8 utrace_endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };

static bool utrace_has_endbr(unsigned long addr)
{
	return !memcmp((const void *)addr, utrace_endbr64, sizeof(utrace_endbr64));
}

/* The target of the rel32 branch at @insn with opcode @op, or 0. */
static unsigned long utrace_rel32_dest(const u8 *insn, u8 op)
{
	s32 rel;

	if (insn[0] != op)
		return 0;
	memcpy(&rel, insn + 1, sizeof(rel));
	return (unsigned long)insn + 5 + rel;
}

/* A CALL to @dest reaches @kc's target directly. */
static bool utrace_dest_ok(const struct utrace_kcall *kc, unsigned long dest)
{
	if (dest == kc->addr)
		return true;
	if (kc->tramp && dest == (unsigned long)kc->tramp)
		return utrace_rel32_dest(kc->tramp, 0xe9) == kc->addr;
#ifdef X86_FEATURE_CALL_DEPTH
	/* the accounting thunk sits in the target's padding, then falls into it */
	if (cpu_feature_enabled(X86_FEATURE_CALL_DEPTH))
		return dest < kc->addr && kc->addr - dest <= CONFIG_FUNCTION_PADDING_BYTES;
#endif
	return false;
}

#ifdef CONFIG_HAVE_STATIC_CALL_INLINE
/* Every site of this module for @kc's key is a direct call to its target. */
static bool utrace_sites_direct(const struct utrace_kcall *kc)
{
	struct static_call_site *site = THIS_MODULE->static_call_sites;
	struct static_call_site *end = site + THIS_MODULE->num_static_call_sites;
	unsigned int n = 0;

	for (; site < end; site++) {
		unsigned long key = ((long)&site->key + site->key) & ~STATIC_CALL_SITE_FLAGS;
		const u8 *insn = (const u8 *)((long)&site->addr + site->addr);

		if (key != (unsigned long)kc->key)
			continue;
		/* __init text is gone after init; this module has no init sites */
		if (!utrace_dest_ok(kc, utrace_rel32_dest(insn, 0xe8)))
			return false;
		n++;
	}
	/* a key nothing calls is a mistake here */
	return n > 0;
}
#else
static bool utrace_sites_direct(const struct utrace_kcall *kc)
{
	/* out-of-line static calls: every site calls the trampoline */
	return kc->tramp && utrace_rel32_dest(kc->tramp, 0xe9) == kc->addr;
}
#endif
#else /* !CONFIG_X86_64 */
static bool utrace_has_endbr(unsigned long addr)
{
	return false;
}

static bool utrace_sites_direct(const struct utrace_kcall *kc)
{
	/* ppc64: no static calls, a plain pointer call (no IBT there) */
	return false;
}
#endif

int utrace_kcall_set(struct utrace_kcall *kc, unsigned long addr)
{
	__static_call_update(kc->key, kc->tramp, (void *)addr);
	kc->addr = addr;
	kc->direct = !ibt_assume_unsafe && utrace_sites_direct(kc);
	kc->endbr = utrace_has_endbr(addr);

	mutex_lock(&utrace_kcalls_lock);
	if (!kc->node.next)
		list_add_tail(&kc->node, &utrace_kcalls);
	mutex_unlock(&utrace_kcalls_lock);

	if (!kc->direct && !kc->endbr && (utrace_ibt_enforced() || ibt_assume_unsafe)) {
		pr_err("refusing to load: this CPU enforces IBT and %s (no ENDBR64) would be called indirectly\n",
		       kc->name);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * /sys/module/utrace/parameters/kcalls: a line per kernel function called,
 * "NAME direct|indirect endbr|noendbr", then "ibt enforced|off"; NAME is
 * "SYMBOL+OFFSET" for a target past the symbol's start (fhook.c's direct
 * hooks call their original past its ftrace site).
 */
static int utrace_kcalls_get(char *buf, const struct kernel_param *kp)
{
	const struct utrace_kcall *kc;
	int len = 0;

	mutex_lock(&utrace_kcalls_lock);
	list_for_each_entry(kc, &utrace_kcalls, node) {
		len += sysfs_emit_at(buf, len, "%s", kc->name);
		if (kc->offset)
			len += sysfs_emit_at(buf, len, "+%#lx", kc->offset);
		len += sysfs_emit_at(buf, len, " %s %s\n",
				     kc->direct ? "direct" : "indirect",
				     kc->endbr ? "endbr" : "noendbr");
	}
	mutex_unlock(&utrace_kcalls_lock);
	len += sysfs_emit_at(buf, len, "ibt %s\n", utrace_ibt_enforced() ? "enforced" : "off");
	return len;
}

static const struct kernel_param_ops utrace_kcalls_ops = {
	.get = utrace_kcalls_get,
};

module_param_cb(kcalls, &utrace_kcalls_ops, NULL, 0400);
MODULE_PARM_DESC(kcalls, "The kernel functions utrace calls, and whether each call is direct");
