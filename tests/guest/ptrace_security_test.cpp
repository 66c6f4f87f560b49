// The ptrace backend attacked (issue 12): a traced thread killed inside
// seccomp, a tracee's real parent exiting while the tracee waits inside
// seccomp, PTRACE_TRACEME and PTRACE_ATTACH under each Yama scope as root and
// as other users, attaching to kernel threads, init and one's own thread
// group.  Each case runs under the kernel's own ptrace and under the
// backend (/sys/module/utrace/parameters/ptrace_backend), and the outcomes
// must be the same.  Also the core under the same attack: a death report
// racing the detach of its engines, and unload while traced tasks make
// system calls.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sstream>
#include <string>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "tracee.hpp"
#include "utrace/device.hpp"

using namespace std::chrono_literals;
using utrace::bit;
using utrace::EngineType;
using utrace::Event;
using utrace_test::eventually;
using utrace_test::Tracee;

namespace
{

const char *const kBackend = "/sys/module/utrace/parameters/ptrace_backend";
const char *const kRefcnt = "/sys/module/utrace/refcnt";
const char *const kTracees = "/sys/module/utrace/parameters/ptrace_tracees";
const char *const kYama = "/proc/sys/kernel/yama/ptrace_scope";

std::string read_line(const char *path)
{
	std::ifstream f(path);
	std::string s;
	std::getline(f, s);
	return s;
}

// write(2) of @value to @path: 0 or the errno.
int write_file(const char *path, const std::string &value)
{
	const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	const int ret = ::write(fd, value.data(), value.size()) < 0 ? errno : 0;
	::close(fd);
	return ret;
}

int refcnt()
{
	return std::stoi(read_line(kRefcnt));
}

// The module's reference count once earlier tests' references are gone.  A
// relationship's reference is dropped when its engine is released, in the
// module's reap work after the tracee was reaped: it can outlive the test
// that made it (on the debug kernel a count of 2 fell to 0 during the next
// test).  So: no relationship left, and the count unchanged for a second.
int settled_refcnt()
{
	const auto until = std::chrono::steady_clock::now() + 30s;
	int last = refcnt();
	auto since = std::chrono::steady_clock::now();
	while (std::chrono::steady_clock::now() < until) {
		std::this_thread::sleep_for(50ms);
		const int now = refcnt();
		if (now != last || read_line(kTracees) != "0") {
			last = now;
			since = std::chrono::steady_clock::now();
		} else if (std::chrono::steady_clock::now() - since >= 1s) {
			break;
		}
	}
	return last;
}

const char *name(bool backend)
{
	return backend ? "utrace backend" : "native ptrace";
}

// Runs @fn in a child process; its exit status word, or -1 if it did not end
// within @timeout (it is killed then).
int in_child(const std::function<int()> &fn, std::chrono::seconds timeout = 60s)
{
	const pid_t pid = ::fork();
	if (pid == 0)
		::_exit(fn());
	const auto end = std::chrono::steady_clock::now() + timeout;
	int st = 0;
	while (::waitpid(pid, &st, WNOHANG) == 0) {
		if (std::chrono::steady_clock::now() > end) {
			::kill(pid, SIGKILL);
			::waitpid(pid, &st, 0);
			return -1;
		}
		std::this_thread::sleep_for(5ms);
	}
	return st;
}

// The exit code @fn returned in a child, or a description of how it ended.
std::string outcome(int st)
{
	if (st == -1)
		return "timed out";
	if (WIFEXITED(st))
		return "exit " + std::to_string(WEXITSTATUS(st));
	return "killed by signal " + std::to_string(WTERMSIG(st));
}

// The same @fn under both backends: {native, utrace}.  The backend is off
// again afterwards (which also proves no relationship was left behind).
std::array<std::string, 2> both(const std::function<int()> &fn, std::chrono::seconds timeout = 60s)
{
	std::array<std::string, 2> out;
	for (const bool backend : {false, true}) {
		EXPECT_EQ(write_file(kBackend, backend ? "Y" : "N"), 0);
		out.at(backend) = outcome(in_child(fn, timeout));
		EXPECT_TRUE(eventually([] { return write_file(kBackend, "N") == 0; }, 10s))
		        << name(backend) << ": the backend could not be switched off afterwards";
	}
	return out;
}

// Drops to @uid (and gid), no supplementary groups, and stays dumpable (a
// change of credentials makes a process non-dumpable, which only
// CAP_SYS_PTRACE may trace); false on failure.
bool become(uid_t uid)
{
	// Already @uid (a child of a process that became it): setgroups()
	// would fail without CAP_SETGID.
	if (uid != 0 && ::getuid() == uid && ::geteuid() == uid)
		return ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0;
	return uid == 0 ||
	       (::setgroups(0, nullptr) == 0 && ::setresgid(uid, uid, uid) == 0 &&
	        ::setresuid(uid, uid, uid) == 0 && ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
}

// Resumes every stop of a tracee as a transparent tracer would: signals are
// delivered, traps and event stops resumed with none.
void resume(pid_t pid, int st)
{
	const int sig = WSTOPSIG(st);
	const bool plain_signal = (st >> 16) == 0 && sig != SIGTRAP;
	::ptrace(PTRACE_CONT, pid, 0, plain_signal ? sig : 0);
}

// ---- a traced thread killed by strict seccomp (finding 3) ----------------

void *strict_seccomp_thread(void *)
{
	::prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT);
	::syscall(SYS_getpid); // not allowed in strict mode: the thread is killed
	return nullptr;
}

// The tracer, and the tracee's real parent: a seized tracee (TRACECLONE,
// TRACESECCOMP) whose thread dies in strict seccomp; then the leader exits
// 3.  0 if the tracer saw exactly that and nothing is left to reap.
int strict_seccomp_death()
{
	const pid_t c = ::fork();
	if (c == 0) {
		::raise(SIGSTOP);
		pthread_t th;
		if (::pthread_create(&th, nullptr, strict_seccomp_thread, nullptr) != 0)
			::_exit(100);
		::pthread_join(th, nullptr); // the kernel clears its tid once it is dead
		::_exit(3);
	}
	int st = 0;
	if (::waitpid(c, &st, WUNTRACED) != c || !WIFSTOPPED(st))
		return 10;
	if (::ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACESECCOMP) != 0)
		return 11;
	::kill(c, SIGCONT);
	bool thread_killed = false;
	for (int i = 0; i < 100; i++) {
		const pid_t p = ::waitpid(-1, &st, __WALL);
		if (p < 0)
			return 12;
		if (WIFSTOPPED(st)) {
			resume(p, st);
			continue;
		}
		if (p != c) {
			// Killed; or reaped after the leader's exit_group(3): a
			// zombie's status is then the group's exit code
			// (wait_task_zombie()), natively too.
			thread_killed = (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) ||
			                (WIFEXITED(st) && WEXITSTATUS(st) == 3);
			if (!thread_killed)
				std::fprintf(stderr, "thread %d ended with status %#x\n", p, st);
			continue;
		}
		if (!thread_killed)
			std::fprintf(stderr, "leader ended (%#x) before its thread was reported\n",
			             st);
		if (!thread_killed)
			return 13;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
			return 14;
		return ::waitpid(-1, &st, __WALL | WNOHANG) == -1 && errno == ECHILD ? 0 : 15;
	}
	return 16;
}

