// utracectl load / unload: the module and the BPF programs that measure it.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "utrace/bpf_metrics.hpp"
#include "utrace/error.hpp"
#include "utrace/module.hpp"

namespace utracectl
{

namespace
{

utrace::BpfMode parse_bpf_mode(const std::string &s)
{
	if (s == "auto")
		return utrace::BpfMode::Auto;
	if (s == "btf")
		return utrace::BpfMode::Btf;
	if (s == "raw")
		return utrace::BpfMode::Raw;
	throw utrace::Error(EINVAL, "--bpf-mode " + s + ": expected auto, btf or raw");
}

// delete_module, waiting a little while the BPF links we just removed are
// still being released (their module reference goes after an RCU grace
// period).
void unload_module_after_bpf()
{
	for (int tries = 0;; tries++) {
		try {
			utrace::unload_module();
			return;
		} catch (const utrace::Error &e) {
			if (e.code() != EWOULDBLOCK || tries >= 50)
				throw;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
}

} // namespace

void add_module_commands(CLI::App &app)
{
	struct LoadOpts {
		std::optional<std::string> module;
		std::vector<std::string> params;
		std::string bpf_mode = "auto";
		bool no_bpf = false;
		bool bpf_only = false;
	};
	auto opts = std::make_shared<LoadOpts>();
	auto *load = app.add_subcommand(
	        "load", "Load utrace.ko (finit_module; a compressed .ko.xz/.zst/.gz is "
	                "decompressed here and given to init_module) and its BPF metrics programs "
	                "(pinned under /sys/fs/bpf/utrace)");
	load->add_option("--module,-m", opts->module,
	                 "Module file (default: $UTRACE_MODULE, "
	                 "/lib/modules/$(uname -r)/updates/dkms/utrace.ko[.xz|.zst|.gz] "
	                 "(DKMS), /lib/modules/$(uname -r)/extra/utrace.ko, then the build tree)");
	load->add_option("--bpf-mode", opts->bpf_mode,
	                 "auto (btf if the module has BTF, else raw), btf (tp_btf programs) or "
	                 "raw (raw_tp programs)");
	auto *no_bpf = load->add_flag("--no-bpf", opts->no_bpf, "Load only the module");
	load->add_flag("--bpf-only", opts->bpf_only,
	               "Load only the BPF programs (the module is loaded already)")
	        ->excludes(no_bpf);
	load->add_option("params", opts->params, "Module parameters, NAME=VALUE");
	load->callback([opts] {
		const auto mode = parse_bpf_mode(opts->bpf_mode);
		if (opts->bpf_only) {
			const std::string used = utrace::load_bpf(mode);
			std::printf("loaded BPF metrics (%s tracepoints) in %s\n", used.c_str(),
			            utrace::kBpfPinDir);
			return;
		}
		const std::string path = utrace::find_module(opts->module);
		utrace::load_module(path, opts->params);
		std::printf("loaded %s\n", path.c_str());
		if (opts->no_bpf)
			return;
		std::string used;
		try {
			used = utrace::load_bpf(mode);
		} catch (const utrace::Error &e) {
			// All or nothing: a module without its metrics is taken out
			// again (utracectl load --no-bpf keeps it).
			utrace::unload_module();
			throw utrace::Error(e.code(), std::string(e.what()) +
			                                      "; utrace.ko unloaded again "
			                                      "(--no-bpf loads the module alone)");
		}
		std::printf("loaded BPF metrics (%s tracepoints) in %s\n", used.c_str(),
		            utrace::kBpfPinDir);
	});

	auto bpf_only = std::make_shared<bool>(false);
	auto *unload = app.add_subcommand(
	        "unload", "Unload the BPF metrics programs, then utrace.ko (delete_module)");
	unload->add_flag("--bpf-only", *bpf_only, "Unload only the BPF programs");
	unload->callback([bpf_only] {
		const bool had_bpf = utrace::bpf_loaded();
		if (*bpf_only) {
			utrace::unload_bpf();
			std::printf("unloaded BPF metrics\n");
			return;
		}
		if (had_bpf) {
			if (!utrace::module_loaded())
				throw utrace::Error(ENOENT, "utrace is not loaded");
			utrace::unload_bpf();
			unload_module_after_bpf();
		} else {
			utrace::unload_module();
		}
		std::printf("unloaded utrace%s\n", had_bpf ? " and its BPF metrics" : "");
	});
}

} // namespace utracectl
