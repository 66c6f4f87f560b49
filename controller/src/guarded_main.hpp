// main() of utracectl and of its serve helper: an exception that escapes
// the command is printed as "utracectl: WHAT" and the exit status is 1.
#pragma once

#include <cstdio>
#include <exception>

namespace utracectl
{

inline int guarded_main(int (*run)(int, char **), int argc, char **argv) noexcept
{
	try {
		return run(argc, argv);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "utracectl: %s\n", e.what());
	} catch (...) {
		std::fprintf(stderr, "utracectl: unknown error\n");
	}
	return 1;
}

} // namespace utracectl