// Natively the thread is killed, the leader exits 3 and nothing is left.
// Under the backend the thread used to die with ->ptrace borrowed for
// seccomp: an unreapable zombie, a module reference leaked, and a kernel
// BUG in forget_original_parent() when the tracer (its real parent) exits.
TEST(PtraceSeccomp, AThreadKilledByStrictSeccompLeavesNothingBehind)
{
	const int before = settled_refcnt();
	const auto out = both(strict_seccomp_death, 30s);
	EXPECT_EQ(out[0], "exit 0") << name(false);
	EXPECT_EQ(out[1], out[0]) << name(true);
	EXPECT_TRUE(eventually([&] { return refcnt() == before; }, 10s))
	        << "module references: " << refcnt() << ", before: " << before;
}

// ---- a tracee's real parent exits while it waits inside seccomp ----------

// Sends @fd and our pid over the unix socket @sock.
bool send_fd(int sock, int fd)
{
	pid_t pid = ::getpid();
	iovec iov{&pid, sizeof(pid)};
	alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int))] = {};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = buf;
	msg.msg_controllen = sizeof(buf);
	cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	std::memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return ::sendmsg(sock, &msg, 0) == sizeof(pid);
}

bool recv_fd(int sock, int *fd, pid_t *pid)
{
	iovec iov{pid, sizeof(*pid)};
	alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int))] = {};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = buf;
	msg.msg_controllen = sizeof(buf);
	if (::recvmsg(sock, &msg, 0) != sizeof(*pid))
		return false;
	cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (cm == nullptr || cm->cmsg_type != SCM_RIGHTS)
		return false;
	std::memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return true;
}

