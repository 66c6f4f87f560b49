// SPDX-License-Identifier: GPL-2.0
/*
 * The user-engine bridge: a UTRACE_ENGINE_USER engine hands each report to
 * the process that attached it, through that process's /dev/utrace file.
 *
 * The traced thread, in its callback (process context, may sleep), queues a
 * struct utrace_report_msg on the bridge and sleeps in TASK_TRACED (it is in
 * a tracing stop, "t" in /proc, not a "D" sleep the hung-task detector would
 * blame) until the reply is written, the file is closed, or it gets SIGKILL
 * (which wakes __TASK_TRACED sleepers); then it applies the reply's register
 * changes to its own registers and returns the reply's action.  Reports
 * from contexts that may not sleep (DEATH is atomic, REAP runs in a worker)
 * are queued without waiting and need no reply.
 *
 * Ownership: a waiting report belongs to the thread that made it (on its
 * stack); the bridge lock protects the lists, the reader only moves a report
 * from "queued" to "waiting" and copies it under the lock.  An asynchronous
 * report belongs to the queue and is freed by whoever takes it off.
 * The bridge is reference-counted: the file holds one, each engine another.
 * It also stands for its file in engines.c's ownership checks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/kref.h>
#include <linux/overflow.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <asm/syscall.h>

#include "uapi/utrace.h"
#include "utrace_internal.h"

struct utrace_bridge {
	struct kref kref;
	spinlock_t lock;		/* the lists, @seq, @closed */
	wait_queue_head_t readers;	/* poll() and read() */
	struct list_head queued;	/* reports not read yet */
	struct list_head waiting;	/* read, waiting for a reply */
	struct pid_namespace *pid_ns;	/* of the opener: tids are in it */
	kuid_t euid;			/* of the opener: its persistent engines */
	bool admin;			/* the opener had CAP_SYS_ADMIN (init ns) */
	struct file *file;		/* unreferenced; valid while !@closed */
	struct utrace_ring *ring;	/* set once (UTRACE_IOC_RING), referenced */
	u64 seq;
	bool closed;
};

struct utrace_bridge_report {
	struct list_head node;
	struct task_struct *task;	/* waiting for the reply, or NULL */
	struct utrace_report_msg msg;
	struct utrace_reply_msg reply;
	bool replied;
	bool cancelled;	/* the engine was detached: stop waiting */
	bool async;
};

struct utrace_bridge *utrace_bridge_create(struct file *file)
{
	struct utrace_bridge *b = kzalloc(sizeof(*b), GFP_KERNEL);

	if (!b)
		return NULL;
	kref_init(&b->kref);
	spin_lock_init(&b->lock);
	init_waitqueue_head(&b->readers);
	INIT_LIST_HEAD(&b->queued);
	INIT_LIST_HEAD(&b->waiting);
	b->file = file;
	b->pid_ns = get_pid_ns(task_active_pid_ns(current));
	/* Decided at open, from the opener's credentials, as for any file. */
	b->euid = current_euid();
	b->admin = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
	return b;
}

/*
 * Whether the file may see and control a persistent engine of @owner: the
 * same effective uid, or CAP_SYS_ADMIN in the initial user namespace.
 */
bool utrace_bridge_may_use(const struct utrace_bridge *b, const struct cred *owner)
{
	return b->admin || uid_eq(b->euid, owner->euid);
}

static void utrace_bridge_free(struct kref *kref)
{
	struct utrace_bridge *b = container_of(kref, struct utrace_bridge, kref);

	if (b->ring)
		utrace_ring_put(b->ring);
	put_pid_ns(b->pid_ns);
	kfree(b);
}

void utrace_bridge_get(struct utrace_bridge *b)
{
	kref_get(&b->kref);
}

void utrace_bridge_put(struct utrace_bridge *b)
{
	kref_put(&b->kref, utrace_bridge_free);
}

