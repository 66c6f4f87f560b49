// utrace_fuzz: a fuzzer for /dev/utrace (issue 12, deliverable 3).
//
// Several threads make random requests on a few open /dev/utrace files while
// a pool of child processes loops, forks, execs, exits and is killed: ioctls
// with random command numbers, sizes and directions, every real request with
// random and reserved bits, ids that are live, freed, another file's or
// another user's, reads of random lengths, valid and corrupted replies,
// replies to reports never made, twice, and after a detach, files closed
// while threads wait for their replies, user engines whose replies never
// come, attaches to children that exec, exit or are killed meanwhile.
//
// Every answer is checked against the errnos docs/SECURITY.md documents for
// the request, and against the ownership rules (another user's or another
// file's engine, and a detached one, do not exist: ENOENT); the run fails on
// an unexpected errno, on a child that ends in a way nothing explains, on an
// engine left behind, and on a hang (a watchdog: no progress for --watchdog
// seconds, from the setup to the end; it prints the state, wait channel,
// system call and kernel stack of every task of the run, and which hold
// /dev/utrace, before it ends the run with exit 3).  It prints the seed first
// and, at the end, every (request, errno) pair it saw and how often.
//
// Deterministic from the seed: each thread draws its requests from its own
// generator seeded from --seed; what they meet (which reports are queued,
// which child has exited) is up to the scheduler.
//
// usage: utrace_fuzz [--seed N] [--ops N] [--threads N] [--children N]
//                    [--watchdog SECONDS] [--no-users]
// As root, utrace.ko loaded.  --no-users: no process of another user (it
// needs the device opened to all for the run: mode 0666, restored after).
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <map>
#include <memory>
#include <mutex>
#include <poll.h>
#include <random>
#include <set>
#include <span>
#include <shared_mutex>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

#include "uapi/utrace.h"

