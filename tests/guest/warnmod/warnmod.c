// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: warns once when loaded, so that the guest runner's dmesg
 * checker can be shown to fail such a run.  Never shipped.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init utrace_test_warn_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit utrace_test_warn_exit(void)
{
}

module_init(utrace_test_warn_init);
module_exit(utrace_test_warn_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("utrace test: WARN_ON at load to check the dmesg checker");
