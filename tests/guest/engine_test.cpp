// The utrace core through the engines /dev/utrace attaches (count, stopper):
// events, stops, actions, errors, unload.  Runs in both guests with the
// module loaded by the runner.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>
#include <fcntl.h>
#include <dirent.h>
#include <fstream>
#include <linux/io_uring.h>
#include <sstream>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#include "error_of.hpp"
#include "tracee.hpp"
#include "uapi/utrace.h"
#include "utrace/device.hpp"
#include "utrace/error.hpp"

using utrace_test::proc_state;
using namespace std::chrono_literals;
using utrace::Action;
using utrace::bit;
using utrace::EngineState;
using utrace::EngineType;
using utrace::Event;
using utrace_test::error_of;
using utrace_test::eventually;
using utrace_test::ftrace_hook_line;
using utrace_test::ftrace_hooked;
using utrace_test::ftrace_hooked_all;
using utrace_test::ftrace_hooked_any;
using utrace_test::path_exists;
using utrace_test::Tracee;

namespace
{

class Engines : public ::testing::Test
{
protected:
	utrace::Device dev;

	bool wait_state(utrace::EngineId id, EngineState state)
	{
		return eventually([&] { return dev.info(id).state == state; });
	}
};

TEST_F(Engines, AttachRejectsBadInputWithPreciseErrors)
{
	Tracee t;
	EXPECT_EQ(error_of([&] { (void)dev.attach(0x3ffffff0, EngineType::Count, 0); }), ESRCH);
	EXPECT_EQ(error_of([&] { (void)dev.attach(2, EngineType::Count, 0); }), EPERM)
	        << "pid 2 is kthreadd, a kernel thread";
	EXPECT_EQ(error_of([&] { (void)dev.attach(t.pid(), static_cast<EngineType>(9), 0); }),
	          EINVAL);
	EXPECT_EQ(error_of([&] { (void)dev.attach(t.pid(), EngineType::Count, 1ULL << 20); }),
	          EINVAL);
	EXPECT_EQ(error_of([&] { (void)dev.info(123456789); }), ENOENT);
	EXPECT_EQ(error_of([&] { dev.detach(123456789); }), ENOENT);
	EXPECT_EQ(error_of([&] { (void)dev.control(123456789, Action::Resume); }), ENOENT);
	const auto id = dev.attach(t.pid(), EngineType::Count, 0);
	EXPECT_EQ(error_of([&] { dev.set_events(id, 1ULL << 14); }), EINVAL);
	EXPECT_EQ(error_of([&] { (void)dev.control(id, static_cast<Action>(7)); }), EINVAL);
	dev.detach(id);
	EXPECT_EQ(error_of([&] { (void)dev.info(id); }), ENOENT);
}

// A user worker is a task the kernel clones from a user thread to run
// kernel code for it, never returning to user mode: io_uring's iou-wrk-*
// and, from 6.4 on, vhost's vhost-<pid> (PF_USER_WORKER on 6.12).  A child
// process makes one and waits; worker() is its tid (0: none of the kind
// among the child's threads, as 6.1's vhost workers are kernel threads).
class UserWorker
{
public:
	enum Kind { IoUring, Vhost };

	explicit UserWorker(Kind kind)
	{
		int status[2];
		if (::pipe(status) != 0)
			throw std::runtime_error("pipe");
		pid_ = ::fork();
		if (pid_ == 0) {
			::close(status[0]);
			const int err = kind == IoUring ? io_uring_worker() : vhost_worker();
			(void)!::write(status[1], &err, sizeof(err));
			for (;;)
				::pause();
		}
		::close(status[1]);
		int err = -1;
		(void)!::read(status[0], &err, sizeof(err));
		::close(status[0]);
		error_ = err;
		const std::string prefix = kind == IoUring ? "iou-wrk-" : "vhost-";
		if (err == 0)
			(void)eventually([&] { return (worker_ = find_thread(prefix)) != 0; }, 5s);
	}
	~UserWorker()
	{
		::kill(pid_, SIGKILL);
		::waitpid(pid_, nullptr, 0);
	}
	UserWorker(const UserWorker &) = delete;
	UserWorker &operator=(const UserWorker &) = delete;

	pid_t pid() const { return pid_; }
	pid_t worker() const { return worker_; }
	int error() const { return error_; } // errno of making it in the child

	// VHOST_SET_OWNER starts the device's worker (run-guest.py --modprobe
	// vhost_net makes /dev/vhost-net).
	static int vhost_worker()
	{
		// <linux/vhost.h>'s, which includes a header C++ cannot compile.
		constexpr unsigned long kVhostSetOwner = _IO(0xAF, 0x01);

		const int fd = ::open("/dev/vhost-net", O_RDWR);
		if (fd < 0 || ::ioctl(fd, kVhostSetOwner) != 0)
			return errno;
		return 0;
	}

private:
	pid_t pid_ = 0;
	pid_t worker_ = 0;
	int error_ = 0;

