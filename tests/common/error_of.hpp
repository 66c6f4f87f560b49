// Test helper: the errno of the utrace::Error a call throws, 0 if none.
#pragma once

#include <functional>

#include "utrace/error.hpp"

namespace utrace_test
{

inline int error_of(const std::function<void()> &fn)
{
	try {
		fn();
	} catch (const utrace::Error &e) {
		return e.code();
	}
	return 0;
}

} // namespace utrace_test
