// utracectl stats / top / serve: engine metrics from the pinned BPF maps.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <string>
#include <thread>
#include <unistd.h>

#include "commands.hpp"
#include "utrace/bpf_metrics.hpp"
#include "utrace/device.hpp"
#include "utrace/error.hpp"
#include "utrace/metrics_format.hpp"
#include "utrace/module.hpp"

namespace utracectl
{

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

void add_stats(CLI::App &app)
{
	auto json = std::make_shared<bool>(false);
	auto *stats = app.add_subcommand(
	        "stats", "Report latency (p50/p99/max) and stops per engine and event, "
	                 "from the BPF maps");
	stats->add_flag("--json", *json, "Print JSON (times in seconds)");
	stats->callback([json] {
		const auto m = std::make_unique<utrace::Metrics>(utrace::read_bpf_metrics());
		if (*json)
			std::printf("%s\n", utrace::stats_json(*m).dump(2).c_str());
		else
			std::fputs(utrace::format_stats_table(*m).c_str(), stdout);
	});
}

void add_top(CLI::App &app)
{
	struct Opts {
		double interval = 1.0;
		unsigned count = 0;
	};
	auto opts = std::make_shared<Opts>();
	auto *top = app.add_subcommand(
	        "top", "Live view: reports and stops per second and latency per engine and event");
	top->add_option("--interval,-i", opts->interval, "Seconds between refreshes")
	        ->check(CLI::Range(0.1, 3600.0));
	top->add_option("--count,-n", opts->count, "Stop after N refreshes (default: until ^C)");
	top->callback([opts] {
		std::signal(SIGINT, on_signal);
		std::signal(SIGTERM, on_signal);
		const bool tty = ::isatty(STDOUT_FILENO) != 0;
		auto before = std::make_unique<utrace::Metrics>(utrace::read_bpf_metrics());
		for (unsigned n = 0; !g_stop && (opts->count == 0 || n < opts->count); n++) {
			const auto until = std::chrono::steady_clock::now() +
			                   std::chrono::duration<double>(opts->interval);
			while (!g_stop && std::chrono::steady_clock::now() < until)
				std::this_thread::sleep_for(std::chrono::milliseconds(50));
			if (g_stop)
				break;
			auto now = std::make_unique<utrace::Metrics>(utrace::read_bpf_metrics());
			const auto delta = std::make_unique<utrace::Metrics>(now->since(*before));
			if (tty)
				std::fputs("\033[H\033[2J", stdout);
			std::printf("utrace top: last %.1fs (^C to quit)\n\n", opts->interval);
			std::fputs(utrace::format_top_table(*delta, opts->interval).c_str(),
			           stdout);
			std::fflush(stdout);
			before = std::move(now);
		}
	});
}

void add_serve(CLI::App &app)
{
	struct Opts {
		std::string listen = "127.0.0.1:9477";
		bool once = false;
	};
	auto opts = std::make_shared<Opts>();
	auto *serve = app.add_subcommand(
	        "serve", "Serve the metrics for Prometheus at http://ADDR/metrics until ^C");
	serve->add_option("--listen,-l", opts->listen,
	                  "Address to listen on, HOST:PORT (default 127.0.0.1:9477; "
	                  "0.0.0.0:PORT for every interface)");
	serve->add_flag("--once", opts->once,
	                "Print the metrics once in Prometheus' text format and exit");
	serve->callback([opts] {
		auto collector = std::make_shared<Collector>();
		if (opts->once) {
			std::fputs(utrace::serialize_text(collector->Collect()).c_str(), stdout);
			return;
		}
		const auto colon = opts->listen.rfind(':');
		if (colon == std::string::npos || colon + 1 == opts->listen.size() ||
		    opts->listen.find_first_not_of("0123456789", colon + 1) != std::string::npos)
			throw utrace::Error(EINVAL,
			                    "--listen " + opts->listen +
			                            ": expected HOST:PORT, e.g. 127.0.0.1:9477");
		std::unique_ptr<prometheus::Exposer> exposer;
		try {
			exposer = std::make_unique<prometheus::Exposer>(opts->listen);
		} catch (const std::exception &e) {
			throw utrace::Error(EADDRINUSE,
			                    "cannot listen on " + opts->listen + ": " + e.what());
		}
		exposer->RegisterCollectable(collector);
		std::signal(SIGINT, on_signal);
		std::signal(SIGTERM, on_signal);
		std::printf("serving utrace metrics on http://%s/metrics\n", opts->listen.c_str());
		std::fflush(stdout);
		while (!g_stop)
			std::this_thread::sleep_for(std::chrono::milliseconds(200));
	});
}

} // namespace

void add_metrics_commands(CLI::App &app)
{
	add_stats(app);
	add_top(app);
	add_serve(app);
}

} // namespace utracectl
