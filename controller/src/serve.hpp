// utracectl serve's command line, shared by `utracectl serve` and the helper
// that serves (utracectl-serve, src/serve_main.cpp).  Only the helper links
// prometheus-cpp and its web server: utracectl itself is static and starts
// fast (README "Tracing system calls"), and `utracectl serve` runs the helper.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace utracectl
{

struct ServeOptions {
	std::string listen = "127.0.0.1:9477";
	bool once = false;
};

inline void add_serve_options(CLI::App &cmd, ServeOptions &o)
{
	cmd.add_option("--listen,-l", o.listen,
	               "Address to listen on, HOST:PORT (default 127.0.0.1:9477; "
	               "0.0.0.0:PORT for every interface)");
	cmd.add_flag("--once", o.once,
	             "Print the metrics once in Prometheus' text format and exit");
}

inline constexpr const char *kServeDescription =
        "Serve the metrics for Prometheus at http://ADDR/metrics until ^C";

} // namespace utracectl