// The tracee: getppid() goes to a seccomp user-notification listener, which
// it hands over @sock; 0 if the supervisor's answer (4242) came back.
int notified_getppid(int sock)
{
	sock_filter code[] = {
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
	if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return 100;
	const int listener = static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	                                                SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
	if (listener < 0 || !send_fd(sock, listener))
		return 101;
	::close(listener);
	char go = 0;
	if (::read(sock, &go, 1) != 1)
		return 102;
	return ::syscall(SYS_getppid) == 4242 ? 0 : 103;
}

// Tracer (with TRACESECCOMP) and seccomp supervisor of a tracee whose real
// parent exits while the tracee waits for the supervisor's answer, inside
// __secure_computing(); we are the subreaper that adopts it.
int parent_exit_during_seccomp_wait()
{
	::prctl(PR_SET_CHILD_SUBREAPER, 1);
	int sv[2];
	int die[2];
	if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 || ::pipe(die) != 0)
		return 10;
	const pid_t parent = ::fork();
	if (parent == 0) {
		::close(sv[0]);
		if (::fork() == 0)
			::_exit(notified_getppid(sv[1]));
		char b = 0;
		::_exit(::read(die[0], &b, 1) == 1 ? 0 : 1);
	}
	::close(sv[1]);
	int listener = -1;
	pid_t tracee = -1;
	if (!recv_fd(sv[0], &listener, &tracee))
		return 11;
	if (::ptrace(PTRACE_SEIZE, tracee, 0, PTRACE_O_TRACESECCOMP) != 0)
		return 12;
	if (::write(sv[0], "g", 1) != 1)
		return 13;
	seccomp_notif req{};
	if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0)
		return 14;
	// The tracee waits for our answer now; its real parent exits.
	int st = 0;
	if (::write(die[1], "x", 1) != 1 || ::waitpid(parent, &st, 0) != parent || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return 15;
	seccomp_notif_resp resp{};
	resp.id = req.id;
	resp.val = 4242;
	if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0)
		return 16;
	for (;;) {
		if (::waitpid(tracee, &st, __WALL) != tracee)
			return 17;
		if (WIFEXITED(st))
			return WEXITSTATUS(st) == 0 ? 0 : 18;
		if (WIFSIGNALED(st))
			return 19;
		resume(tracee, st);
	}
}

// forget_original_parent() BUGs on a child whose ->ptrace is set while its
// ->parent is the exiting real parent: the backend must not leave the bit
// it borrows for seccomp there when the real parent goes.
TEST(PtraceSeccomp, ARealParentExitingWhileItsTraceeWaitsInSeccompIsSafe)
{
	const auto out = both(parent_exit_during_seccomp_wait, 30s);
	EXPECT_EQ(out[0], "exit 0") << name(false);
	EXPECT_EQ(out[1], out[0]) << name(true);
}

// ---- who may trace whom: Yama and the users (finding 1, deliverable 5) ---

// Restores Yama's scope when it goes.
class YamaScope
{
public:
	YamaScope() : saved_(read_line(kYama)) {}
	~YamaScope() { write_file(kYama, saved_); }
	YamaScope(const YamaScope &) = delete;
	YamaScope &operator=(const YamaScope &) = delete;
	[[nodiscard]] bool available() const { return !saved_.empty(); }
	static bool set(int scope) { return write_file(kYama, std::to_string(scope)) == 0; }

private:
	std::string saved_;
};

// As @uid: a child's PTRACE_TRACEME; its errno (0: it worked).
int traceme_as(uid_t uid)
{
	if (!become(uid))
		return 100;
	const pid_t c = ::fork();
	if (c == 0)
		::_exit(::ptrace(PTRACE_TRACEME, 0, 0, 0) == 0 ? 0 : errno);
	int st = 0;
	if (::waitpid(c, &st, 0) != c || !WIFEXITED(st))
		return 101;
	return WEXITSTATUS(st);
}

// Yama's scope 3 cannot be left once set: the tests that set it run only in
// a guest of their own (guest.<arch>.ptrace_yama_scope3), which sets this.
bool scope3_allowed()
{
	return std::getenv("UTRACE_TEST_YAMA_SCOPE3") != nullptr;
}

