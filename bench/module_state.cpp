#include <cerrno>

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
