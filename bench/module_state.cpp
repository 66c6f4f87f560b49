#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "benchmarks.hpp"
#include "utrace/error.hpp"
#include "utrace/module.hpp"

namespace bench
{

void ensure_loaded(const Config &c)
{
	if (!utrace::module_loaded())
		utrace::load_module(c.module_path, {});
}

void ensure_unloaded()
{
	if (utrace::module_loaded())
		utrace::unload_module();
}

namespace
{

// Whether ftrace has a callback on @fn (enabled_functions, tracefs mounted
// here if it is not yet).
bool ftrace_hooked(const std::string &fn)
{
	const std::string dir = "/sys/kernel/tracing";
	if (::access((dir + "/enabled_functions").c_str(), R_OK) != 0 &&
	    ::mount("nodev", dir.c_str(), "tracefs", 0, nullptr) != 0)
		throw std::runtime_error("cannot mount tracefs: " +
		                         std::string(std::strerror(errno)));
	std::ifstream in(dir + "/enabled_functions");
	if (!in)
		throw std::runtime_error("cannot read " + dir + "/enabled_functions");
	std::string line;
	while (std::getline(in, line))
		if (line.compare(0, line.find(' '), fn) == 0)
			return true;
	return false;
}

} // namespace

void wait_lazy_hooks_off()
{
	using namespace std::chrono_literals;
	const auto deadline = std::chrono::steady_clock::now() + 10s;
	while (ftrace_hooked("wake_up_new_task")) {
		if (std::chrono::steady_clock::now() > deadline)
			throw std::runtime_error("the module's lazy hooks (wake_up_new_task) are "
			                         "still on 10 s on: a task kept its utrace?");
		std::this_thread::sleep_for(50ms);
	}
}

void detach_all(const utrace::Device &dev, std::vector<uint64_t> &ids)
{
	for (const auto id : ids) {
		try {
			dev.detach(id);
		} catch (const utrace::Error &e) {
			if (e.code() != ENOENT)
				throw;
		}
	}
	ids.clear();
}

} // namespace bench
