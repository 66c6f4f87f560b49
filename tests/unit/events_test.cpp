// Host unit tests of event-mask parsing and formatting (utracectl's --events).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "error_of.hpp"
#include "utrace/error.hpp"
#include "utrace/events.hpp"

using utrace::bit;
using utrace::Event;
using utrace_test::error_of;

namespace
{

TEST(Events, NamesAndGroupsParseToTheKernelBits)
{
	EXPECT_EQ(utrace::parse_events("quiesce"), 1U);
	EXPECT_EQ(utrace::parse_events("jctl"), 1U << 13);
	EXPECT_EQ(utrace::parse_events("syscall"),
	          bit(Event::SyscallEntry) | bit(Event::SyscallExit));
	EXPECT_EQ(utrace::parse_events("signal-all"), 0x1fU << 8);
	EXPECT_EQ(utrace::parse_events("all"), (1U << 14) - 1);
	EXPECT_EQ(utrace::parse_events("exec, exit ,death"),
	          bit(Event::Exec) | bit(Event::Exit) | bit(Event::Death));
	EXPECT_EQ(utrace::parse_events("none"), 0U);
}

TEST(Events, UnknownOrEmptyNamesAreEINVALNamingTheWord)
{
	EXPECT_EQ(error_of([] { (void)utrace::parse_events("exec,bogus"); }), EINVAL);
	EXPECT_EQ(error_of([] { (void)utrace::parse_events("exec,,exit"); }), EINVAL);
	EXPECT_EQ(error_of([] { (void)utrace::parse_events(""); }), EINVAL);
	try {
		(void)utrace::parse_events("sycall");
	} catch (const utrace::Error &e) {
		EXPECT_NE(std::string(e.what()).find("'sycall'"), std::string::npos);
		EXPECT_NE(std::string(e.what()).find("syscall-entry"), std::string::npos);
	}
}

TEST(Events, EditsAddAndRemoveInOrder)
{
	const auto m =
	        utrace::edit_events(bit(Event::Clone), {"+syscall", "-syscall-exit", "exec"});
	EXPECT_EQ(m, bit(Event::Clone) | bit(Event::SyscallEntry) | bit(Event::Exec));
	EXPECT_EQ(utrace::edit_events(m, {"-all"}), 0U);
	EXPECT_EQ(error_of([] { (void)utrace::edit_events(0, {"+nope"}); }), EINVAL);
}

TEST(Events, FormatListsNamesInBitOrder)
{
	EXPECT_EQ(utrace::format_events(0), "none");
	EXPECT_EQ(utrace::format_events(bit(Event::Exec) | bit(Event::Reap)), "reap,exec");
	EXPECT_EQ(utrace::parse_events(utrace::format_events(0x2a5a)), 0x2a5aU);
}

TEST(Actions, NamesRoundTripAndUnknownIsEINVAL)
{
	for (unsigned a = 0; a <= 6; a++) {
		const auto action = static_cast<utrace::Action>(a);
		EXPECT_EQ(utrace::parse_action(utrace::action_name(action)), action);
	}
	EXPECT_EQ(error_of([] { (void)utrace::parse_action("halt"); }), EINVAL);
	EXPECT_EQ(utrace::parse_engine_type("stopper"), utrace::EngineType::Stopper);
	EXPECT_EQ(error_of([] { (void)utrace::parse_engine_type("ptrace"); }), EINVAL);
}

} // namespace
