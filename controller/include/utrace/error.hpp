// Errors of libutrace: an errno and a sentence a user can act on.
#pragma once

#include <stdexcept>
#include <string>

namespace utrace
{

class Error : public std::runtime_error
{
public:
	Error(int err, const std::string &what) : std::runtime_error(what), errno_(err) {}
	[[nodiscard]] int code() const noexcept { return errno_; }

private:
	int errno_;
};

// "<what>: <strerror(err)>" as an Error.
[[noreturn]] void throw_errno(int err, const std::string &what);

} // namespace utrace