	pid_t find_thread(const std::string &prefix) const
	{
		const std::string dir = "/proc/" + std::to_string(pid_) + "/task";
		DIR *d = ::opendir(dir.c_str());
		if (!d)
			return 0;
		pid_t found = 0;
		while (const dirent *e = ::readdir(d)) {
			std::ifstream comm(dir + "/" + e->d_name + "/comm");
			std::string name;
			if (e->d_name[0] != '.' && std::getline(comm, name) &&
			    name.rfind(prefix, 0) == 0)
				found = static_cast<pid_t>(std::atoi(e->d_name));
		}
		::closedir(d);
		return found;
	}

	// A read of an empty pipe that io_uring must punt to a worker
	// (IOSQE_ASYNC): the worker blocks in it.
	static int io_uring_worker()
	{
		static int fds[2];
		static char byte;
		io_uring_params p{};
		const int ring = static_cast<int>(::syscall(__NR_io_uring_setup, 4, &p));
		if (ring < 0 || ::pipe(fds) != 0)
			return errno;
		const size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
		auto *sq = static_cast<char *>(::mmap(nullptr, sq_size, PROT_READ | PROT_WRITE,
		                                      MAP_SHARED, ring, IORING_OFF_SQ_RING));
		auto *sqes = static_cast<io_uring_sqe *>(
		        ::mmap(nullptr, p.sq_entries * sizeof(io_uring_sqe), PROT_READ | PROT_WRITE,
		               MAP_SHARED, ring, IORING_OFF_SQES));
		if (sq == MAP_FAILED || sqes == MAP_FAILED)
			return errno;
		auto *tail = reinterpret_cast<unsigned *>(sq + p.sq_off.tail);
		const unsigned mask = *reinterpret_cast<unsigned *>(sq + p.sq_off.ring_mask);
		auto *array = reinterpret_cast<unsigned *>(sq + p.sq_off.array);
		const unsigned t = *tail, idx = t & mask;
		sqes[idx] = io_uring_sqe{};
		sqes[idx].opcode = IORING_OP_READ;
		sqes[idx].flags = IOSQE_ASYNC;
		sqes[idx].fd = fds[0];
		sqes[idx].addr = reinterpret_cast<uintptr_t>(&byte);
		sqes[idx].len = 1;
		array[idx] = idx;
		__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
		if (::syscall(__NR_io_uring_enter, ring, 1, 0, 0, nullptr, 0) != 1)
			return errno;
		return 0;
	}
};

// The uapi's EPERM for an io_uring worker, for every engine type; its own
// process is attachable.
TEST_F(Engines, NoEngineAttachesToAnIoUringWorker)
{
	UserWorker w(UserWorker::IoUring);
	ASSERT_EQ(w.error(), 0) << "io_uring_setup/enter: " << std::strerror(w.error());
	ASSERT_NE(w.worker(), 0) << "no iou-wrk-" << w.pid() << " thread";
	for (const auto type : {EngineType::Count, EngineType::Stopper, EngineType::User})
		EXPECT_EQ(error_of([&] { (void)dev.attach(w.worker(), type, 0); }), EPERM)
		        << "iou-wrk-" << w.pid() << ", engine type " << static_cast<int>(type);
	dev.detach(dev.attach(w.pid(), EngineType::Count, 0));
}

// The same for a vhost worker, a user worker (PF_USER_WORKER) on 6.12 but
// not an io_uring one (no PF_IO_WORKER): 6.12's first refusal missed it.
TEST_F(Engines, NoEngineAttachesToAVhostWorker)
{
	UserWorker w(UserWorker::Vhost);
	if (w.error() == ENOENT)
		GTEST_SKIP() << "no /dev/vhost-net: the guest has no vhost_net (x86_64 6.12's "
		                "smoke test loads it: run-guest.py --modprobe vhost_net)";
	ASSERT_EQ(w.error(), 0) << "/dev/vhost-net, VHOST_SET_OWNER: " << std::strerror(w.error());
	if (w.worker() == 0)
		GTEST_SKIP() << "vhost's worker is a kernel thread on this kernel (6.1), not one "
		                "of the owner's threads";
	for (const auto type : {EngineType::Count, EngineType::Stopper, EngineType::User})
		EXPECT_EQ(error_of([&] { (void)dev.attach(w.worker(), type, 0); }), EPERM)
		        << "vhost-" << w.pid() << ", engine type " << static_cast<int>(type);
	dev.detach(dev.attach(w.pid(), EngineType::Count, 0));
}

// vhost_task_create() clones the worker CLONE_UNTRACED, without
// kernel_clone(): natively a tracer with PTRACE_O_TRACECLONE sees no CLONE
// event, and the backend must not report one (its clone report took a
// vhost worker for a plain thread and auto-attached it).
TEST(UserWorkers, AVhostWorkerMakesNoCloneEventNativelyOrUnderTheBackend)
{
	const char *const backend = "/sys/module/utrace/parameters/ptrace_backend";
	if (::access("/dev/vhost-net", F_OK) != 0)
		GTEST_SKIP() << "no /dev/vhost-net (run-guest.py --modprobe vhost_net)";
	for (const char *mode : {"N", "Y"}) {
		std::ofstream(backend) << mode;
		const pid_t child = ::fork();
		if (child == 0) {
			::raise(SIGSTOP);
			::_exit(UserWorker::vhost_worker());
		}
		int st = 0;
		ASSERT_EQ(::waitpid(child, &st, WUNTRACED), child);
		ASSERT_EQ(::ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_TRACECLONE), 0) << mode;
		::kill(child, SIGCONT);
		std::vector<int> events;
		for (;;) {
			const pid_t who = ::waitpid(-1, &st, __WALL);
			ASSERT_GT(who, 0) << mode;
			if (WIFSTOPPED(st)) {
				events.push_back(st >> 16);
				::ptrace(PTRACE_CONT, who, 0, 0);
			} else if (who == child) {
				EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
				        << mode << ": VHOST_SET_OWNER failed in the child";
				break;
			}
		}
		EXPECT_EQ(std::count(events.begin(), events.end(), PTRACE_EVENT_CLONE), 0)
		        << "ptrace_backend=" << mode;
	}
	std::ofstream(backend) << "N";
}

