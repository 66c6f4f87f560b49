#include "harness.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench
{

Config Config::make(bool quick)
{
	Config c;
	c.quick = quick;
	if (quick) {
		c.loop_iterations = 2000;
		c.reps = 5;
		c.ptrace_stops = 1000;
		c.observe_iterations = 1000;
		c.engines_per_task = {1, 4, 16, 64};
		c.traced_tasks = {1, 10, 100, 1000};
		c.b7_dirs = 4;
		c.b7_files = 25;
		c.b7_reps = 3;
	} else {
		c.loop_iterations = 10000;
		c.reps = 15;
		c.ptrace_stops = 3000;
		c.observe_iterations = 2000;
		c.engines_per_task = {1, 4, 16, 64};
		c.traced_tasks = {1, 10, 100, 1000};
		c.b7_dirs = 10;
		c.b7_files = 40;
		c.b7_reps = 7;
	}
	return c;
}

void log(const std::string &msg)
{
	std::fprintf(stderr, "bench: %s\n", msg.c_str());
	std::fflush(stderr);
}

namespace
{

[[noreturn]] void fail(const std::string &what)
{
	throw std::runtime_error(what + ": " + std::strerror(errno));
}

int64_t now_ns()
{
	timespec ts{};
	::clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void write_all(int fd, const void *buf, size_t len)
{
	const auto *p = static_cast<const char *>(buf);
	while (len > 0) {
		const ssize_t n = ::write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("write to a worker pipe");
		p += n;
		len -= static_cast<size_t>(n);
	}
}

// false on end of file.
bool read_all(int fd, void *buf, size_t len)
{
	auto *p = static_cast<char *>(buf);
	while (len > 0) {
		const ssize_t n = ::read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("read from a worker pipe");
		if (n == 0)
			return false;
		p += n;
		len -= static_cast<size_t>(n);
	}
	return true;
}

} // namespace

Counter::Counter(pid_t pid)
{
	perf_event_attr a{};
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.disabled = 1;
	a.exclude_hv = 1;
	fd_ = static_cast<int>(
	        ::syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

Counter::~Counter()
{
	if (fd_ >= 0)
		::close(fd_);
}

Counter::Counter(Counter &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Counter &Counter::operator=(Counter &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			::close(fd_);
		fd_ = std::exchange(other.fd_, -1);
	}
	return *this;
}

void Counter::start() const
{
	if (fd_ < 0)
		return;
	::ioctl(fd_, PERF_EVENT_IOC_RESET, 0);
	::ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0);
}

std::optional<uint64_t> Counter::stop() const
{
	if (fd_ < 0)
		return std::nullopt;
	::ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0);
	return read();
}

std::optional<uint64_t> Counter::read() const
{
	uint64_t v = 0;
	if (fd_ < 0 || ::read(fd_, &v, sizeof(v)) != sizeof(v))
		return std::nullopt;
	return v;
}

bool Counter::supported()
{
	static const bool yes = Counter(0).available();
	return yes;
}

void syscall_loop(int zero_fd, uint64_t iterations)
{
	char buf[64];
	for (uint64_t i = 0; i < iterations; i++) {
		::syscall(SYS_getpid);
		if (::read(zero_fd, buf, sizeof(buf)) != sizeof(buf))
			::_exit(90);
	}
}

namespace
{

struct WorkerCmd {
	uint64_t iterations; // 0: exit
};
struct WorkerResult {
	int64_t ns;
	int64_t instructions; // -1: not counted
};

// A filter that allows every call: seccomp's cost is the slow path and one
// run of this program per call.
bool install_allow_filter()
{
	sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	const sock_fprog prog{.len = 1, .filter = allow};
	return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	       ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

[[noreturn]] void worker_main(int cmd_fd, int res_fd, Worker::Filter filter)
{
	::prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (filter == Worker::Filter::Seccomp && !install_allow_filter())
		::_exit(92);
	const int zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (zero < 0)
		::_exit(91);
	const Counter counter(0);
	WorkerCmd cmd{};
	while (read_all(cmd_fd, &cmd, sizeof(cmd)) && cmd.iterations > 0) {
		counter.start();
		const int64_t t0 = now_ns();
		syscall_loop(zero, cmd.iterations);
		const int64_t t1 = now_ns();
		const auto instr = counter.stop();
		const WorkerResult res{t1 - t0, instr ? static_cast<int64_t>(*instr) : -1};
		write_all(res_fd, &res, sizeof(res));
	}
	::_exit(0);
}

} // namespace

Worker::Worker(Filter filter)
{
	int cmd[2];
	int res[2];
	if (::pipe2(cmd, O_CLOEXEC) || ::pipe2(res, O_CLOEXEC))
		fail("pipe");
	pid_ = ::fork();
	if (pid_ < 0)
		fail("fork");
	if (pid_ == 0) {
		::close(cmd[1]);
		::close(res[0]);
		worker_main(cmd[0], res[1], filter);
	}
	::close(cmd[0]);
	::close(res[1]);
	cmd_fd_ = cmd[1];
	res_fd_ = res[0];
}

Worker::~Worker()
{
	const WorkerCmd quit{0};
	if (::write(cmd_fd_, &quit, sizeof(quit)) < 0)
		::kill(pid_, SIGKILL);
	::close(cmd_fd_);
	::close(res_fd_);
	int status = 0;
	::waitpid(pid_, &status, 0);
}

Sample Worker::loop(uint64_t iterations) const
{
	const WorkerCmd cmd{iterations};
	write_all(cmd_fd_, &cmd, sizeof(cmd));
	WorkerResult res{};
	if (!read_all(res_fd_, &res, sizeof(res)))
		throw std::runtime_error("the worker died");
	Sample s;
	s.ns = static_cast<double>(res.ns);
	if (res.instructions >= 0)
		s.instructions = static_cast<double>(res.instructions);
	return s;
}

namespace
{

void *idle_thread(void *arg)
{
	char c;
	while (::read(*static_cast<int *>(arg), &c, 1) < 0 && errno == EINTR) {
	}
	return nullptr;
}

// The holder of idle threads: starts @count threads blocked in read(@fd),
// sends their tids up @tid_fd, then waits in read(@fd) itself.
[[noreturn]] void idle_threads_main(unsigned count, int fd, int tid_fd)
{
	::prctl(PR_SET_PDEATHSIG, SIGKILL);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, size_t{64} * 1024);
	static int shared_fd;
	shared_fd = fd;
	for (unsigned i = 0; i < count; i++) {
		pthread_t t;
		if (pthread_create(&t, &attr, idle_thread, &shared_fd))
			::_exit(92);
	}
	// The parent reads the tids from /proc/PID/task.
	const pid_t done = -1;
	write_all(tid_fd, &done, sizeof(done));
	idle_thread(&shared_fd);
	::_exit(0);
}

std::vector<pid_t> task_tids(pid_t pid)
{
	std::vector<pid_t> tids;
	const std::string dir = "/proc/" + std::to_string(pid) + "/task";
	// Read the directory without <filesystem>'s exceptions.
	const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fail("open " + dir);
	char buf[8192];
	for (;;) {
		const long n = ::syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct Dirent {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[1];
			};
			const auto *d = reinterpret_cast<const Dirent *>(buf + off);
			if (d->name[0] != '.')
				tids.push_back(static_cast<pid_t>(std::stol(d->name)));
			off += d->reclen;
		}
	}
	::close(fd);
	return tids;
}

} // namespace

Idlers::Idlers(Kind kind, unsigned count) : kind_(kind)
{
	int rel[2];
	if (::pipe2(rel, O_CLOEXEC))
		fail("pipe");
	release_fd_ = rel[1];
	if (kind == Kind::Processes) {
		for (unsigned i = 0; i < count; i++) {
			const pid_t pid = ::fork();
			if (pid < 0)
				fail("fork");
			if (pid == 0) {
				::prctl(PR_SET_PDEATHSIG, SIGKILL);
				::close(rel[1]);
				char c;
				while (::read(rel[0], &c, 1) < 0 && errno == EINTR) {
				}
				::_exit(0);
			}
			tids_.push_back(pid);
		}
	} else if (count > 0) {
		int tid_pipe[2];
		if (::pipe2(tid_pipe, O_CLOEXEC))
			fail("pipe");
		holder_ = ::fork();
		if (holder_ < 0)
			fail("fork");
		if (holder_ == 0) {
			::close(rel[1]);
			::close(tid_pipe[0]);
			idle_threads_main(count, rel[0], tid_pipe[1]);
		}
		::close(tid_pipe[1]);
		pid_t done = 0;
		if (!read_all(tid_pipe[0], &done, sizeof(done)))
			throw std::runtime_error("the idle-thread holder died");
		::close(tid_pipe[0]);
		for (const pid_t tid : task_tids(holder_))
			if (tid != holder_)
				tids_.push_back(tid);
	}
	::close(rel[0]);
}

Idlers::~Idlers()
{
	::close(release_fd_); // every reader sees end of file
	int status = 0;
	if (kind_ == Kind::Processes) {
		for (const pid_t pid : tids_)
			::waitpid(pid, &status, 0);
	} else if (holder_ > 0) {
		::waitpid(holder_, &status, 0);
	}
}

Samples interleave(const std::vector<Variant> &variants, unsigned reps)
{
	Samples out;
	const size_t n = variants.size();
	// Round 0 is the warm-up (caches, page faults, lazy kernel state such
	// as the first attach's allocations): measured like the others, then
	// dropped.
	for (unsigned r = 0; r <= reps; r++) {
		for (size_t k = 0; k < n; k++) {
			// Rotate the order: no variant always runs first after a
			// setup of another.
			const Variant &v = variants[(k + r) % n];
			v.setup();
			Sample s = v.measure();
			v.teardown();
			if (r > 0)
				out[v.name].push_back(s);
		}
	}
	return out;
}

double quantile(std::vector<double> v, double q)
{
	if (v.empty())
		return std::nan("");
	std::sort(v.begin(), v.end());
	const double pos = q * static_cast<double>(v.size() - 1);
	const auto lo = static_cast<size_t>(std::floor(pos));
	const auto hi = static_cast<size_t>(std::ceil(pos));
	return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

double median(std::vector<double> v)
{
	return quantile(std::move(v), 0.5);
}

std::vector<double> walls(const std::vector<Sample> &s)
{
	std::vector<double> v;
	v.reserve(s.size());
	for (const auto &x : s)
		v.push_back(x.ns);
	return v;
}

std::vector<double> instrs(const std::vector<Sample> &s)
{
	std::vector<double> v;
	for (const auto &x : s) {
		if (!x.instructions)
			return {};
		v.push_back(*x.instructions);
	}
	return v;
}

std::vector<double> minus(const std::vector<double> &a, const std::vector<double> &b)
{
	std::vector<double> v;
	for (size_t i = 0; i < a.size() && i < b.size(); i++)
		v.push_back(a[i] - b[i]);
	return v;
}

std::string basis(const Ratio &r, const Config &c)
{
	if (!r.measured())
		return "";
	if (c.clock == "icount")
		return "icount";
	return r.instructions ? "instructions" : "wall";
}

std::optional<double> primary(const Ratio &r, const Config &c)
{
	const std::string b = basis(r, c);
	if (b.empty())
		return std::nullopt;
	return b == "instructions" ? r.instructions : r.wall;
}

void set_ratio(Ratio &r, const std::vector<double> &num_wall, const std::vector<double> &den_wall,
               const std::vector<double> &num_instr, const std::vector<double> &den_instr,
               Pairing pairing)
{
	std::vector<double> paired;
	for (size_t i = 0; i < num_wall.size() && i < den_wall.size(); i++)
		if (den_wall[i] != 0)
			paired.push_back(num_wall[i] / den_wall[i]);
	// Whole times: the median of the per-round ratios, each from
	// measurements moments apart, so slow and fast phases of the host
	// cancel.  Differences (overheads) are already paired within a round
	// and can be near zero in one of them: the ratio of their medians.
	r.wall =
	        pairing == Pairing::PerRound ? median(paired) : median(num_wall) / median(den_wall);
	r.wall_q1 = quantile(paired, 0.25);
	r.wall_q3 = quantile(paired, 0.75);
	// Instructions do not drift.
	if (!num_instr.empty() && !den_instr.empty())
		r.instructions = median(num_instr) / median(den_instr);
}

} // namespace bench
