// utracectl: load the utrace module, inspect it, and (as the project grows)
// attach engines, serve metrics and run benchmarks.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "utrace/error.hpp"

namespace
{

int run(int argc, char **argv)
{
	CLI::App app{"utracectl: control the utrace kernel module (engines for tracing user "
	             "threads)"};
	app.set_version_flag("--version", UTRACECTL_VERSION);
	app.require_subcommand(1);
	utracectl::add_module_commands(app);
	utracectl::add_status_commands(app);
	int exit_code = 0;
	utracectl::add_engine_commands(app, exit_code);
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app.exit(e);
	}
	return exit_code;
}

} // namespace

int main(int argc, char **argv)
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
