// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace direct calls registered by ftrace_ops (6.6 on): register_ftrace_direct(ops, addr)
 * and unregister_ftrace_direct(ops, addr, free_filters).  Before, the same
 * calls were register_ftrace_direct_multi() and unregister_ftrace_direct_multi(),
 * and register_ftrace_direct() took (ip, addr).
 */
#include <linux/build_bug.h>
#include <linux/ftrace.h>

#ifdef CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS
static_assert(__same_type(&register_ftrace_direct,
			  int (*)(struct ftrace_ops *ops, unsigned long addr)));
static_assert(__same_type(&unregister_ftrace_direct,
			  int (*)(struct ftrace_ops *ops, unsigned long addr, bool free_filters)));
#else
#error "no ftrace direct calls"
#endif