// Finding 9: native ptrace refuses the caller's own thread group (EPERM);
// /dev/utrace let a process attach to itself and to its own threads.
TEST_F(Engines, AttachRefusesTheCallersOwnThreadGroup)
{
	EXPECT_EQ(error_of([&] { (void)dev.attach(::getpid(), EngineType::Count, 0); }), EPERM);
	std::atomic<pid_t> tid{0};
	std::atomic<bool> stop{false};
	std::thread sibling([&] {
		tid = static_cast<pid_t>(::syscall(SYS_gettid));
		while (!stop)
			std::this_thread::sleep_for(1ms);
	});
	ASSERT_TRUE(eventually([&] { return tid.load() != 0; }));
	EXPECT_EQ(error_of([&] { (void)dev.attach(tid.load(), EngineType::Stopper, 0); }), EPERM);
	stop = true;
	sibling.join();
}

// Finding 14: reserved fields were never checked, so they could not be
// given a meaning later.  Non-zero is EINVAL, and nothing is done.
TEST_F(Engines, ReservedFieldsMustBeZero)
{
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::Count, 0);
	utrace_ioc_engine detach{id, 1};
	errno = 0;
	EXPECT_EQ(::ioctl(dev.fd(), UTRACE_IOC_DETACH, &detach), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(dev.info(id).state, EngineState::Attached) << "a refused DETACH detached";

	uint64_t ids[4] = {};
	utrace_ioc_list list{};
	list.ids = reinterpret_cast<uintptr_t>(ids);
	list.count = 4;
	list.__pad = 1;
	errno = 0;
	EXPECT_EQ(::ioctl(dev.fd(), UTRACE_IOC_LIST, &list), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(list.count, 4U) << "a refused LIST wrote its count";
	dev.detach(id);

	// ATTACH: unknown flags, the reserved word, a persistent user engine.
	auto attach_errno = [&](uint32_t type, uint32_t flags, uint32_t reserved) {
		utrace_ioc_attach a{};
		a.tid = t.pid();
		a.type = type;
		a.flags = flags;
		a.__reserved = reserved;
		if (::ioctl(dev.fd(), UTRACE_IOC_ATTACH, &a) == 0) {
			dev.detach(a.id);
			return 0;
		}
		return errno;
	};
	EXPECT_EQ(attach_errno(UTRACE_ENGINE_COUNT, 0x2, 0), EINVAL);
	EXPECT_EQ(attach_errno(UTRACE_ENGINE_COUNT, 0, 1), EINVAL);
	EXPECT_EQ(attach_errno(UTRACE_ENGINE_USER, UTRACE_ENGINE_PERSISTENT, 0), EINVAL)
	        << "a user engine cannot outlive the file its reports are read from";
	EXPECT_EQ(attach_errno(UTRACE_ENGINE_STOPPER, UTRACE_ENGINE_PERSISTENT, 0), 0);
}

TEST_F(Engines, InfoNamesTheOwnerAndTheLifetime)
{
	Tracee t;
	const auto file = dev.attach(t.pid(), EngineType::Count, 0);
	const auto persistent =
	        dev.attach(t.pid(), EngineType::Count, 0, 0, utrace::Lifetime::Persistent);
	EXPECT_EQ(dev.info(file).lifetime, utrace::Lifetime::File);
	EXPECT_EQ(dev.info(persistent).lifetime, utrace::Lifetime::Persistent);
	EXPECT_EQ(dev.info(file).owner_uid, ::geteuid());
	EXPECT_EQ(dev.info(persistent).owner_uid, ::geteuid());
	dev.detach(file);
	dev.detach(persistent);
}

// On powerpc every hook is an ftrace callback, and every caller of a hooked
// function pays for it: the module's redirects need no more than the
// argument registers, the NIP and the LR, which ftrace_caller saves, so no
// site of theirs may ask for ftrace_regs_caller's full register save ("R"
// in enabled_functions), some 100 ns more per call (kmod/arch_powerpc.c).
TEST_F(Engines, PowerpcHooksAskForNoFullRegisterSave)
{
#ifndef __powerpc64__
	GTEST_SKIP() << "x86_64's shared hooks save every register; its hot ones are direct calls";
#else
	for (const std::string fn : {"do_exit", "sys_ptrace", "security_bprm_creds_from_file"}) {
		const std::string line = ftrace_hook_line(fn);
		ASSERT_FALSE(line.empty()) << fn << " is not hooked: is the module loaded?";
		EXPECT_EQ(line.find(" R "), std::string::npos) << line;
		EXPECT_NE(line.find(" I "), std::string::npos) << line;
	}
#endif
}

// Fork, exec, signals, and on powerpc the syscall slow path that every task
// with seccomp or audit takes, are hooked (ftrace redirects, and probes that
// redirect nothing) only while some task has a utrace, and for UTRACE_LAZY_LINGER after
// (kmod/hooks.c): an untraced task never enters the module there.  The
// hooks are on before the attach returns, so the engine's first syscall is
// counted.  (__send_signal_locked is static: its name may carry a suffix.)
TEST_F(Engines, HooksOnlyTracedTasksNeedAreEnabledOnlyWhileATaskHasAnEngine)
{
	std::vector<std::string> lazy = {"proc_exec_connector", "wake_up_new_task",
	                                 "get_signal",          "dequeue_signal",
	                                 "kernel_clone",        "signal_setup_done"};
#ifdef __powerpc64__
	lazy.emplace_back("do_syscall_trace_enter");
	lazy.emplace_back("do_syscall_trace_leave");
#endif
	const auto any_hooked = [&] { return ftrace_hooked_any(lazy); };
	const auto all_hooked = [&] { return ftrace_hooked_all(lazy); };
	ASSERT_TRUE(ftrace_hooked("do_exit")) << "the module is not loaded, or not hooked";
	// An earlier test's engines may have left them for a while.
	ASSERT_TRUE(eventually([&] { return !any_hooked(); }, 10s))
	        << "hooked while no task has an engine";
	for (int round = 0; round < 2; round++) {
		{
			Tracee t; // killed and reaped at the end of the block
			EXPECT_FALSE(any_hooked()) << "round " << round;
			const auto id =
			        dev.attach(t.pid(), EngineType::Count,
			                   bit(Event::SyscallEntry) | bit(Event::SyscallExit));
			EXPECT_TRUE(all_hooked())
			        << "round " << round << ": an engine, not all hooked";
			// The entry probes are the shared ops' (IPMODIFY: " I "),
			// enabled in the others' one code update, not kprobes with
			// an update each (a first attach paid 10 ms more for them).
			for (const std::string fn : {"kernel_clone", "signal_setup_done"}) {
				const std::string line = ftrace_hook_line(fn);
				EXPECT_NE(line.find(" I "), std::string::npos) << line;
			}
			ASSERT_TRUE(t.run(Tracee::kGetppid));
			EXPECT_GE(dev.info(id).count(Event::SyscallEntry), 1U) << "round " << round;
		}
		EXPECT_TRUE(eventually([&] { return !any_hooked(); }, 10s))
		        << "round " << round << ": still hooked after the task was reaped";
	}
}

TEST_F(Engines, CountEngineCountsSyscallsOfItsThreadOnly)
{
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::Count,
	                           utrace::bit(Event::SyscallEntry) | bit(Event::SyscallExit));
	for (int i = 0; i < 50; i++)
		ASSERT_TRUE(t.run(Tracee::kGetppid));
	// Our own 50 round trips must not be counted: only the tracee's.
	for (int i = 0; i < 50; i++)
		::syscall(SYS_getppid);
	const auto info = dev.info(id);
	// Per command: the getppid, the ack write and the next read.
	EXPECT_GE(info.count(Event::SyscallEntry), 100U);
	EXPECT_LE(info.count(Event::SyscallEntry), 160U);
	EXPECT_GE(info.count(Event::SyscallExit), 100U);
	EXPECT_EQ(info.count(Event::Clone), 0U);
	EXPECT_EQ(info.tid, t.pid());
	EXPECT_EQ(info.state, EngineState::Attached);
	dev.detach(id);
}

