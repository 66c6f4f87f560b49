// utracectl stats / top / serve: engine metrics from the pinned BPF maps.
// serve runs the helper utracectl-serve (src/serve_main.cpp), the one
// program that links prometheus-cpp.
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "commands.hpp"
#include "process.hpp"
#include "serve.hpp"
#include "utrace/bpf_metrics.hpp"
#include "utrace/error.hpp"
#include "utrace/metrics_format.hpp"

namespace utracectl
{

namespace
{

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

// The helper that serves: beside this executable (the build tree), else in
// ../libexec/utracectl (the package's /usr/libexec/utracectl).
std::string serve_helper()
{
	char self[PATH_MAX];
	const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		utrace::throw_errno(errno, "serve: /proc/self/exe");
	self[n] = 0;
	std::string dir(self);
	dir.erase(dir.rfind('/'));
	for (const std::string &p :
	     {dir + "/utracectl-serve", dir + "/../libexec/utracectl/utracectl-serve"})
		if (::access(p.c_str(), X_OK) == 0)
			return p;
	throw utrace::Error(ENOENT, "serve: its helper utracectl-serve is in neither " + dir +
	                                    " nor " + dir + "/../libexec/utracectl");
}

pid_t g_helper = -1;

void forward(int sig)
{
	if (g_helper > 0)
		::kill(g_helper, sig);
}

// While it lives, SIGINT, SIGTERM and SIGHUP sent to utracectl are passed
// on to @pid.
class Forwarding
{
public:
	explicit Forwarding(pid_t pid)
	{
		struct sigaction sa {
		};
		sa.sa_handler = forward;
		::sigemptyset(&sa.sa_mask);
		g_helper = pid;
		for (size_t i = 0; i < kSignals.size(); i++)
			::sigaction(kSignals[i], &sa, &old_[i]);
	}
	~Forwarding()
	{
		for (size_t i = 0; i < kSignals.size(); i++)
			::sigaction(kSignals[i], &old_[i], nullptr);
		g_helper = -1;
	}
	Forwarding(const Forwarding &) = delete;
	Forwarding &operator=(const Forwarding &) = delete;

private:
	static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
	std::array<struct sigaction, 3> old_{};
};

void add_serve(CLI::App &app, int &exit_code)
{
	auto opts = std::make_shared<ServeOptions>();
	auto *serve = app.add_subcommand("serve", kServeDescription);
	add_serve_options(*serve, *opts);
	serve->callback([opts, &exit_code] {
		// The helper checks --listen and says what is wrong with it.
		std::vector<std::string> argv = {"utracectl-serve", "--listen", opts->listen};
		if (opts->once)
			argv.emplace_back("--once");
		// A child rather than an exec: in a script the next line runs after
		// it.  ^C reaches both; a signal sent to utracectl alone (systemd's
		// stop, kill PID) is passed on, and the helper's status is ours.
		HeldCommand helper(argv, serve_helper(), "utracectl serve");
		const Forwarding forwarding(helper.pid());
		helper.go("serve: starting utracectl-serve");
		exit_code = helper.wait();
	});
}

} // namespace

void add_metrics_commands(CLI::App &app, int &exit_code)
{
	add_stats(app);
	add_top(app);
	add_serve(app, exit_code);
}

} // namespace utracectl
