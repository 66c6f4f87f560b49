// Test and benchmark helper: what ftrace has a callback on, from
// /sys/kernel/tracing/enabled_functions (tracefs mounted there if it is
// not yet): the module's hooks, and whether its lazy ones are on.
#pragma once

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace utrace_test
{

// The lines of enabled_functions, read once.
inline std::vector<std::string> ftrace_enabled_lines()
{
	const std::string dir = "/sys/kernel/tracing";
	if (::access((dir + "/enabled_functions").c_str(), R_OK) != 0 &&
	    ::mount("nodev", dir.c_str(), "tracefs", 0, nullptr) != 0)
		throw std::runtime_error("cannot mount tracefs: " +
		                         std::string(std::strerror(errno)));
	std::ifstream in(dir + "/enabled_functions");
	if (!in)
		throw std::runtime_error("cannot read enabled_functions");
	std::vector<std::string> lines;
	std::string line;
	while (std::getline(in, line))
		lines.push_back(line);
	return lines;
}

// The functions ftrace has a callback on, each line's first word.
inline std::set<std::string> ftrace_hooked_functions()
{
	std::set<std::string> fns;
	for (const auto &line : ftrace_enabled_lines())
		fns.insert(line.substr(0, line.find(' ')));
	return fns;
}

} // namespace utrace_test