TEST_F(Engines, StopperStopsBeforeTheSyscallRunsInTracingStop)
{
	Tracee t;
	const auto entry = bit(Event::SyscallEntry);
	const auto id = dev.attach(t.pid(), EngineType::Stopper, entry, entry);
	t.send(Tracee::kMkdir);
	ASSERT_TRUE(wait_state(id, EngineState::Stopped)) << "tracee never stopped";
	EXPECT_EQ(t.proc_state(), "t (tracing stop)");
	EXPECT_EQ(dev.info(id).last_syscall, SYS_mkdirat);
	EXPECT_FALSE(path_exists(t.marker())) << "mkdirat ran before the stop ended";
	EXPECT_EQ(dev.control(id, Action::Stop), 0) << "STOP of a stopped thread is 0";

	dev.set_stop_events(id, 0);
	EXPECT_EQ(dev.control(id, Action::Resume), 0);
	ASSERT_TRUE(t.wait_ack());
	EXPECT_TRUE(path_exists(t.marker()));
	EXPECT_GE(dev.info(id).stops, 1U);
	dev.detach(id);
}

TEST_F(Engines, SigkillEndsAStop)
{
	Tracee t;
	const auto entry = bit(Event::SyscallEntry);
	const auto id = dev.attach(t.pid(), EngineType::Stopper,
	                           entry | bit(Event::Death) | bit(Event::Reap), entry);
	t.send(Tracee::kMkdir);
	ASSERT_TRUE(wait_state(id, EngineState::Stopped));
	ASSERT_EQ(::kill(t.pid(), SIGKILL), 0);
	const int status = t.wait_exit();
	ASSERT_NE(status, -1) << "SIGKILL did not end the stop";
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
	EXPECT_FALSE(path_exists(t.marker())) << "a killed stop must not run the call";
	ASSERT_TRUE(wait_state(id, EngineState::Gone));
	const auto info = dev.info(id);
	EXPECT_EQ(info.count(Event::Death), 1U);
	EXPECT_EQ(info.count(Event::Reap), 1U);
	dev.detach(id);
}

