// utracectl status / ping
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "utrace/device.hpp"
#include "utrace/error.hpp"
#include "utrace/module.hpp"

namespace utracectl
{

void add_status_commands(CLI::App &app)
{
	auto json = std::make_shared<bool>(false);
	auto *status =
	        app.add_subcommand("status", "Show whether utrace is loaded and its version");
	status->add_flag("--json", *json, "Print JSON");
	status->callback([json] {
		nlohmann::json out = {{"loaded", utrace::module_loaded()},
		                      {"kernel", utrace::kernel_release()},
		                      {"utracectl", UTRACECTL_VERSION}};
		if (out["loaded"]) {
			const utrace::Device dev;
			const auto v = dev.version();
			out["module"] = {{"version", v.release}, {"abi", v.abi}, {"api", v.api}};
		}
		if (*json) {
			std::printf("%s\n", out.dump(2).c_str());
			return;
		}
		std::printf("kernel     %s\n", out["kernel"].get<std::string>().c_str());
		if (!out["loaded"]) {
			std::printf("module     not loaded\n");
			return;
		}
		std::printf("module     utrace %s (abi %u, api %u)\n",
		            out["module"]["version"].get<std::string>().c_str(),
		            out["module"]["abi"].get<unsigned>(),
		            out["module"]["api"].get<unsigned>());
	});

	auto cookie = std::make_shared<uint64_t>(0x7574726163650001ULL);
	auto *ping = app.add_subcommand("ping", "Round-trip an ioctl through /dev/utrace");
	ping->add_option("--cookie", *cookie, "Value sent; the module answers its complement");
	ping->callback([cookie] {
		const utrace::Device dev;
		const uint64_t reply = dev.ping(*cookie);
		if (reply != ~*cookie)
			throw utrace::Error(EPROTO, "ping: module answered a wrong reply");
		std::printf("pong %#llx\n", static_cast<unsigned long long>(reply));
	});
}

} // namespace utracectl
