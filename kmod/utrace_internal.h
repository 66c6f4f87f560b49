/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of utrace.ko.  Nothing here is API:
 * engines use <linux/utrace.h>, user space <uapi/utrace.h>.
 */
#ifndef _UTRACE_INTERNAL_H
#define _UTRACE_INTERNAL_H

#define UTRACE_MODULE_VERSION	"0.1.0"

int utrace_dev_init(void);
void utrace_dev_exit(void);

#endif /* _UTRACE_INTERNAL_H */