TEST_F(Engines, CountEngineSeesCloneExecExitDeathReapInOrder)
{
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::Count,
	                           bit(Event::Clone) | bit(Event::Exec) | bit(Event::Exit) |
	                                   bit(Event::Death) | bit(Event::Reap) |
	                                   bit(Event::SyscallEntry) | bit(Event::SyscallExit));
	ASSERT_TRUE(t.run(Tracee::kFork));
	EXPECT_EQ(dev.info(id).count(Event::Clone), 1U);
	EXPECT_EQ(dev.info(id).count(Event::Exit), 0U) << "the child's exit is not ours";
	t.send(Tracee::kExec);
	const int status = t.wait_exit();
	ASSERT_TRUE(WIFEXITED(status)) << status;
	EXPECT_EQ(WEXITSTATUS(status), 7);
	ASSERT_TRUE(wait_state(id, EngineState::Gone));
	const auto info = dev.info(id);
	EXPECT_EQ(info.count(Event::Exec), 1U);
	EXPECT_EQ(info.count(Event::Exit), 1U);
	EXPECT_EQ(info.exit_code, 7 << 8) << "do_exit's code for exit(7)";
	EXPECT_EQ(info.count(Event::Death), 1U);
	EXPECT_EQ(info.count(Event::Reap), 1U);
	EXPECT_EQ(info.last_event, static_cast<int>(Event::Reap)) << "REAP comes last";
	// exec must not lose the syscall slow path (x86 clears a work bit there).
	const auto entries = info.count(Event::SyscallEntry);
	const auto exits = info.count(Event::SyscallExit);
	EXPECT_GT(entries, 10U) << "exits " << exits << " clone " << info.count(Event::Clone);
	EXPECT_LE(exits, entries + 2) << "entries " << entries << ", exits " << exits;
	EXPECT_LE(entries, exits + 2) << "entries " << entries << ", exits " << exits;
	dev.detach(id);
}

