// SPDX-License-Identifier: GPL-2.0
/*
 * Rings of observed reports (UTRACE_ENGINE_OBSERVE, UTRACE_IOC_RING).
 *
 * A ring belongs to one /dev/utrace file (its bridge) and is shared by
 * every observing engine attached through it.  The reporting thread, in
 * any report context (DEATH's atomic one, REAP's worker included), writes
 * one fixed-size struct utrace_record into a preallocated slot under the
 * ring's spinlock (irqsave: never a sleep, never an allocation) and goes
 * on; a full ring drops the record and counts it, and the count goes into
 * the stream as a UTRACE_RECORD_LOST record before the next record that
 * fits, or as soon as a read() makes room.
 *
 * Readers are woken only once @wakeup records are unread (or at DEATH, or
 * at the close), so that a reader on the thread's own CPU is not switched
 * to at every record.
 *
 * The reader (the ring's own descriptor, an anonymous file) serialises
 * readers with a mutex, copies the records between @tail and @head to user
 * space without the spinlock (writers never touch unread slots), then
 * advances @tail under it.
 *
 * Lifetime: a kref.  The bridge holds one reference from UTRACE_IOC_RING
 * until it is freed (so an engine, which holds its bridge, may write to
 * the ring whenever it reports), the ring descriptor another.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "uapi/utrace.h"
#include "utrace_internal.h"

struct utrace_ring {
	struct kref kref;
	spinlock_t lock;		/* @head, @tail, @lost, @closed, the slots */
	struct mutex read_mutex;	/* one reader at a time */
	wait_queue_head_t readers;
	u32 mask;			/* records - 1 */
	u32 wakeup;			/* wake readers at this many unread */
	u64 head;			/* records written */
	u64 tail;			/* records read */
	u64 lost;			/* dropped, not yet reported */
	bool closed;			/* the /dev/utrace file was closed */
	struct utrace_record *recs;
};

static void utrace_ring_free(struct kref *kref)
{
	struct utrace_ring *ring = container_of(kref, struct utrace_ring, kref);

	kvfree(ring->recs);
	kfree(ring);
}

void utrace_ring_get(struct utrace_ring *ring)
{
	kref_get(&ring->kref);
}

void utrace_ring_put(struct utrace_ring *ring)
{
	kref_put(&ring->kref, utrace_ring_free);
}

/* Emit the pending LOST record if there is room.  ring->lock held. */
static void ring_flush_lost(struct utrace_ring *ring)
{
	struct utrace_record *rec;

	if (!ring->lost || ring->head - ring->tail > ring->mask)
		return;
	rec = &ring->recs[ring->head & ring->mask];
	memset(rec, 0, sizeof(*rec));
	rec->type = UTRACE_RECORD_LOST;
	rec->syscall_nr = -1;
	rec->code = ring->lost;
	rec->time_ns = ktime_get_ns();
	ring->lost = 0;
	ring->head++;
}

/**
 * utrace_ring_write_group - put records into @ring together, never waiting
 * @ring:	the ring
 * @recs:	the records: an EVENT record, then @n - 1 records of other types
 *		(captured data) that belong to it; the first's @type and
 *		@time_ns are filled here
 * @n:		how many (1 .. the ring's size for a group that may fit)
 *
 * Any context.  The group goes in whole, in consecutive slots, or not at
 * all: a ring without room for all of it drops and counts every record.
 */
void utrace_ring_write_group(struct utrace_ring *ring, struct utrace_record *recs, unsigned int n)
{
	unsigned long flags;
	bool wake = false;
	unsigned int i;

	recs[0].type = UTRACE_RECORD_EVENT;
	spin_lock_irqsave(&ring->lock, flags);
	if (ring->closed) {
		spin_unlock_irqrestore(&ring->lock, flags);
		return;
	}
	ring_flush_lost(ring);
	if (!ring->lost && ring->head - ring->tail + n <= (u64)ring->mask + 1) {
		recs[0].time_ns = ktime_get_ns();
		for (i = 0; i < n; i++) {
			ring->recs[ring->head & ring->mask] = recs[i];
			ring->head++;
		}
		wake = ring->head - ring->tail >= ring->wakeup ||
		       recs[0].event == _UTRACE_EVENT_DEATH;
	} else {
		ring->lost += n;
	}
	spin_unlock_irqrestore(&ring->lock, flags);
	/* The barrier of wq_has_sleeper() pairs with the reader's wait. */
	if (wake && wq_has_sleeper(&ring->readers))
		wake_up_interruptible_poll(&ring->readers, EPOLLIN | EPOLLRDNORM);
}

/**
 * utrace_ring_write - put one observed record into @ring, never waiting
 * @ring:	the ring
 * @rec:	the record; its @type and @time_ns are filled here
 *
 * Any context.  Drops and counts the record if the ring is full.
 */
void utrace_ring_write(struct utrace_ring *ring, struct utrace_record *rec)
{
	utrace_ring_write_group(ring, rec, 1);
}

/* @n records that could not even be made (no memory): counted as lost. */
void utrace_ring_lose(struct utrace_ring *ring, unsigned int n)
{
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	if (!ring->closed)
		ring->lost += n;
	spin_unlock_irqrestore(&ring->lock, flags);
}

