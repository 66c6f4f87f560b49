// SPDX-License-Identifier: GPL-2.0
/*
 * Rings of observed reports (UTRACE_ENGINE_OBSERVE, UTRACE_IOC_RING).
 *
 * A ring belongs to one /dev/utrace file (its bridge) and is shared by
 * every observing engine attached through it.  The reporting thread, in
 * any report context (DEATH's atomic one, REAP's worker included), writes
 * one fixed-size struct utrace_record into a preallocated slot under the
 * ring's spinlock (never a sleep, never an allocation; a plain one: no
 * report, and so no record, is made in interrupt context) and goes
 * on; a full ring drops the record and counts it, and the count goes into
 * the stream as a UTRACE_RECORD_LOST record before the next record that
 * fits, or as soon as a read() or poll() finds room.
 *
 * The slots live in one vmalloc_user() area after a header page (struct
 * utrace_ring_header), which the ring descriptor's mmap() maps whole: a
 * reader may take the records in place, with no system call while there
 * are some, and give the slots back by storing @tail in the header.  A
 * record is written in place too (utrace_ring_write()), not built on the
 * stack and copied.  The module keeps @head itself and only publishes it
 * in the header; @tail is the reader's, in user memory, so it is trusted
 * for nothing but the reader's own records: a tail that is not within the
 * ring's size of @head reads as a full ring (writers drop and count).
 *
 * Readers are woken only once @wakeup records are unread (or at DEATH, or
 * at the close), so that a reader on the thread's own CPU is not switched
 * to at every record.
 *
 * read() serialises readers with a mutex, copies the records between the
 * tail and @head to user space without the spinlock (writers never touch
 * unread slots), then stores the tail under it.
 *
 * Lifetime: a kref.  The bridge holds one reference from UTRACE_IOC_RING
 * until it is freed (so an engine, which holds its bridge, may write to
 * the ring whenever it reports), the ring descriptor another (and a
 * mapping holds the descriptor).
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
#include <linux/vmalloc.h>
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
	u64 head;			/* records written (published in @hdr) */
	u64 lost;			/* dropped, not yet reported */
	bool closed;			/* the /dev/utrace file was closed */
	unsigned long pages;		/* of the area: the header's and the slots' */
	struct utrace_ring_header *hdr;	/* the area's start (vmalloc_user) */
	struct utrace_record *recs;	/* its slots, after the header page */
};