TEST_F(Engines, StopAndResumeARunningThread)
{
	Tracee t;
	t.send(Tracee::kSpin);
	const auto id = dev.attach(t.pid(), EngineType::Stopper, bit(Event::Quiesce));
	EXPECT_EQ(dev.control(id, Action::Stop), EINPROGRESS);
	ASSERT_TRUE(wait_state(id, EngineState::Stopped)) << "a spinning thread never stopped";
	EXPECT_EQ(t.proc_state(), "t (tracing stop)");
	EXPECT_GE(dev.info(id).count(Event::Quiesce), 1U) << "report_quiesce before the stop";
	EXPECT_EQ(dev.control(id, Action::Resume), 0);
	ASSERT_TRUE(eventually([&] { return t.proc_state().rfind("R", 0) == 0; }))
	        << t.proc_state();
	dev.detach(id);
}

TEST_F(Engines, InterruptMakesABlockedThreadReport)
{
	Tracee t;
	ASSERT_TRUE(t.run(Tracee::kGetppid)); // now blocked reading its next command
	const auto id = dev.attach(t.pid(), EngineType::Count, bit(Event::Quiesce));
	EXPECT_EQ(dev.control(id, Action::Interrupt), 0);
	ASSERT_TRUE(eventually([&] { return dev.info(id).count(Event::Quiesce) >= 1; }));
	// The interrupted read restarts: the tracee still works.
	ASSERT_TRUE(t.run(Tracee::kGetppid));
	dev.detach(id);
}

// REPORT queues work for the next return to user mode; an INTERRUPT after it
// must still interrupt the blocked call rather than wait behind it.
TEST_F(Engines, InterruptAfterAPendingReportStillInterruptsABlockedThread)
{
	Tracee t;
	const auto quiesce = bit(Event::Quiesce);
	const auto id = dev.attach(t.pid(), EngineType::Stopper, quiesce, quiesce);
	EXPECT_EQ(dev.control(id, Action::Report), 0);
	EXPECT_EQ(dev.control(id, Action::Interrupt), 0);
	ASSERT_TRUE(wait_state(id, EngineState::Stopped)) << "the blocked read was not interrupted";
	dev.set_stop_events(id, 0);
	EXPECT_EQ(dev.control(id, Action::Resume), 0);
	dev.detach(id);
	ASSERT_TRUE(t.run(Tracee::kGetppid));
}

TEST_F(Engines, ReportWaitsForTheNextReturnToUserMode)
{
	Tracee t;
	ASSERT_TRUE(t.run(Tracee::kGetppid));
	const auto id = dev.attach(t.pid(), EngineType::Count, bit(Event::Quiesce));
	EXPECT_EQ(dev.control(id, Action::Report), 0);
	ASSERT_TRUE(t.run(Tracee::kGetppid));
	EXPECT_GE(dev.info(id).count(Event::Quiesce), 1U);
	dev.detach(id);
}

TEST_F(Engines, TwoEnginesBothSeeTheEntryAndTheStopperWins)
{
	Tracee t;
	const auto entry = bit(Event::SyscallEntry);
	const auto counter = dev.attach(t.pid(), EngineType::Count, entry);
	const auto stopper = dev.attach(t.pid(), EngineType::Stopper, entry, entry);
	t.send(Tracee::kMkdir);
	ASSERT_TRUE(wait_state(stopper, EngineState::Stopped));
	EXPECT_EQ(dev.info(counter).state, EngineState::Stopped);
	EXPECT_GE(dev.info(counter).count(Event::SyscallEntry), 1U);
	EXPECT_FALSE(path_exists(t.marker()));
	// Detaching the stopper ends its stop; the counter never asked for one.
	dev.detach(stopper);
	ASSERT_TRUE(t.wait_ack());
	EXPECT_TRUE(path_exists(t.marker()));
	dev.detach(counter);
}

TEST_F(Engines, DetachWhileStoppedResumesTheThread)
{
	Tracee t;
	const auto entry = bit(Event::SyscallEntry);
	const auto id = dev.attach(t.pid(), EngineType::Stopper, entry, entry);
	t.send(Tracee::kGetppid);
	ASSERT_TRUE(wait_state(id, EngineState::Stopped));
	dev.detach(id);
	ASSERT_TRUE(t.wait_ack());
	ASSERT_TRUE(t.run(Tracee::kGetppid));
}

