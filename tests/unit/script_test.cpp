// Host unit tests of utracectl script's line splitting.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error_of.hpp"
#include "utrace/script.hpp"

using utrace::split_words;
using utrace_test::error_of;
using Words = std::vector<std::string>;

namespace
{

TEST(Script, BlanksSeparateWordsAndCommentsEndTheLine)
{
	EXPECT_EQ(split_words("  attach  --pid 42\t--engine count  "),
	          (Words{"attach", "--pid", "42", "--engine", "count"}));
	EXPECT_EQ(split_words("# a comment"), Words{});
	EXPECT_EQ(split_words("status # why"), Words{"status"});
	EXPECT_EQ(split_words("events 3 +exec#not-a-comment"),
	          (Words{"events", "3", "+exec#not-a-comment"}));
	EXPECT_EQ(split_words(""), Words{});
}

TEST(Script, QuotesKeepBlanksAndJoinAdjacentText)
{
	EXPECT_EQ(split_words("attach -- sh -c 'ls / | wc -l'"),
	          (Words{"attach", "--", "sh", "-c", "ls / | wc -l"}));
	EXPECT_EQ(split_words(R"(x "a \"b\" \\c" pre'fix')"),
	          (Words{"x", R"(a "b" \c)", "prefix"}));
	EXPECT_EQ(split_words("''"), Words{""});
}

TEST(Script, UnterminatedQuotesAreEINVAL)
{
	EXPECT_EQ(error_of([] { (void)split_words("a 'b"); }), EINVAL);
	EXPECT_EQ(error_of([] { (void)split_words("a \"b"); }), EINVAL);
}

} // namespace
