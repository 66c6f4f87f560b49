// Host unit tests of the conformance comparator: a difference between two
// traces must be reported (and fail the suite), DIFFERENCES entries must
// apply to their scenario and arch only, and the unified diff must be exact.
#include "compare.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <stdexcept>

using conf::Traces;

namespace
{

Traces two_scenarios()
{
	return Traces{
	        {"detach_signal_stop_delivers",
	         {R"({"op":"ptrace","req":"DETACH","pid":"tracee","sig":"SIGUSR1","ret":0})",
	          R"({"op":"wait","pid":"tracee","flags":"__WALL","ret":"tracee","status":"exited","code":1})"}},
	        {"event_fork",
	         {R"({"op":"eventmsg","msg":"child"})",
	          R"({"op":"value","what":"return register","value":"-ENOSYS"})",
	          R"({"op":"wait","pid":"child","flags":"__WALL","ret":"child","status":"stopped","sig":"SIGSTOP"})"}},
	};
}

} // namespace

TEST(Compare, IdenticalTracesMatch)
{
	auto a = two_scenarios();
	auto c = conf::compare(a, a, {}, "x86_64", "native", "utrace");
	EXPECT_TRUE(c.mismatched.empty());
	EXPECT_EQ(c.report, "");
}

TEST(Compare, ChangedLineIsAMismatchWithUnifiedDiff)
{
	auto a = two_scenarios();
	auto b = a;
	b["detach_signal_stop_delivers"]
	 [1] = R"({"op":"wait","pid":"tracee","flags":"__WALL","ret":"tracee","status":"exited","code":0})";
	auto c = conf::compare(a, b, {}, "x86_64", "native", "utrace");
	ASSERT_EQ(c.mismatched, std::vector<std::string>{"detach_signal_stop_delivers"});
	EXPECT_EQ(
	        c.report,
	        "--- native/detach_signal_stop_delivers\n"
	        "+++ utrace/detach_signal_stop_delivers\n"
	        "@@ -1,2 +1,2 @@\n"
	        " "
	        R"({"op":"ptrace","req":"DETACH","pid":"tracee","sig":"SIGUSR1","ret":0})"
	        "\n"
	        "-"
	        R"({"op":"wait","pid":"tracee","flags":"__WALL","ret":"tracee","status":"exited","code":1})"
	        "\n"
	        "+"
	        R"({"op":"wait","pid":"tracee","flags":"__WALL","ret":"tracee","status":"exited","code":0})"
	        "\n");
}

TEST(Compare, ExtraAndMissingLinesAndScenarios)
{
	auto a = two_scenarios();
	auto b = a;
	b["event_fork"].push_back(R"({"op":"extra"})");
	b.erase("detach_signal_stop_delivers");
	auto c = conf::compare(a, b, {}, "ppc64le", "native", "utrace");
	EXPECT_EQ(c.mismatched.size(), 2U);
	EXPECT_NE(c.report.find("+{\"op\":\"extra\"}\n"), std::string::npos);
	EXPECT_NE(c.report.find("scenario detach_signal_stop_delivers ran only under native"),
	          std::string::npos);
}

