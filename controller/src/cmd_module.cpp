// utracectl load / unload
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "utrace/module.hpp"

namespace utracectl
{

void add_module_commands(CLI::App &app)
{
	struct LoadOpts {
		std::optional<std::string> module;
		std::vector<std::string> params;
	};
	auto opts = std::make_shared<LoadOpts>();
	auto *load =
	        app.add_subcommand("load", "Load utrace.ko into the running kernel (finit_module)");
	load->add_option("--module,-m", opts->module,
	                 "Module file (default: $UTRACE_MODULE, "
	                 "/lib/modules/$(uname -r)/extra/utrace.ko, then the build tree)");
	load->add_option("params", opts->params, "Module parameters, NAME=VALUE");
	load->callback([opts] {
		const std::string path = utrace::find_module(opts->module);
		utrace::load_module(path, opts->params);
		std::printf("loaded %s\n", path.c_str());
	});

	auto *unload = app.add_subcommand("unload", "Unload the utrace module (delete_module)");
	unload->callback([] {
		utrace::unload_module();
		std::printf("unloaded utrace\n");
	});
}

} // namespace utracectl
