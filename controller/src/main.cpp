// utracectl: load the utrace module, inspect it, and (as the project grows)
// attach engines, serve metrics and run benchmarks.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "utrace/script.hpp"

#include "commands.hpp"
#include "guarded_main.hpp"
#include "utrace/error.hpp"

namespace
{

std::unique_ptr<CLI::App> make_app(int &exit_code);

// utracectl script FILE|-: each line is a utracectl command; the first that
// fails stops the script, naming its line.
void add_script_command(CLI::App &app)
{
	auto file = std::make_shared<std::string>();
	auto *script = app.add_subcommand(
	        "script", "Run utracectl commands from FILE (or - for stdin), one per line, "
	                  "stopping at the first error");
	script->add_option("file", *file, "Script file, or - for standard input")->required();
	script->callback([file] {
		std::ifstream in;
		if (*file != "-") {
			in.open(*file);
			if (!in)
				throw utrace::Error(ENOENT, "script " + *file + ": cannot open");
		}
		std::istream &src = *file == "-" ? std::cin : in;
		std::string line;
		for (int n = 1; std::getline(src, line); n++) {
			const std::string where = "script " + *file + " line " + std::to_string(n);
			std::vector<std::string> words;
			try {
				words = utrace::split_words(line);
			} catch (const utrace::Error &e) {
				throw utrace::Error(e.code(), where + ": " + e.what());
			}
			if (words.empty())
				continue;
			if (words[0] == "script")
				throw utrace::Error(EINVAL, where + ": scripts do not nest");
			int exit_code = 0;
			auto sub = make_app(exit_code);
			std::vector<std::string> args(words.rbegin(), words.rend());
			try {
				sub->parse(args);
			} catch (const CLI::Success &e) {
				// --help or --version: printed, as on the command line.
				(void)sub->exit(e);
				continue;
			} catch (const CLI::ParseError &e) {
				throw utrace::Error(EINVAL, where + ": " + e.what());
			} catch (const utrace::Error &e) {
				throw utrace::Error(e.code(), where + ": " + e.what());
			}
			if (exit_code != 0)
				throw utrace::Error(ECHILD,
				                    where + ": command exited with status " +
				                            std::to_string(exit_code));
		}
	});
}

std::unique_ptr<CLI::App> make_app(int &exit_code)
{
	auto app = std::make_unique<CLI::App>(
	        "utracectl: control the utrace kernel module (engines for tracing user threads)",
	        "utracectl");
	app->set_version_flag("--version", UTRACECTL_VERSION);
	app->require_subcommand(1);
	utracectl::add_module_commands(*app);
	utracectl::add_status_commands(*app);
	utracectl::add_engine_commands(*app, exit_code);
#ifndef UTRACECTL_NO_METRICS
	utracectl::add_metrics_commands(*app, exit_code);
#endif
	utracectl::add_ptrace_commands(*app);
	utracectl::add_trace_commands(*app, exit_code);
	add_script_command(*app);
	return app;
}

int run(int argc, char **argv)
{
	int exit_code = 0;
	auto app = make_app(exit_code);
	try {
		app->parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app->exit(e);
	}
	return exit_code;
}

} // namespace

int main(int argc, char **argv)
{
	return utracectl::guarded_main(run, argc, argv);
}
