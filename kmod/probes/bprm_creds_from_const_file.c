// SPDX-License-Identifier: GPL-2.0
/* security_bprm_creds_from_file() takes a const file (6.8 on). */
#include <linux/build_bug.h>
#include <linux/security.h>

static_assert(__same_type(&security_bprm_creds_from_file,
			  int (*)(struct linux_binprm *bprm, const struct file *file)));
