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

/*
 * Bumped on any incompatible change of this header.
 * 2: struct utrace_ioc_attach gained @flags (UTRACE_ENGINE_PERSISTENT) and
 *    a reserved word, struct utrace_ioc_engine_info @flags and @owner_uid;
 *    reserved fields must be 0; engines belong to the file that attached
 *    them unless persistent (docs/SECURITY.md).
 * (Additions that leave every old request and its answer as they were do
 * not bump it: UTRACE_ENGINE_OBSERVE, UTRACE_IOC_RING and struct
 * utrace_record came in version 2.  A module without them answers
 * UTRACE_IOC_RING with ENOTTY and the flag with EINVAL.  So did, later in
 * version 2, UTRACE_ENGINE_INHERIT (EINVAL from a module without it),
 * UTRACE_IOC_SET_SYSCALLS (ENOTTY) and UTRACE_RECORD_STRING records (only
 * a table with capture bits makes them).)
 */
#define UTRACE_ABI_VERSION	2

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

/*
 * Engines shipped with the module, attached to a thread through /dev/utrace.
 * Engine event masks use the kernel's UTRACE_EVENT() bits (<linux/utrace.h>):
 * QUIESCE 0, REAP 1, CLONE 2, EXEC 3, EXIT 4, DEATH 5, SYSCALL_ENTRY 6,
 * SYSCALL_EXIT 7, SIGNAL 8, SIGNAL_IGN 9, SIGNAL_STOP 10, SIGNAL_TERM 11,
 * SIGNAL_CORE 12, JCTL 13.
 */
#define UTRACE_NEVENTS		14
#define UTRACE_EVENTS_ALL	((1ULL << UTRACE_NEVENTS) - 1)

/**
 * enum utrace_engine_type - engines /dev/utrace can attach
 * @UTRACE_ENGINE_COUNT:	counts each event, never stops the thread
 * @UTRACE_ENGINE_STOPPER:	counts, and stops the thread at each event in
 *				its stop mask until told to resume
 * @UTRACE_ENGINE_USER:		the user-engine bridge: each report is read
 *				from the /dev/utrace file that attached it
 *				(struct utrace_report_msg), and the thread waits
 *				until a struct utrace_reply_msg is written back
 *				(an action and optional register changes).
 *				Closing the file detaches its engines.
 */
enum utrace_engine_type {
	UTRACE_ENGINE_COUNT = 1,
	UTRACE_ENGINE_STOPPER = 2,
	UTRACE_ENGINE_USER = 3,
};

/*
 * Resume actions for UTRACE_IOC_CONTROL: the kernel's enum
 * utrace_resume_action.  (Named _ACTION_ so that none is hidden by an ioctl
 * macro: UTRACE_IOC_DETACH is the ioctl.)
 */
enum utrace_ioc_action {
	UTRACE_IOC_ACTION_STOP = 0,
	UTRACE_IOC_ACTION_INTERRUPT = 1,
	UTRACE_IOC_ACTION_REPORT = 2,
	UTRACE_IOC_ACTION_SINGLESTEP = 3,
	UTRACE_IOC_ACTION_BLOCKSTEP = 4,
	UTRACE_IOC_ACTION_RESUME = 5,
	UTRACE_IOC_ACTION_DETACH = 6,
};

/*
 * Engine flags (struct utrace_ioc_attach, struct utrace_ioc_engine_info).
 * UTRACE_ENGINE_PERSISTENT: a count or stopper engine that outlives the file
 * that attached it; it belongs to the attacher's effective uid (any file
 * opened with that euid, or with CAP_SYS_ADMIN, may list and control it)
 * and stays until it is detached or the module unloads.  Without it, an
 * engine belongs to its file alone and is detached when the file is closed.
 */