TEST(Compare, MaskRuleAcceptsAnIntendedDifferenceOnItsScenarioOnly)
{
	auto a = two_scenarios();
	auto b = a;
	b["event_fork"][1] = R"({"op":"value","what":"return register","value":"child"})";
	auto rules = conf::parse_rules(
	        R"(*/event_fork mask /"value":"[^"]*"/ utrace reports after the fork returned)");
	auto c = conf::compare(a, b, rules, "x86_64", "native", "utrace");
	EXPECT_TRUE(c.mismatched.empty()) << c.report;
	// The same rule does not cover another scenario.
	b["detach_signal_stop_delivers"][0] = R"({"op":"value","what":"x","value":"1"})";
	c = conf::compare(a, b, rules, "x86_64", "native", "utrace");
	EXPECT_EQ(c.mismatched, std::vector<std::string>{"detach_signal_stop_delivers"});
}

TEST(Compare, RuleForOtherArchDoesNotApply)
{
	auto a = two_scenarios();
	auto b = a;
	b["event_fork"][1] = R"({"op":"value","what":"return register","value":"child"})";
	auto rules = conf::parse_rules(R"(ppc64le/event_fork drop /return register/ ppc only)");
	EXPECT_EQ(conf::compare(a, b, rules, "x86_64", "n", "u").mismatched.size(), 1U);
	EXPECT_TRUE(conf::compare(a, b, rules, "ppc64le", "n", "u").mismatched.empty());
}

TEST(Compare, DropRuleRemovesLinesFromBothSides)
{
	auto a = two_scenarios();
	auto b = a;
	b["event_fork"].erase(b["event_fork"].begin() + 1);
	auto rules = conf::parse_rules("*/event_* drop /return register/ reported later");
	auto c = conf::compare(a, b, rules, "x86_64", "native", "utrace");
	EXPECT_TRUE(c.mismatched.empty()) << c.report;
	EXPECT_TRUE(c.unused_rules.empty());
}

TEST(Compare, UnusedRulesAreListed)
{
	auto a = two_scenarios();
	auto rules = conf::parse_rules("# comment\n\n*/nothing drop /x/ never matches\n");
	auto c = conf::compare(a, a, rules, "x86_64", "native", "utrace");
	EXPECT_EQ(c.unused_rules, std::vector<int>{3});
}

TEST(Compare, BadRulesAreRejectedWithTheirLine)
{
	EXPECT_THROW(conf::parse_rules("*/a mask /x/"), std::runtime_error);   // no reason
	EXPECT_THROW(conf::parse_rules("a mask /x/ why"), std::runtime_error); // no arch
	EXPECT_THROW(conf::parse_rules("*/a swap /x/ why"), std::runtime_error);
	EXPECT_THROW(conf::parse_rules("*/a mask /(/ why"), std::runtime_error);
	EXPECT_THROW(conf::parse_rules("*/a mask x why"), std::runtime_error);
	try {
		conf::parse_rules("# c\n*/a mask /x/\n");
		FAIL();
	} catch (const std::runtime_error &e) {
		EXPECT_NE(std::string(e.what()).find("DIFFERENCES:2"), std::string::npos);
	}
	auto r = conf::parse_rules(R"(*/a mask /a\/b/ slash)");
	ASSERT_EQ(r.size(), 1U);
	EXPECT_EQ(r[0].pattern, "a/b");
}

TEST(Compare, ParseTracesSplitsScenarios)
{
	auto t = conf::parse_traces("=== one\nA\nB\n=== two\n=== three\nC\n");
	EXPECT_EQ(t.size(), 3U);
	EXPECT_EQ(t["one"], (std::vector<std::string>{"A", "B"}));
	EXPECT_TRUE(t["two"].empty());
	EXPECT_EQ(t["three"], std::vector<std::string>{"C"});
}

TEST(Compare, UnifiedDiffHunksKeepThreeLinesOfContext)
{
	std::vector<std::string> a, b;
	for (int i = 0; i < 20; i++)
		a.push_back("l" + std::to_string(i));
	b = a;
	b[2] = "changed";
	b[17] = "changed too";
	std::string d = conf::unified_diff(a, b, "a", "b");
	EXPECT_NE(d.find("@@ -1,6 +1,6 @@\n l0\n l1\n-l2\n+changed\n l3\n l4\n l5\n"),
	          std::string::npos)
	        << d;
	EXPECT_NE(d.find("@@ -15,6 +15,6 @@\n l14\n l15\n l16\n-l17\n+changed too\n"),
	          std::string::npos)
	        << d;
}

TEST(Compare, ShippedDifferencesFileParses)
{
	std::ifstream f(CONFORMANCE_DIFFERENCES);
	ASSERT_TRUE(f.good());
	std::stringstream ss;
	ss << f.rdbuf();
	EXPECT_NO_THROW(conf::parse_rules(ss.str()));
}