/* The file is closed: release every waiting thread, drop unread reports. */
void utrace_bridge_close(struct utrace_bridge *b)
{
	struct utrace_bridge_report *r, *next;
	LIST_HEAD(drop);

	spin_lock(&b->lock);
	b->closed = true;
	list_for_each_entry_safe(r, next, &b->queued, node) {
		if (r->async)
			list_move(&r->node, &drop);
		else
			utrace_kcall(wake_up_state)(r->task, __TASK_TRACED);
	}
	list_for_each_entry(r, &b->waiting, node)
		utrace_kcall(wake_up_state)(r->task, __TASK_TRACED);
	spin_unlock(&b->lock);
	list_for_each_entry_safe(r, next, &drop, node)
		kfree(r);
	if (utrace_bridge_ring(b))
		utrace_ring_close(b->ring);
}

/* The file's ring, or NULL; it stays until the bridge is freed. */
struct utrace_ring *utrace_bridge_ring(struct utrace_bridge *b)
{
	/* Pairs with the release below: a ring seen is a ring initialised. */
	return smp_load_acquire(&b->ring);
}

/* Give the file its ring (a reference of its own): EBUSY if it has one. */
int utrace_bridge_set_ring(struct utrace_bridge *b, struct utrace_ring *ring)
{
	int ret = -EBUSY;

	spin_lock(&b->lock);
	if (!b->ring && !b->closed) {
		utrace_ring_get(ring);
		/* Readers without b->lock (reports) see it initialised. */
		smp_store_release(&b->ring, ring);
		ret = 0;
	}
	spin_unlock(&b->lock);
	return ret;
}

/* Whether the file was closed (its engines are being detached). */
bool utrace_bridge_closed(struct utrace_bridge *b)
{
	return READ_ONCE(b->closed);
}

/*
 * Captured arguments (UTRACE_IOC_SET_SYSCALLS): STRING records built in a
 * buffer of the reporting thread, at SYSCALL_ENTRY, where user memory may
 * be read (and faulted in) -- never under the ring's lock.
 */
struct capture {
	unsigned int n;			/* records in @recs */
	unsigned int max;		/* room in @recs */
	u64 id;
	s32 tid;
	char buf[UTRACE_STRING_MAX + 1];
	struct utrace_record recs[];	/* [0] the EVENT record */
};

#define CAPTURE_RECS	(1 + UTRACE_CAPTURE_MAX_RECORDS)
/* The records one string takes at most. */
#define CAPTURE_STRING_RECS	DIV_ROUND_UP(UTRACE_STRING_MAX, UTRACE_DATA_BYTES)

static struct utrace_record_data *capture_rec(struct capture *c, unsigned int arg,
					      unsigned int index, u32 flags)
{
	struct utrace_record_data *d = (struct utrace_record_data *)&c->recs[c->n++];

	memset(d, 0, sizeof(*d));
	d->type = UTRACE_RECORD_STRING;
	d->arg = arg;
	d->id = c->id;
	d->tid = c->tid;
	d->index = index;
	d->flags = flags;
	return d;
}

/*
 * The string at @uptr as records of @index, leaving @reserve records free.
 * Returns false if it was cut for want of records (the group's bound).
 */
static bool capture_string(struct capture *c, unsigned int arg, unsigned int index, u32 flags,
			   const char __user *uptr, unsigned int reserve)
{
	struct utrace_record_data *d;
	bool truncated;
	long len, off = 0;

	if (c->n + reserve >= c->max)
		return false;
	len = strncpy_from_user(c->buf, uptr, sizeof(c->buf));
	truncated = len > UTRACE_STRING_MAX;
	if (len < 0) {
		capture_rec(c, arg, index, flags | UTRACE_DATA_FAULT);
		return true;
	}
	len = min_t(long, len, UTRACE_STRING_MAX);
	do {
		long chunk = min_t(long, len - off, UTRACE_DATA_BYTES);

		d = capture_rec(c, arg, index, flags);
		memcpy(d->data, c->buf + off, chunk);
		d->len = chunk;
		off += chunk;
		if (off < len) {
			if (c->n + reserve >= c->max) {
				d->flags |= UTRACE_DATA_TRUNCATED;
				return false;
			}
			d->flags |= UTRACE_DATA_MORE;
		}
	} while (off < len);
	if (truncated)
		d->flags |= UTRACE_DATA_TRUNCATED;
	return true;
}

