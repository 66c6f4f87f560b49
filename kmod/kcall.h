/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Calls from this module into kernel functions it finds by name: those
 * kallsyms resolves (syms.c, and kallsyms_lookup_name() itself) and the
 * originals of the ftrace-redirected functions (fhook.c).  Each is a static
 * call: a key defined here, set once the address is known.
 *
 * Why: with CONFIG_X86_KERNEL_IBT (Debian's 6.12 amd64) the kernel seals at
 * boot every function whose address it never takes: its ENDBR64 becomes a
 * NOP, and an indirect call or jump to it is a #CP, a kernel BUG, on a CPU
 * that enforces IBT.  Most functions this module calls are such.  A static
 * call is patched into a direct "call target" at each call site (x86_64's
 * inline static calls, HAVE_STATIC_CALL_INLINE, also 6.1's) and its
 * trampoline into a direct "jmp target": a direct branch needs no ENDBR, and
 * the ftrace site at the target's entry still sees a caller in this module
 * (fhook.c lets it through).  Where a kernel has no static calls (ppc64,
 * which has no IBT), static_call() is a plain pointer call, as before.
 *
 * utrace_kcall_set() patches the calls and checks that each one of this
 * module's sites for the key really is a direct call to the target
 * (utrace_kcall_how()); a call that is not (a kernel without static calls)
 * to a target without ENDBR64, on a CPU that enforces IBT, makes loading
 * fail with -EOPNOTSUPP and a message naming the function: never a #CP
 * later.  /sys/module/utrace/parameters/kcalls lists every target and how it
 * is called, for tests/guest/ibt_check.py.
 */
#ifndef UTRACE_KCALL_H
#define UTRACE_KCALL_H

#include <linux/list.h>
#include <linux/static_call.h>

/* A kernel function the module calls, and how it is called. */
struct utrace_kcall {
	const char *name;		/* kernel symbol */
	struct static_call_key *key;
	void *tramp;			/* the key's trampoline (NULL: no static calls) */
	unsigned long addr;		/* the target, once set */
	unsigned long offset;		/* of the target in the symbol (fhook.c) */
	bool direct;			/* every site is a direct call to it */
	bool endbr;			/* the target begins with ENDBR64 (x86) */
	struct list_head node;		/* in the kcalls list once set */
};

/*
 * UTRACE_KCALL_DEFINE(sym, proto) defines the static call utrace_kc_<sym>
 * with the type of @proto: a kernel function's own declaration where it has
 * one (a changed prototype fails to compile), else a typedef.
 * UTRACE_KCALL_DECLARE() makes it visible to other files.
 */
#define UTRACE_KCALL_DECLARE(sym, proto)	DECLARE_STATIC_CALL(utrace_kc_##sym, proto)
#define UTRACE_KCALL_DEFINE(sym, proto)	DEFINE_STATIC_CALL_NULL(utrace_kc_##sym, proto)

/* The struct utrace_kcall of the static call utrace_kc_<sym>. */
#define UTRACE_KCALL_INIT(sym, kname) {					\
	.name = (kname),						\
	.key = &STATIC_CALL_KEY(utrace_kc_##sym),			\
	.tramp = STATIC_CALL_TRAMP_ADDR(utrace_kc_##sym),		\
}

/* Calls the kernel function utrace_kc_<sym> was set to: utrace_kcall(sym)(args). */
#define utrace_kcall(sym)	static_call(utrace_kc_##sym)

/* Whether utrace_kc_<sym> was set (syms.c resolves them in the module's init). */
#define utrace_kcall_ready(sym)	(!!static_call_query(utrace_kc_##sym))

/*
 * Sets @kc to @addr, in process context, before any call through it:
 * -EOPNOTSUPP if the calls cannot be made safe on this CPU (above).
 */
int utrace_kcall_set(struct utrace_kcall *kc, unsigned long addr);

#endif /* UTRACE_KCALL_H */
