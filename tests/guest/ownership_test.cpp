// Who may do what to whom through /dev/utrace (issue 12, finding 9;
// docs/SECURITY.md): engines belong to the file that attached them, or,
// persistent, to the attacher's euid; other users and other files neither
// see nor control them; nobody attaches to what ptrace would refuse.
// Unprivileged users are uids without passwd entries (users.hpp); the
// device is opened to all for the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <sys/ioctl.h>
#include <unistd.h>

#include "error_of.hpp"
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
using utrace_test::UserSleeper;

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
	ASSERT_EQ(a.attach(victim.pid(), UTRACE_ENGINE_COUNT, bit(Event::SyscallEntry), 0, 0, &mine),
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
	for (const uint32_t type : {UTRACE_ENGINE_COUNT, UTRACE_ENGINE_STOPPER, UTRACE_ENGINE_USER}) {
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

} // namespace
