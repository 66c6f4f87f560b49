// Who may do what to whom through /dev/utrace (issue 12, finding 9;
// docs/SECURITY.md): engines belong to the file that attached them, or,
// persistent, to the attacher's euid; other users and other files neither
// see nor control them; nobody attaches to what ptrace would refuse.
// Unprivileged users are uids without passwd entries (users.hpp); the
// device is opened to all for the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error_of.hpp"
#include "reports.hpp"
#include "tracee.hpp"
#include "uapi/utrace.h"
#include "users.hpp"
#include "utrace/device.hpp"
#include "utrace/error.hpp"

using utrace::Action;
using utrace::bit;
using utrace::EngineState;
using utrace::EngineType;
using utrace::Event;
using utrace::Lifetime;
using utrace_test::error_of;
using utrace_test::eventually;
using utrace_test::kUserA;
using utrace_test::kUserB;
using utrace_test::OpenDeviceToAll;
using utrace_test::Tracee;
using utrace_test::UserAgent;
using utrace_test::UserExec;
using utrace_test::UserSleeper;

// A copy of this test binary, made set-uid root in a tmpfs by the setuid
// tests, run with this argument prints its effective uid and exits before
// any test runs (a constructor: glibc passes argc/argv to them).
constexpr const char *kPrintEuid = "--utrace-test-print-euid";

__attribute__((constructor)) static void print_euid_probe(int argc, char **argv, char **)
{
	if (argc == 2 && std::strcmp(argv[1], kPrintEuid) == 0) {
		std::printf("%u\n", static_cast<unsigned>(::geteuid()));
		std::fflush(stdout);
		::_exit(0);
	}
}