namespace
{

constexpr const char *kDevice = "/dev/utrace";
constexpr uid_t kForeignUid = 65534;

// --- requests and the errnos each may give (docs/SECURITY.md) -------------

enum Op : unsigned {
	OpVersion,
	OpPing,
	OpAttach,
	OpSetEvents,
	OpSetStopEvents,
	OpControl,
	OpDetach,
	OpInfo,
	OpList,
	OpRead,
	OpWrite,
	OpPoll,
	OpBadIoctl,
	OpReopen,
	OpForeign,     // the other user's requests, counted by its process
	OpRing,        // UTRACE_IOC_RING: the file's ring of observed reports
	OpRingRead,    // read() and poll() of a ring descriptor
	OpSetSyscalls, // UTRACE_IOC_SET_SYSCALLS: filter and capture tables
	OpRingMap,     // mmap() of a ring descriptor, records read in place, a foreign tail
	NumOps
};

const char *const kOpNames[NumOps] = {
        "version", "ping",      "attach",       "set_events", "set_stop_events",
        "control", "detach",    "info",         "list",       "read",
        "write",   "poll",      "bad_ioctl",    "reopen",     "foreign",
        "ring",    "ring_read", "set_syscalls", "ring_map"};

// errno 0 is success.
const std::set<int> kAllowed[NumOps] = {
        /* version */ {0, EFAULT},
        /* ping */ {0, EFAULT},
        /* attach */ {0, EFAULT, EINVAL, ESRCH, EPERM, EAGAIN, ENOMEM},
        /* set_events */ {0, EFAULT, EINVAL, ENOENT, ESRCH, EALREADY, EINPROGRESS},
        /* set_stop_events */ {0, EFAULT, EINVAL, ENOENT},
        /* control */ {0, EFAULT, EINVAL, ENOENT, ESRCH, EALREADY, EINPROGRESS, EOPNOTSUPP},
        /* detach */ {0, EFAULT, EINVAL, ENOENT},
        /* info */ {0, EFAULT, ENOENT},
        /* list */ {0, EFAULT, EINVAL, ENOMEM},
        /* read */ {0, EFAULT, EINVAL, EAGAIN},
        /* write */ {0, EFAULT, EINVAL, ENOENT},
        /* poll */ {0},
        /* bad_ioctl */ {ENOTTY},
        /* reopen */ {0},
        /* foreign */ {0, EPERM, ESRCH, ENOENT, EINVAL, EAGAIN},
        /* ring */ {0, EFAULT, EINVAL, EBUSY, ENOMEM},
        /* ring_read */ {0, EFAULT, EINVAL, EAGAIN},
        /* set_syscalls */ {0, EFAULT, EINVAL, ENOENT, ENOMEM},
        /* ring_map */ {0, EINVAL, EIO, ENOMEM},
};

[[noreturn]] void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

std::atomic<bool> g_failed{false};
std::mutex g_print;

void die(const char *fmt, ...)
{
	std::lock_guard<std::mutex> l(g_print);
	va_list ap;
	va_start(ap, fmt);
	std::fprintf(stdout, "utrace_fuzz: FAIL: ");
	std::vfprintf(stdout, fmt, ap);
	std::fprintf(stdout, "\n");
	va_end(ap);
	std::fflush(stdout);
	::_exit(1);
}

// --- random numbers --------------------------------------------------------

uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

class Rng
{
public:
	explicit Rng(uint64_t seed) : g_(splitmix(seed)) {}
	uint64_t next() { return g_(); }
	uint64_t below(uint64_t n) { return n ? g_() % n : 0; }
	bool one_in(uint64_t n) { return below(n) == 0; }
	template <class T> const T &pick(const std::vector<T> &v) { return v[below(v.size())]; }

private:
	std::mt19937_64 g_;
};

// --- shared state ----------------------------------------------------------

struct Histogram {
	std::array<std::map<int, uint64_t>, NumOps> counts{};
	void add(Op op, int err) { counts[op][err]++; }
	void merge(const Histogram &o)
	{
		for (unsigned i = 0; i < NumOps; i++)
			for (const auto &[e, n] : o.counts[i])
				counts[i][e] += n;
	}
};

// An engine the fuzzer attached.
struct Engine {
	uint64_t id;
	unsigned slot;
	bool persistent;
	pid_t pid; // the child process of its thread
};

// A report read that waits for its reply.
struct Pending {
	uint64_t seq;
	uint32_t event;
	int64_t syscall_nr;
};

// One open /dev/utrace file; requests hold @m shared, reopen holds it alone.
struct Slot {
	std::shared_mutex m;
	int fd = -1;
	std::mutex q;                  // @pending, @answered
	std::deque<Pending> pending;   // read reports that wait for a reply
	std::deque<uint64_t> answered; // replied to (a second reply is ENOENT)
	int ring = -1;                 // the file's ring descriptor (under @q), or -1
	uint32_t ring_records = 0;     // its size (under @q)
};

constexpr unsigned kSlots = 4;
Slot g_slots[kSlots];

std::mutex g_ids_m;
std::vector<Engine> g_live;
std::deque<uint64_t> g_freed;         // detached: ENOENT forever
std::vector<uint64_t> g_foreign_file; // another user's file-owned engine: ENOENT
std::vector<uint64_t> g_foreign_any;  // another user's persistent one: root may see it
uint64_t g_max_id = 0;

// The child pool: requests hold @g_pool_m shared while they use a pid, so
// no pid is reaped (and reused) under them.
std::shared_mutex g_pool_m;
std::vector<pid_t> g_pool;
std::mutex g_stepped_m;
std::set<pid_t> g_stepped; // a step was asked for: SIGTRAP may end it
std::set<pid_t> g_killed;  // the manager sent SIGKILL

std::atomic<uint64_t> g_ops{0};
std::atomic<uint64_t> g_progress{0};
// What the run is doing, for the watchdog: a static string.
std::atomic<const char *> g_phase{"setup"};

void set_phase(const char *phase)
{
	g_phase = phase;
	g_progress++;
}
std::atomic<bool> g_stop{false};
std::atomic<uint64_t> g_reports{0};
std::atomic<uint64_t> g_records{0}; // read from rings
std::atomic<uint64_t> g_replies{0};
std::atomic<uint64_t> g_spawned{0};
std::map<std::string, uint64_t> g_endings; // under g_pool_m
std::string g_self;

void add_freed(uint64_t id)
{
	g_freed.push_back(id);
	if (g_freed.size() > 256)
		g_freed.pop_front();
}

// --- children --------------------------------------------------------------

void on_usr(int /*sig*/) {}

// A child: loops on system calls, sleeps, forks, starts threads, execs
// itself, and exits 0.  Its replies may have been changed by an engine (the
// fuzzer's benign register changes), so nothing it gets back is checked.
[[noreturn]] void child_main(const char *mode, uint64_t seed)
{
	Rng r(seed);
	struct sigaction sa {
	};
	sa.sa_handler = on_usr;
	sa.sa_flags = SA_RESTART;
	::sigaction(SIGUSR1, &sa, nullptr);
	const bool exec_mode = std::strcmp(mode, "exec") == 0;
	const bool thread_exec = std::strcmp(mode, "threadexec") == 0;
	const uint64_t iterations = 50 + r.below(400);
	for (uint64_t i = 0; i < iterations; i++) {
		::syscall(SYS_getppid);
		if (r.one_in(8)) {
			timespec ts{0, static_cast<long>(200000 + r.below(800000))};
			::nanosleep(&ts, nullptr);
		}
		if (r.one_in(60)) {
			const pid_t p = ::fork();
			if (p == 0)
				::_exit(0);
			if (p > 0)
				while (::waitpid(p, nullptr, 0) < 0 && errno == EINTR)
					;
		}
		if (r.one_in(80)) {
			std::thread t([] {
				for (int k = 0; k < 20; k++)
					::syscall(SYS_getppid);
			});
			t.join();
		}
		if (r.one_in(100))
			::raise(SIGUSR1);
	}
	if (exec_mode || thread_exec) {
		const std::string next_seed = std::to_string(r.next() >> 1);
		const char *next_mode = r.one_in(3) ? "exec" : "loop";
		const char *argv[] = {g_self.c_str(), "--child", next_mode, next_seed.c_str(),
		                      nullptr};
		if (thread_exec) {
			// A non-leader thread execs: de_thread() kills the leader.
			std::thread t([&] {
				::execv(g_self.c_str(), const_cast<char **>(argv));
				::_exit(127);
			});
			for (;;)
				::syscall(SYS_getppid);
		}
		::execv(g_self.c_str(), const_cast<char **>(argv));
		::_exit(127);
	}
	::_exit(0);
}

pid_t spawn_child(Rng &r)
{
	static const char *const modes[] = {"loop", "loop", "exec", "threadexec"};
	const char *mode = modes[r.below(4)];
	const std::string seed = std::to_string(r.next() >> 1);
	// Until its exec the child holds our /dev/utrace files (a copy of our
	// file table): an engine of ours that held it there -- stopped at EXIT
	// after a SIGKILL, which then cannot end the stop -- would keep the
	// file, and so itself, for ever (an open defect, docs/SECURITY.md).  So
	// a child joins the pool only once its exec has closed them: the exec
	// closes the pipe's write end too.
	int exec_pipe[2];
	if (::pipe2(exec_pipe, O_CLOEXEC))
		return -1;
	const pid_t pid = ::fork();
	if (pid == 0) {
		const char *argv[] = {g_self.c_str(), "--child", mode, seed.c_str(), nullptr};
		::execv(g_self.c_str(), const_cast<char **>(argv));
		::_exit(127);
	}
	::close(exec_pipe[1]);
	char c;
	while (pid > 0 && ::read(exec_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	::close(exec_pipe[0]);
	if (pid > 0)
		g_spawned++;
	return pid;
}

// The tids of child @pid, from /proc.
std::vector<pid_t> tids_of(pid_t pid)
{
	std::vector<pid_t> tids;
	const std::string dir = "/proc/" + std::to_string(pid) + "/task";
	DIR *d = ::opendir(dir.c_str());
	if (!d)
		return tids;
	while (const dirent *e = ::readdir(d))
		if (e->d_name[0] != '.')
			tids.push_back(static_cast<pid_t>(std::atol(e->d_name)));
	::closedir(d);
	return tids;
}

// --- the other user ----------------------------------------------------------

struct Foreign {
	pid_t pid = -1;
	int cmd = -1;  // closed: end
	int resp = -1; // ids, then the verdict
};

// The other user's process cannot go on: it says why (its parent fails the
// run with its exit status).
[[noreturn]] void foreign_fail(const std::string &what, int status)
{
	std::printf("utrace_fuzz: the other user's process: %s: %s\n", what.c_str(),
	            std::strerror(errno));
	std::fflush(stdout);
	::_exit(status);
}

// As uid 65534: attaches a file-owned and a persistent engine to its own
// child, sends their ids, then makes requests that must all be refused or
// not find anything of root's, until its command pipe closes; then sends
// its count of requests and of failures (with the first one).
[[noreturn]] void foreign_main(int cmd, int resp, uint64_t seed, pid_t root_pid)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != cmd && fd != resp)
			::close(fd);
	if (::setgroups(0, nullptr) || ::setresgid(kForeignUid, kForeignUid, kForeignUid) ||
	    ::setresuid(kForeignUid, kForeignUid, kForeignUid))
		foreign_fail("setresuid", 100);
	// The uid change made us undumpable (fs.suid_dumpable): ptrace's rule,
	// which ATTACH follows, would refuse even our own child.  A process
	// the user started is dumpable: be one.
	if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		foreign_fail("PR_SET_DUMPABLE", 104);
	const pid_t own = ::fork();
	if (own == 0) {
		// Not a holder of the pipes: our end must be seen when we end.
		::close(cmd);
		::close(resp);
		for (;;)
			::pause();
	}
	Rng r(seed);
	const int dev = ::open(kDevice, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		foreign_fail("open " + std::string(kDevice), 101);
	uint64_t ids[2] = {0, 0};
	for (int i = 0; i < 2; i++) {
		utrace_ioc_attach a{};
		a.tid = own;
		a.type = UTRACE_ENGINE_COUNT;
		a.events = 1ULL << 6;
		a.flags = i ? UTRACE_ENGINE_PERSISTENT : 0;
		if (::ioctl(dev, UTRACE_IOC_ATTACH, &a) != 0)
			foreign_fail("attach to its own child " + std::to_string(own), 102);
		ids[i] = a.id;
	}
	// Its own file's ring (anyone may have one): observers it might attach
	// to root's processes would write there; none may.
	utrace_ioc_ring ring{};
	ring.records = 64;
	ring.flags = UTRACE_RING_NONBLOCK;
	if (::ioctl(dev, UTRACE_IOC_RING, &ring) != 0)
		foreign_fail("a ring for its own file", 105);
	if (::write(resp, ids, sizeof(ids)) != sizeof(ids))
		foreign_fail("write of its ids", 103);
	uint64_t n = 0, bad = 0;
	char first[200] = "";
	std::map<int, uint64_t> hist;
	auto check = [&](const char *what, int err, std::initializer_list<int> ok) {
		n++;
		hist[err]++;
		if (std::find(ok.begin(), ok.end(), err) == ok.end() && !bad++)
			std::snprintf(first, sizeof(first), "%s: errno %d (%s)", what, err,
			              std::strerror(err));
	};
	for (;;) {
		pollfd p{cmd, POLLIN, 0};
		if (::poll(&p, 1, 0) == 1)
			break; // EOF: the end
		switch (r.below(5)) {
		case 0: { // root's processes: the fuzzer and its children
			utrace_ioc_attach a{};
			a.tid = static_cast<pid_t>(root_pid + static_cast<pid_t>(r.below(64)));
			a.type = static_cast<uint32_t>(1 + r.below(3));
			if (r.one_in(2)) { // an observer: reports into our ring
				a.type = UTRACE_ENGINE_USER;
				a.flags = UTRACE_ENGINE_OBSERVE;
				a.events = UTRACE_EVENTS_ALL;
			}
			// Not our own child: an engine on it would be one more of
			// ours, which LIST shows (and which case 4 counts wrong).
			if (a.tid == own)
				break;
			const int err = ::ioctl(dev, UTRACE_IOC_ATTACH, &a) ? errno : 0;
			// EAGAIN: the target's exec is in de_thread(); the
			// access check comes after its cred_guard_mutex.
			check("attach to a root process", err, {EPERM, ESRCH, EAGAIN});
			break;
		}
		case 1: {
			utrace_ioc_attach a{};
			a.tid = 1;
			a.type = UTRACE_ENGINE_STOPPER;
			check("attach to init", ::ioctl(dev, UTRACE_IOC_ATTACH, &a) ? errno : 0,
			      {EPERM});
			break;
		}
		case 2: { // every id but ours is someone else's
			const uint64_t id = 1 + r.below(ids[1] + 4096);
			if (id == ids[0] || id == ids[1])
				break;
			utrace_ioc_engine e{id, static_cast<uint64_t>(r.below(7))};
			static const unsigned long cmds[] = {UTRACE_IOC_CONTROL,
			                                     UTRACE_IOC_SET_EVENTS,
			                                     UTRACE_IOC_SET_STOP_EVENTS};
			const unsigned long c = cmds[r.below(3)];
			if (c == UTRACE_IOC_SET_EVENTS || c == UTRACE_IOC_SET_STOP_EVENTS)
				e.arg = 0;
			const int err = ::ioctl(dev, c, &e) ? errno : 0;
			check("a request on another's id", err, {ENOENT});
			break;
		}
		case 3: {
			const uint64_t id = 1 + r.below(ids[1] + 4096);
			if (id == ids[0] || id == ids[1])
				break;
			utrace_ioc_engine_info info{};
			info.id = id;
			const int err = ::ioctl(dev, UTRACE_IOC_ENGINE_INFO, &info) ? errno : 0;
			check("info on another's id", err, {ENOENT});
			break;
		}
		default: {
			uint64_t list[64];
			utrace_ioc_list l{};
			l.ids = reinterpret_cast<uintptr_t>(list);
			l.count = 64;
			const int err = ::ioctl(dev, UTRACE_IOC_LIST, &l) ? errno : 0;
			check("list", err, {0});
			for (uint32_t i = 0; !err && i < std::min<uint32_t>(l.count, 64); i++)
				if (list[i] != ids[0] && list[i] != ids[1])
					check("list shows another's engine", EEXIST, {0});
			break;
		}
		}
	}
	{
		// No observer was allowed on root's processes: an empty ring.
		utrace_record rec[4];
		const ssize_t got = ::read(ring.fd, rec, sizeof(rec));
		check("its ring after attaching to root's processes", got < 0 ? errno : 0,
		      {EAGAIN});
		::close(ring.fd);
	}
	::close(dev); // the file-owned engine goes; the persistent one stays
	::kill(own, SIGKILL);
	::waitpid(own, nullptr, 0);
	char out[512];
	int len = std::snprintf(out, sizeof(out), "%llu %llu %s\n",
	                        static_cast<unsigned long long>(n),
	                        static_cast<unsigned long long>(bad), first);
	for (const auto &[e, c] : hist)
		len += std::snprintf(out + len, sizeof(out) - static_cast<size_t>(len), "%d %llu\n",
		                     e, static_cast<unsigned long long>(c));
	(void)!::write(resp, out, static_cast<size_t>(len));
	::_exit(0);
}

// --- one request ---------------------------------------------------------------

class Worker
{
public:
	Worker(unsigned index, uint64_t seed) : idx_(index), r_(seed) {}
	void run(uint64_t total);
	Histogram hist;
	std::atomic<unsigned> current{NumOps};

private:
	void one();
	void check(Op op, int err, const char *what);
	void check_id_class(Op op, int err, int cls, uint64_t id);
	uint64_t pick_id(unsigned slot, int *cls);
	void do_attach(unsigned slot, int fd);
	void do_engine(Op op, unsigned slot, int fd);
	void do_info(unsigned slot, int fd);
	void do_list(unsigned slot, int fd);
	void do_read(unsigned slot, int fd);
	void do_write(unsigned slot, int fd);
	void do_bad_ioctl(int fd);
	void do_reopen(unsigned slot);
	void do_ring(unsigned slot, int fd);
	void do_ring_read(unsigned slot);
	void do_ring_map(unsigned slot);
	void do_set_syscalls(unsigned slot, int fd);
	unsigned idx_;
	Rng r_;
	alignas(64) char buf_[8192] = {};
};

// id classes: what a request on that id may answer
enum IdClass { IdMine, IdOtherSlot, IdFreed, IdForeignFile, IdForeignAny, IdRandom };

void Worker::check(Op op, int err, const char *what)
{
	hist.add(op, err);
	if (!kAllowed[op].count(err))
		die("%s: %s gave errno %d (%s), not one of the documented errnos", kOpNames[op],
		    what, err, std::strerror(err));
}

// Another file's, a detached, or another user's file-owned engine does not
// exist for this file: nothing but ENOENT (after the argument's EINVAL).
void Worker::check_id_class(Op op, int err, int cls, uint64_t id)
{
	if ((cls == IdOtherSlot || cls == IdFreed || cls == IdForeignFile) && err != ENOENT &&
	    err != EINVAL)
		die("%s on engine %llu (%s) gave errno %d (%s): it must not exist for this file",
		    kOpNames[op], static_cast<unsigned long long>(id),
		    cls == IdOtherSlot ? "another file's"
		    : cls == IdFreed   ? "detached"
		                       : "another user's",
		    err, std::strerror(err));
}

uint64_t Worker::pick_id(unsigned slot, int *cls)
{
	std::lock_guard<std::mutex> l(g_ids_m);
	switch (r_.below(10)) {
	case 0:
		if (!g_freed.empty()) {
			*cls = IdFreed;
			return g_freed[r_.below(g_freed.size())];
		}
		break;
	case 1:
		if (!g_foreign_file.empty()) {
			*cls = IdForeignFile;
			return r_.pick(g_foreign_file);
		}
		break;
	case 2:
		if (!g_foreign_any.empty()) {
			*cls = IdForeignAny;
			return r_.pick(g_foreign_any);
		}
		break;
	case 3: {
		*cls = IdRandom;
		static const uint64_t odd[] = {0, ~0ULL, 1ULL << 32, (1ULL << 32) + 1, 1ULL << 63};
		return r_.one_in(2) ? odd[r_.below(5)] : 1 + r_.below(g_max_id + 64);
	}
	default:
		break;
	}
	if (g_live.empty()) {
		*cls = IdRandom;
		return 1 + r_.below(g_max_id + 8);
	}
	const Engine &e = r_.pick(g_live);
	*cls = (e.slot == slot || e.persistent) ? IdMine : IdOtherSlot;
	return e.id;
}

uint64_t random_events(Rng &r)
{
	switch (r.below(6)) {
	case 0:
		return 0;
	case 1:
		return r.next(); // bits beyond the events: EINVAL
	case 2:
		return 1ULL << r.below(64);
	default:
		return r.next() & UTRACE_EVENTS_ALL;
	}
}

void Worker::do_attach(unsigned slot, int fd)
{
	utrace_ioc_attach a{};
	pid_t pid = 0;
	const char *what = "a child";
	std::shared_lock<std::shared_mutex> pool(g_pool_m);
	switch (r_.below(12)) {
	case 0:
		a.tid = ::getpid();
		what = "itself";
		break;
	case 1:
		a.tid = static_cast<pid_t>(::syscall(SYS_gettid));
		what = "its own thread";
		break;
	case 2:
		a.tid = 2;
		what = "kthreadd";
		break;
	case 3:
		a.tid = r_.one_in(2) ? 0 : -static_cast<pid_t>(r_.below(100));
		what = "a tid <= 0";
		break;
	case 4:
		a.tid = 0x3ffffff0;
		what = "no such thread";
		break;
	default:
		if (g_pool.empty())
			return;
		pid = r_.pick(g_pool);
		a.tid = pid;
		if (r_.one_in(3)) {
			const auto tids = tids_of(pid);
			if (!tids.empty())
				a.tid = r_.pick(tids);
		}
		break;
	}
	a.type = static_cast<uint32_t>(r_.one_in(20) ? r_.below(8) : 1 + r_.below(3));
	a.events = random_events(r_);
	a.stop_events = r_.one_in(3) ? random_events(r_) : 0;
	a.flags = r_.one_in(3) ? UTRACE_ENGINE_PERSISTENT : 0;
	if (r_.one_in(4)) // observe: a user engine on a file with a ring, else EINVAL
		a.flags = UTRACE_ENGINE_OBSERVE;
	if (r_.one_in(8)) // an observer that follows the pool's forks (alone: EINVAL)
		a.flags |= UTRACE_ENGINE_INHERIT;
	if (r_.one_in(20))
		a.flags = static_cast<uint32_t>(r_.next());
	if (r_.one_in(20))
		a.__reserved = static_cast<uint32_t>(r_.next() | 1);
	const bool bad_ptr = r_.one_in(30);
	const int err = ::ioctl(fd, UTRACE_IOC_ATTACH, bad_ptr ? nullptr : &a) ? errno : 0;
	check(OpAttach, err, what);
	if (bad_ptr) {
		if (err != EFAULT)
			die("attach: a NULL argument gave errno %d", err);
		return;
	}
	if (!pid && err == 0)
		die("attach to %s succeeded", what);
	if (!pid && a.tid > 0 && a.tid != 0x3ffffff0 && err != EPERM && err != EINVAL)
		die("attach to %s gave errno %d, not EPERM", what, err);
	if (err)
		return;
	std::lock_guard<std::mutex> l(g_ids_m);
	const bool persistent = (a.flags & UTRACE_ENGINE_PERSISTENT) != 0;
	g_live.push_back({a.id, slot, persistent, pid});
	g_max_id = std::max<uint64_t>(g_max_id, a.id);
	if (g_live.size() <= 64)
		return;
	// Forget the oldest.  A file's engine stays until its file closes; a
	// persistent one (which would stay until the end, with its task) is
	// detached now, through this file (root sees every persistent engine).
	const Engine old = g_live.front();
	g_live.erase(g_live.begin());
	if (!old.persistent)
		return;
	utrace_ioc_engine e{old.id, 0};
	const int derr = ::ioctl(fd, UTRACE_IOC_DETACH, &e) ? errno : 0;
	check(OpDetach, derr, "detach of a forgotten engine");
	if (derr && derr != ENOENT)
		die("detach of persistent engine %llu: errno %d",
		    static_cast<unsigned long long>(old.id), derr);
	add_freed(old.id);
}

void Worker::do_engine(Op op, unsigned slot, int fd)
{
	int cls = IdRandom;
	const uint64_t id = pick_id(slot, &cls);
	utrace_ioc_engine e{id, 0};
	unsigned long cmd = 0;
	pid_t stepped = 0;
	switch (op) {
	case OpSetEvents:
		cmd = UTRACE_IOC_SET_EVENTS;
		e.arg = random_events(r_);
		break;
	case OpSetStopEvents:
		cmd = UTRACE_IOC_SET_STOP_EVENTS;
		e.arg = random_events(r_);
		break;
	case OpControl:
		cmd = UTRACE_IOC_CONTROL;
		e.arg = r_.one_in(10) ? r_.next() : r_.below(7);
		break;
	default:
		cmd = UTRACE_IOC_DETACH;
		e.arg = r_.one_in(10) ? r_.next() : 0;
		break;
	}
	if (op == OpControl &&
	    (e.arg == UTRACE_IOC_ACTION_SINGLESTEP || e.arg == UTRACE_IOC_ACTION_BLOCKSTEP)) {
		// An engine that steps its thread lets the trap kill it (the
		// shipped engines do not swallow it): record the child first.  A
		// step only through an engine whose child we know: another id may
		// still name an engine of ours we forgot.
		std::lock_guard<std::mutex> l(g_ids_m);
		for (const auto &en : g_live)
			if (en.id == id)
				stepped = en.pid;
		std::lock_guard<std::mutex> s(g_stepped_m);
		if (stepped)
			g_stepped.insert(stepped);
		else
			e.arg = UTRACE_IOC_ACTION_RESUME;
	}
	const bool bad_ptr = r_.one_in(40);
	const int err = ::ioctl(fd, cmd, bad_ptr ? reinterpret_cast<void *>(16) : &e) ? errno : 0;
	check(op, err, "an engine request");
	if (bad_ptr) {
		if (err != EFAULT)
			die("%s: a bad pointer gave errno %d", kOpNames[op], err);
		return;
	}
	check_id_class(op, err, cls, id);
	const bool detached = err == 0 && (op == OpDetach ||
	                                   (op == OpControl && e.arg == UTRACE_IOC_ACTION_DETACH));
	if (detached) {
		std::lock_guard<std::mutex> l(g_ids_m);
		auto it = std::find_if(g_live.begin(), g_live.end(),
		                       [&](const Engine &en) { return en.id == id; });
		if (it != g_live.end())
			g_live.erase(it);
		add_freed(id);
		g_foreign_any.erase(std::remove(g_foreign_any.begin(), g_foreign_any.end(), id),
		                    g_foreign_any.end());
	}
}

void Worker::do_info(unsigned slot, int fd)
{
	int cls = IdRandom;
	const uint64_t id = pick_id(slot, &cls);
	utrace_ioc_engine_info info{};
	info.id = id;
	const bool bad_ptr = r_.one_in(40);
	const int err =
	        ::ioctl(fd, UTRACE_IOC_ENGINE_INFO, bad_ptr ? reinterpret_cast<void *>(8) : &info)
	                ? errno
	                : 0;
	check(OpInfo, err, "info");
	if (bad_ptr)
		return;
	check_id_class(OpInfo, err, cls, id);
	if (!err && (info.id != id || info.type < 1 || info.type > 3 || info.state > 3 ||
	             (info.events & ~UTRACE_EVENTS_ALL) || info.__reserved))
		die("info on %llu: a malformed answer (id %llu type %u state %u)",
		    static_cast<unsigned long long>(id), static_cast<unsigned long long>(info.id),
		    info.type, info.state);
}

void Worker::do_list(unsigned slot, int fd)
{
	auto *ids = reinterpret_cast<uint64_t *>(buf_);
	const uint32_t room = static_cast<uint32_t>(sizeof(buf_) / sizeof(uint64_t));
	utrace_ioc_list l{};
	l.ids = reinterpret_cast<uintptr_t>(ids);
	l.count = static_cast<uint32_t>(r_.below(room + 1));
	const uint32_t asked = l.count; // the kernel fills this many at most
	const bool bad_ptr = r_.one_in(20);
	if (bad_ptr)
		l.ids = 24;
	if (r_.one_in(20))
		l.__pad = static_cast<uint32_t>(r_.next() | 1);
	// What must not be listed: what was detached before the request began
	// (one detached meanwhile may be), another user's file's, another file's.
	std::vector<uint64_t> gone;
	{
		std::lock_guard<std::mutex> g(g_ids_m);
		gone.assign(g_freed.begin(), g_freed.end());
	}
	const int err = ::ioctl(fd, UTRACE_IOC_LIST, &l) ? errno : 0;
	check(OpList, err, "list");
	if (l.__pad && err != EINVAL)
		die("list with a reserved word gave errno %d", err);
	if (err || bad_ptr)
		return;
	// Nothing another user's file, another of our files, or a detached
	// engine owns may be listed.  The answer's count is of all the file
	// sees: past what we asked for the buffer holds what an earlier
	// request left there.
	std::lock_guard<std::mutex> g(g_ids_m);
	for (uint32_t i = 0; i < std::min(l.count, asked); i++) {
		const uint64_t id = ids[i];
		if (std::find(g_foreign_file.begin(), g_foreign_file.end(), id) !=
		    g_foreign_file.end())
			die("list shows another user's engine %llu",
			    static_cast<unsigned long long>(id));
		if (std::find(gone.begin(), gone.end(), id) != gone.end())
			die("list shows detached engine %llu", static_cast<unsigned long long>(id));
		for (const auto &e : g_live)
			if (e.id == id && !e.persistent && e.slot != slot)
				die("list shows engine %llu of another file",
				    static_cast<unsigned long long>(id));
	}
}

void Worker::do_read(unsigned slot, int fd)
{
	static const size_t lens[] = {0,
	                              1,
	                              sizeof(utrace_report_msg) - 1,
	                              sizeof(utrace_report_msg),
	                              sizeof(utrace_report_msg) + 1,
	                              4096};
	const size_t len = lens[r_.below(6)];
	const bool bad_ptr = r_.one_in(50) && len >= sizeof(utrace_report_msg);
	const ssize_t n = ::read(fd, bad_ptr ? reinterpret_cast<void *>(32) : buf_, len);
	const int err = n < 0 ? errno : 0;
	check(OpRead, err, "read");
	if (len < sizeof(utrace_report_msg) && err != EINVAL)
		die("read of %zu bytes gave %zd, errno %d: too short is EINVAL", len, n, err);
	if (err)
		return;
	if (static_cast<size_t>(n) != sizeof(utrace_report_msg))
		die("read gave %zd bytes, not one report", n);
	utrace_report_msg msg{};
	std::memcpy(&msg, buf_, sizeof(msg));
	if (msg.event >= UTRACE_NEVENTS || (msg.flags & ~UTRACE_MSG_NEEDS_REPLY) || !msg.seq)
		die("read: a malformed report (event %u flags %#x seq %llu)", msg.event, msg.flags,
		    static_cast<unsigned long long>(msg.seq));
	g_reports++;
	if (!(msg.flags & UTRACE_MSG_NEEDS_REPLY))
		return;
	std::lock_guard<std::mutex> q(g_slots[slot].q);
	auto &p = g_slots[slot].pending;
	p.push_back({msg.seq, msg.event, msg.syscall_nr});
	if (p.size() > 32)
		p.pop_front(); // never answered: its thread waits until a close or SIGKILL
}

void Worker::do_write(unsigned slot, int fd)
{
	Slot &s = g_slots[slot];
	utrace_reply_msg reply{};
	size_t len = sizeof(reply);
	int expect = -1; // -1: any allowed errno
	enum { Valid, Double, Never, Corrupt, Size, Pointer } kind;
	Pending report{0, UTRACE_NEVENTS, -1}; // what a valid reply answers
	{
		std::lock_guard<std::mutex> q(s.q);
		const uint64_t k = r_.below(10);
		if (k < 5 && !s.pending.empty()) {
			kind = Valid;
			report = s.pending.front();
			reply.seq = report.seq;
			s.pending.pop_front();
		} else if (k < 6 && !s.answered.empty()) {
			kind = Double;
			reply.seq = s.answered[r_.below(s.answered.size())];
			expect = ENOENT;
		} else if (k < 7) {
			kind = Never;
			reply.seq = (1ULL << 40) + r_.below(1ULL << 20);
			expect = ENOENT;
		} else if (k < 8) {
			kind = Size;
			len = r_.one_in(2) ? r_.below(sizeof(reply))
			                   : sizeof(reply) + 1 + r_.below(64);
			expect = EINVAL;
		} else if (k < 9) {
			kind = Pointer;
			expect = EFAULT;
		} else {
			kind = Corrupt;
			expect = EINVAL;
		}
	}
	// Benign answers: a resume action but a step; a signal replaced by one
	// whose default is harmless, or ignored, at a signal report; getppid
	// aborted, turned into getpid or into no call, or its result changed
	// (the children ignore what it returns).  Bit 0x10 is ABORT at
	// SYSCALL_ENTRY and IGN at a signal report: never elsewhere.
	static const uint32_t actions[] = {UTRACE_IOC_ACTION_RESUME, UTRACE_IOC_ACTION_RESUME,
	                                   UTRACE_IOC_ACTION_REPORT, UTRACE_IOC_ACTION_INTERRUPT,
	                                   UTRACE_IOC_ACTION_STOP,   UTRACE_IOC_ACTION_DETACH};
	reply.action = actions[r_.below(6)];
	if (r_.one_in(4)) {
		reply.set = UTRACE_REPLY_SET_SIGNO;
		static const int sigs[] = {SIGCONT, SIGCHLD, SIGWINCH, SIGURG};
		reply.signo = sigs[r_.below(4)];
	}
	const bool signal_report = report.event >= 8 && report.event <= 12;
	if (signal_report && r_.one_in(4))
		reply.action |= UTRACE_ACTION_SIGNAL_IGN;
	if (report.syscall_nr == SYS_getppid && report.event == 6 && r_.one_in(3)) {
		switch (r_.below(3)) {
		case 0:
			reply.action |= UTRACE_ACTION_SYSCALL_ABORT;
			reply.set |= UTRACE_REPLY_SET_RETVAL;
			reply.retval = static_cast<int64_t>(r_.next());
			break;
		case 1:
			reply.set |= UTRACE_REPLY_SET_SYSCALL_NR | UTRACE_REPLY_SET_ARGS;
			reply.syscall_nr = r_.one_in(2) ? SYS_getpid : -1;
			for (auto &arg : reply.args)
				arg = r_.next();
			break;
		default:
			reply.set |= UTRACE_REPLY_SET_ARGS;
			for (auto &arg : reply.args)
				arg = r_.next();
			break;
		}
	}
	if (report.syscall_nr == SYS_getppid && report.event == 7 && r_.one_in(3)) {
		reply.set |= UTRACE_REPLY_SET_RETVAL;
		reply.retval = static_cast<int64_t>(r_.next());
	}
	if (kind == Corrupt) {
		switch (r_.below(5)) {
		case 0:
			reply.action = static_cast<uint32_t>(7 + r_.below(9)); // no such action
			break;
		case 1:
			reply.action |=
			        static_cast<uint32_t>(0x200U << r_.below(20)); // unknown bits
			reply.action &= ~0xf0U; // invalid, and never an ABORT or IGN
			break;
		case 2:
			reply.set |= static_cast<uint32_t>(0x10U << r_.below(27));
			break;
		case 3:
			reply.set |= UTRACE_REPLY_SET_SIGNO;
			reply.signo = r_.one_in(2) ? 0 : static_cast<int32_t>(65 + r_.below(1000));
			break;
		default:
			reply.__pad = static_cast<uint32_t>(r_.next() | 1);
			break;
		}
	}
	std::memcpy(buf_, &reply, sizeof(reply));
	const ssize_t n = ::write(fd, kind == Pointer ? reinterpret_cast<void *>(40) : buf_, len);
	const int err = n < 0 ? errno : 0;
	check(OpWrite, err, "write");
	if (!err && n != static_cast<ssize_t>(sizeof(reply)))
		die("write of a reply returned %zd", n);
	if (expect >= 0 && err != expect)
		die("write of a %s reply gave errno %d (%s), expected %d",
		    kind == Double    ? "second"
		    : kind == Never   ? "never asked for"
		    : kind == Size    ? "wrong-size"
		    : kind == Pointer ? "bad-pointer"
		                      : "corrupted",
		    err, std::strerror(err), expect);
	if (kind == Valid && !err) {
		g_replies++;
		std::lock_guard<std::mutex> q(s.q);
		s.answered.push_back(reply.seq);
		if (s.answered.size() > 32)
			s.answered.pop_front();
	}
}

// A syscall table: mostly valid (report and capture bits, the pool's calls
// among them), sometimes too long, unreadable, with unknown bits or a
// reserved word; nr 0 removes the table.
void Worker::do_set_syscalls(unsigned slot, int fd)
{
	int cls = IdRandom;
	const uint64_t id = pick_id(slot, &cls);
	// In the worker's own buffer (room for UTRACE_SYSCALLS_MAX + 8 entries).
	std::span<uint16_t> table(reinterpret_cast<uint16_t *>(buf_), UTRACE_SYSCALLS_MAX + 8);
	static_assert(sizeof(buf_) >= (UTRACE_SYSCALLS_MAX + 8) * sizeof(uint16_t));
	utrace_ioc_syscalls req{};
	req.id = id;
	switch (r_.below(8)) {
	case 0:
		req.nr = 0;
		break;
	case 1:
		req.nr = UTRACE_SYSCALLS_MAX + 1 + static_cast<uint32_t>(r_.below(4));
		break;
	default:
		req.nr = 1 + static_cast<uint32_t>(r_.below(UTRACE_SYSCALLS_MAX));
		break;
	}
	const bool bad_bits = r_.one_in(20);
	for (uint32_t i = 0; i < std::min<size_t>(req.nr, table.size()); i++) {
		uint16_t v = r_.one_in(3) ? 0 : UTRACE_SYSCALL_REPORT;
		if (r_.one_in(8))
			v |= static_cast<uint16_t>(r_.next() & UTRACE_SYSCALL_VALID);
		table[i] = v;
	}
	if (bad_bits && req.nr && req.nr <= table.size())
		table[r_.below(req.nr)] |= 0x8000;
	if (req.nr)
		req.table = reinterpret_cast<uintptr_t>(table.data());
	if (r_.one_in(20))
		req.table = r_.one_in(2) ? 8 : 0;
	if (r_.one_in(20))
		req.__reserved = static_cast<uint32_t>(r_.next() | 1);
	const bool bad_ptr = r_.one_in(30);
	const int err = ::ioctl(fd, UTRACE_IOC_SET_SYSCALLS, bad_ptr ? nullptr : &req) ? errno : 0;
	check(OpSetSyscalls, err, "set_syscalls");
	if (bad_ptr && err != EFAULT)
		die("set_syscalls: a NULL argument gave errno %d", err);
	if (!bad_ptr && (req.nr > UTRACE_SYSCALLS_MAX || req.__reserved) && err != EINVAL)
		die("set_syscalls: nr %u, reserved %u gave errno %d, not EINVAL", req.nr,
		    req.__reserved, err);
	// The argument first, whatever the id names: EINVAL, and EFAULT for
	// an unreadable table.
	if (!bad_ptr && !(err == EFAULT && req.table == 8))
		check_id_class(OpSetSyscalls, err, cls, id);
}

void Worker::do_bad_ioctl(int fd)
{
	static const unsigned long real[] = {
	        UTRACE_IOC_VERSION,     UTRACE_IOC_PING,        UTRACE_IOC_ATTACH,
	        UTRACE_IOC_SET_EVENTS,  UTRACE_IOC_CONTROL,     UTRACE_IOC_DETACH,
	        UTRACE_IOC_ENGINE_INFO, UTRACE_IOC_LIST,        UTRACE_IOC_SET_STOP_EVENTS,
	        UTRACE_IOC_RING,        UTRACE_IOC_SET_SYSCALLS};
	unsigned long cmd = 0;
	for (;;) {
		const unsigned dir = static_cast<unsigned>(r_.below(4));
		const unsigned type =
		        r_.one_in(4) ? static_cast<unsigned>(r_.below(256)) : UTRACE_IOC_MAGIC;
		const unsigned nr =
		        static_cast<unsigned>(r_.one_in(8) ? r_.below(256) : r_.below(0x20));
		const unsigned size = static_cast<unsigned>(r_.below(512));
		cmd = _IOC(dir, type, nr, size);
		if (r_.one_in(4)) // a real request with a wrong size or direction
			cmd = (real[r_.below(std::size(real))] &
			       ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
			      (static_cast<unsigned long>(size) << _IOC_SIZESHIFT);
		if (std::find(std::begin(real), std::end(real), cmd) == std::end(real))
			break;
	}
	for (size_t i = 0; i < 512; i++)
		buf_[i] = static_cast<char>(r_.next());
	const int err = ::ioctl(fd, cmd, buf_) ? errno : 0;
	char what[64];
	std::snprintf(what, sizeof(what), "ioctl %#lx", cmd);
	check(OpBadIoctl, err, what);
}

// A closed file's ring: its records, then end of file (EAGAIN while a
// child forked meanwhile still holds the file: it is not released yet).
void ring_drain(int ring)
{
	static thread_local utrace_record recs[64];
	for (int i = 0; i < 100000; i++) {
		const ssize_t n = ::read(ring, recs, sizeof(recs));
		if (n == 0 || (n < 0 && errno == EAGAIN))
			return;
		if (n < 0)
			die("read of a closed file's ring: %s, not its records or end of file",
			    std::strerror(errno));
		g_records += static_cast<uint64_t>(n) / sizeof(utrace_record);
	}
	die("a closed file's ring never ends");
}

void Worker::do_reopen(unsigned slot)
{
	Slot &s = g_slots[slot];
	std::unique_lock<std::shared_mutex> l(s.m);
	::close(s.fd); // releases threads waiting for its replies, detaches its engines
	{
		std::lock_guard<std::mutex> q(s.q);
		if (s.ring >= 0) {
			// Closed after the file: what is left drains, then end of file.
			ring_drain(s.ring);
			::close(s.ring);
			s.ring = -1;
		}
	}
	s.fd = ::open(kDevice, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	const int err = s.fd < 0 ? errno : 0;
	check(OpReopen, err, "reopen");
	{
		std::lock_guard<std::mutex> q(s.q);
		s.pending.clear();
		s.answered.clear();
	}
	std::lock_guard<std::mutex> g(g_ids_m);
	for (auto it = g_live.begin(); it != g_live.end();) {
		if (it->slot == slot && !it->persistent) {
			add_freed(it->id);
			it = g_live.erase(it);
		} else {
			++it;
		}
	}
}

// A record of a ring (read or in place) is well formed.
void check_record(const char *what, const char *at)
{
	utrace_record r{};
	std::memcpy(&r, at, sizeof(r));
	if (r.type == UTRACE_RECORD_STRING) { // a captured argument's bytes
		utrace_record_data d{};
		std::memcpy(&d, at, sizeof(d));
		if (d.arg >= 6 || !d.id || d.len > UTRACE_DATA_BYTES || d.__pad ||
		    (d.flags & ~0x1fU))
			die("%s: a malformed String record (arg %u id %llu len %u flags %#x)", what,
			    d.arg, static_cast<unsigned long long>(d.id), d.len, d.flags);
		return;
	}
	if (r.type == UTRACE_RECORD_LOST
	            ? r.code <= 0
	            : r.type != UTRACE_RECORD_EVENT || r.event >= UTRACE_NEVENTS || !r.id)
		die("%s: a malformed record (type %u event %u id %llu code %lld)", what, r.type,
		    r.event, static_cast<unsigned long long>(r.id), static_cast<long long>(r.code));
}

void Worker::do_ring(unsigned slot, int fd)
{
	Slot &s = g_slots[slot];
	utrace_ioc_ring req{};
	req.records = 1U << (1 + r_.below(10)); // 2 .. 1024
	req.flags = UTRACE_RING_NONBLOCK;
	req.wakeup = static_cast<uint32_t>(r_.below(req.records + 1));
	bool valid = true;
	switch (r_.below(12)) {
	case 0:
		req.records = static_cast<uint32_t>(r_.below(2)); // 0, 1
		valid = false;
		break;
	case 1:
		req.records = 3 + 2 * static_cast<uint32_t>(r_.below(1000)); // odd
		valid = false;
		break;
	case 2:
		req.records = UTRACE_RING_MAX_RECORDS << (1 + r_.below(4));
		valid = false;
		break;
	case 3:
		req.flags = static_cast<uint32_t>(r_.next()) | 2;
		valid = false;
		break;
	case 4:
		req.fd = static_cast<int32_t>(r_.next() | 1);
		valid = false;
		break;
	case 5:
		req.wakeup = req.records + 1 + static_cast<uint32_t>(r_.below(100));
		valid = false;
		break;
	default:
		break;
	}
	const bool bad_ptr = r_.one_in(30);
	std::lock_guard<std::mutex> q(s.q);
	const int err = ::ioctl(fd, UTRACE_IOC_RING, bad_ptr ? nullptr : &req) ? errno : 0;
	check(OpRing, err, "ring");
	if (bad_ptr) {
		if (err != EFAULT)
			die("ring: a NULL argument gave errno %d", err);
		return;
	}
	if (!valid && err != EINVAL)
		die("ring: bad arguments (records %u flags %#x fd %d wakeup %u) gave errno %d",
		    req.records, req.flags, req.fd, req.wakeup, err);
	if (valid && s.ring >= 0 && err != EBUSY)
		die("ring: a second ring for one file gave errno %d, not EBUSY", err);
	if (valid && s.ring < 0 && err != 0 && err != ENOMEM)
		die("ring: the file's first ring gave errno %d", err);
	if (err)
		return;
	if (req.fd < 0)
		die("ring: success without a descriptor");
	s.ring = req.fd;
	s.ring_records = req.records;
}

void Worker::do_ring_read(unsigned slot)
{
	Slot &s = g_slots[slot];
	std::lock_guard<std::mutex> q(s.q); // reads of one ring in turn: records in order
	if (s.ring < 0)
		return;
	if (r_.one_in(4)) {
		pollfd p{s.ring, POLLIN, 0};
		const int n = ::poll(&p, 1, 0);
		check(OpRingRead, n < 0 ? errno : 0, "ring poll");
		if (n < 0 || (p.revents & ~POLLIN))
			die("ring poll: %d, revents %#x (the file is open)", n, p.revents);
		return;
	}
	const size_t rec = sizeof(utrace_record);
	static const size_t lens[] = {0, 1, rec - 1, rec, rec + 1, 3 * rec, sizeof(buf_)};
	const size_t len = lens[r_.below(std::size(lens))];
	const bool bad_ptr = r_.one_in(50) && len >= rec;
	const ssize_t n = ::read(s.ring, bad_ptr ? reinterpret_cast<void *>(32) : buf_, len);
	const int err = n < 0 ? errno : 0;
	check(OpRingRead, err, "ring read");
	if (len < rec && err != EINVAL)
		die("ring read of %zu bytes gave %zd, errno %d: too short is EINVAL", len, n, err);
	if (bad_ptr && err != EFAULT && err != EAGAIN)
		die("ring read to a bad pointer gave %zd, errno %d", n, err);
	if (err)
		return;
	if (n == 0 || n % rec || static_cast<size_t>(n) > len)
		die("ring read of %zu bytes gave %zd: not whole records (the file is open)", len,
		    n);
	for (ssize_t off = 0; off < n; off += static_cast<ssize_t>(rec))
		check_record("ring read", buf_ + off);
	g_records += static_cast<uint64_t>(n) / rec;
}

// A mapping of the slot's ring: records taken in place (their slots
// scribbled over before the tail gives them back: a writer must write every
// field), or a tail the ring cannot have (read() is EIO, writers drop and
// count), put right before the unmap; bad mappings are EINVAL.
void Worker::do_ring_map(unsigned slot)
{
	Slot &s = g_slots[slot];
	std::lock_guard<std::mutex> q(s.q); // the tail is the readers' in turn
	if (s.ring < 0)
		return;
	const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
	const size_t len = page + s.ring_records * sizeof(utrace_record);
	size_t map_len = len;
	off_t off = 0;
	int flags = MAP_SHARED;
	bool valid = true;
	switch (r_.below(8)) {
	case 0:
		map_len = len + page; // a page more than the ring
		valid = false;
		break;
	case 1:
		off = static_cast<off_t>(page); // the slots alone
		map_len = len - page;
		valid = false;
		break;
	case 2:
		flags = MAP_PRIVATE; // the tail would never reach the module
		valid = false;
		break;
	case 3:
		map_len = page; // the header alone
		valid = false;
		break;
	default:
		break;
	}
	void *m = ::mmap(nullptr, map_len, PROT_READ | PROT_WRITE, flags, s.ring, off);
	const int err = m == MAP_FAILED ? errno : 0;
	check(OpRingMap, err, "ring mmap");
	if (valid != (err == 0))
		die("ring mmap of %zu bytes at %lld, flags %#x, of a %u-record ring: errno %d",
		    map_len, static_cast<long long>(off), flags, s.ring_records, err);
	if (err)
		return;
	auto *h = static_cast<utrace_ring_header *>(m);
	auto *slots = static_cast<char *>(m) + page;
	if (h->records != s.ring_records || h->data_offset != page)
		die("ring header: %u records at %llu, not %u at %zu", h->records,
		    static_cast<unsigned long long>(h->data_offset), s.ring_records, page);
	const uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);
	const uint64_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
	if (head - tail > s.ring_records)
		die("ring header: head %llu, tail %llu, %u records",
		    static_cast<unsigned long long>(head), static_cast<unsigned long long>(tail),
		    s.ring_records);
	if (r_.one_in(3)) {
		// A tail it cannot have, then back: nothing taken, nothing broken.
		static const int64_t skews[] = {1, 1000,
		                                -static_cast<int64_t>(UTRACE_RING_MAX_RECORDS) - 1};
		const uint64_t bad =
		        head + static_cast<uint64_t>(skews[r_.below(std::size(skews))]);
		__atomic_store_n(&h->tail, bad, __ATOMIC_RELEASE);
		const ssize_t n = ::read(s.ring, buf_, sizeof(utrace_record));
		const int rerr = n < 0 ? errno : 0;
		// A child's record may come between our look at the head and the
		// read: a tail one past the old head is then a valid one, and the
		// read answers as on any ring: a record, EAGAIN if the tail is the
		// head (non-blocking descriptor), 0 if the ring's file is closed.
		const uint64_t now = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
		const bool became_valid = now - bad <= s.ring_records;
		if (became_valid && (rerr == 0 || rerr == EAGAIN))
			hist.add(OpRingRead, rerr);
		else
			check(OpRingMap, rerr, "ring read past a foreign tail");
		if (rerr != EIO && !became_valid)
			die("ring read with tail %llu, head %llu: %zd, errno %d, not EIO",
			    static_cast<unsigned long long>(bad),
			    static_cast<unsigned long long>(head), n, rerr);
		// Put back, unless it became valid: then the module took it as
		// ours and may have written up to a ring's size past it, over
		// slots the old tail held, which would now be one the ring
		// cannot have (head - tail above its size).  The records
		// before it are given up.  (Only a head that had moved before
		// the bad tail's store makes it valid: with the bad tail in
		// place there is no room, so nothing is written.)
		if (!became_valid)
			__atomic_store_n(&h->tail, tail, __ATOMIC_RELEASE);
	} else {
		const uint64_t n = r_.below(head - tail + 1);
		for (uint64_t i = 0; i < n; i++) {
			char *rec = slots + ((tail + i) % s.ring_records) * sizeof(utrace_record);
			check_record("ring in place", rec);
			std::memset(rec, static_cast<int>(r_.below(256)), sizeof(utrace_record));
		}
		__atomic_store_n(&h->tail, tail + n, __ATOMIC_RELEASE);
		g_records += n;
	}
	::munmap(m, map_len);
}

void Worker::one()
{
	const unsigned slot = static_cast<unsigned>(r_.below(kSlots));
	static const Op table[] = {
	        OpAttach,  OpAttach,   OpAttach,   OpSetEvents,   OpSetStopEvents, OpControl,
	        OpControl, OpControl,  OpDetach,   OpDetach,      OpInfo,          OpInfo,
	        OpList,    OpRead,     OpRead,     OpRead,        OpWrite,         OpWrite,
	        OpWrite,   OpPoll,     OpBadIoctl, OpBadIoctl,    OpVersion,       OpPing,
	        OpRing,    OpRingRead, OpRingRead, OpSetSyscalls, OpRingMap};
	Op op = table[r_.below(sizeof(table) / sizeof(table[0]))];
	if (r_.one_in(400))
		op = OpReopen;
	current = op;
	if (op == OpReopen) {
		do_reopen(slot);
		return;
	}
	std::shared_lock<std::shared_mutex> l(g_slots[slot].m);
	const int fd = g_slots[slot].fd;
	switch (op) {
	case OpVersion: {
		utrace_ioc_version v{};
		const int err = ::ioctl(fd, UTRACE_IOC_VERSION, &v) ? errno : 0;
		check(op, err, "version");
		if (err || v.abi != UTRACE_ABI_VERSION)
			die("version: errno %d, abi %u", err, v.abi);
		break;
	}
	case OpPing: {
		utrace_ioc_ping p{r_.next(), 0};
		const int err = ::ioctl(fd, UTRACE_IOC_PING, &p) ? errno : 0;
		check(op, err, "ping");
		if (err || p.reply != ~p.cookie)
			die("ping: errno %d, a wrong reply", err);
		break;
	}
	case OpAttach:
		do_attach(slot, fd);
		break;
	case OpSetEvents:
	case OpSetStopEvents:
	case OpControl:
	case OpDetach:
		do_engine(op, slot, fd);
		break;
	case OpInfo:
		do_info(slot, fd);
		break;
	case OpList:
		do_list(slot, fd);
		break;
	case OpRead:
		do_read(slot, fd);
		break;
	case OpWrite:
		do_write(slot, fd);
		break;
	case OpRing:
		do_ring(slot, fd);
		break;
	case OpRingRead:
		do_ring_read(slot);
		break;
	case OpSetSyscalls:
		do_set_syscalls(slot, fd);
		break;
	case OpRingMap:
		do_ring_map(slot);
		break;
	case OpPoll: {
		pollfd p{fd, static_cast<short>(POLLIN | POLLOUT), 0};
		const int n = ::poll(&p, 1, 0);
		check(op, n < 0 ? errno : 0, "poll");
		if (n != 1 || !(p.revents & POLLOUT))
			die("poll: %d, revents %#x (always writable)", n, p.revents);
		break;
	}
	default:
		do_bad_ioctl(fd);
		break;
	}
}

void Worker::run(uint64_t total)
{
	const auto start = std::chrono::steady_clock::now();
	for (;;) {
		const uint64_t n = g_ops.fetch_add(1);
		if (g_stop || n >= total)
			break;
		if (n && total >= 10 && n % (total / 10) == 0) {
			const double t = std::chrono::duration<double>(
			                         std::chrono::steady_clock::now() - start)
			                         .count();
			std::lock_guard<std::mutex> l(g_print);
			std::printf("utrace_fuzz: %llu operations, %.0f s\n",
			            static_cast<unsigned long long>(n), t);
			std::fflush(stdout);
		}
		one();
		g_progress++; // the watchdog's
	}
	current = NumOps;
}

// --- the manager: keeps the pool full, kills, signals, reaps ---------------

std::string describe(int st)
{
	if (WIFEXITED(st))
		return "exit " + std::to_string(WEXITSTATUS(st));
	if (WIFSIGNALED(st))
		return std::string("signal ") + strsignal(WTERMSIG(st));
	return "status " + std::to_string(st);
}

// A child's end: exit 0; SIGKILL if we sent it; SIGTRAP if a step was
// asked for on one of its threads.  Anything else fails the run.
void reaped(pid_t pid, int st)
{
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	std::string kind = "exit 0";
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && g_killed.count(pid)) {
		ok = true;
		kind = "killed";
	}
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGTRAP) {
		std::lock_guard<std::mutex> l(g_stepped_m);
		ok = g_stepped.count(pid) != 0;
		kind = "stepped into SIGTRAP";
	}
	if (!ok)
		die("child %d ended unexpectedly: %s", pid, describe(st).c_str());
	g_endings[kind]++;
	g_killed.erase(pid);
}

void manager(uint64_t seed, unsigned children, pid_t foreign_pid, int *foreign_status)
{
	Rng r(seed);
	while (!g_stop) {
		// Reaping and refilling wait for no request to use a pid (none is
		// reused under one); a request may wait for a child (an attach for
		// its exec), so they are skipped rather than waited for.  Kills and
		// signals need no lock: this thread alone reaps, so no pid it
		// signals has been reused.
		if (std::unique_lock<std::shared_mutex> l(g_pool_m, std::try_to_lock);
		    l.owns_lock()) {
			for (;;) {
				int st = 0;
				const pid_t p = ::waitpid(-1, &st, WNOHANG);
				if (p <= 0)
					break;
				if (p == foreign_pid) {
					*foreign_status = st;
					continue;
				}
				g_pool.erase(std::remove(g_pool.begin(), g_pool.end(), p),
				             g_pool.end());
				reaped(p, st);
			}
			while (g_pool.size() < children) {
				const pid_t p = spawn_child(r);
				if (p < 0)
					die("fork: %s", std::strerror(errno));
				g_pool.push_back(p);
			}
		}
		if (!g_pool.empty() && r.one_in(20)) {
			const pid_t p = r.pick(g_pool);
			g_killed.insert(p);
			::kill(p, SIGKILL);
		} else if (!g_pool.empty() && r.one_in(5)) {
			static const int sigs[] = {SIGSTOP, SIGCONT, SIGCONT, SIGWINCH, SIGURG};
			::kill(r.pick(g_pool), sigs[r.below(5)]);
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(5 + r.below(20)));
	}
	// The end: every child is killed and must end so.
	std::unique_lock<std::shared_mutex> l(g_pool_m);
	for (const pid_t p : g_pool) {
		g_killed.insert(p);
		::kill(p, SIGKILL);
	}
	for (const pid_t p : g_pool) {
		int st = 0;
		while (::waitpid(p, &st, 0) < 0 && errno == EINTR)
			;
		reaped(p, st);
		g_progress++;
	}
	g_pool.clear();
}

std::string errno_name(int e)
{
	static const std::map<int, const char *> names = {{0, "ok"},
	                                                  {EFAULT, "EFAULT"},
	                                                  {EINVAL, "EINVAL"},
	                                                  {ESRCH, "ESRCH"},
	                                                  {EPERM, "EPERM"},
	                                                  {ENOMEM, "ENOMEM"},
	                                                  {ENOENT, "ENOENT"},
	                                                  {EALREADY, "EALREADY"},
	                                                  {EINPROGRESS, "EINPROGRESS"},
	                                                  {EOPNOTSUPP, "EOPNOTSUPP"},
	                                                  {EAGAIN, "EAGAIN"},
	                                                  {ENOTTY, "ENOTTY"},
	                                                  {EEXIST, "EEXIST"}};
	const auto it = names.find(e);
	return it != names.end() ? it->second : std::to_string(e);
}

// The engines root's new file sees: the persistent ones of every owner.
std::vector<uint64_t> list_all(int fd)
{
	std::vector<uint64_t> ids(4096);
	utrace_ioc_list l{};
	l.ids = reinterpret_cast<uintptr_t>(ids.data());
	l.count = static_cast<uint32_t>(ids.size());
	if (::ioctl(fd, UTRACE_IOC_LIST, &l) != 0)
		die("list at the end: %s", std::strerror(errno));
	ids.resize(std::min<uint32_t>(l.count, 4096));
	return ids;
}

// Detaches every persistent engine (the files' went with them).  Before
// the children are killed: an engine may hold one stopped at EXIT in a
// group exit, where the kernel drops SIGKILL (as a ptracer holds its
// tracee at PTRACE_EVENT_EXIT); only its owner can let it go.
unsigned detach_persistent()
{
	const int fd = ::open(kDevice, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", kDevice, std::strerror(errno));
	const std::vector<uint64_t> ids = list_all(fd);
	for (const uint64_t id : ids) {
		utrace_ioc_engine e{id, 0};
		if (::ioctl(fd, UTRACE_IOC_DETACH, &e) != 0)
			die("detach %llu at the end: %s", static_cast<unsigned long long>(id),
			    std::strerror(errno));
	}
	::close(fd);
	return static_cast<unsigned>(ids.size());
}

// At the very end no engine may be left.
void check_nothing_left(unsigned detached)
{
	const int fd = ::open(kDevice, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", kDevice, std::strerror(errno));
	const size_t left = list_all(fd).size();
	if (left)
		die("%zu engines left after the run", left);
	::close(fd);
	std::printf("engines left: none (%u persistent ones detached at the end)\n", detached);
}

// The watchdog's diagnostics: where each task of the fuzzer, of its
// children and of the other user's process is (/proc: state, wchan, system
// call, kernel stack).  Plain reads and writes: a stuck thread may hold any
// lock of ours.
std::string slurp(const std::string &path)
{
	char buf[4096];
	const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "?";
	std::string out;
	for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;)
		out.append(buf, static_cast<size_t>(n));
	::close(fd);
	while (!out.empty() && out.back() == '\n')
		out.pop_back();
	return out;
}

std::string status_field(const std::string &status, const char *name)
{
	const std::string key = std::string("\n") + name + ":\t";
	const size_t at = status.find(key);
	if (at == std::string::npos)
		return "?";
	const size_t from = at + key.size();
	return status.substr(from, status.find('\n', from) - from);
}

void dump_tasks()
{
	std::string out = "utrace_fuzz: the tasks of the run (/proc):\n";
	DIR *procs = ::opendir("/proc");
	while (const dirent *p = procs ? ::readdir(procs) : nullptr) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		const std::string dir = std::string("/proc/") + p->d_name;
		if (slurp(dir + "/comm") != "utrace_fuzz")
			continue;
		std::string devs;
		DIR *fds = ::opendir((dir + "/fd").c_str());
		while (const dirent *f = fds ? ::readdir(fds) : nullptr) {
			char target[256];
			const std::string link = dir + "/fd/" + f->d_name;
			const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
			if (n > 0 && std::string(target, static_cast<size_t>(n)) == kDevice)
				devs += std::string(" ") + f->d_name;
		}
		if (fds)
			::closedir(fds);
		out += "  pid " + std::string(p->d_name) + ": " + kDevice + " open on fds" +
		       (devs.empty() ? " none" : devs) + "\n";
		DIR *tasks = ::opendir((dir + "/task").c_str());
		while (const dirent *t = tasks ? ::readdir(tasks) : nullptr) {
			if (t->d_name[0] == '.')
				continue;
			const std::string td = dir + "/task/" + t->d_name;
			const std::string st = "\n" + slurp(td + "/status");
			out += "  pid " + std::string(p->d_name) + " tid " + t->d_name + " (" +
			       slurp(td + "/comm") + ") ppid " + status_field(st, "PPid") +
			       " uid " + status_field(st, "Uid") + " state " +
			       status_field(st, "State") + " wchan " + slurp(td + "/wchan") +
			       " pending " + status_field(st, "SigPnd") + "/" +
			       status_field(st, "ShdPnd") + " syscall " + slurp(td + "/syscall") +
			       "\n";
			std::string stack = slurp(td + "/stack");
			for (size_t i = 0; i < stack.size(); i++)
				if (stack[i] == '\n')
					stack.insert(++i, "    ");
			out += "    " + stack + "\n";
		}
		if (tasks)
			::closedir(tasks);
	}
	if (procs)
		::closedir(procs);
	for (size_t off = 0; off < out.size();) {
		const ssize_t n = ::write(STDOUT_FILENO, out.data() + off, out.size() - off);
		if (n <= 0)
			break;
		off += static_cast<size_t>(n);
	}
}

} // namespace

