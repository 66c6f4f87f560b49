// SPDX-License-Identifier: GPL-2.0
/*
 * utrace.ko: module entry and exit.
 *
 * Init brings the parts up in dependency order and unwinds in reverse on
 * failure; exit takes them down in reverse order.  Both run in process
 * context and may sleep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "utrace_internal.h"

static int __init utrace_init(void)
{
	int ret;

	ret = utrace_dev_init();
	if (ret)
		return ret;
	pr_info("version %s loaded\n", UTRACE_MODULE_VERSION);
	return 0;
}

static void __exit utrace_exit(void)
{
	utrace_dev_exit();
	pr_info("unloaded\n");
}

module_init(utrace_init);
module_exit(utrace_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(UTRACE_MODULE_VERSION);
MODULE_DESCRIPTION("utrace: engines that trace and control user threads");
