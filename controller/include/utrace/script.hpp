// utracectl script: one command per line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace utrace
{

// Splits a script line into words: blanks separate, '...' and "..." quote
// (no escapes inside single quotes; \" and \\ inside double quotes), '#'
// at the start of a word begins a comment.  Throws Error(EINVAL) for an
// unterminated quote.
std::vector<std::string> split_words(std::string_view line);

} // namespace utrace