/* A NULL-terminated array of string pointers at @uptr (native pointers). */
static void capture_argv(struct capture *c, unsigned int arg, const void __user *uptr)
{
	const u32 flags = UTRACE_DATA_ARGV;
	unsigned int i, n;
	unsigned long p;
	u32 end = 0;

	if (c->n >= c->max)
		return;
	for (i = 0;; i++) {
		if (get_user(p, (const unsigned long __user *)uptr + i)) {
			end = UTRACE_DATA_FAULT;
			break;
		}
		if (!p)
			break;
		if (i == UTRACE_ARGV_MAX) {
			end = UTRACE_DATA_TRUNCATED;
			break;
		}
		/* Keep one record for the end. */
		n = c->n;
		if (!capture_string(c, arg, i, flags, (const char __user *)p, 1)) {
			end = UTRACE_DATA_TRUNCATED;
			if (c->n != n)	/* a part of it is there */
				i++;
			break;
		}
	}
	capture_rec(c, arg, i, flags | UTRACE_DATA_ARGV_END | end);
}

/*
 * Fill @c with the arguments @capture names (UTRACE_SYSCALL_STRING/ARGV
 * bits), in increasing argument order, after @c->recs[0].
 */
static void capture_args(struct capture *c, const struct utrace_record *rec, u16 capture)
{
	unsigned int a;

	for (a = 0; a < 6; a++) {
		const void __user *uptr = u64_to_user_ptr(rec->args[a]);

		if (capture & UTRACE_SYSCALL_STRING(a))
			capture_string(c, a, 0, 0, uptr, 0);
		else if (capture & UTRACE_SYSCALL_ARGV(a))
			capture_argv(c, a, uptr);
	}
}

/*
 * The records @capture may take: CAPTURE_STRING_RECS a string, the
 * group's bound with an argv.  A path-taking call's group then fits one
 * small allocation, not the bound's 8 KiB and more (a page allocation of
 * order 2, which init_on_alloc clears whole, at every captured call).
 */
static unsigned int capture_room(u16 capture)
{
	unsigned int a, n = 1;

	for (a = 0; a < 6; a++) {
		if (capture & UTRACE_SYSCALL_ARGV(a))
			return CAPTURE_RECS;
		if (capture & UTRACE_SYSCALL_STRING(a))
			n += CAPTURE_STRING_RECS;
	}
	return min_t(unsigned int, n, CAPTURE_RECS);
}

/* At SYSCALL_ENTRY, in the thread: @rec and its captured arguments. */
static void observe_capture(struct utrace_ring *ring, struct utrace_record *rec, u16 capture)
{
	const unsigned int max = capture_room(capture);
	struct capture *c;

	BUILD_BUG_ON(sizeof(struct utrace_record_data) != sizeof(struct utrace_record));
	/* One allocation: the buffer and the records together. */
	c = kmalloc(struct_size(c, recs, max), GFP_KERNEL | __GFP_NOWARN);
	if (!c) {
		/* Never silent: the record is counted as lost. */
		utrace_ring_lose(ring, 1);
		return;
	}
	c->recs[0] = *rec;
	c->n = 1;
	c->max = max;
	c->id = rec->id;
	c->tid = rec->tid;
	capture_args(c, rec, capture);
	c->recs[0].code = c->n - 1;
	utrace_ring_write_group(ring, c->recs, c->n);
	kfree(c);
}

/* With captured arguments: built here, then written with them in one go. */
static noinline void observe_captured(struct utrace_ring *ring, u64 id, s32 tid, u32 action,
				      struct pt_regs *regs, u16 capture)
{
	struct utrace_record rec;

	utrace_ring_fill(&rec, id, tid, _UTRACE_EVENT_SYSCALL_ENTRY, action, regs, 0, 0, 0, NULL);
	rec.type = 0;
	rec.time_ns = 0;
	might_fault();
	observe_capture(ring, &rec, capture);
}

/**
 * utrace_bridge_observe - write one observed report into the file's ring
 * @b:		the bridge, which has a ring (checked at attach)
 * @id:		engine id
 * @tid:	the reporting thread, utrace_bridge_tid()
 * @event:	event number
 * @action:	incoming action bits
 * @regs:	the thread's user registers, or NULL
 * @code:	event-specific value (see struct utrace_record)
 * @clone_flags: CLONE's flags
 * @retval:	CLONE: the inherited engine's id, 0 or -errno
 * @info:	SIGNAL*: the signal, else NULL
 * @capture:	SYSCALL_ENTRY: UTRACE_SYSCALL_STRING/ARGV bits, else 0
 *
 * Any report context: no allocation, no sleep, the ring's lock only; the
 * record is written in place, in its slot -- but with @capture
 * (SYSCALL_ENTRY, in the thread, which may sleep and fault) the arguments
 * are copied from user memory into an allocated buffer first, then written
 * with the record in one go.
 */
