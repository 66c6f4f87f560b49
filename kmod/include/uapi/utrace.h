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
 * UTRACE_IOC_RING with ENOTTY and the flag with EINVAL.)
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
 *		UTRACE_ENGINE_OBSERVE (for UTRACE_ENGINE_USER only)
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
 * a ring; EAGAIN the thread's group is in an exec that waits for its
 * other threads (engines of the caller may hold them): try again (only a
 * caller that may trace it is told so; others get EPERM); ENOMEM.
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
 * goes to one of them).  write() is not supported.
 *
 * A slow reader: writers never wait.  A record that finds the ring full is
 * dropped and counted; the count is reported in band, as a record of type
 * UTRACE_RECORD_LOST, before the next record that fits (or as soon as a
 * read() makes room), so every dropped record is accounted for in the
 * stream.
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

/* struct utrace_record types */
#define UTRACE_RECORD_EVENT	1	/* an observed report */
#define UTRACE_RECORD_LOST	2	/* @code records were dropped here */

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
 * @retval:	at SYSCALL_EXIT: its return value (-errno for an error)
 * @code:	EXIT: the exit code; DEATH: the exit signal; CLONE: the child's
 *		tid; QUIESCE: the event; JCTL: the type; LOST: how many
 *		records were dropped since the last LOST record
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

#endif /* _UAPI_UTRACE_H */