/* The /dev/utrace file is closed: readers see the end of the stream. */
void utrace_ring_close(struct utrace_ring *ring)
{
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	ring->closed = true;
	spin_unlock_irqrestore(&ring->lock, flags);
	wake_up_interruptible_poll(&ring->readers, EPOLLIN | EPOLLHUP);
}

/* Records ready to read (a pending LOST record counts: a read emits it). */
static bool ring_ready(struct utrace_ring *ring, bool *closed)
{
	unsigned long flags;
	bool ready;

	spin_lock_irqsave(&ring->lock, flags);
	ready = ring->head != ring->tail || ring->lost;
	*closed = ring->closed;
	spin_unlock_irqrestore(&ring->lock, flags);
	return ready;
}

static ssize_t ring_read_locked(struct utrace_ring *ring, char __user *buf, size_t want,
				bool nonblock)
{
	const size_t size = sizeof(struct utrace_record);
	unsigned long flags;
	u64 tail, n, i;
	bool closed;
	int ret;

	for (;;) {
		spin_lock_irqsave(&ring->lock, flags);
		ring_flush_lost(ring);
		tail = ring->tail;
		n = min_t(u64, ring->head - tail, want);
		closed = ring->closed;
		spin_unlock_irqrestore(&ring->lock, flags);
		if (n)
			break;
		if (closed)
			return 0;
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(ring->readers, ring_ready(ring, &closed) || closed);
		if (ret)
			return ret;
	}
	/* Slots [tail, tail + n) are ours until @tail moves: no writer touches them. */
	for (i = 0; i < n; i++)
		if (copy_to_user(buf + i * size, &ring->recs[(tail + i) & ring->mask], size))
			break;
	if (!i)
		return -EFAULT;
	spin_lock_irqsave(&ring->lock, flags);
	ring->tail = tail + i;
	ring_flush_lost(ring);
	spin_unlock_irqrestore(&ring->lock, flags);
	return i * size;
}

static ssize_t ring_read(struct file *file, char __user *buf, size_t len, loff_t *off)
{
	struct utrace_ring *ring = file->private_data;
	const size_t want = len / sizeof(struct utrace_record);
	ssize_t ret;

	if (!want)
		return -EINVAL;
	if (mutex_lock_interruptible(&ring->read_mutex))
		return -ERESTARTSYS;
	ret = ring_read_locked(ring, buf, want, file->f_flags & O_NONBLOCK);
	mutex_unlock(&ring->read_mutex);
	return ret;
}

static __poll_t ring_poll(struct file *file, poll_table *wait)
{
	struct utrace_ring *ring = file->private_data;
	__poll_t mask = 0;
	bool closed;

	poll_wait(file, &ring->readers, wait);
	if (ring_ready(ring, &closed))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (closed)
		mask |= EPOLLHUP;
	return mask;
}

static int ring_release(struct inode *inode, struct file *file)
{
	utrace_ring_put(file->private_data);
	return 0;
}

static const struct file_operations utrace_ring_fops = {
	.owner = THIS_MODULE,
	.read = ring_read,
	.poll = ring_poll,
	.release = ring_release,
	.llseek = noop_llseek,
};

/**
 * utrace_ring_create - UTRACE_IOC_RING: a ring and its descriptor
 * @b:		the file's bridge; utrace_bridge_set_ring() publishes the ring
 *		there (EBUSY if it has one) before the descriptor is
 *		installed, so a refusal leaves nothing behind
 * @arg:	user's struct utrace_ioc_ring
 */
long utrace_ring_create(struct utrace_bridge *b, void __user *arg)
{
	struct utrace_ioc_ring req;
	struct utrace_ring *ring;
	struct file *file;
	long ret;
	int fd;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.records < UTRACE_RING_MIN_RECORDS || req.records > UTRACE_RING_MAX_RECORDS ||
	    !is_power_of_2(req.records) || (req.flags & ~UTRACE_RING_NONBLOCK) ||
	    req.wakeup > req.records || req.fd)
		return -EINVAL;
	if (utrace_bridge_ring(b))
		return -EBUSY;
	ring = kzalloc(sizeof(*ring), GFP_KERNEL);
	if (!ring)
		return -ENOMEM;
	ring->recs = kvcalloc(req.records, sizeof(*ring->recs), GFP_KERNEL);
	if (!ring->recs) {
		kfree(ring);
		return -ENOMEM;
	}
	kref_init(&ring->kref);		/* the descriptor's */
	spin_lock_init(&ring->lock);
	mutex_init(&ring->read_mutex);
	init_waitqueue_head(&ring->readers);
	ring->mask = req.records - 1;
	ring->wakeup = max(req.wakeup, 1U);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	file = anon_inode_getfile("[utrace-ring]", &utrace_ring_fops, ring,
				  O_RDONLY | ((req.flags & UTRACE_RING_NONBLOCK) ? O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_fd;
	}
	req.fd = fd;
	if (copy_to_user(arg, &req, sizeof(req))) {
		ret = -EFAULT;
		goto out_file;
	}
	ret = utrace_bridge_set_ring(b, ring);
	if (ret)
		goto out_file;
	fd_install(fd, file);
	return 0;

out_file:
	fput(file);	/* releases the descriptor's reference */
	put_unused_fd(fd);
	return ret;
out_fd:
	put_unused_fd(fd);
out_put:
	utrace_ring_put(ring);
	return ret;
}