void utrace_bridge_observe(struct utrace_bridge *b, u64 id, s32 tid, unsigned int event,
			   u32 action, struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
			   kernel_siginfo_t *info, u16 capture)
{
	struct utrace_ring *ring = utrace_bridge_ring(b);

	if (!ring)
		return;
	if (capture && regs && event == _UTRACE_EVENT_SYSCALL_ENTRY)
		observe_captured(ring, id, tid, action, regs, capture);
	else
		utrace_ring_write(ring, id, tid, event, action, regs, code, clone_flags, retval,
				  info);
}

/*
 * @pid's number in the file's opener's pid namespace, 0 if it has none
 * there: fixed for the life of the struct pid (an engine's is).
 */
s32 utrace_bridge_tid(struct utrace_bridge *b, struct pid *pid)
{
	return pid_nr_ns(pid, b->pid_ns);
}

/*
 * One of the file's descriptors was closed (flush, on every close): a
 * waiting thread looks again at who could still answer (utrace_bridge_orphaned()).
 */
void utrace_bridge_flush(struct utrace_bridge *b)
{
	struct utrace_bridge_report *r;

	spin_lock(&b->lock);
	list_for_each_entry(r, &b->queued, node)
		if (!r->async)
			utrace_kcall(wake_up_state)(r->task, __TASK_TRACED);
	list_for_each_entry(r, &b->waiting, node)
		utrace_kcall(wake_up_state)(r->task, __TASK_TRACED);
	spin_unlock(&b->lock);
}

static int count_fds(const void *p, struct file *f, unsigned int fd)
{
	const struct file *const *file = p;

	if (f == file[0])
		(*(unsigned long *)file[1])++;
	return 0;
}

/**
 * utrace_bridge_orphaned - whether nobody can ever act for @b on current
 * @b:		the bridge of the file that owns an engine of current
 *
 * Whether nobody can ever answer a report of current, or end its stop,
 * through @b's file: current's thread group is exiting (prepare_signal()
 * drops every further signal, so a SIGKILL can no longer end the wait or
 * the stop), and every reference to the file is a descriptor of current's
 * own file table, which no other process shares.  The group's threads
 * read no more (they are killed too) and keep the table until
 * exit_files(), after the reports: without this, a task that holds the
 * only copy of its engine's file waits for itself forever.  A closed file
 * is orphaned too.  Used by the reply wait below (in TASK_TRACED) and by
 * utrace_engines_exit_orphans() (a stop); takes spinlocks only.
 */
bool utrace_bridge_orphaned(struct utrace_bridge *b)
{
	struct files_struct *files = current->files;
	unsigned long fds = 0;
	const void *p[2];
	struct file *file;
	bool orphaned;

	if (!(current->signal->flags & SIGNAL_GROUP_EXIT) || !files ||
	    atomic_read(&files->count) > READ_ONCE(current->signal->nr_threads))
		return false;
	rcu_read_lock();	/* a file is freed after a grace period */
	file = READ_ONCE(b->closed) ? NULL : b->file;
	if (!file) {
		rcu_read_unlock();
		return true;
	}
	p[0] = file;
	p[1] = &fds;
	iterate_fd(files, 0, count_fds, p);
	orphaned = file_count(file) <= fds;
	rcu_read_unlock();
	return orphaned;
}

