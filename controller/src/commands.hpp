// Each file src/cmd_*.cpp adds its subcommands to the CLI11 app.  A
// subcommand parses, calls libutrace and prints; nothing here re-implements
// an ioctl.  Errors propagate as utrace::Error and are printed by main.
#pragma once

#include <CLI/CLI.hpp>

namespace utracectl
{

void add_module_commands(CLI::App &app);
void add_status_commands(CLI::App &app);
// @exit_code: where "attach -- COMMAND" leaves the command's exit status.
void add_engine_commands(CLI::App &app, int &exit_code);
// @exit_code: where "serve" leaves its helper's exit status.
void add_metrics_commands(CLI::App &app, int &exit_code);
void add_ptrace_commands(CLI::App &app);
// @exit_code: where "trace -- COMMAND" leaves the command's exit status.
void add_trace_commands(CLI::App &app, int &exit_code);

} // namespace utracectl