#define UTRACE_ENGINE_PERSISTENT	0x1
/*
 * UTRACE_ENGINE_OBSERVE: for UTRACE_ENGINE_USER only, on a file that has a
 * ring (UTRACE_IOC_RING; EINVAL without one).  The engine's @stop_events
 * become the events that wait for a reply, as a user engine's reports
 * always do without the flag; every other event in @events is *observed*:
 * the reporting thread writes a struct utrace_record into the file's ring
 * and goes on, never stopped, never waiting (a full ring drops the record
 * and counts it: struct utrace_record, UTRACE_RECORD_LOST).
 * UTRACE_IOC_SET_STOP_EVENTS changes the waiting set later.
 */
#define UTRACE_ENGINE_OBSERVE		0x2
/*
 * UTRACE_ENGINE_INHERIT: for UTRACE_ENGINE_USER with UTRACE_ENGINE_OBSERVE
 * only (EINVAL otherwise).  When the engine's thread creates a thread or a
 * process (any clone, fork or vfork without CLONE_UNTRACED, as ptrace's
 * auto-attach), the module attaches to the child, in the parent's CLONE
 * report, before the child runs its first instruction, an engine of the
 * same type, flags (this one included), events, stop events and syscall
 * table (UTRACE_IOC_SET_SYSCALLS; shared, not copied), owned by the same
 * /dev/utrace file and writing into the same ring.  It has its own engine
 * id, which the child's records carry; the CLONE record of the parent
 * (struct utrace_record @retval, also struct utrace_report_msg @retval
 * for a CLONE that waits for a reply) tells it:
 *   > 0	the child's new engine id (its records follow, never before);
 *   0	nothing was inherited: CLONE_UNTRACED (io_uring and vhost
 *	workers are cloned so), or the engine lacks the flag;
 *   < 0	-errno: the attach failed (ENOMEM; EBADF: the file is being
 *	closed; ESHUTDOWN: the module is unloading).
 * The engine gets CLONE reports for this even when CLONE is not in its
 * @events; then only a failed inheritance writes a CLONE record, so that
 * a failure is never silent (a full ring counts it in a LOST record, as
 * any record).  Permission: as ptrace's auto-attach of a traced task's
 * child, no new check (the attacher was allowed on the parent and the
 * child has the parent's credentials); the inherited engine keeps the
 * attacher's credentials, so a set-uid exec in the child is unsafe
 * exactly as in the parent (docs/SECURITY.md).
 */
#define UTRACE_ENGINE_INHERIT		0x4

/**
 * struct utrace_ioc_attach - UTRACE_IOC_ATTACH argument
 * @tid:	thread to attach to, in the caller's pid namespace
 * @type:	enum utrace_engine_type
 * @events:	event mask (UTRACE_EVENTS_ALL bits)
 * @stop_events: for UTRACE_ENGINE_STOPPER: events that stop (subset of @events);
 *		for UTRACE_ENGINE_USER with UTRACE_ENGINE_OBSERVE: the events
 *		that wait for a reply (the rest of @events are observed)
 * @id:		set by the module: the engine's id for the other ioctls, never
 *		used for another engine
 * @flags:	UTRACE_ENGINE_PERSISTENT (not for UTRACE_ENGINE_USER), or
 *		UTRACE_ENGINE_OBSERVE (for UTRACE_ENGINE_USER only), with
 *		UTRACE_ENGINE_INHERIT (with UTRACE_ENGINE_OBSERVE only)
 * @__reserved:	must be 0
 *
 * The caller must be allowed to ptrace the thread (ptrace_may_access() with
 * PTRACE_MODE_ATTACH_REALCREDS, checked under the thread's cred_guard_mutex:
 * the same rule, LSMs and Yama included, as PTRACE_ATTACH), and the thread
 * must not be in the caller's own thread group.
 *
 * Errors: ESRCH no such thread, or it is exiting; EPERM a kernel thread or
 * user worker (io_uring's iou-wrk-*, 6.12's vhost-<pid>: kernel code in a
 * user thread's name), the caller's own thread group, or the caller may not
 * trace it; EINVAL bad type, event or flag bits, a tid <= 0, a non-zero
 * reserved word, UTRACE_ENGINE_OBSERVE on another type or on a file without
 * a ring, UTRACE_ENGINE_INHERIT without UTRACE_ENGINE_OBSERVE; EAGAIN the
 * thread's group is in an exec that waits for its other threads (engines of
 * the caller may hold them): try again (only a caller that may trace it is
 * told so; others get EPERM); ENOMEM.
 */
