// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/utrace: the control device (misc device, mode 0600).
 *
 * Each open file is a user-engine bridge (bridge.c): read() takes the
 * reports of the UTRACE_ENGINE_USER engines attached through it, write()
 * answers them, poll() says when one waits; closing it detaches them.
 * Each ioctl runs in the caller's process context and may sleep; no utrace
 * lock is held across copy_{from,to}_user.  The ABI is <uapi/utrace.h>.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "uapi/utrace.h"
#include "utrace_internal.h"

static long utrace_ioc_version(void __user *arg)
{
	struct utrace_ioc_version v;

	memset(&v, 0, sizeof(v));
	v.abi = UTRACE_ABI_VERSION;
	v.api = UTRACE_API_VERSION;
	strscpy(v.release, UTRACE_MODULE_VERSION, sizeof(v.release));
	if (copy_to_user(arg, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

static long utrace_ioc_ping(void __user *arg)
{
	struct utrace_ioc_ping p;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	p.reply = ~p.cookie;
	if (copy_to_user(arg, &p, sizeof(p)))
		return -EFAULT;
	return 0;
}

static int utrace_dev_open(struct inode *inode, struct file *file)
{
	struct utrace_bridge *bridge = utrace_bridge_create(file);

	if (!bridge)
		return -ENOMEM;
	file->private_data = bridge;
	return 0;
}

static int utrace_dev_release(struct inode *inode, struct file *file)
{
	struct utrace_bridge *bridge = file->private_data;

	utrace_engines_file_closed(bridge);
	utrace_bridge_put(bridge);
	return 0;
}

static int utrace_dev_flush(struct file *file, fl_owner_t id)
{
	utrace_bridge_flush(file->private_data);
	return 0;
}

static ssize_t utrace_dev_read(struct file *file, char __user *buf, size_t len, loff_t *off)
{
	return utrace_bridge_read(file->private_data, buf, len, file->f_flags & O_NONBLOCK);
}

static ssize_t utrace_dev_write(struct file *file, const char __user *buf, size_t len,
				loff_t *off)
{
	return utrace_bridge_write(file->private_data, buf, len);
}

static __poll_t utrace_dev_poll(struct file *file, struct poll_table_struct *wait)
{
	return utrace_bridge_poll(file->private_data, file, wait);
}

static long utrace_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case UTRACE_IOC_VERSION:
		return utrace_ioc_version(uarg);
	case UTRACE_IOC_PING:
		return utrace_ioc_ping(uarg);
	default:
		return utrace_engines_ioctl(file->private_data, cmd, uarg);
	}
}

static const struct file_operations utrace_dev_fops = {
	.owner = THIS_MODULE,
	.open = utrace_dev_open,
	.flush = utrace_dev_flush,
	.release = utrace_dev_release,
	.read = utrace_dev_read,
	.write = utrace_dev_write,
	.poll = utrace_dev_poll,
	.unlocked_ioctl = utrace_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice utrace_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = UTRACE_DEVICE_NAME,
	.fops = &utrace_dev_fops,
	.mode = 0600,
};

int utrace_dev_init(void)
{
	int ret = misc_register(&utrace_miscdev);

	if (ret)
		pr_err("cannot register /dev/%s: %d\n", UTRACE_DEVICE_NAME, ret);
	return ret;
}

void utrace_dev_exit(void)
{
	misc_deregister(&utrace_miscdev);
}