namespace
{

constexpr uint64_t kResumeArg = UTRACE_IOC_ACTION_RESUME;

bool contains(const std::vector<uint64_t> &ids, uint64_t id)
{
	return std::find(ids.begin(), ids.end(), id) != ids.end();
}

class Ownership : public ::testing::Test
{
protected:
	OpenDeviceToAll open_;
};

// Every per-engine request of @who on @id: all must say ENOENT.
void expect_invisible(UserAgent &who, uint64_t id, const char *what)
{
	EXPECT_EQ(who.info(id), ENOENT) << what;
	EXPECT_EQ(who.engine(UTRACE_IOC_SET_EVENTS, id, bit(Event::Exec)), ENOENT) << what;
	EXPECT_EQ(who.engine(UTRACE_IOC_SET_STOP_EVENTS, id, 0), ENOENT) << what;
	EXPECT_EQ(who.engine(UTRACE_IOC_CONTROL, id, UTRACE_IOC_ACTION_STOP), ENOENT) << what;
	EXPECT_EQ(who.engine(UTRACE_IOC_CONTROL, id, UTRACE_IOC_ACTION_DETACH), ENOENT) << what;
	EXPECT_EQ(who.engine(UTRACE_IOC_DETACH, id, 0), ENOENT) << what;
	std::vector<uint64_t> ids;
	EXPECT_EQ(who.list(&ids), 0);
	EXPECT_FALSE(contains(ids, id)) << what << ": listed";
}

TEST_F(Ownership, AnotherUserNeitherSeesNorControlsMyEngines)
{
	UserSleeper victim(kUserA);
	UserAgent a(kUserA);
	UserAgent b(kUserB);
	uint64_t mine = 0;
	uint64_t persistent = 0;
	ASSERT_EQ(
	        a.attach(victim.pid(), UTRACE_ENGINE_COUNT, bit(Event::SyscallEntry), 0, 0, &mine),
	        0);
	ASSERT_EQ(a.attach(victim.pid(), UTRACE_ENGINE_STOPPER, 0, 0, UTRACE_ENGINE_PERSISTENT,
	                   &persistent),
	          0);
	expect_invisible(b, mine, "another user, a file-owned engine");
	expect_invisible(b, persistent, "another user, a persistent engine");
	EXPECT_EQ(b.attach(victim.pid(), UTRACE_ENGINE_COUNT, 0, 0, 0, nullptr), EPERM)
	        << "another user's process";
	// Untouched by all that.
	utrace_ioc_engine_info info{};
	ASSERT_EQ(a.info(mine, &info), 0);
	EXPECT_EQ(info.events, bit(Event::SyscallEntry));
	EXPECT_EQ(info.owner_uid, kUserA);
	EXPECT_EQ(info.flags, 0U);
	ASSERT_EQ(a.info(persistent, &info), 0);
	EXPECT_EQ(info.flags, static_cast<uint32_t>(UTRACE_ENGINE_PERSISTENT));
	EXPECT_EQ(info.state, static_cast<uint32_t>(UTRACE_ENGINE_STATE_ATTACHED));
	EXPECT_EQ(a.engine(UTRACE_IOC_DETACH, mine, 0), 0);
	EXPECT_EQ(a.engine(UTRACE_IOC_DETACH, persistent, 0), 0);
}

TEST_F(Ownership, AFileOwnedEngineIsSeenOnlyThroughItsFileAndGoesWithIt)
{
	UserSleeper victim(kUserA);
	UserAgent a(kUserA);
	UserAgent a2(kUserA);
	uint64_t id = 0;
	ASSERT_EQ(a.attach(victim.pid(), UTRACE_ENGINE_COUNT, 0, 0, 0, &id), 0);
	expect_invisible(a2, id, "the same user, another file");
	{
		utrace::Device root;
		EXPECT_EQ(error_of([&] { (void)root.info(id); }), ENOENT)
		        << "root's own file does not see another file's engine either";
		const auto ids = root.list();
		EXPECT_FALSE(contains(ids, id));
	}
	std::vector<uint64_t> ids;
	ASSERT_EQ(a.list(&ids), 0);
	EXPECT_TRUE(contains(ids, id)) << "its own file lists it";
	ASSERT_EQ(a.reopen(), 0);
	EXPECT_EQ(a.info(id), ENOENT) << "closing the file detached it";
}

TEST_F(Ownership, APersistentEngineBelongsToItsOwnersEuidAndToRoot)
{
	UserSleeper victim(kUserA);
	uint64_t id = 0;
	{
		UserAgent a(kUserA);
		ASSERT_EQ(a.attach(victim.pid(), UTRACE_ENGINE_COUNT, bit(Event::SyscallEntry), 0,
		                   UTRACE_ENGINE_PERSISTENT, &id),
		          0);
	} // its file is closed and the process gone: the engine stays
	UserAgent a2(kUserA);
	std::vector<uint64_t> ids;
	ASSERT_EQ(a2.list(&ids), 0);
	EXPECT_TRUE(contains(ids, id)) << "a later file of the same euid lists it";
	EXPECT_EQ(a2.info(id), 0);
	EXPECT_EQ(a2.engine(UTRACE_IOC_SET_EVENTS, id, bit(Event::Exec)), 0);
	EXPECT_EQ(a2.engine(UTRACE_IOC_CONTROL, id, kResumeArg), 0);
	utrace::Device root;
	EXPECT_EQ(root.info(id).events, bit(Event::Exec)) << "root (CAP_SYS_ADMIN) sees it";
	EXPECT_EQ(root.info(id).owner_uid, kUserA);
	const auto root_ids = root.list();
	EXPECT_TRUE(contains(root_ids, id));
	UserAgent b(kUserB);
	expect_invisible(b, id, "another user, a persistent engine");
	EXPECT_EQ(a2.engine(UTRACE_IOC_DETACH, id, 0), 0);
	EXPECT_EQ(error_of([&] { (void)root.info(id); }), ENOENT);
}

// Closing a file detaches every engine it owns, count and stopper ones too
// (a stopped thread is released); persistent ones stay.
TEST_F(Ownership, ClosingTheFileDetachesItsCountAndStopperEnginesAndReleasesTheThread)
{
	Tracee t;
	const auto entry = bit(Event::SyscallEntry);
	uint64_t kept = 0;
	{
		utrace::Device dev;
		(void)dev.attach(t.pid(), EngineType::Stopper, entry, entry);
		(void)dev.attach(t.pid(), EngineType::Count, entry);
		kept = dev.attach(t.pid(), EngineType::Count, entry, 0, Lifetime::Persistent);
		t.send(Tracee::kMkdir);
		ASSERT_TRUE(eventually([&] { return t.proc_state() == "t (tracing stop)"; }));
	}
	EXPECT_TRUE(t.wait_ack(std::chrono::seconds(30))) << "still stopped after its file closed";
	utrace::Device dev;
	const auto ids = dev.list();
	EXPECT_TRUE(contains(ids, kept)) << "the persistent engine stays";
	EXPECT_GE(dev.info(kept).count(Event::SyscallEntry), 1U);
	dev.detach(kept);
}

TEST_F(Ownership, AUserCannotAttachToOtherUsersInitKernelThreadsOrItself)
{
	UserSleeper other(kUserB);
	UserAgent a(kUserA);
	for (const uint32_t type :
	     {UTRACE_ENGINE_COUNT, UTRACE_ENGINE_STOPPER, UTRACE_ENGINE_USER}) {
		EXPECT_EQ(a.attach(other.pid(), type, 0, 0, 0, nullptr), EPERM) << "another user";
		EXPECT_EQ(a.attach(1, type, 0, 0, 0, nullptr), EPERM) << "init";
		EXPECT_EQ(a.attach(2, type, 0, 0, 0, nullptr), EPERM) << "kthreadd";
		EXPECT_EQ(a.attach(a.pid(), type, 0, 0, 0, nullptr), EPERM) << "itself";
	}
	// Its own other process: allowed, as ptrace.
	UserSleeper own(kUserA);
	uint64_t id = 0;
	EXPECT_EQ(a.attach(own.pid(), UTRACE_ENGINE_COUNT, 0, 0, 0, &id), 0);
}

TEST_F(Ownership, RootsFileOwnedEnginesAreInvisibleToUsers)
{
	Tracee t;
	utrace::Device dev;
	const auto file = dev.attach(t.pid(), EngineType::Count, 0);
	const auto persistent = dev.attach(t.pid(), EngineType::Count, 0, 0, Lifetime::Persistent);
	UserAgent a(kUserA);
	expect_invisible(a, file, "root's file-owned engine");
	expect_invisible(a, persistent, "root's persistent engine");
	dev.detach(file);
	dev.detach(persistent);
}

// An attach that meets an exec waiting for its group's other threads is
// EAGAIN (the exec holds cred_guard_mutex, and the caller's own engines may
// be what holds those threads), but only for a caller that may trace the
// task at all: anyone else is told EPERM, as at any other time, and does
// not learn that root's process is in an exec.
TEST_F(Ownership, AUserRefusedBeforeTheExecInProgressIsToldEperm)
{
	utrace::Device dev;
	Tracee t;
	const auto held = dev.attach(t.pid(), EngineType::User, bit(Event::Exit));
	t.send(Tracee::kThreadExec);
	ASSERT_TRUE(t.read_value());
	t.send(Tracee::kGo);
	// de_thread() killed the leader; its EXIT report waits for our reply,
	// and the exec for the leader.
	const utrace::Report r = utrace_test::next(dev, Event::Exit);
	UserAgent a(kUserA);
	EXPECT_EQ(a.attach(t.pid(), UTRACE_ENGINE_COUNT, 0, 0, 0, nullptr), EPERM);
	utrace::Device other;
	EXPECT_EQ(error_of([&] { (void)other.attach(t.pid(), EngineType::Count, 0); }), EAGAIN)
	        << "root may trace it: told to try again";
	dev.reply({.seq = r.seq});
	const int st = t.wait_exit();
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(WEXITSTATUS(st), 7) << "the exec went on";
	dev.detach(held);
}

// A set-uid-root copy of this binary in a tmpfs the test mounts (the x86_64
// guest's / is read-only).
class SetuidProbe
{
public:
	SetuidProbe()
	{
		char tmpl[] = "/tmp/utrace-suid-XXXXXX";
		if (!::mkdtemp(tmpl))
			throw std::runtime_error("mkdtemp");
		dir_ = tmpl;
		if (::mount("utrace-suid", dir_.c_str(), "tmpfs", 0, "mode=0755") != 0)
			throw std::runtime_error(std::string("mount tmpfs: ") +
			                         std::strerror(errno));
		path_ = dir_ + "/probe";
		const int in = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		const int out = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
		struct stat st {
		};
		if (in < 0 || out < 0 || ::fstat(in, &st) != 0 ||
		    ::sendfile(out, in, nullptr, static_cast<size_t>(st.st_size)) != st.st_size ||
		    ::fchown(out, 0, 0) != 0 || ::fchmod(out, 04755) != 0)
			throw std::runtime_error(std::string("copy the probe: ") +
			                         std::strerror(errno));
		::close(in);
		::close(out);
	}
	~SetuidProbe()
	{
		::umount2(dir_.c_str(), MNT_DETACH);
		::rmdir(dir_.c_str());
	}
	SetuidProbe(const SetuidProbe &) = delete;
	SetuidProbe &operator=(const SetuidProbe &) = delete;
	[[nodiscard]] const std::string &path() const { return path_; }

private:
	std::string dir_;
	std::string path_;
};

// The euid the probe reports when user A runs it, an engine of @type
// attached first by @attach (which returns the engine id, 0 on error).
template <class Attach> std::string euid_of_exec_under(const SetuidProbe &probe, Attach attach)
{
	UserExec run(kUserA, probe.path(), kPrintEuid);
	const uint64_t id = attach(run.pid());
	if (!id)
		return "attach failed";
	run.go();
	int status = 0;
	std::string out = run.finish(&status);
	if (status == -1)
		return "no end: " + out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return "status " + std::to_string(status) + ": " + out;
	while (!out.empty() && out.back() == '\n')
		out.pop_back();
	return out;
}

struct EngineKind {
	const char *name;
	uint32_t type;
	uint64_t events;
	uint64_t stop_events;
	uint32_t flags;
};

// The engines a set-id exec may happen under: each reports EXEC (a user
// engine's report is answered RESUME by its agent).
const EngineKind kKinds[] = {
        {"count", UTRACE_ENGINE_COUNT, bit(Event::Exec) | bit(Event::SyscallEntry), 0, 0},
        {"persistent count", UTRACE_ENGINE_COUNT, bit(Event::Exec), 0, UTRACE_ENGINE_PERSISTENT},
        {"stopper", UTRACE_ENGINE_STOPPER, bit(Event::Exec), 0, 0},
        {"user", UTRACE_ENGINE_USER, bit(Event::Exec), 0, 0},
};

class SetuidExec : public Ownership
{
protected:
	SetuidProbe probe_;
	void SetUp() override
	{
		// The premise: untraced, the copy really runs as root.
		EXPECT_EQ(euid_of_exec_under(probe_, [](pid_t) { return uint64_t{1}; }), "0")
		        << "set-uid does not work here";
	}
};

// Issue 12, finding 9: at a credential-changing exec, /dev/utrace's engines
// were not looked at: a set-uid root program run under an unprivileged
// user's engine ran as root, under that user's control.  Natively a tracer
// without CAP_SYS_PTRACE over the new credentials makes the exec gain
// nothing; the same holds for each kind of engine.
TEST_F(SetuidExec, UnderAnUnprivilegedUsersEngineGainsNoPrivileges)
{
	for (const auto &k : kKinds) {
		UserAgent a(kUserA);
		const auto euid = euid_of_exec_under(probe_, [&](pid_t pid) {
			uint64_t id = 0;
			const int err =
			        a.attach(pid, k.type, k.events, k.stop_events, k.flags, &id);
			EXPECT_EQ(err, 0) << k.name << ": " << std::strerror(err);
			return id;
		});
		EXPECT_EQ(euid, std::to_string(kUserA))
		        << "under user " << kUserA << "'s " << k.name << " engine";
		if (k.type == UTRACE_ENGINE_USER) {
			EXPECT_GE(a.replies(), 1U) << "the user engine saw the exec";
		}
		if (k.flags & UTRACE_ENGINE_PERSISTENT) {
			std::vector<uint64_t> ids;
			ASSERT_EQ(a.list(&ids), 0);
			for (const auto id : ids)
				EXPECT_EQ(a.engine(UTRACE_IOC_DETACH, id, 0), 0);
		}
	}
}

// As natively under a tracer with CAP_SYS_PTRACE: root's engines do not
// keep a set-uid exec from gaining its privileges.
TEST_F(SetuidExec, UnderRootsEngineGainsItsPrivilegesAsNatively)
{
	for (const auto &k : kKinds) {
		utrace::Device dev;
		std::thread answer;
		std::atomic<bool> done{false};
		const auto euid = euid_of_exec_under(probe_, [&](pid_t pid) {
			utrace_ioc_attach req{};
			req.tid = pid;
			req.type = k.type;
			req.events = k.events;
			req.stop_events = k.stop_events;
			req.flags = k.flags;
			EXPECT_EQ(::ioctl(dev.fd(), UTRACE_IOC_ATTACH, &req), 0) << k.name;
			if (k.type == UTRACE_ENGINE_USER)
				answer = std::thread([&] {
					while (!done)
						if (auto r = dev.read_report(
						            std::chrono::milliseconds(50));
						    r && r->needs_reply)
							dev.reply({.seq = r->seq});
				});
			return req.id;
		});
		done = true;
		if (answer.joinable())
			answer.join();
		EXPECT_EQ(euid, "0") << "under root's " << k.name << " engine";
		for (const auto id : dev.list())
			dev.detach(id);
	}
}

} // namespace