TEST_F(Engines, StoppingOneThreadLeavesItsSiblingsRunning)
{
	Tracee t;
	t.send(Tracee::kThread);
	const auto tid = t.read_value();
	ASSERT_TRUE(tid);
	t.wait_in_read();
	const auto id = dev.attach(static_cast<pid_t>(*tid), EngineType::Stopper, 0);
	EXPECT_EQ(dev.control(id, Action::Stop), EINPROGRESS);
	ASSERT_TRUE(wait_state(id, EngineState::Stopped));
	const std::string task = "/proc/" + std::to_string(t.pid()) + "/task/";
	auto state_of = [&](long thread) {
		std::ifstream in(task + std::to_string(thread) + "/status");
		for (std::string line; std::getline(in, line);)
			if (line.rfind("State:", 0) == 0)
				return line.substr(line.find_first_not_of(" \t", 6));
		return std::string();
	};
	EXPECT_EQ(state_of(*tid), "t (tracing stop)");
	// The main thread still answers while its sibling is stopped.
	ASSERT_TRUE(t.run(Tracee::kGetppid));
	EXPECT_EQ(dev.info(id).tid, *tid);
	EXPECT_EQ(dev.control(id, Action::Resume), 0);
	ASSERT_TRUE(eventually([&] { return state_of(*tid).rfind("R", 0) == 0; }));
	dev.detach(id);
}

TEST_F(Engines, ListShowsAttachedEngines)
{
	Tracee t;
	const auto a = dev.attach(t.pid(), EngineType::Count, 0);
	const auto b = dev.attach(t.pid(), EngineType::Stopper, 0);
	const auto ids = dev.list();
	EXPECT_NE(std::find(ids.begin(), ids.end(), a), ids.end());
	EXPECT_NE(std::find(ids.begin(), ids.end(), b), ids.end());
	dev.detach(a);
	dev.detach(b);
}

// A process whose leader exits first and whose parent ignores SIGCHLD: the
// last thread's release_task() also releases the zombie leader (its
// "goto repeat"), and the leader's engine must still get REAP.
TEST_F(Engines, ReapOfAnAutoreapedLeaderReleasedWithItsLastThread)
{
	int pids[2];
	int go[2];
	ASSERT_EQ(::pipe(pids), 0);
	ASSERT_EQ(::pipe(go), 0);
	const pid_t parent = ::fork();
	ASSERT_GE(parent, 0);
	if (parent == 0) {
		::signal(SIGCHLD, SIG_IGN); // its children are reaped automatically
		const pid_t child = ::fork();
		if (child == 0) {
			char c = 0;
			if (::read(go[0], &c, 1) != 1)
				::_exit(1);
			pthread_t th;
			::pthread_create(
			        &th, nullptr,
			        [](void *) -> void * {
				        ::usleep(300 * 1000);
				        ::syscall(SYS_exit, 0); // the last thread
				        return nullptr;
			        },
			        nullptr);
			::syscall(SYS_exit, 0); // the leader exits first
		}
		if (::write(pids[1], &child, sizeof(child)) != sizeof(child))
			::_exit(1);
		::sleep(60); // stays the parent, ignoring SIGCHLD, until killed
		::_exit(0);
	}
	pid_t child = 0;
	ASSERT_EQ(::read(pids[0], &child, sizeof(child)), static_cast<ssize_t>(sizeof(child)));
	const auto id = dev.attach(child, EngineType::Count,
	                           bit(Event::Exit) | bit(Event::Death) | bit(Event::Reap));
	ASSERT_EQ(::write(go[1], "g", 1), 1);
	EXPECT_TRUE(wait_state(id, EngineState::Gone))
	        << "no REAP for the leader released with its last thread";
	const auto info = dev.info(id);
	EXPECT_EQ(info.count(Event::Exit), 1U);
	EXPECT_EQ(info.count(Event::Death), 1U);
	EXPECT_EQ(info.count(Event::Reap), 1U);
	dev.detach(id);
	::kill(parent, SIGKILL);
	::waitpid(parent, nullptr, 0);
	for (int fd : {pids[0], pids[1], go[0], go[1]})
		::close(fd);
}

// A thread whose engines want JCTL stops for SIGSTOP inside utrace.ko's
// get_signal(): unloading is refused (the module is in use) rather than
// freeing code the thread returns to; after SIGCONT it is not.
TEST(Unload, IsRefusedWhileATracedThreadIsInAJobControlStop)
{
	utrace::Device dev;
	Tracee t;
	const auto id = dev.attach(t.pid(), EngineType::Count, bit(Event::Jctl));
	ASSERT_EQ(::kill(t.pid(), SIGSTOP), 0);
	ASSERT_TRUE(eventually([&] { return t.proc_state() == "T (stopped)"; }));
	EXPECT_EQ(::syscall(SYS_delete_module, "utrace", O_NONBLOCK), -1);
	EXPECT_EQ(errno, EWOULDBLOCK) << "in use";
	EXPECT_EQ(dev.info(id).count(Event::Jctl), 1U);
	ASSERT_EQ(::kill(t.pid(), SIGCONT), 0);
	ASSERT_TRUE(t.run(Tracee::kGetppid));
	EXPECT_EQ(dev.info(id).count(Event::Jctl), 2U) << "stop and continue";
	dev.detach(id);
}