int main(int argc, char **argv)
{
	if (argc >= 4 && std::strcmp(argv[1], "--child") == 0) {
		g_self = "/proc/self/exe";
		char buf[4096];
		const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		if (n > 0)
			g_self.assign(buf, static_cast<size_t>(n));
		child_main(argv[2], std::strtoull(argv[3], nullptr, 10));
	}
	uint64_t seed = static_cast<uint64_t>(
	        std::chrono::steady_clock::now().time_since_epoch().count() ^ ::getpid());
	uint64_t total = 100000;
	unsigned threads = 4;
	unsigned children = 6;
	unsigned watchdog = 60;
	bool users = true;
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		auto value = [&]() -> uint64_t {
			if (i + 1 >= argc) {
				std::fprintf(stderr, "utrace_fuzz: %s needs a value\n", a.c_str());
				std::exit(2);
			}
			return std::strtoull(argv[++i], nullptr, 0);
		};
		if (a == "--seed")
			seed = value();
		else if (a == "--ops")
			total = value();
		else if (a == "--threads")
			threads = static_cast<unsigned>(std::max<uint64_t>(1, value()));
		else if (a == "--children")
			children = static_cast<unsigned>(std::max<uint64_t>(1, value()));
		else if (a == "--watchdog")
			watchdog = static_cast<unsigned>(value());
		else if (a == "--no-users")
			users = false;
		else {
			std::fprintf(stderr,
			             "usage: utrace_fuzz [--seed N] [--ops N] [--threads N] "
			             "[--children N] [--watchdog SECONDS] [--no-users]\n");
			return 2;
		}
	}
	std::printf("utrace_fuzz: seed %llu, %llu operations, %u threads, %u children%s\n",
	            static_cast<unsigned long long>(seed), static_cast<unsigned long long>(total),
	            threads, children, users ? ", another user" : "");
	std::fflush(stdout);
	char self[4096];
	const ssize_t sn = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sn <= 0)
		die("readlink /proc/self/exe: %s", std::strerror(errno));
	g_self.assign(self, static_cast<size_t>(sn));
	::signal(SIGPIPE, SIG_IGN);
	const auto start = std::chrono::steady_clock::now();

	for (auto &s : g_slots) {
		s.fd = ::open(kDevice, O_RDWR | O_CLOEXEC | O_NONBLOCK);
		if (s.fd < 0)
			die("open %s: %s (module loaded? root?)", kDevice, std::strerror(errno));
	}

	// The other user: its engines are foreign ids for us.
	Foreign foreign;
	struct stat dev_st {
	};
	if (users) {
		if (::stat(kDevice, &dev_st) != 0 || ::chmod(kDevice, 0666) != 0)
			die("chmod %s: %s", kDevice, std::strerror(errno));
		int cmd[2];
		int resp[2];
		if (::pipe2(cmd, O_CLOEXEC) || ::pipe2(resp, O_CLOEXEC))
			die("pipe");
		foreign.pid = ::fork();
		if (foreign.pid == 0)
			foreign_main(cmd[0], resp[1], seed + 2000, ::getppid());
		::close(cmd[0]);
		::close(resp[1]);
		foreign.cmd = cmd[1];
		foreign.resp = resp[0];
	}

	std::vector<std::unique_ptr<Worker>> workers;
	for (unsigned i = 0; i < threads; i++)
		workers.push_back(std::make_unique<Worker>(i, seed + 1 + i));

	// Watchdog, from here (the one fork that runs more than an exec is
	// behind us) to the end: no progress for @watchdog seconds is a hang.
	// Progress: a request done, a child reaped at the end, a new phase.
	// It names the phase and each worker's request, dumps where every task
	// of the run is, and ends the run.
	std::atomic<bool> done{false};
	std::thread dog([&] {
		uint64_t last = g_progress;
		auto since = std::chrono::steady_clock::now();
		while (!done) {
			std::this_thread::sleep_for(std::chrono::milliseconds(200));
			const uint64_t now = g_progress;
			if (now != last) {
				last = now;
				since = std::chrono::steady_clock::now();
				continue;
			}
			if (std::chrono::steady_clock::now() - since >
			    std::chrono::seconds(watchdog)) {
				std::string where;
				for (unsigned i = 0; i < workers.size(); i++) {
					const unsigned op = workers[i]->current;
					where += " thread " + std::to_string(i) + ": " +
					         (op < NumOps ? kOpNames[op] : "idle") + ";";
				}
				char line[512];
				const int len = std::snprintf(line, sizeof(line),
				                              "utrace_fuzz: FAIL: no progress for "
				                              "%u s (seed %llu), in %s:%s\n",
				                              watchdog,
				                              static_cast<unsigned long long>(seed),
				                              g_phase.load(), where.c_str());
				(void)!::write(STDOUT_FILENO, line,
				               std::min<size_t>(static_cast<size_t>(len),
				                                sizeof(line) - 1));
				dump_tasks();
				::_exit(3);
			}
		}
	});

	if (users) {
		set_phase("setup: waiting for the other user's engine ids");
		uint64_t ids[2];
		if (::read(foreign.resp, ids, sizeof(ids)) != sizeof(ids)) {
			int st = 0;
			while (::waitpid(foreign.pid, &st, 0) < 0 && errno == EINTR)
				;
			die("the other user's process failed to attach its engines: %s",
			    describe(st).c_str());
		}
		g_foreign_file.push_back(ids[0]);
		g_foreign_any.push_back(ids[1]);
		g_max_id = std::max<uint64_t>(g_max_id, ids[1]);
	}

	set_phase("the requests");
	int foreign_status = -1;
	std::thread mgr(manager, seed + 1000, children, foreign.pid, &foreign_status);
	std::vector<std::thread> ts;
	ts.reserve(workers.size());
	for (auto &w : workers)
		ts.emplace_back([&w, total] { w->run(total); });

	for (auto &t : ts)
		t.join();
	// The end: the files closed and the persistent engines detached first,
	// then the children killed and reaped.
	set_phase("the end: closing the files");
	for (auto &s : g_slots)
		::close(s.fd);
	for (auto &s : g_slots)
		if (s.ring >= 0) {
			ring_drain(s.ring);
			::close(s.ring);
		}
	set_phase("the end: detaching the persistent engines");
	const unsigned detached = detach_persistent();
	set_phase("the end: killing and reaping the children");
	g_stop = true;
	mgr.join();
	set_phase("the end: the other user's verdict");

	Histogram total_hist;
	for (auto &w : workers)
		total_hist.merge(w->hist);

	if (users) {
		::close(foreign.cmd);
		char out[512] = {};
		size_t got = 0;
		for (ssize_t n; got < sizeof(out) - 1 &&
		                (n = ::read(foreign.resp, out + got, sizeof(out) - 1 - got)) > 0;)
			got += static_cast<size_t>(n);
		if (foreign_status == -1)
			while (::waitpid(foreign.pid, &foreign_status, 0) < 0 && errno == EINTR)
				;
		::chmod(kDevice, dev_st.st_mode & 07777);
		unsigned long long n = 0, bad = 0;
		char first[256] = "";
		if (std::sscanf(out, "%llu %llu %255[^\n]", &n, &bad, first) < 2 ||
		    !WIFEXITED(foreign_status) || WEXITSTATUS(foreign_status) != 0)
			die("the other user's process: %s, said '%s'",
			    describe(foreign_status).c_str(), out);
		if (bad)
			die("the other user's requests: %llu of %llu wrong, first: %s", bad, n,
			    first);
		const char *line = std::strchr(out, '\n');
		while (line && *++line) {
			int e = 0;
			unsigned long long c = 0;
			if (std::sscanf(line, "%d %llu", &e, &c) == 2)
				total_hist.counts[OpForeign][e] += c;
			line = std::strchr(line, '\n');
		}
	}
	set_phase("the end: checking that no engine is left");
	check_nothing_left(detached);
	done = true;
	dog.join();

	const double secs =
	        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	uint64_t ops = 0;
	std::printf("%-16s %s\n", "request", "errno: count");
	for (unsigned i = 0; i < NumOps; i++) {
		if (total_hist.counts[i].empty())
			continue;
		std::string line;
		for (const auto &[e, c] : total_hist.counts[i]) {
			line += " " + errno_name(e) + ":" + std::to_string(c);
			ops += c;
		}
		std::printf("%-16s%s\n", kOpNames[i], line.c_str());
	}
	std::string endings;
	for (const auto &[k, c] : g_endings)
		endings += " " + k + ":" + std::to_string(c);
	std::printf("children: %llu spawned, ended:%s\n",
	            static_cast<unsigned long long>(g_spawned.load()), endings.c_str());
	std::printf("reports read %llu, replies accepted %llu, ring records read %llu\n",
	            static_cast<unsigned long long>(g_reports.load()),
	            static_cast<unsigned long long>(g_replies.load()),
	            static_cast<unsigned long long>(g_records.load()));
	std::printf("utrace_fuzz: PASS: %llu operations, seed %llu, %.1f s\n",
	            static_cast<unsigned long long>(ops), static_cast<unsigned long long>(seed),
	            secs);
	return 0;
}
