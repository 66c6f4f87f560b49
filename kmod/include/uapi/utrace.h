/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * utrace user-space ABI: ioctls on /dev/utrace.
 *
 * This header is shared by utrace.ko and by user space (utracectl, tests).
 * Every structure has a fixed layout (explicit padding, __u64 for pointers)
 * so that one ABI serves 64-bit x86 and powerpc alike.
 */
#ifndef _UAPI_UTRACE_H
#define _UAPI_UTRACE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define UTRACE_DEVICE_NAME	"utrace"

/* Bumped on any incompatible change of this header. */
#define UTRACE_ABI_VERSION	1

/* The utrace engine API the module implements (upstream's last: 20091216). */
#define UTRACE_API_VERSION	20091216

#define UTRACE_IOC_MAGIC	0xb7

/**
 * struct utrace_ioc_version - UTRACE_IOC_VERSION result
 * @abi:	UTRACE_ABI_VERSION of the module
 * @api:	UTRACE_API_VERSION of the module
 * @release:	module version string, NUL-terminated
 */
struct utrace_ioc_version {
	__u32 abi;
	__u32 api;
	char release[64];
};

/**
 * struct utrace_ioc_ping - UTRACE_IOC_PING argument
 * @cookie:	any value, set by the caller
 * @reply:	set by the module to ~@cookie
 */
struct utrace_ioc_ping {
	__u64 cookie;
	__u64 reply;
};

#define UTRACE_IOC_VERSION	_IOR(UTRACE_IOC_MAGIC, 0x00, struct utrace_ioc_version)
#define UTRACE_IOC_PING		_IOWR(UTRACE_IOC_MAGIC, 0x01, struct utrace_ioc_ping)

#endif /* _UAPI_UTRACE_H */
