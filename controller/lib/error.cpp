#include "utrace/error.hpp"

#include <cstring>

namespace utrace
{

void throw_errno(int err, const std::string &what)
{
	throw Error(err, what + ": " + std::strerror(err));
}

} // namespace utrace
