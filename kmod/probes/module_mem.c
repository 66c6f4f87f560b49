// SPDX-License-Identifier: GPL-2.0
/*
 * struct module's mem[] (6.4 on) in place of core_layout and init_layout:
 * where the module's text is (utrace_compat.h, utrace_module_text()).
 */
#include <linux/module.h>

unsigned int utrace_probe_module_mem(struct module *mod)
{
	return mod->mem[MOD_TEXT].size;
}
