// utracectl ptrace-backend on|off|status: the module parameter ptrace_backend.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "utrace/error.hpp"
#include "utrace/ptrace_backend.hpp"

namespace utracectl
{

namespace
{

void switch_to(utrace::PtraceBackend to)
{
	const auto from = utrace::set_ptrace_backend(to);
	if (from == to)
		std::printf("ptrace backend already %s\n", utrace::backend_name(to));
	else
		std::printf("ptrace backend %s (was %s)\n", utrace::backend_name(to),
		            utrace::backend_name(from));
}

} // namespace

void add_ptrace_commands(CLI::App &app)
{
	auto *cmd = app.add_subcommand(
	        "ptrace-backend",
	        "Switch ptrace(2) and wait(2) between the kernel's own ptrace (off) and "
	        "utrace's ptrace backend (on), or show which serves them (status)");
	cmd->require_subcommand(1);

	cmd->add_subcommand("on", "Serve ptrace(2) and wait(2) with utrace (refused while "
	                          "any process is traced by the kernel's ptrace)")
	        ->callback([] { switch_to(utrace::PtraceBackend::Utrace); });
	cmd->add_subcommand("off", "Give ptrace(2) and wait(2) back to the kernel (refused "
	                           "while any process is traced through utrace)")
	        ->callback([] { switch_to(utrace::PtraceBackend::Native); });

	auto json = std::make_shared<bool>(false);
	auto *status = cmd->add_subcommand(
	        "status", "Show the backend in force and how many threads are traced through "
	                  "it (the utrace count needs a module that exposes ptrace_tracees)");
	status->add_flag("--json", *json, "Print JSON");
	status->callback([json] {
		const auto backend = utrace::read_ptrace_backend();
		// Only the backend in force can have tracees: switching refuses
		// while the other one has any.
		const std::optional<unsigned> tracees =
		        backend == utrace::PtraceBackend::Utrace
		                ? utrace::read_utrace_tracees()
		                : std::optional(utrace::count_native_tracees());
		if (*json) {
			nlohmann::json out = {{"backend", utrace::backend_name(backend)}};
			if (tracees)
				out["tracees"] = *tracees;
			std::printf("%s\n", out.dump(2).c_str());
			return;
		}
		std::printf("backend  %s\n", utrace::backend_name(backend));
		if (tracees)
			std::printf("tracees  %u\n", *tracees);
	});
}

} // namespace utracectl