// Natively ptrace_traceme() asks the LSMs (security_ptrace_traceme()): Yama
// refuses it in scope 3, and in scope 2 unless the parent has
// CAP_SYS_PTRACE.  The backend used to link without asking.
void traceme_under_scopes(int first, int last)
{
	for (int scope = first; scope <= last; scope++) {
		ASSERT_TRUE(YamaScope::set(scope));
		for (const uid_t uid : {0U, 65534U}) {
			const auto out = both([uid] { return traceme_as(uid); });
			const bool refused = scope == 3 || (scope == 2 && uid != 0);
			EXPECT_EQ(out[0], refused ? "exit " + std::to_string(EPERM) : "exit 0")
			        << "native, scope " << scope << ", uid " << uid;
			EXPECT_EQ(out[1], out[0]) << "scope " << scope << ", uid " << uid;
		}
	}
}

TEST(PtraceSecurity, TracemeAsksTheLsmsAsNatively)
{
	YamaScope yama;
	if (!yama.available())
		GTEST_SKIP() << "no Yama in this kernel";
	traceme_under_scopes(0, 2);
}

// How the tracer relates to the tracee in attach_as().
enum class Relation {
	Child,   // the tracer forked it
	Sibling, // an unrelated process
	Ptracer, // unrelated, but it named the tracer with PR_SET_PTRACER
};

// A tracee (as @target_uid, @rel to the tracer) blocked reading a pipe; the
// tracer (as @tracer_uid) PTRACE_ATTACHes it and, if that worked, waits for
// the attach stop and detaches.  The attach's errno, 0 if it worked.
int attach_as(uid_t tracer_uid, uid_t target_uid, Relation rel)
{
	int hold[2];
	int ready[2];
	int named[2];
	if (::pipe(hold) != 0 || ::pipe(ready) != 0 || ::pipe(named) != 0)
		return 100;
	auto tracee = [&](pid_t tracer) {
		if (!become(target_uid))
			::_exit(1);
		if (rel == Relation::Ptracer)
			::prctl(PR_SET_PTRACER, tracer, 0, 0, 0);
		(void)!::write(ready[1], "r", 1);
		char b = 0;
		(void)!::read(hold[0], &b, 1);
		::_exit(0);
	};
	auto attach = [&](pid_t pid) {
		char b = 0;
		if (::read(ready[0], &b, 1) != 1)
			return 102;
		if (::ptrace(PTRACE_ATTACH, pid, 0, 0) != 0)
			return errno;
		int st = 0;
		if (::waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st))
			return 103;
		return ::ptrace(PTRACE_DETACH, pid, 0, 0) == 0 ? 0 : 104;
	};
	int ret = 0;
	if (rel == Relation::Child) {
		if (!become(tracer_uid))
			return 105;
		const pid_t t = ::fork();
		if (t == 0)
			tracee(0);
		// A tracee that fails to start closes its end: no read blocks.
		::close(ready[1]);
		ret = attach(t);
	} else {
		// Tracer and tracee are siblings: the tracer's pid goes first.
		const pid_t tracer = ::fork();
		if (tracer == 0) {
			::close(ready[1]);
			pid_t t = 0;
			if (!become(tracer_uid) || ::read(named[0], &t, sizeof(t)) != sizeof(t))
				::_exit(105);
			::_exit(attach(t));
		}
		const pid_t t = ::fork();
		if (t == 0)
			tracee(tracer);
		::close(ready[1]);
		(void)!::write(named[1], &t, sizeof(t));
		int st = 0;
		::waitpid(tracer, &st, 0);
		ret = WIFEXITED(st) ? WEXITSTATUS(st) : 106;
	}
	(void)!::write(hold[1], "xx", 2);
	while (::wait(nullptr) > 0) {
	}
	for (const int fd : {hold[0], hold[1], ready[0], named[0], named[1]})
		::close(fd);
	return ret;
}

struct AttachCase {
	uid_t tracer, target;
	Relation rel;
};
const AttachCase cases[] = {
        {0, 0, Relation::Sibling},         {65534, 65534, Relation::Child},
        {65534, 65534, Relation::Sibling}, {65534, 65534, Relation::Ptracer},
        {65534, 1001, Relation::Sibling},  {65534, 0, Relation::Sibling},
};