static void utrace_ring_free(struct kref *kref)
{
	struct utrace_ring *ring = container_of(kref, struct utrace_ring, kref);

	vfree(ring->hdr);
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

/*
 * Unread records, by the reader's tail: above the ring's size if that
 * tail is not one the ring can have (a mapped reader wrote another), which
 * then reads as full.
 */
static u64 ring_unread(struct utrace_ring *ring)
{
	/* Pairs with the reader's release of @tail: its loads from the slots first. */
	return ring->head - smp_load_acquire(&ring->hdr->tail);
}

/* Whether @n more records fit.  ring->lock held. */
static bool ring_room(struct utrace_ring *ring, unsigned int n)
{
	u64 unread = ring_unread(ring);

	return unread <= (u64)ring->mask + 1 && unread + n <= (u64)ring->mask + 1;
}

/* @n records were written at @head: publish them.  ring->lock held. */
static void ring_publish(struct utrace_ring *ring, unsigned int n)
{
	ring->head += n;
	/* Pairs with a mapped reader's acquire of @head: the slots first. */
	smp_store_release(&ring->hdr->head, ring->head);
}

/* Emit the pending LOST record if there is room.  ring->lock held. */
static void ring_flush_lost(struct utrace_ring *ring)
{
	struct utrace_record *rec;

	if (!ring->lost || !ring_room(ring, 1))
		return;
	rec = &ring->recs[ring->head & ring->mask];
	memset(rec, 0, sizeof(*rec));
	rec->type = UTRACE_RECORD_LOST;
	rec->syscall_nr = -1;
	rec->code = ring->lost;
	rec->time_ns = ktime_get_ns();
	ring->lost = 0;
	ring_publish(ring, 1);
}

/* A DEATH record, and every @wakeup records unread: wake the readers. */
static bool ring_wakes(struct utrace_ring *ring, const struct utrace_record *rec)
{
	return ring_unread(ring) >= ring->wakeup || rec->event == _UTRACE_EVENT_DEATH;
}

static void ring_wake(struct utrace_ring *ring)
{
	/* The barrier of wq_has_sleeper() pairs with the reader's wait. */
	if (wq_has_sleeper(&ring->readers))
		wake_up_interruptible_poll(&ring->readers, EPOLLIN | EPOLLRDNORM);
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
	bool wake = false;
	unsigned int i;

	recs[0].type = UTRACE_RECORD_EVENT;
	spin_lock(&ring->lock);
	if (ring->closed) {
		spin_unlock(&ring->lock);
		return;
	}
	ring_flush_lost(ring);
	if (!ring->lost && ring_room(ring, n)) {
		recs[0].time_ns = ktime_get_ns();
		for (i = 0; i < n; i++)
			ring->recs[(ring->head + i) & ring->mask] = recs[i];
		ring_publish(ring, n);
		wake = ring_wakes(ring, &recs[0]);
	} else {
		ring->lost += n;
	}
	spin_unlock(&ring->lock);
	if (wake)
		ring_wake(ring);
}

/*
 * The next slot, for one EVENT record, or NULL if the ring is closed or
 * full (the record is then counted as lost).  ring->lock held.
 */
static __always_inline struct utrace_record *ring_slot(struct utrace_ring *ring)
{
	if (unlikely(ring->closed))
		return NULL;
	if (unlikely(ring->lost))
		ring_flush_lost(ring);
	if (likely(!ring->lost && ring_room(ring, 1)))
		return &ring->recs[ring->head & ring->mask];
	ring->lost++;
	return NULL;
}

/* Publish the record ring_slot() gave; whether to wake.  ring->lock held. */
static __always_inline bool ring_commit(struct utrace_ring *ring, struct utrace_record *rec)
{
	rec->type = UTRACE_RECORD_EVENT;
	rec->time_ns = ktime_get_ns();
	ring_publish(ring, 1);
	return ring_wakes(ring, rec);
}

/*
 * An EVENT record's fields (the slot holds an old record: every one) but
 * @type and @time_ns.  @syscall: a SYSCALL_ENTRY/EXIT with @regs, known at
 * compile time where the caller knows it.
 */
static __always_inline void ring_fill(struct utrace_record *rec, u64 id, s32 tid,
				      unsigned int event, u32 action, struct pt_regs *regs,
				      s64 code, u64 clone_flags, s64 retval,
				      const kernel_siginfo_t *info, bool syscall)
{
	rec->event = event;
	rec->id = id;
	rec->tid = tid;
	rec->action = action;
	rec->retval = retval;
	rec->code = code;
	rec->clone_flags = clone_flags;
	rec->ip = syscall || regs ? instruction_pointer(regs) : 0;
	rec->signo = info ? info->si_signo : 0;
	rec->si_code = info ? info->si_code : 0;
	if (syscall) {
		utrace_fill_syscall(regs, event, &rec->syscall_nr, rec->args, &rec->retval);
	} else {
		rec->syscall_nr = -1;
		memset(rec->args, 0, sizeof(rec->args));
	}
}

/* A report with @regs at a system call's entry or exit. */
static bool ring_syscall_event(unsigned int event, struct pt_regs *regs)
{
	return regs &&
	       (event == _UTRACE_EVENT_SYSCALL_ENTRY || event == _UTRACE_EVENT_SYSCALL_EXIT);
}

/* Reserve, fill in place, publish: one record, under the lock, never waiting. */
static __always_inline void ring_write(struct utrace_ring *ring, u64 id, s32 tid,
				       unsigned int event, u32 action, struct pt_regs *regs,
				       s64 code, u64 clone_flags, s64 retval,
				       const kernel_siginfo_t *info, bool syscall)
{
	struct utrace_record *rec;
	bool wake = false;

	spin_lock(&ring->lock);
	rec = ring_slot(ring);
	if (rec) {
		ring_fill(rec, id, tid, event, action, regs, code, clone_flags, retval, info,
			  syscall);
		wake = ring_commit(ring, rec);
	}
	spin_unlock(&ring->lock);
	if (wake)
		ring_wake(ring);
}

/**
 * utrace_ring_fill - an EVENT record built elsewhere (a group's first)
 * @rec:	the record; @type and @time_ns are left for
 *		utrace_ring_write_group()
 *
 * The other arguments are utrace_ring_write()'s.
 */
void utrace_ring_fill(struct utrace_record *rec, u64 id, s32 tid, unsigned int event, u32 action,
		      struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
		      const kernel_siginfo_t *info)
{
	ring_fill(rec, id, tid, event, action, regs, code, clone_flags, retval, info,
		  ring_syscall_event(event, regs));
}

/**
 * utrace_ring_write - write one observed report's record in place
 * @ring:	the ring
 * @id:		engine id
 * @tid:	the reporting thread, in the ring's file's pid namespace
 * @event:	event number
 * @action:	incoming action bits
 * @regs:	the thread's user registers, or NULL
 * @code:	event-specific value (see struct utrace_record)
 * @clone_flags: CLONE's flags
 * @retval:	CLONE: the inherited engine's id, 0 or -errno
 * @info:	SIGNAL*: the signal, else NULL
 *
 * Any report context; never waits.  A full ring drops and counts it.
 */
void utrace_ring_write(struct utrace_ring *ring, u64 id, s32 tid, unsigned int event, u32 action,
		       struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
		       const kernel_siginfo_t *info)
{
	ring_write(ring, id, tid, event, action, regs, code, clone_flags, retval, info,
		   ring_syscall_event(event, regs));
}

/**
 * utrace_ring_write_syscall - utrace_ring_write() of a SYSCALL_ENTRY or EXIT
 * @ring:	the ring
 * @id:		engine id
 * @tid:	the reporting thread, in the ring's file's pid namespace
 * @event:	_UTRACE_EVENT_SYSCALL_ENTRY or _UTRACE_EVENT_SYSCALL_EXIT
 * @action:	incoming action bits
 * @regs:	the thread's user registers
 *
 * The commonest record, with the arguments it does not need left out (the
 * same code, specialised by the compiler).
 */
void utrace_ring_write_syscall(struct utrace_ring *ring, u64 id, s32 tid, unsigned int event,
			       u32 action, struct pt_regs *regs)
{
	ring_write(ring, id, tid, event, action, regs, 0, 0, 0, NULL, true);
}

/* @n records that could not even be made (no memory): counted as lost. */
void utrace_ring_lose(struct utrace_ring *ring, unsigned int n)
{
	spin_lock(&ring->lock);
	if (!ring->closed)
		ring->lost += n;
	spin_unlock(&ring->lock);
}

/* The /dev/utrace file is closed: readers see the end of the stream. */
void utrace_ring_close(struct utrace_ring *ring)
{
	spin_lock(&ring->lock);
	ring->closed = true;
	spin_unlock(&ring->lock);
	wake_up_interruptible_poll(&ring->readers, EPOLLIN | EPOLLHUP);
}

/*
 * Records ready to read.  A pending LOST record is emitted here if there
 * is room, for a mapped reader, which makes room without a read(); if
 * there is none, it counts as ready all the same (a read() emits it).
 */
static bool ring_ready(struct utrace_ring *ring, bool *closed)
{
	bool ready;

	spin_lock(&ring->lock);
	ring_flush_lost(ring);
	ready = ring_unread(ring) || ring->lost;
	*closed = ring->closed;
	spin_unlock(&ring->lock);
	return ready;
}

static ssize_t ring_read_locked(struct utrace_ring *ring, char __user *buf, size_t want,
				bool nonblock)
{
	const size_t size = sizeof(struct utrace_record);
	u64 tail, n, i;
	bool closed;
	int ret;

	for (;;) {
		spin_lock(&ring->lock);
		ring_flush_lost(ring);
		tail = READ_ONCE(ring->hdr->tail);
		n = ring->head - tail;
		closed = ring->closed;
		spin_unlock(&ring->lock);
		/* A mapped reader stored a tail the ring cannot have. */
		if (n > (u64)ring->mask + 1)
			return -EIO;
		n = min_t(u64, n, want);
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
	spin_lock(&ring->lock);
	/* Release: our loads from the slots before a writer's stores. */
	smp_store_release(&ring->hdr->tail, tail + i);
	ring_flush_lost(ring);
	spin_unlock(&ring->lock);
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

/*
 * The whole area, shared (the reader stores @tail in it): offset 0, the
 * header page and the slots' pages; EINVAL otherwise.
 */
static int ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct utrace_ring *ring = file->private_data;

	if (vma->vm_pgoff || vma_pages(vma) != ring->pages || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	return remap_vmalloc_range(vma, ring->hdr, 0);
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
	.mmap = ring_mmap,
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
	BUILD_BUG_ON(sizeof(struct utrace_ring_header) > PAGE_SIZE);
	ring->pages = 1 + DIV_ROUND_UP((size_t)req.records * sizeof(*ring->recs), PAGE_SIZE);
	/* Zeroed, and mappable to user space. */
	ring->hdr = vmalloc_user(ring->pages << PAGE_SHIFT);
	if (!ring->hdr) {
		kfree(ring);
		return -ENOMEM;
	}
	ring->recs = (struct utrace_record *)((char *)ring->hdr + PAGE_SIZE);
	ring->hdr->records = req.records;
	ring->hdr->data_offset = PAGE_SIZE;
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
	/* Read-write: a shared writable mapping needs it (write() is EINVAL). */
	file = anon_inode_getfile("[utrace-ring]", &utrace_ring_fops, ring,
				  O_RDWR | ((req.flags & UTRACE_RING_NONBLOCK) ? O_NONBLOCK : 0));
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
