// What the BPF metrics cost per report, side by side in one run: a loop of
// getppid() calls by a child process under a count engine (two reports per call:
// SYSCALL_ENTRY and SYSCALL_EXIT), with the programs loaded and not, and
// with no engine at all.  Rounds alternate so drift hits every mode alike;
// the median round of each mode is reported.
//
// usage: utrace_metrics_overhead [CALLS_PER_ROUND [ROUNDS [--no-bpf]]]
// (module loaded; --no-bpf: only the first two modes, for a module without
// the tracepoints, to compare the cost of tracepoints that are off)
// The loop runs in a child: /dev/utrace refuses the caller's own thread
// group, as ptrace does.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "utrace/bpf_metrics.hpp"
#include "utrace/device.hpp"

namespace
{

double ns_per_call(long calls)
{
	const auto start = std::chrono::steady_clock::now();
	for (long i = 0; i < calls; i++)
		::syscall(SYS_getppid);
	const std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - start;
	return d.count() / static_cast<double>(calls);
}

// A child that runs a loop of @calls getppid() per request and answers its
// ns per call.
class Looper
{
public:
	Looper()
	{
		int req[2];
		int resp[2];
		if (::pipe(req) != 0 || ::pipe(resp) != 0)
			throw std::runtime_error("pipe");
		pid_ = ::fork();
		if (pid_ < 0)
			throw std::runtime_error("fork");
		if (pid_ == 0) {
			::close(req[1]);
			::close(resp[0]);
			long calls = 0;
			while (::read(req[0], &calls, sizeof(calls)) == sizeof(calls)) {
				const double ns = ns_per_call(calls);
				if (::write(resp[1], &ns, sizeof(ns)) != sizeof(ns))
					::_exit(1);
			}
			::_exit(0);
		}
		::close(req[0]);
		::close(resp[1]);
		req_ = req[1];
		resp_ = resp[0];
	}
	~Looper()
	{
		::close(req_);
		::close(resp_);
		::kill(pid_, SIGKILL);
		::waitpid(pid_, nullptr, 0);
	}
	Looper(const Looper &) = delete;
	Looper &operator=(const Looper &) = delete;
	[[nodiscard]] pid_t pid() const { return pid_; }
	double run(long calls) const
	{
		double ns = 0;
		if (::write(req_, &calls, sizeof(calls)) != sizeof(calls) ||
		    ::read(resp_, &ns, sizeof(ns)) != sizeof(ns))
			throw std::runtime_error("the looping child died");
		return ns;
	}

private:
	pid_t pid_ = -1;
	int req_ = -1;
	int resp_ = -1;
};

double median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
	const long calls = argc > 1 ? std::atol(argv[1]) : 20000;
	const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
	const bool with_bpf = !(argc > 3 && std::string(argv[3]) == "--no-bpf");
	if (calls <= 0 || rounds <= 0) {
		std::fprintf(stderr, "usage: utrace_metrics_overhead [CALLS_PER_ROUND [ROUNDS "
		                     "[--no-bpf]]]\n");
		return 2;
	}
	try {
		const Looper looper;
		const utrace::Device dev;
		std::vector<double> bare, engine, engine_bpf;
		(void)looper.run(calls / 10); // warm up
		for (int r = 0; r < rounds; r++) {
			bare.push_back(looper.run(calls));
			const auto id = dev.attach(looper.pid(), utrace::EngineType::Count,
			                           utrace::bit(utrace::Event::SyscallEntry) |
			                                   utrace::bit(utrace::Event::SyscallExit));
			engine.push_back(looper.run(calls));
			if (with_bpf) {
				(void)utrace::load_bpf();
				engine_bpf.push_back(looper.run(calls));
				utrace::unload_bpf();
			}
			dev.detach(id);
		}
		const double b = median(bare), e = median(engine);
		std::printf(
		        "getppid() under a count engine (syscall entry+exit: 2 reports per call), "
		        "median of %d rounds of %ld calls\n",
		        rounds, calls);
		std::printf("  no engine                 %8.0f ns/call\n", b);
		std::printf("  count engine              %8.0f ns/call  (%+.0f ns per report)\n", e,
		            (e - b) / 2);
		if (!with_bpf)
			return 0;
		const double eb = median(engine_bpf);
		std::printf("  count engine + BPF        %8.0f ns/call  (%+.0f ns per report)\n",
		            eb, (eb - b) / 2);
		std::printf("BPF metrics overhead: %+.0f ns per report (%+.1f%% of a report)\n",
		            (eb - e) / 2, e > b ? 100.0 * (eb - e) / (e - b) : 0.0);
	} catch (const std::exception &ex) {
		std::fprintf(stderr, "utrace_metrics_overhead: %s\n", ex.what());
		return 1;
	}
	return 0;
}
