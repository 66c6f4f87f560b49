#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "benchmarks.hpp"
#include "ftrace_state.hpp"
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

void wait_lazy_hooks_off()
{
	using namespace std::chrono_literals;
	const auto deadline = std::chrono::steady_clock::now() + 10s;
	while (utrace_test::ftrace_hooked_functions().count("wake_up_new_task") != 0) {
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
