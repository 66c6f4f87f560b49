// SPDX-License-Identifier: GPL-2.0
/*
 * utrace.ko: module entry and exit.
 *
 * Init brings the parts up in dependency order and unwinds in reverse on
 * failure; exit takes them down in reverse order.  Both run in process
 * context and may sleep.  Other modules can be engines through the API in
 * <linux/utrace.h>; they depend on this module's symbols, so it cannot be
 * removed under them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "utrace_internal.h"

static int __init utrace_init(void)
{
	int ret;

	ret = utrace_syms_init();
	if (ret)
		return ret;
	ret = utrace_core_init();
	if (ret)
		return ret;
	ret = utrace_engines_init();
	if (ret)
		goto out_core;
	ret = utrace_hooks_init();
	if (ret)
		goto out_engines;
	ret = utrace_ptrace_init();
	if (ret)
		goto out_hooks;
	ret = utrace_dev_init();
	if (ret)
		goto out_ptrace;
	pr_info("version %s loaded\n", UTRACE_MODULE_VERSION);
	return 0;

out_ptrace:
	utrace_ptrace_exit();
out_hooks:
	utrace_hooks_exit();
out_engines:
	utrace_engines_exit();
out_core:
	utrace_core_exit();
	utrace_lazy_hooks_flush();
	return ret;
}

/*
 * Safe with engines attached and tasks stopped: the device goes first (no
 * new attach), then /dev/utrace's engines are detached, then every task's
 * work bits are cleared and stopped tasks woken while the hooks still serve
 * them, then the hooks go (no new report), and the core detaches what is
 * left and waits for every task to leave this module's code.
 */
static void __exit utrace_exit(void)
{
	utrace_dev_exit();
	utrace_ptrace_exit();
	utrace_engines_exit();
	utrace_core_quiesce();
	utrace_hooks_exit();
	utrace_core_exit();
	utrace_lazy_hooks_flush();
	pr_info("unloaded\n");
}

module_init(utrace_init);
module_exit(utrace_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(UTRACE_MODULE_VERSION);
MODULE_DESCRIPTION("utrace: engines that trace and control user threads");