// The utrace.ko the runner loaded (UTRACE_MODULES), "" if none.
std::string utrace_ko()
{
	const char *mods = std::getenv("UTRACE_MODULES");
	std::string ko;
	std::istringstream in(mods ? mods : "");
	for (std::string m; in >> m;)
		if (m.size() >= 9 && m.compare(m.size() - 9, 9, "utrace.ko") == 0)
			ko = m;
	return ko;
}

// Unloads the module while a thread blocked in a system call has a step
// armed (asked for at the call's entry stop, by a persistent stopper that
// stays attached): no step may outlive the module.  When the call returns,
// after the unload, the thread must run on untouched, not get a SIGTRAP
// nobody asked for (x86: the step trap at the call's exit; powerpc: after
// the next instruction).  Loads the module again for the runner.
TEST(Unload, LeavesNoStepArmedInAThreadBlockedInACall)
{
	const std::string ko = utrace_ko();
	ASSERT_FALSE(ko.empty()) << "the guest runner exports UTRACE_MODULES";
	int start[2];
	int go[2];
	ASSERT_EQ(::pipe(start), 0);
	ASSERT_EQ(::pipe(go), 0);
	const pid_t child = ::fork();
	if (child == 0) {
		char c = 0;
		::close(start[1]);
		::close(go[1]);
		if (::read(start[0], &c, 1) != 1)
			::_exit(2);
		if (::read(go[0], &c, 1) != 1) // blocked here, stepping
			::_exit(3);
		::_exit(0);
	}
	ASSERT_GT(child, 0);
	::close(start[0]);
	::close(go[0]);
	// Blocked in read(start) first: the stop is then at read(go)'s entry.
	ASSERT_TRUE(eventually([&] { return proc_state(child) == "S (sleeping)"; }));
	{
		utrace::Device dev;
		const auto entry = bit(Event::SyscallEntry);
		const auto id = dev.attach(child, EngineType::Stopper, entry, entry,
		                           utrace::Lifetime::Persistent);
		ASSERT_EQ(::write(start[1], "s", 1), 1);
		ASSERT_TRUE(eventually([&] { return proc_state(child) == "t (tracing stop)"; }))
		        << "no stop at the entry of read(): " << proc_state(child);
		(void)dev.control(id, Action::SingleStep);
		ASSERT_TRUE(eventually([&] { return proc_state(child) == "S (sleeping)"; }))
		        << "not blocked in read() with the step on: " << proc_state(child);
	}
	ASSERT_EQ(::syscall(SYS_delete_module, "utrace", O_NONBLOCK), 0) << std::strerror(errno);
	ASSERT_EQ(::write(go[1], "g", 1), 1);
	int status = 0;
	ASSERT_EQ(::waitpid(child, &status, 0), child);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
	        << "after the unload the thread "
	        << (WIFSIGNALED(status)
	                    ? std::string("was killed by ") + strsignal(WTERMSIG(status))
	                    : "exited " + std::to_string(WEXITSTATUS(status)));
	::close(start[1]);
	::close(go[1]);

	const int fd = ::open(ko.c_str(), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(::syscall(SYS_finit_module, fd, "", 0), 0) << std::strerror(errno);
	::close(fd);
}

// Last: unloads the module while a thread is stopped by an engine, then
// loads it again for the runner's own unload.
TEST(Unload, WithEnginesAttachedAndAThreadStoppedIsSafe)
{
	const std::string ko = utrace_ko();
	ASSERT_FALSE(ko.empty()) << "the guest runner exports UTRACE_MODULES";

	Tracee t;
	{
		utrace::Device dev;
		const auto entry = bit(Event::SyscallEntry);
		// Persistent: they stay attached when this file is closed.
		(void)dev.attach(t.pid(), EngineType::Stopper, entry, entry,
		                 utrace::Lifetime::Persistent);
		(void)dev.attach(t.pid(), EngineType::Count, entry | bit(Event::Exit), 0,
		                 utrace::Lifetime::Persistent);
		t.send(Tracee::kMkdir);
		ASSERT_TRUE(eventually([&] { return t.proc_state() == "t (tracing stop)"; }));
	}
	ASSERT_EQ(::syscall(SYS_delete_module, "utrace", O_NONBLOCK), 0) << std::strerror(errno);
	ASSERT_TRUE(t.wait_ack()) << "the stopped thread did not resume at unload";
	EXPECT_TRUE(path_exists(t.marker()));

	const int fd = ::open(ko.c_str(), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(::syscall(SYS_finit_module, fd, "", 0), 0) << std::strerror(errno);
	::close(fd);
}

} // namespace