/* Apply a reply's register and signal changes to the current thread. */
static void apply_reply(const struct utrace_reply_msg *reply, struct pt_regs *regs,
			kernel_siginfo_t *info)
{
	if (info && (reply->set & UTRACE_REPLY_SET_SIGNO) && reply->signo != info->si_signo) {
		/* A different signal: as ptrace does, it looks sent by kill(). */
		clear_siginfo(info);
		info->si_signo = reply->signo;
		info->si_code = SI_USER;
	}
	if (!regs)
		return;
	if (reply->set & UTRACE_REPLY_SET_SYSCALL_NR)
		utrace_arch_set_syscall_nr(regs, reply->syscall_nr);
	if (reply->set & UTRACE_REPLY_SET_ARGS) {
		unsigned long args[6];
		unsigned int i;

		for (i = 0; i < 6; i++)
			args[i] = reply->args[i];
		utrace_arch_set_syscall_args(regs, args);
	}
	if (reply->set & UTRACE_REPLY_SET_RETVAL)
		utrace_arch_set_return_value(regs, reply->retval);
}

/**
 * utrace_bridge_report - hand one report to user space
 * @b:		the bridge
 * @id:		engine id
 * @pid:	the reporting thread
 * @event:	event number
 * @action:	incoming action bits
 * @regs:	the thread's user registers, or NULL
 * @code:	event-specific value (see struct utrace_report_msg)
 * @clone_flags: CLONE's flags
 * @retval:	CLONE: the inherited engine's id, 0 or -errno (else 0)
 * @info:	SIGNAL*: the signal (a reply may change it), else NULL
 * @notify:	JCTL's notify
 * @wait:	wait for the reply (sleepable context, @current is the thread)
 * @detached:	set (before utrace_bridge_cancel()) when the engine is detached
 *
 * Returns the action to return from the callback.
 */
u32 utrace_bridge_report(struct utrace_bridge *b, u64 id, struct pid *pid, unsigned int event,
			 u32 action, struct pt_regs *regs, s64 code, u64 clone_flags, s64 retval,
			 kernel_siginfo_t *info, int notify, bool wait, const bool *detached)
{
	struct utrace_bridge_report local, *r = &local;
	u32 ret = UTRACE_RESUME;

	if (!wait) {
		r = kzalloc(sizeof(*r), GFP_ATOMIC);
		if (!r)
			return UTRACE_RESUME;
		r->async = true;
	} else {
		memset(r, 0, sizeof(*r));
		r->task = current;
	}
	r->msg.id = id;
	r->msg.event = event;
	r->msg.action = action;
	r->msg.flags = wait ? UTRACE_MSG_NEEDS_REPLY : 0;
	r->msg.syscall_nr = -1;
	r->msg.code = code;
	r->msg.clone_flags = clone_flags;
	r->msg.retval = retval;
	r->msg.notify = notify;
	if (info) {
		r->msg.signo = info->si_signo;
		r->msg.si_code = info->si_code;
		r->msg.si_errno = info->si_errno;
	}
	if (regs) {
		r->msg.ip = instruction_pointer(regs);
		r->msg.sp = user_stack_pointer(regs);
		if (event == _UTRACE_EVENT_SYSCALL_ENTRY || event == _UTRACE_EVENT_SYSCALL_EXIT)
			utrace_fill_syscall(regs, event, &r->msg.syscall_nr, r->msg.args,
					    &r->msg.retval);
	}

	/*
	 * A waiting report is in its stop before anyone can read it, as a
	 * ptrace stop is before its tracer's wait sees it: whoever reads the
	 * report finds the thread "t (tracing stop)".
	 */
	if (wait)
		set_special_state(TASK_TRACED);
	spin_lock(&b->lock);
	if (b->closed || READ_ONCE(*detached)) {
		spin_unlock(&b->lock);
		__set_current_state(TASK_RUNNING);
		if (r->async)
			kfree(r);
		return UTRACE_RESUME;
	}
	r->msg.tid = pid_nr_ns(pid, b->pid_ns);
	r->msg.seq = ++b->seq;
	list_add_tail(&r->node, &b->queued);
	spin_unlock(&b->lock);
	wake_up_interruptible(&b->readers);
	if (!wait)
		return UTRACE_RESUME;

	/*
	 * Test after setting the state: a reply, a close, a flush or SIGKILL
	 * that comes in between wakes us from TASK_TRACED, so none is lost.
	 * The waker holds b->lock, and we unlink under it, so it never sees us
	 * gone.  In an exiting group, where SIGKILL cannot come, we also look
	 * again ten times a second: a thread of the group that held the file
	 * for a read() or write() drops it without a wakeup.
	 */
	for (;;) {
		if (READ_ONCE(r->replied) || READ_ONCE(r->cancelled) || READ_ONCE(b->closed) ||
		    fatal_signal_pending(current) || utrace_bridge_orphaned(b))
			break;
		if (current->signal->flags & SIGNAL_GROUP_EXIT)
			utrace_schedule_traced_timeout(HZ / 10);
		else
			schedule();
		set_special_state(TASK_TRACED);
	}
	__set_current_state(TASK_RUNNING);

	spin_lock(&b->lock);
	list_del(&r->node);
	if (r->replied)
		ret = r->reply.action;
	spin_unlock(&b->lock);
	if (r->replied)
		apply_reply(&r->reply, regs, info);
	return ret;
}