// ptrace_may_access() decides PTRACE_ATTACH under both backends: the users'
// credentials, and Yama's scope 1 (descendants and PR_SET_PTRACER), 2
// (CAP_SYS_PTRACE), 3 (no attach).  A non-root user never attaches to
// another user's task.
TEST(PtraceSecurity, AttachFollowsTheUsersAndYamaAsNatively)
{
	YamaScope yama;
	if (!yama.available())
		GTEST_SKIP() << "no Yama in this kernel";
	for (int scope = 0; scope <= 2; scope++) {
		ASSERT_TRUE(YamaScope::set(scope));
		for (const auto &c : cases) {
			const auto out =
			        both([&c] { return attach_as(c.tracer, c.target, c.rel); });
			EXPECT_EQ(out[1], out[0]) << "scope " << scope << ", tracer uid "
			                          << c.tracer << ", target uid " << c.target
			                          << ", relation " << static_cast<int>(c.rel);
		}
	}
	// Spot checks of what native says, so that a broken setup cannot pass.
	ASSERT_TRUE(YamaScope::set(1));
	EXPECT_EQ(in_child([] { return attach_as(65534, 65534, Relation::Sibling); }) >> 8, EPERM);
	EXPECT_EQ(in_child([] { return attach_as(65534, 65534, Relation::Ptracer); }) >> 8, 0);
	ASSERT_TRUE(YamaScope::set(0));
	EXPECT_EQ(in_child([] { return attach_as(65534, 1001, Relation::Sibling); }) >> 8, EPERM);
	EXPECT_EQ(in_child([] { return attach_as(65534, 65534, Relation::Sibling); }) >> 8, 0);
}

// Yama's scope 3: no TRACEME, no attach, for anyone, root included.
TEST(PtraceSecurity, YamaScope3RefusesEveryRelationshipAsNatively)
{
	YamaScope yama;
	if (!yama.available())
		GTEST_SKIP() << "no Yama in this kernel";
	if (!scope3_allowed())
		GTEST_SKIP() << "sets Yama's scope 3, which cannot be undone: run alone with "
		                "UTRACE_TEST_YAMA_SCOPE3=1 (guest.<arch>.ptrace_yama_scope3)";
	traceme_under_scopes(3, 3);
	for (const auto &c : cases) {
		const auto out = both([&c] { return attach_as(c.tracer, c.target, c.rel); });
		EXPECT_EQ(out[0], "exit " + std::to_string(EPERM))
		        << "native, tracer uid " << c.tracer;
		EXPECT_EQ(out[1], out[0]) << "tracer uid " << c.tracer << ", target uid "
		                          << c.target << ", relation " << static_cast<int>(c.rel);
	}
}

// PTRACE_ATTACH and PTRACE_SEIZE of @pid as @uid; their errnos (0: it
// worked, and the tracer detached again), as "ATTACH/SEIZE".
int attach_special(pid_t pid, uid_t uid)
{
	if (!become(uid))
		return 100;
	std::string out;
	int errs[2];
	for (int i = 0; i < 2; i++) {
		const long r = i == 0 ? ::ptrace(PTRACE_ATTACH, pid, 0, 0)
		                      : ::ptrace(PTRACE_SEIZE, pid, 0, 0);
		errs[i] = r == 0 ? 0 : errno;
		if (r == 0) {
			if (i == 0) {
				int st = 0;
				::waitpid(pid, &st, __WALL);
			}
			::ptrace(PTRACE_DETACH, pid, 0, 0);
		}
	}
	return errs[0] * 16 + errs[1];
}

// Kernel threads and one's own thread group are never traced; init and
// other users' tasks not by a non-root user (native: ptrace_attach()).
TEST(PtraceSecurity, KernelThreadsOwnGroupInitAndOtherUsersAreRefused)
{
	const int eperm = EPERM * 16 + EPERM;
	for (const bool backend : {false, true}) {
		ASSERT_EQ(write_file(kBackend, backend ? "Y" : "N"), 0);
		// kthreadd is pid 2 in every guest.
		EXPECT_EQ(in_child([] { return attach_special(2, 0); }) >> 8, eperm)
		        << name(backend);
		EXPECT_EQ(in_child([] { return attach_special(1, 65534); }) >> 8, eperm)
		        << name(backend);
		EXPECT_EQ(in_child([] { return attach_special(::getpid(), 0); }) >> 8, eperm)
		        << name(backend);
		EXPECT_EQ(in_child([] {
			          pthread_t th;
			          static pid_t tid;
			          ::pthread_create(
			                  &th, nullptr,
			                  [](void *) -> void * {
				                  tid = static_cast<pid_t>(::syscall(SYS_gettid));
				                  ::pause();
				                  return nullptr;
			                  },
			                  nullptr);
			          while (__atomic_load_n(&tid, __ATOMIC_SEQ_CST) == 0)
				          ::sched_yield();
			          return attach_special(tid, 0);
		          }) >> 8,
		          eperm)
		        << name(backend) << ": own thread";
		Tracee t;
		EXPECT_EQ(in_child([&t] { return attach_special(t.pid(), 65534); }) >> 8, eperm)
		        << name(backend) << ": root's task, as uid 65534";
		EXPECT_TRUE(eventually([] { return write_file(kBackend, "N") == 0; }, 10s));
	}
}

