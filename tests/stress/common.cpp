#include "common.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "utrace/device.hpp"
#include "utrace/error.hpp"
#include "utrace/module.hpp"

namespace stress
{

Options &options()
{
	static Options o;
	return o;
}

void Counters::add(const std::string &name, uint64_t n)
{
	const std::lock_guard lock(mu_);
	counts_[name] += n;
}

uint64_t Counters::get(const std::string &name) const
{
	const std::lock_guard lock(mu_);
	const auto it = counts_.find(name);
	return it == counts_.end() ? 0 : it->second;
}

void Counters::print(const std::string &scenario, Clock::duration took) const
{
	const std::lock_guard lock(mu_);
	std::ostringstream out;
	out << "stress " << scenario << ": "
	    << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() / 1000.0 << " s";
	for (const auto &[name, n] : counts_)
		out << ' ' << name << '=' << n;
	std::cout << out.str() << std::endl;
}

void Failures::add(const std::string &what)
{
	const std::lock_guard lock(mu_);
	if (list_.size() < 50)
		list_.push_back(what);
	else
		dropped_++;
}

std::vector<std::string> Failures::all() const
{
	const std::lock_guard lock(mu_);
	auto out = list_;
	if (dropped_)
		out.push_back("... and " + std::to_string(dropped_) + " more");
	return out;
}

size_t Failures::size() const
{
	const std::lock_guard lock(mu_);
	return list_.size() + dropped_;
}

std::mt19937_64 rng_for(uint64_t salt)
{
	static const uint64_t seed = [] {
		const char *s = std::getenv("UTRACE_STRESS_SEED");
		const uint64_t v = s ? std::strtoull(s, nullptr, 0) : std::random_device{}();
		std::cout << "stress seed " << v << " (UTRACE_STRESS_SEED)" << std::endl;
		return v;
	}();
	return std::mt19937_64(seed ^ (salt * 0x9e3779b97f4a7c15ULL));
}

pid_t fork_child(const std::function<int()> &body, std::vector<int> keep)
{
	std::cout.flush();
	std::fflush(nullptr);
	const pid_t pid = ::fork();
	if (pid == 0) {
		std::sort(keep.begin(), keep.end());
		unsigned from = 3;
		for (const int fd : keep) {
			if (fd < 3)
				continue;
			if (static_cast<unsigned>(fd) > from)
				::syscall(SYS_close_range, from, static_cast<unsigned>(fd) - 1, 0);
			from = static_cast<unsigned>(fd) + 1;
		}
		::syscall(SYS_close_range, from, ~0U, 0);
		int ret = 100;
		try {
			ret = body();
		} catch (...) {
			ret = 101;
		}
		::_exit(ret);
	}
	return pid;
}

std::optional<int> wait_bounded(pid_t pid, std::chrono::milliseconds bound)
{
	const auto end = Clock::now() + bound;
	for (;;) {
		int status = 0;
		const pid_t got = ::waitpid(pid, &status, WNOHANG | __WALL);
		if (got == pid)
			return status;
		if (got < 0 && errno != EINTR)
			return INT_MIN; // not (or no longer) a child
		if (Clock::now() >= end)
			return std::nullopt;
		std::this_thread::sleep_for(2ms);
	}
}

std::string describe_status(int status)
{
	if (status == INT_MIN)
		return "not a child (ECHILD)";
	if (WIFEXITED(status))
		return "exited " + std::to_string(WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return std::string("killed by ") + sigabbrev_np(WTERMSIG(status)) +
		       (WCOREDUMP(status) ? " (core)" : "");
	if (WIFSTOPPED(status))
		return std::string("stopped by ") + sigabbrev_np(WSTOPSIG(status));
	return "status " + std::to_string(status);
}

std::string read_file(const std::string &path)
{
	std::ifstream in(path);
	std::ostringstream out;
	out << in.rdbuf();
	return out.str();
}

int write_file(const std::string &path, const std::string &text)
{
	const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	const ssize_t n = ::write(fd, text.data(), text.size());
	const int err = n < 0 ? errno : 0;
	::close(fd);
	return err;
}

namespace
{

struct TaskStat {
	pid_t tid = 0;
	pid_t pid = 0;
	pid_t ppid = 0;
	char state = 0;
	unsigned long flags = 0;
	std::string comm;
};

std::optional<TaskStat> read_stat(const std::string &path, pid_t pid)
{
	const std::string s = read_file(path);
	const auto open = s.find('(');
	const auto close = s.rfind(')');
	if (open == std::string::npos || close == std::string::npos)
		return std::nullopt;
	TaskStat t;
	t.tid = static_cast<pid_t>(std::atoi(s.c_str()));
	t.pid = pid;
	t.comm = s.substr(open + 1, close - open - 1);
	std::istringstream rest(s.substr(close + 2));
	std::string f;
	std::vector<std::string> fields;
	while (rest >> f && fields.size() < 8)
		fields.push_back(f);
	if (fields.size() < 7)
		return std::nullopt;
	t.state = fields[0][0];
	t.ppid = static_cast<pid_t>(std::atoi(fields[1].c_str()));
	t.flags = std::strtoul(fields[6].c_str(), nullptr, 10);
	return t;
}

std::vector<pid_t> numeric_entries(const std::string &dir)
{
	std::vector<pid_t> out;
	DIR *d = ::opendir(dir.c_str());
	if (!d)
		return out;
	while (const dirent *e = ::readdir(d))
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
	::closedir(d);
	return out;
}

constexpr unsigned long kPfKthread = 0x00200000;

// Every user task (thread) of the system.
std::vector<TaskStat> user_tasks()
{
	std::vector<TaskStat> out;
	for (const pid_t pid : numeric_entries("/proc")) {
		const std::string base = "/proc/" + std::to_string(pid) + "/task";
		for (const pid_t tid : numeric_entries(base)) {
			auto t = read_stat(base + "/" + std::to_string(tid) + "/stat", pid);
			if (t && !(t->flags & kPfKthread))
				out.push_back(*t);
		}
	}
	return out;
}

} // namespace

char task_state(pid_t pid, pid_t tid)
{
	const std::string path = "/proc/" + std::to_string(pid) + "/task/" +
	                         std::to_string(tid ? tid : pid) + "/stat";
	const auto t = read_stat(path, pid);
	return t ? t->state : 0;
}

std::string describe_task(pid_t pid)
{
	const std::string base = "/proc/" + std::to_string(pid);
	std::ostringstream out;
	out << "pid " << pid;
	const auto t = read_stat(base + "/stat", pid);
	if (!t)
		return out.str() + " (gone)";
	out << " (" << t->comm << ") state " << t->state << " ppid " << t->ppid;
	std::string status = read_file(base + "/status");
	const auto tp = status.find("TracerPid:");
	if (tp != std::string::npos)
		out << ' ' << status.substr(tp, status.find('\n', tp) - tp);
	out << " wchan " << read_file(base + "/wchan");
	std::istringstream stack(read_file(base + "/stack"));
	std::string line;
	for (int i = 0; i < 6 && std::getline(stack, line); i++)
		out << " | " << line;
	for (const pid_t tid : numeric_entries(base + "/task"))
		if (tid != pid)
			out << " [thread " << tid << ' ' << task_state(pid, tid) << ']';
	return out.str();
}

bool kill_and_reap(pid_t pid, std::chrono::milliseconds bound, std::string *why)
{
	::kill(pid, SIGKILL);
	const auto st = wait_bounded(pid, bound);
	if (st)
		return true;
	if (why)
		*why = "not reaped " + std::to_string(bound.count()) +
		       " ms after SIGKILL: " + describe_task(pid);
	return false;
}

void check_nothing_lost(std::vector<std::string> &problems, std::chrono::milliseconds bound)
{
	const pid_t self = ::getpid();
	const auto end = Clock::now() + bound;
	// Reap: children left over are orphans reparented to this subreaper
	// (and reaped), or children a scenario did not reap (a problem, killed).
	for (;;) {
		int status = 0;
		const pid_t got = ::waitpid(-1, &status, WNOHANG | __WALL);
		if (got > 0)
			continue;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break; // ECHILD: nothing left
		if (Clock::now() >= end) {
			for (const auto &t : user_tasks())
				if (t.ppid == self && t.tid == t.pid) {
					problems.push_back("child left running: " +
					                   describe_task(t.pid));
					::kill(t.pid, SIGKILL);
				}
			std::string why;
			const auto again = Clock::now() + bound;
			while (::waitpid(-1, &status, __WALL | WNOHANG) >= 0 &&
			       Clock::now() < again)
				std::this_thread::sleep_for(5ms);
			break;
		}
		std::this_thread::sleep_for(5ms);
	}
	// No task anywhere a zombie, in D, or stopped.
	std::vector<TaskStat> bad;
	const auto settle = Clock::now() + bound;
	do {
		bad.clear();
		for (const auto &t : user_tasks())
			if (t.state == 'Z' || t.state == 'D' || t.state == 't' || t.state == 'T')
				bad.push_back(t);
		if (bad.empty())
			return;
		std::this_thread::sleep_for(20ms);
	} while (Clock::now() < settle);
	for (const auto &t : bad)
		problems.push_back(std::string("task stuck: ") + "tid " + std::to_string(t.tid) +
		                   " of " + describe_task(t.pid));
}

std::set<std::string> slab_cache_names();
std::set<std::string> &module_caches();

bool module_loaded()
{
	return utrace::module_loaded();
}

std::string load_module_plain()
{
	try {
		utrace::load_module(options().module, {});
	} catch (const utrace::Error &e) {
		return e.what();
	}
	return "";
}

int try_unload_module()
{
	if (::syscall(SYS_delete_module, "utrace", O_NONBLOCK) == 0)
		return 0;
	return errno;
}

std::string utrace_file_holders()
{
	std::string out;
	for (const pid_t pid : numeric_entries("/proc")) {
		const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
		for (const pid_t fd : numeric_entries(dir)) {
			char target[256] = {};
			const std::string link = dir + "/" + std::to_string(fd);
			if (::readlink(link.c_str(), target, sizeof(target) - 1) > 0 &&
			    std::string(target) == "/dev/utrace")
				out += (out.empty() ? "" : ", ") + std::string("pid ") +
				       std::to_string(pid) + " fd " + std::to_string(fd);
		}
	}
	return out.empty() ? "nobody" : out;
}

long module_refcnt()
{
	const std::string s = read_file("/sys/module/utrace/refcnt");
	return s.empty() ? -1 : std::atol(s.c_str());
}

std::set<std::string> slab_cache_names()
{
	std::set<std::string> out;
	std::istringstream in(read_file("/proc/slabinfo"));
	std::string line;
	while (std::getline(in, line))
		if (!line.empty() && line[0] != '#' && line.rfind("slabinfo", 0) != 0)
			out.insert(line.substr(0, line.find(' ')));
	return out;
}

std::set<std::string> &module_caches()
{
	static std::set<std::string> caches{"utrace", "utrace_engine"};
	return caches;
}

std::map<std::string, long> module_slab_objects()
{
	std::map<std::string, long> out;
	if (!module_loaded())
		return out;
	for (const auto &name : module_caches()) {
		const std::string dir = "/sys/kernel/slab/" + name;
		struct stat st {
		};
		if (::lstat(dir.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) {
			out[name + " (merged or missing: boot with slab_nomerge)"] = -1;
			continue;
		}
		write_file(dir + "/shrink", "1");
		std::istringstream in(read_file("/proc/slabinfo"));
		std::string line;
		long active = -1;
		while (std::getline(in, line))
			if (line.rfind(name + " ", 0) == 0)
				active = std::atol(line.c_str() + name.size());
		out[name] = active;
	}
	return out;
}

ModuleBaseline &baseline()
{
	static ModuleBaseline b;
	return b;
}

void record_baseline()
{
	baseline().refcnt = module_refcnt();
	baseline().slabs = module_slab_objects();
}

std::string format_slabs(const std::map<std::string, long> &m)
{
	std::string out;
	for (const auto &[name, n] : m)
		out += (out.empty() ? "" : " ") + name + "=" + std::to_string(n);
	return out;
}

std::string load_module()
{
	const auto before = slab_cache_names();
	std::string err = load_module_plain();
	if (!err.empty())
		return err;
	for (const auto &name : slab_cache_names())
		if (!before.count(name))
			module_caches().insert(name);
	return "";
}

void check_module_state(std::vector<std::string> &problems, std::chrono::milliseconds bound)
{
	if (!module_loaded()) {
		problems.push_back("the module is not loaded any more");
		return;
	}
	try {
		const utrace::Device dev;
		for (const auto id : dev.list()) {
			std::string what = "engine " + std::to_string(id) + " left attached";
			try {
				const auto info = dev.info(id);
				what += " (tid " + std::to_string(info.tid) + ", state " +
				        std::to_string(static_cast<unsigned>(info.state)) + ")";
				dev.detach(id);
			} catch (const utrace::Error &e) {
				what += std::string(": ") + e.what();
			}
			problems.push_back(what);
		}
	} catch (const utrace::Error &e) {
		problems.push_back(std::string("/dev/utrace: ") + e.what());
	}
	if (!eventually([] { return ptrace_tracees() == 0; }, bound))
		problems.push_back("ptrace_tracees is " + std::to_string(ptrace_tracees()) +
		                   ", not 0");
	if (!eventually([] { return module_refcnt() == baseline().refcnt; }, bound))
		problems.push_back("module refcnt " + std::to_string(module_refcnt()) +
		                   ", at the start " + std::to_string(baseline().refcnt));
	std::map<std::string, long> now;
	if (!eventually(
	            [&] {
		            now = module_slab_objects();
		            return now == baseline().slabs;
	            },
	            bound))
		problems.push_back("slab objects " + format_slabs(now) + ", at the start " +
		                   format_slabs(baseline().slabs));
}

pid_t fork_traceme_child(int calls)
{
	const pid_t parent = ::getpid();
	const pid_t c = ::fork();
	if (c == 0) {
		if (::ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
			::_exit(30);
		::raise(SIGSTOP);
		for (int i = 0; i < calls; i++)
			if (::syscall(SYS_getppid) != parent)
				::_exit(31);
		::_exit(0);
	}
	return c;
}

int traceme_cycle(int calls)
{
	const pid_t c = fork_traceme_child(calls);
	int st = 0;
	if (::waitpid(c, &st, __WALL) != c || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
		return 40;
	if (::ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) != 0)
		return 41;
	int stops = 0;
	for (;;) {
		if (::ptrace(PTRACE_SYSCALL, c, 0, 0) != 0)
			return 42;
		if (::waitpid(c, &st, __WALL) != c)
			return 43;
		if (WIFEXITED(st))
			return WEXITSTATUS(st) == 0 && stops >= 2 * calls ? 0 : 44;
		if (WIFSIGNALED(st))
			return 45;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			stops++;
	}
}

int set_backend(bool on)
{
	return write_file(kBackendParam, on ? "Y" : "N");
}

bool backend_on()
{
	return read_file(kBackendParam).rfind('Y', 0) == 0;
}

long ptrace_tracees()
{
	const std::string s = read_file("/sys/module/utrace/parameters/ptrace_tracees");
	return s.empty() ? -1 : std::atol(s.c_str());
}

bool eventually(const std::function<bool()> &cond, std::chrono::milliseconds bound)
{
	const auto end = Clock::now() + bound;
	for (;;) {
		if (cond())
			return true;
		if (Clock::now() >= end)
			return false;
		std::this_thread::sleep_for(5ms);
	}
}

void *shared_alloc(size_t size)
{
	void *p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		throw std::bad_alloc();
	return p;
}

} // namespace stress