/*
 * Engine @id was detached (its *detached flag is set): a thread waiting for
 * a reply to it stops waiting.  A report made after this sees the flag.
 */
void utrace_bridge_cancel(struct utrace_bridge *b, u64 id)
{
	struct utrace_bridge_report *r;

	spin_lock(&b->lock);
	list_for_each_entry(r, &b->queued, node) {
		if (r->msg.id == id && !r->async) {
			WRITE_ONCE(r->cancelled, true);
			utrace_kcall(wake_up_state)(r->task, __TASK_TRACED);
		}
	}
	list_for_each_entry(r, &b->waiting, node) {
		if (r->msg.id == id) {
			WRITE_ONCE(r->cancelled, true);
			utrace_kcall(wake_up_state)(r->task, __TASK_TRACED);
		}
	}
	spin_unlock(&b->lock);
}

ssize_t utrace_bridge_read(struct utrace_bridge *b, char __user *buf, size_t len,
			   bool nonblock)
{
	struct utrace_bridge_report *r;
	struct utrace_report_msg msg;
	bool async;
	int ret;

	if (len < sizeof(msg))
		return -EINVAL;
	for (;;) {
		spin_lock(&b->lock);
		r = list_first_entry_or_null(&b->queued, struct utrace_bridge_report, node);
		if (r)
			break;
		spin_unlock(&b->lock);
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(b->readers, !list_empty(&b->queued));
		if (ret)
			return ret;
	}
	msg = r->msg;
	async = r->async;
	if (async)
		list_del(&r->node);
	else
		list_move_tail(&r->node, &b->waiting);
	spin_unlock(&b->lock);
	if (async)
		kfree(r);
	if (copy_to_user(buf, &msg, sizeof(msg)))
		return -EFAULT;
	return sizeof(msg);
}

ssize_t utrace_bridge_write(struct utrace_bridge *b, const char __user *buf, size_t len)
{
	struct utrace_bridge_report *r;
	struct utrace_reply_msg reply;
	bool found = false;

	if (len != sizeof(reply))
		return -EINVAL;
	if (copy_from_user(&reply, buf, sizeof(reply)))
		return -EFAULT;
	if (utrace_resume_action(reply.action) >= UTRACE_RESUME_MAX ||
	    (reply.action & ~(UTRACE_RESUME_MASK | UTRACE_SIGNAL_MASK | UTRACE_SIGNAL_HOLD)) ||
	    (reply.set & ~(UTRACE_REPLY_SET_SYSCALL_NR | UTRACE_REPLY_SET_ARGS |
			   UTRACE_REPLY_SET_RETVAL | UTRACE_REPLY_SET_SIGNO)) ||
	    ((reply.set & UTRACE_REPLY_SET_SIGNO) && (reply.signo <= 0 || reply.signo > _NSIG)) ||
	    reply.__pad)
		return -EINVAL;

	spin_lock(&b->lock);
	list_for_each_entry(r, &b->waiting, node) {
		if (r->msg.seq == reply.seq && !r->replied) {
			r->reply = reply;
			WRITE_ONCE(r->replied, true);
			utrace_kcall(wake_up_state)(r->task, __TASK_TRACED);
			found = true;
			break;
		}
	}
	spin_unlock(&b->lock);
	return found ? sizeof(reply) : -ENOENT;
}

__poll_t utrace_bridge_poll(struct utrace_bridge *b, struct file *file, poll_table *wait)
{
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &b->readers, wait);
	spin_lock(&b->lock);
	if (!list_empty(&b->queued))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&b->lock);
	return mask;
}
