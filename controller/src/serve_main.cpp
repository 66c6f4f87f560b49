// utracectl-serve: `utracectl serve`, the engines' metrics for Prometheus.
// A program of its own because it alone needs prometheus-cpp and its web
// server (civetweb), shared C++ libraries whose loading and relocation would
// cost every utracectl command ~7 ms of start-up: utracectl is linked
// statically without them and runs this helper (src/cmd_metrics.cpp).
#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <string>
#include <thread>
#include <unistd.h>

#include "guarded_main.hpp"
#include "serve.hpp"
#include "utrace/bpf_metrics.hpp"
#include "utrace/device.hpp"
#include "utrace/error.hpp"
#include "utrace/metrics_prometheus.hpp"
#include "utrace/module.hpp"

namespace
{

utrace::ServeStatus current_status()
{
	utrace::ServeStatus st;
	st.version = UTRACECTL_VERSION;
	st.arch = UTRACECTL_ARCH;
	st.kernel = utrace::kernel_release();
	st.module_loaded = utrace::module_loaded();
	st.bpf_loaded = utrace::bpf_loaded();
	st.bpf_mode = utrace::bpf_mode();
	if (!st.module_loaded)
		return st;
	try {
		const utrace::Device dev;
		std::array<uint64_t, utrace::kMetricTypes> n{};
		for (const auto id : dev.list()) {
			try {
				const auto info = dev.info(id);
				const auto type = static_cast<unsigned>(info.type);
				if ((info.state == utrace::EngineState::Attached ||
				     info.state == utrace::EngineState::Stopped) &&
				    type < n.size())
					n[type]++;
			} catch (const utrace::Error &) {
				// Detached between list and info: not attached.
			}
		}
		st.engines_attached = n;
	} catch (const utrace::Error &) {
		// Unloaded meanwhile, or not root: no engine gauge.
	}
	return st;
}

// Reads the maps at each scrape.
class Collector : public prometheus::Collectable
{
public:
	std::vector<prometheus::MetricFamily> Collect() const override
	{
		const auto st = current_status();
		if (!st.bpf_loaded)
			return utrace::metric_families(st, nullptr);
		try {
			const auto m =
			        std::make_unique<utrace::Metrics>(utrace::read_bpf_metrics());
			return utrace::metric_families(st, m.get());
		} catch (const utrace::Error &) {
			auto down = st;
			down.bpf_loaded = false;
			return utrace::metric_families(down, nullptr);
		}
	}
};

std::atomic<bool> g_stop{false};

void on_signal(int /*sig*/)
{
	g_stop = true;
}

// Throws utrace::Error (EINVAL) unless @listen ends in ":PORT".
void check_listen(const std::string &listen)
{
	const auto colon = listen.rfind(':');
	if (colon == std::string::npos || colon + 1 == listen.size() ||
	    listen.find_first_not_of("0123456789", colon + 1) != std::string::npos)
		throw utrace::Error(EINVAL, "--listen " + listen +
		                                    ": expected HOST:PORT, e.g. 127.0.0.1:9477");
}

void serve(const utracectl::ServeOptions &o)
{
	auto collector = std::make_shared<Collector>();
	if (o.once) {
		std::fputs(utrace::serialize_text(collector->Collect()).c_str(), stdout);
		return;
	}
	check_listen(o.listen);
	std::unique_ptr<prometheus::Exposer> exposer;
	try {
		exposer = std::make_unique<prometheus::Exposer>(o.listen);
	} catch (const std::exception &e) {
		throw utrace::Error(EADDRINUSE, "cannot listen on " + o.listen + ": " + e.what());
	}
	exposer->RegisterCollectable(collector);
	std::signal(SIGINT, on_signal);
	std::signal(SIGTERM, on_signal);
	std::printf("serving utrace metrics on http://%s/metrics\n", o.listen.c_str());
	std::fflush(stdout);
	while (!g_stop)
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

int run(int argc, char **argv)
{
	CLI::App app(std::string("utracectl serve: ") + utracectl::kServeDescription,
	             "utracectl serve");
	utracectl::ServeOptions o;
	utracectl::add_serve_options(app, o);
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app.exit(e);
	}
	serve(o);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	return utracectl::guarded_main(run, argc, argv);
}