struct utrace_ioc_attach {
	__s32 tid;
	__u32 type;
	__u64 events;
	__u64 stop_events;
	__u64 id;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct utrace_ioc_engine - argument of the per-engine ioctls
 * @id:		engine id from UTRACE_IOC_ATTACH
 * @arg:	UTRACE_IOC_SET_EVENTS: the new event mask;
 *		UTRACE_IOC_SET_STOP_EVENTS: the new stop mask;
 *		UTRACE_IOC_CONTROL: enum utrace_ioc_action;
 *		UTRACE_IOC_DETACH: reserved, must be 0
 *
 * The argument is checked first: EINVAL for event bits beyond
 * UTRACE_EVENTS_ALL, an unknown action, or a non-zero reserved @arg.
 */
struct utrace_ioc_engine {
	__u64 id;
	__u64 arg;
};

/* Engine states in struct utrace_ioc_engine_info */
#define UTRACE_ENGINE_STATE_ATTACHED	0	/* attached, task running */
#define UTRACE_ENGINE_STATE_STOPPED	1	/* the task is in a utrace stop */
#define UTRACE_ENGINE_STATE_DEAD	2	/* the task died; not reaped yet */
#define UTRACE_ENGINE_STATE_GONE	3	/* reaped, or detached by the engine */

/**
 * struct utrace_ioc_engine_info - UTRACE_IOC_ENGINE_INFO result
 * @id:		engine id (in)
 * @tid:	the thread, in the caller's pid namespace (0 once reaped)
 * @type:	enum utrace_engine_type
 * @state:	UTRACE_ENGINE_STATE_*
 * @events:	event mask
 * @stop_events: stop mask
 * @counts:	reports per event, indexed by event number
 * @stops:	how many times the engine stopped the thread
 * @last_event:	event number of the last report, or -1
 * @last_syscall: syscall number seen at the last syscall entry report
 * @exit_code:	code of the EXIT report, when there was one
 * @flags:	UTRACE_ENGINE_* flags it was attached with
 * @owner_uid:	effective uid of the attacher, in the caller's user namespace
 *		(the overflow uid if it has no mapping there)
 * @__reserved:	0
 *
 * Only @id is read.
 */
struct utrace_ioc_engine_info {
	__u64 id;
	__s32 tid;
	__u32 type;
	__u32 state;
	__u32 flags;
	__u64 events;
	__u64 stop_events;
	__u64 counts[UTRACE_NEVENTS];
	__u64 stops;
	__s64 last_event;
	__s64 last_syscall;
	__s64 exit_code;
	__u32 owner_uid;
	__u32 __reserved;
};

/**
 * struct utrace_ioc_list - UTRACE_IOC_LIST argument
 * @ids:	user pointer to an array of __u64 engine ids to fill
 * @count:	in: room in @ids; out: number of engines (may exceed room)
 * @__pad:	reserved, must be 0 (EINVAL)
 */
struct utrace_ioc_list {
	__u64 ids;
	__u32 count;
	__u32 __pad;
};

/* Bits of the action word, as the kernel's <linux/utrace.h> defines them. */
#define UTRACE_ACTION_RESUME_MASK	0x0f	/* enum utrace_ioc_action */
#define UTRACE_ACTION_SYSCALL_ABORT	0x10	/* reply at SYSCALL_ENTRY: skip the call */
#define UTRACE_ACTION_SYSCALL_RESUMED	0x100	/* report: a repeated SYSCALL_ENTRY */
/*
 * At the SIGNAL* events (and QUIESCE reports made from the signal path) bits
 * 4-7 are the signal disposition, the kernel's enum utrace_signal_action: in
 * a report what delivery would do so far, in a reply what to do.
 */
#define UTRACE_ACTION_SIGNAL_MASK	0xf0
#define UTRACE_ACTION_SIGNAL_DELIVER	0x00	/* as the sigaction says */
#define UTRACE_ACTION_SIGNAL_IGN	0x10	/* drop it */
#define UTRACE_ACTION_SIGNAL_TERM	0x20	/* kill the thread group */
#define UTRACE_ACTION_SIGNAL_CORE	0x30	/* kill with a core dump */
#define UTRACE_ACTION_SIGNAL_STOP	0x40	/* job control stop (SIGSTOP) */
#define UTRACE_ACTION_SIGNAL_TSTP	0x50	/* job control stop (SIGTSTP) */
#define UTRACE_ACTION_SIGNAL_REPORT	0x60	/* report: no signal, just a report */
#define UTRACE_ACTION_SIGNAL_HANDLER	0x70	/* report: a handler frame was set up */
#define UTRACE_ACTION_SIGNAL_HOLD	0x100	/* reply: put the signal back in the queue */

/* struct utrace_report_msg flags */
#define UTRACE_MSG_NEEDS_REPLY	0x1	/* the thread waits for a reply */

/**
 * struct utrace_report_msg - one report of a UTRACE_ENGINE_USER engine, read()
 * @seq:	report number, to quote in the reply
 * @id:		engine id
 * @tid:	the reporting thread, in the reader's pid namespace
 * @event:	event number (UTRACE_NEVENTS bits above)
 * @action:	what the other engines chose so far: resume action, plus
 *		UTRACE_ACTION_SYSCALL_* bits at syscall entry
 * @flags:	UTRACE_MSG_*
 * @syscall_nr:	at SYSCALL_ENTRY/EXIT: the system call number
 * @args:	at SYSCALL_ENTRY/EXIT: its six arguments
 * @retval:	at SYSCALL_EXIT: its return value
 * @ip:		user instruction pointer
 * @sp:		user stack pointer
 * @code:	EXIT: the exit code; DEATH: the exit signal; CLONE: the child's tid
 * @clone_flags: CLONE: the clone flags, exit signal in CSIGNAL (see
 *		report_clone in <linux/utrace.h>)
 * @signo:	SIGNAL*: the signal number (0 in a REPORT or HANDLER report)
 * @si_code:	SIGNAL*: its si_code
 * @si_errno:	SIGNAL*: its si_errno
 * @notify:	JCTL: CLD_STOPPED or CLD_CONTINUED if this thread tells the
 *		parent next, else 0 (@code is the JCTL type: CLD_STOPPED when
 *		stopping, CLD_CONTINUED when continued)
 */
struct utrace_report_msg {
	__u64 seq;
	__u64 id;
	__s32 tid;
	__u32 event;
	__u32 action;
	__u32 flags;
	__s64 syscall_nr;
	__u64 args[6];
	__s64 retval;
	__u64 ip;
	__u64 sp;
	__s64 code;
	__u64 clone_flags;
	__s32 signo;
	__s32 si_code;
	__s32 si_errno;
	__s32 notify;
};

/* struct utrace_reply_msg set bits */
#define UTRACE_REPLY_SET_SYSCALL_NR	0x1	/* at SYSCALL_ENTRY: run this call instead */
#define UTRACE_REPLY_SET_ARGS		0x2	/* at SYSCALL_ENTRY: these arguments */
/* the call's return value (with ABORT, or at SYSCALL_EXIT) */
#define UTRACE_REPLY_SET_RETVAL		0x4
/* SIGNAL*: deliver this signal instead (as if sent by kill(), SI_USER) */
#define UTRACE_REPLY_SET_SIGNO		0x8

/**
 * struct utrace_reply_msg - the answer to a report, write()
 * @seq:	the report's @seq
 * @action:	resume action (enum utrace_ioc_action), plus
 *		UTRACE_ACTION_SYSCALL_ABORT at SYSCALL_ENTRY, or a
 *		UTRACE_ACTION_SIGNAL_* disposition (and _HOLD) at SIGNAL*
 * @set:	UTRACE_REPLY_SET_* bits: which of the fields below apply
 * @syscall_nr:	new system call number
 * @args:	new arguments
 * @retval:	new return value, in the kernel's convention (-errno for errors)
 * @signo:	new signal number (1.._NSIG)
 * @__pad:	reserved, must be 0
 *
 * Errors of write(): EINVAL for a wrong size, unknown bits or a non-zero
 * reserved field, ENOENT if no thread waits for that @seq (it was killed,
 * or answered already).
 */
struct utrace_reply_msg {
	__u64 seq;
	__u32 action;
	__u32 set;
	__s64 syscall_nr;
	__u64 args[6];
	__s64 retval;
	__s32 signo;
	__u32 __pad;
};

/* UTRACE_IOC_RING flags */
#define UTRACE_RING_NONBLOCK	0x1	/* the ring descriptor is O_NONBLOCK */

#define UTRACE_RING_MIN_RECORDS	2
#define UTRACE_RING_MAX_RECORDS	65536

/**
 * struct utrace_ioc_ring - UTRACE_IOC_RING argument: give the file its ring
 * @records:	how many struct utrace_record the ring holds: a power of two,
 *		UTRACE_RING_MIN_RECORDS .. UTRACE_RING_MAX_RECORDS
 * @flags:	UTRACE_RING_* bits
 * @fd:		set by the module: a new descriptor (close-on-exec) from which
 *		the records are read; must be 0 on the way in
 * @wakeup:	a reader sleeping in read() or poll() is woken once this many
 *		records are unread (0 and 1: at every record; at most
 *		@records), and always by a DEATH record and by the close of
 *		the /dev/utrace file.  A read() or poll() that starts sees
 *		every record there is.  With more than 1, a reader polls with
 *		a timeout for the rest (as perf's wakeup_watermark): fewer
 *		wakeups, fewer context switches, bigger batches.
 *
 * One ring per /dev/utrace file, shared by every UTRACE_ENGINE_OBSERVE
 * engine attached through the file (a tracer of a process tree reads one
 * stream, in the order the records were written; each record names its
 * engine).  The ring lives while the file or the ring descriptor is open.
 *
 * The ring descriptor: read() returns as many whole records as fit in the
 * buffer (EINVAL if not one fits), oldest first; it waits for one if the
 * ring is empty, unless the descriptor is O_NONBLOCK (EAGAIN); it returns
 * 0 (end of file) once the ring is empty and the /dev/utrace file closed.
 * poll() says EPOLLIN when a record (or a LOST record) is ready, EPOLLHUP
 * once the file is closed.  Several readers share the stream (each record
 * goes to one of them).  write() is not supported (EINVAL).
 *
 * mmap() of the ring descriptor maps the ring itself, for reading the
 * records in place, without a copy and without a system call while there
 * are records (struct utrace_ring_header): MAP_SHARED, offset 0, and the
 * length of the header page plus @records records, rounded up to whole
 * pages (EINVAL otherwise).
 *
 * A slow reader: writers never wait.  A record that finds the ring full is
 * dropped and counted; the count is reported in band, as a record of type
 * UTRACE_RECORD_LOST, before the next record that fits (or as soon as a
 * read() or poll() finds room), so every dropped record is accounted for
 * in the stream.
 *
 * Errors: EINVAL a bad size, unknown @flags, a non-zero @fd, @wakeup
 * above @records; EBUSY
 * the file has a ring already (nothing changes); ENOMEM; EMFILE, ENFILE.
 */
struct utrace_ioc_ring {
	__u32 records;
	__u32 flags;
	__s32 fd;
	__u32 wakeup;
};

/**
 * struct utrace_ring_header - the first page of a mapped ring
 * @head:	records written since the ring was made; the module's (it never
 *		reads it back).  Load it with acquire ordering, then read the
 *		records below it.
 * @records:	the ring's size (struct utrace_ioc_ring @records)
 * @__pad0:	0
 * @data_offset: where the slots start, in bytes from the mapping's start:
 *		the page size
 * @__pad1:	0
 * @tail:	records consumed; the reader's.  Store it with release
 *		ordering once done with the records below it: their slots may
 *		then be written again.  Starts at 0.
 * @__pad2:	0
 *
 * Record number n (from 0) is in slot n % @records, struct utrace_record
 * at @data_offset + (n % @records) * 128; the unread ones are @tail ..
 * @head - 1.  A tail outside @head - @records .. @head reads as a full
 * ring: writers drop (and count) every record, and read() fails with EIO.
 * A LOST record waiting for room is written at the next record, or by a
 * poll() (or read()) that finds room.  Readers in place and read() must
 * not share a ring: each takes records by moving the same @tail.
 */
struct utrace_ring_header {
	__u64 head;
	__u32 records;
	__u32 __pad0;
	__u64 data_offset;
	__u8 __pad1[40];
	__u64 tail;		/* a cache line of its own */
	__u8 __pad2[56];
};

/* struct utrace_record types */
#define UTRACE_RECORD_EVENT	1	/* an observed report */
#define UTRACE_RECORD_LOST	2	/* @code records were dropped here */
#define UTRACE_RECORD_STRING	3	/* struct utrace_record_data */

/**
 * struct utrace_record - one record of a ring (128 bytes)
 * @type:	UTRACE_RECORD_*
 * @event:	EVENT: event number (UTRACE_NEVENTS bits above)
 * @id:		EVENT: engine id (0 in a LOST record)
 * @tid:	EVENT: the reporting thread, in the ring's file's opener's pid
 *		namespace (0 once it has none there)
 * @action:	EVENT: what the engines before it chose (as in struct
 *		utrace_report_msg; at signals the disposition so far)
 * @time_ns:	ktime_get_ns() when the record was written (records are in
 *		this order)
 * @syscall_nr:	at SYSCALL_ENTRY/EXIT: the system call number, else -1
 * @args:	at SYSCALL_ENTRY/EXIT: its six arguments
 * @retval:	at SYSCALL_EXIT: its return value (-errno for an error);
 *		CLONE: the child's inherited engine id, 0 or -errno
 *		(UTRACE_ENGINE_INHERIT)
 * @code:	EXIT: the exit code; DEATH: the exit signal; CLONE: the child's
 *		tid; QUIESCE: the event; JCTL: the type; LOST: how many
 *		records were dropped since the last LOST record (a lost
 *		group counts all its records); SYSCALL_ENTRY: how many
 *		UTRACE_RECORD_STRING records follow this one (captured
 *		arguments, UTRACE_IOC_SET_SYSCALLS), 0 without captures
 * @clone_flags: CLONE: the clone flags
 * @ip:		user instruction pointer (0 at DEATH and REAP)
 * @signo:	SIGNAL*: the signal number
 * @si_code:	SIGNAL*: its si_code
 */
struct utrace_record {
	__u32 type;
	__u32 event;
	__u64 id;
	__s32 tid;
	__u32 action;
	__u64 time_ns;
	__s64 syscall_nr;
	__u64 args[6];
	__s64 retval;
	__s64 code;
	__u64 clone_flags;
	__u64 ip;
	__s32 signo;
	__s32 si_code;
};

/* struct utrace_record_data flags */
#define UTRACE_DATA_MORE	0x1	/* the string goes on in the next record */
/* cut: at UTRACE_STRING_MAX, argv at UTRACE_ARGV_MAX or at the group's bound */
#define UTRACE_DATA_TRUNCATED	0x2
#define UTRACE_DATA_FAULT	0x4	/* the pointer could not be read */
#define UTRACE_DATA_ARGV_END	0x8	/* the end of an argv array */
#define UTRACE_DATA_ARGV	0x10	/* part of an argv capture (every record of it) */

#define UTRACE_DATA_BYTES	96	/* data bytes per record */
#define UTRACE_STRING_MAX	256	/* bytes captured per string, NUL excluded */
#define UTRACE_ARGV_MAX		32	/* argv elements captured */
#define UTRACE_CAPTURE_MAX_RECORDS 64	/* STRING records after one EVENT */

/**
 * struct utrace_record_data - a UTRACE_RECORD_STRING record (128 bytes)
 * @type:	UTRACE_RECORD_STRING
 * @arg:	the system call argument it comes from (0..5)
 * @id:		engine id, as in the EVENT record it follows
 * @tid:	the thread, as in the EVENT record it follows
 * @index:	argv element (0 for a string argument); in an ARGV_END
 *		record: the number of elements
 * @len:	bytes in @data (0 .. UTRACE_DATA_BYTES), no NUL counted or
 *		stored
 * @flags:	UTRACE_DATA_* bits
 * @__pad:	0
 * @data:	the bytes, as read from the tracee's memory
 *
 * Captured at SYSCALL_ENTRY, in the tracee, for the arguments its engine's
 * syscall table marks (UTRACE_IOC_SET_SYSCALLS), and written into the ring
 * right after the EVENT record (whose @code counts them), all in one go:
 * if the group does not fit, all of it is dropped and counted (LOST).  A
 * ring of fewer records than the group never takes it.
 *
 * A string argument: records of @index 0 with the string's bytes, each but
 * the last with MORE; at most UTRACE_STRING_MAX bytes, the last record
 * with TRUNCATED if the string is longer.  An unreadable pointer gives one
 * record with FAULT and @len 0 (the system call then fails natively, with
 * EFAULT; a NULL pointer is a FAULT too).
 * An argv argument (a NULL-terminated array of string pointers): each
 * element as a string above, @index 0, 1, ..., then one record with
 * ARGV_END and @index the number of elements seen, all with ARGV, TRUNCATED if there
 * were more than UTRACE_ARGV_MAX (or the group reached
 * UTRACE_CAPTURE_MAX_RECORDS), FAULT if the array could not be read.
 * Arguments come in increasing @arg order.
 */
struct utrace_record_data {
	__u32 type;
	__u32 arg;
	__u64 id;
	__s32 tid;
	__u16 index;
	__u16 len;
	__u32 flags;
	__u32 __pad;
	__u8 data[UTRACE_DATA_BYTES];
};

/* UTRACE_IOC_SET_SYSCALLS table entry bits */
#define UTRACE_SYSCALL_REPORT		0x1	/* report this system call */
#define UTRACE_SYSCALL_STRING(arg)	(1U << (1 + (arg)))	/* arg 0..5: a string */
#define UTRACE_SYSCALL_ARGV(arg)	(1U << (7 + (arg)))	/* arg 0..5: argv */
#define UTRACE_SYSCALL_VALID		0x1fff	/* every bit above */
#define UTRACE_SYSCALLS_MAX		1024	/* largest @nr */

/**
 * struct utrace_ioc_syscalls - UTRACE_IOC_SET_SYSCALLS argument
 * @id:		engine id (an engine of the caller's file, a persistent one
 *		included; ENOENT otherwise)
 * @table:	user pointer to __u16[@nr], or 0 with @nr 0
 * @nr:		entries in @table: 0 .. UTRACE_SYSCALLS_MAX
 * @__reserved:	must be 0
 *
 * Filters the engine's SYSCALL_ENTRY and SYSCALL_EXIT reports (of any
 * engine type) and chooses arguments to capture.  Entry i is for system
 * call number i of the thread's native ABI: UTRACE_SYSCALL_REPORT reports
 * it (ENTRY and EXIT, as @events says), and for an observing user engine
 * UTRACE_SYSCALL_STRING(a) captures argument a as a NUL-terminated string,
 * UTRACE_SYSCALL_ARGV(a) as a NULL-terminated array of strings (execve's
 * argv), at SYSCALL_ENTRY (struct utrace_record_data).  Capture bits
 * without UTRACE_SYSCALL_REPORT do nothing.  Once a table is set, numbers
 * >= @nr, and the compat numbers of a 32-bit task (x86's ia32, x32), are
 * not reported.  @nr 0 (and @table 0) removes the table: every call is
 * reported again, nothing captured.  A filtered-out call is decided in the
 * engine's callback before anything else: no record, no lock, no wait.
 *
 * The table is copied; engines inherited (UTRACE_ENGINE_INHERIT) share it
 * (reference-counted) as it was at their clone, and a later
 * UTRACE_IOC_SET_SYSCALLS on one engine changes that engine only.  A
 * report in progress finishes with the table it started with.
 *
 * Errors: EINVAL @nr above UTRACE_SYSCALLS_MAX, @table 0 with @nr, or @nr 0
 * with @table, a non-zero @__reserved, an entry with bits outside
 * UTRACE_SYSCALL_VALID; EFAULT @table unreadable; ENOENT no such engine;
 * ENOMEM.  The argument and its table are checked first (EINVAL, EFAULT),
 * whatever @id names.  On an error nothing changes.
 */
struct utrace_ioc_syscalls {
	__u64 id;
	__u64 table;
	__u32 nr;
	__u32 __reserved;
};

/*
 * Tracepoints (TRACE_SYSTEM utrace, kmod/utrace_trace.h) and the BPF metrics
 * (bpf/utrace_metrics.bpf.c) name engines by type, events by number and
 * stops and resumes by reason; these values are their ABI.
 *
 * Engine types: enum utrace_engine_type above, and UTRACE_ENGINE_MODULE (0)
 * for engines of other kernel modules (struct utrace_engine_ops.type unset).
 * UTRACE_METRICS_NR_TYPES bounds them: larger values are counted as 0.
 */
#define UTRACE_ENGINE_MODULE		0
#define UTRACE_METRICS_NR_TYPES		8

/*
 * Stop reasons: the event number (0 .. UTRACE_NEVENTS - 1) of the report the
 * engine answered UTRACE_STOP to, or UTRACE_STOP_REQUESTED when the stop
 * was asked for with utrace_control(UTRACE_STOP) and no report answered it.
 */
#define UTRACE_STOP_REQUESTED		UTRACE_NEVENTS

/* Resume reasons: why a stopped thread left its stop. */
enum utrace_resume_reason {
	UTRACE_RESUMED = 0,		/* no engine wants it stopped any more */
	UTRACE_RESUME_KILLED = 1,	/* a fatal signal ended the stop */
	UTRACE_RESUME_UNLOAD = 2,	/* the module is being unloaded */
};

#define UTRACE_IOC_VERSION	_IOR(UTRACE_IOC_MAGIC, 0x00, struct utrace_ioc_version)
#define UTRACE_IOC_PING		_IOWR(UTRACE_IOC_MAGIC, 0x01, struct utrace_ioc_ping)
#define UTRACE_IOC_ATTACH	_IOWR(UTRACE_IOC_MAGIC, 0x10, struct utrace_ioc_attach)
#define UTRACE_IOC_SET_EVENTS	_IOW(UTRACE_IOC_MAGIC, 0x11, struct utrace_ioc_engine)
#define UTRACE_IOC_CONTROL	_IOW(UTRACE_IOC_MAGIC, 0x12, struct utrace_ioc_engine)
#define UTRACE_IOC_DETACH	_IOW(UTRACE_IOC_MAGIC, 0x13, struct utrace_ioc_engine)
#define UTRACE_IOC_ENGINE_INFO	_IOWR(UTRACE_IOC_MAGIC, 0x14, struct utrace_ioc_engine_info)
#define UTRACE_IOC_LIST		_IOWR(UTRACE_IOC_MAGIC, 0x15, struct utrace_ioc_list)
#define UTRACE_IOC_SET_STOP_EVENTS _IOW(UTRACE_IOC_MAGIC, 0x16, struct utrace_ioc_engine)
#define UTRACE_IOC_RING		_IOWR(UTRACE_IOC_MAGIC, 0x17, struct utrace_ioc_ring)
#define UTRACE_IOC_SET_SYSCALLS	_IOW(UTRACE_IOC_MAGIC, 0x18, struct utrace_ioc_syscalls)

#endif /* _UAPI_UTRACE_H */