// ---- the core: a death report racing the detach of its engines -----------

// A dying thread's DEATH report walks its engine list unlocked while a
// detach from another thread (a file closed, a tracer exiting) may unlink
// and free the entries (finding 6): the walk must keep the list to itself.
// Each round kills a thread with many DEATH engines while another thread
// detaches them all; a use-after-free shows as a KASAN report (debug
// kernel) or a crash in the guest's dmesg.
TEST(Death, ReportRacesTheDetachOfItsEngines)
{
	constexpr int kRounds = 60;
	constexpr int kEngines = 24;
	for (int round = 0; round < kRounds; round++) {
		Tracee t;
		utrace::Device dev;
		std::vector<utrace::EngineId> ids;
		for (int i = 0; i < kEngines; i++)
			ids.push_back(dev.attach(t.pid(), EngineType::Count,
			                         bit(Event::Death) | bit(Event::Reap)));
		std::atomic<bool> go{false};
		std::thread detacher([&] {
			while (!go.load())
				std::this_thread::yield();
			for (auto it = ids.rbegin(); it != ids.rend(); ++it)
				dev.detach(*it);
		});
		t.send(Tracee::kExit);
		go = true;
		detacher.join();
		const int st = t.wait_exit();
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 5) << "round " << round;
	}
}

// ---- unload while traced tasks make system calls (finding 7) ---------------

// A child making getppid() in a loop, forever.
pid_t syscall_loop()
{
	const pid_t pid = ::fork();
	if (pid == 0)
		for (;;)
			::syscall(SYS_getppid);
	return pid;
}

std::string module_path()
{
	const char *mods = std::getenv("UTRACE_MODULES");
	std::istringstream in(mods != nullptr ? mods : "");
	for (std::string m; in >> m;)
		if (m.size() >= 9 && m.compare(m.size() - 9, 9, "utrace.ko") == 0)
			return m;
	return {};
}

// Unload must leave no work bit of the module on a task once its hooks are
// gone: a traced task's next system call would get the kernel's own
// handling of the bit (x86: SIGSYS from syscall_user_dispatch(), SIGTRAP
// from user_single_step_report()).  Tasks with syscall engines run system
// calls in a loop through several unloads; none of them may die of it.
TEST(Unload, TasksTracingSyscallsRunOnUntouched)
{
	const std::string ko = module_path();
	ASSERT_FALSE(ko.empty()) << "the guest runner exports UTRACE_MODULES";
	constexpr int kRounds = 4;
	constexpr int kTasks = 3;
	for (int round = 0; round < kRounds; round++) {
		std::vector<pid_t> pids;
		for (int i = 0; i < kTasks; i++)
			pids.push_back(syscall_loop());
		{
			// Opened after the forks: a child holding the file would hold
			// the module too.  Persistent: they outlive the file, so the
			// unload is what detaches them.
			utrace::Device dev;
			for (const pid_t pid : pids)
				(void)dev.attach(pid, EngineType::Count,
				                 bit(Event::SyscallEntry) | bit(Event::SyscallExit),
				                 0, utrace::Lifetime::Persistent);
		}
		std::this_thread::sleep_for(50ms);
		ASSERT_TRUE(eventually(
		        [] { return ::syscall(SYS_delete_module, "utrace", O_NONBLOCK) == 0; },
		        20s))
		        << std::strerror(errno) << ", module references: " << refcnt();
		std::this_thread::sleep_for(200ms);
		for (const pid_t pid : pids) {
			int st = 0;
			EXPECT_EQ(::waitpid(pid, &st, WNOHANG), 0)
			        << "round " << round << ": task died: " << outcome(st);
			::kill(pid, SIGKILL);
			::waitpid(pid, nullptr, 0);
		}
		const int fd = ::open(ko.c_str(), O_RDONLY | O_CLOEXEC);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(::syscall(SYS_finit_module, fd, "", 0), 0) << std::strerror(errno);
		::close(fd);
	}
}

} // namespace
