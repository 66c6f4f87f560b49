// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: leaks one 64-byte block when loaded, so that the guest
 * runner's kmemleak check (debug kernel) can be shown to fail such a run.
 * Never shipped.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/slab.h>

/* Not static and not optimised away: the block is allocated for real. */
void *utrace_test_leak_last;

static int __init utrace_test_leak_init(void)
{
	void *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, 64);
	/*
	 * Published, then forgotten: once the pointer is overwritten no
	 * reference to the block is left anywhere kmemleak scans.
	 */
	WRITE_ONCE(utrace_test_leak_last, p);
	WRITE_ONCE(utrace_test_leak_last, NULL);
	return 0;
}

static void __exit utrace_test_leak_exit(void)
{
}

module_init(utrace_test_leak_init);
module_exit(utrace_test_leak_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("utrace test: leaks a block at load to check the kmemleak check");
