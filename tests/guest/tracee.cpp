#include "tracee.hpp"

#include "ftrace_state.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace utrace_test
{

namespace
{

// Runs in user mode forever; the barrier keeps the compiler from assuming
// the loop ends or from moving stores past it.
[[noreturn]] void spin()
{
	for (;;)
		asm volatile("" ::: "memory");
}

int go; // kGo: the kThreadExec thread may exec
volatile sig_atomic_t handled_usr1;
volatile sig_atomic_t handled_usr2;

void on_signal(int sig)
{
	if (sig == SIGUSR1)
		handled_usr1 = handled_usr1 + 1;
	else
		handled_usr2 = handled_usr2 + 1;
}

// Starts a thread running @body and writes its tid to @ack_fd as a value.
void start_thread(int ack_fd, void *(*body)(void *))
{
	static long tid;
	struct Start {
		void *(*body)(void *);
	};
	static Start start;
	start.body = body;
	__atomic_store_n(&tid, 0, __ATOMIC_SEQ_CST);
	pthread_t th;
	::pthread_create(
	        &th, nullptr,
	        [](void *) -> void * {
		        __atomic_store_n(&tid, ::syscall(SYS_gettid), __ATOMIC_SEQ_CST);
		        return start.body(nullptr);
	        },
	        nullptr);
	while (__atomic_load_n(&tid, __ATOMIC_SEQ_CST) == 0)
		::sched_yield();
	const long v = tid;
	if (::write(ack_fd, &v, sizeof(v)) != sizeof(v))
		::_exit(3);
}

[[noreturn]] void child_loop(int cmd_fd, int ack_fd, const std::string &marker)
{
	char cmd = 0;
	const char ack = 'k';
	// Ready: from now on the child makes no system call but for commands.
	if (::write(ack_fd, &ack, 1) != 1)
		::_exit(3);
	for (;;) {
		if (::read(cmd_fd, &cmd, 1) != 1)
			::_exit(1);
		switch (cmd) {
		case Tracee::kGetppid:
			::syscall(SYS_getppid);
			break;
		case Tracee::kMkdir:
			::syscall(SYS_mkdirat, AT_FDCWD, marker.c_str(), 0700);
			break;
		case Tracee::kFork: {
			const pid_t p = ::fork();
			if (p == 0)
				::_exit(0);
			int st = 0;
			::waitpid(p, &st, 0);
			break;
		}
		case Tracee::kExec: {
			const char *argv[] = {"sh", "-c", "exit 7", nullptr};
			::execv("/bin/sh", const_cast<char **>(argv));
			::_exit(127);
		}
		case Tracee::kExit:
			::_exit(5);
		case Tracee::kGetppidValue: {
			const long v = ::syscall(SYS_getppid);
			if (::write(ack_fd, &v, sizeof(v)) != sizeof(v))
				::_exit(3);
			continue;
		}
		case Tracee::kThread:
			start_thread(ack_fd, [](void *) -> void * { spin(); });
			continue;
		case Tracee::kVfork: {
			const pid_t p = ::vfork();
			if (p == 0)
				::_exit(0);
			int st = 0;
			::waitpid(p, &st, 0);
			break;
		}
		case Tracee::kHandlers: {
			struct sigaction sa {
			};
			sa.sa_handler = on_signal;
			sa.sa_flags = SA_RESTART;
			::sigaction(SIGUSR1, &sa, nullptr);
			::sigaction(SIGUSR2, &sa, nullptr);
			break;
		}
		case Tracee::kHandled: {
			const long v = handled_usr1 + 1000L * handled_usr2;
			if (::write(ack_fd, &v, sizeof(v)) != sizeof(v))
				::_exit(3);
			continue;
		}
		case Tracee::kThreadExec:
			start_thread(ack_fd, [](void *) -> void * {
				while (__atomic_load_n(&go, __ATOMIC_SEQ_CST) == 0)
					asm volatile("" ::: "memory");
				const char *argv[] = {"sh", "-c", "exit 7", nullptr};
				::execv("/bin/sh", const_cast<char **>(argv));
				::_exit(127);
			});
			continue;
		case Tracee::kGo:
			__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
			spin();
		case Tracee::kSpin:
			spin();
		default:
			::_exit(2);
		}
		if (::write(ack_fd, &ack, 1) != 1)
			::_exit(3);
	}
}

} // namespace

Tracee::Tracee()
{
	int cmd[2];
	int ack[2];
	if (::pipe2(cmd, O_CLOEXEC) != 0 || ::pipe2(ack, O_CLOEXEC) != 0)
		throw std::runtime_error("pipe");
	const std::string mark =
	        "/tmp/utrace-marker-" + std::to_string(::getpid()) + "-" + std::to_string(cmd[0]);
	pid_ = ::fork();
	if (pid_ < 0)
		throw std::runtime_error("fork");
	if (pid_ == 0) {
		::close(cmd[1]);
		::close(ack[0]);
		child_loop(cmd[0], ack[1], mark + "-" + std::to_string(::getpid()));
	}
	::close(cmd[0]);
	::close(ack[1]);
	cmd_fd_ = cmd[1];
	ack_fd_ = ack[0];
	marker_ = mark + "-" + std::to_string(pid_);
	if (!wait_ack())
		throw std::runtime_error("tracee did not start");
}

Tracee::~Tracee()
{
	::close(cmd_fd_);
	::close(ack_fd_);
	if (!reaped_ && pid_ > 0) {
		::kill(pid_, SIGKILL);
		int st = 0;
		::waitpid(pid_, &st, 0);
	}
	::rmdir(marker().c_str());
}

std::string Tracee::marker() const
{
	return marker_;
}

void Tracee::send(char cmd) const
{
	if (::write(cmd_fd_, &cmd, 1) != 1)
		throw std::runtime_error("write to tracee");
}

bool Tracee::wait_ack(std::chrono::seconds timeout) const
{
	pollfd p{ack_fd_, POLLIN, 0};
	if (::poll(&p, 1, static_cast<int>(timeout.count() * 1000)) != 1)
		return false;
	char c = 0;
	if (::read(ack_fd_, &c, 1) != 1 || c != 'k')
		return false;
	wait_in_read();
	return true;
}

// After an ack the child goes back to read(): wait until it is inside, so
// that an engine attached next does not see that read's entry first.
void Tracee::wait_in_read() const
{
	const std::string path = "/proc/" + std::to_string(pid_) + "/syscall";
	const std::string want = std::to_string(SYS_read) + " ";
	(void)eventually(
	        [&] {
		        std::ifstream in(path);
		        std::string line;
		        return std::getline(in, line) && line.rfind(want, 0) == 0;
	        },
	        std::chrono::seconds(5));
}

std::optional<long> Tracee::read_value(std::chrono::seconds timeout) const
{
	pollfd p{ack_fd_, POLLIN, 0};
	if (::poll(&p, 1, static_cast<int>(timeout.count() * 1000)) != 1)
		return std::nullopt;
	long v = 0;
	if (::read(ack_fd_, &v, sizeof(v)) != sizeof(v))
		return std::nullopt;
	return v;
}

bool Tracee::run(char cmd, std::chrono::seconds timeout) const
{
	send(cmd);
	return wait_ack(timeout);
}

int Tracee::wait_exit(std::chrono::seconds timeout)
{
	int status = -1;
	const bool done = eventually(
	        [&] {
		        const pid_t r = ::waitpid(pid_, &status, WNOHANG | __WALL);
		        return r == pid_;
	        },
	        timeout);
	if (!done)
		return -1;
	reaped_ = true;
	return status;
}

int Tracee::wait_status(int options, std::chrono::seconds timeout)
{
	int status = -1;
	const bool done = eventually(
	        [&] {
		        const pid_t r = ::waitpid(pid_, &status, WNOHANG | options);
		        return r == pid_;
	        },
	        timeout);
	if (!done)
		return -1;
	if (WIFEXITED(status) || WIFSIGNALED(status))
		reaped_ = true;
	return status;
}

uintptr_t Tracee::handler_address()
{
	return reinterpret_cast<uintptr_t>(&on_signal);
}

std::string Tracee::proc_state() const
{
	return utrace_test::proc_state(pid_);
}

std::string proc_state(pid_t pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(in, line))
		if (line.rfind("State:", 0) == 0)
			return line.substr(line.find_first_not_of(" \t", 6));
	return "";
}

bool path_exists(const std::string &path)
{
	struct stat st {
	};
	return ::stat(path.c_str(), &st) == 0;
}

std::string ftrace_hook_line(const std::string &fn)
{
	for (const auto &line : ftrace_enabled_lines()) {
		if (line.substr(0, line.find(' ')) == fn)
			return line;
	}
	return "";
}

bool ftrace_hooked(const std::string &fn)
{
	return ftrace_hooked_functions().count(fn) != 0;
}

bool ftrace_hooked_all(const std::vector<std::string> &fns)
{
	const auto hooked = ftrace_hooked_functions();
	return std::all_of(fns.begin(), fns.end(),
	                   [&](const std::string &fn) { return hooked.count(fn) != 0; });
}

bool ftrace_hooked_any(const std::vector<std::string> &fns)
{
	const auto hooked = ftrace_hooked_functions();
	return std::any_of(fns.begin(), fns.end(),
	                   [&](const std::string &fn) { return hooked.count(fn) != 0; });
}

bool eventually(const std::function<bool()> &cond, std::chrono::seconds timeout)
{
	const auto deadline = std::chrono::steady_clock::now() + timeout;
	while (!cond()) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	return true;
}

HeldChild::HeldChild(const std::function<int()> &body)
{
	int p[2];
	if (::pipe2(p, O_CLOEXEC) != 0)
		throw std::runtime_error("pipe2");
	pid_ = ::fork();
	if (pid_ < 0) {
		::close(p[0]);
		::close(p[1]);
		throw std::runtime_error("fork");
	}
	if (pid_ == 0) {
		char c;
		::close(p[1]);
		if (::read(p[0], &c, 1) != 1)
			::_exit(2);
		::_exit(body());
	}
	::close(p[0]);
	go_fd_ = p[1];
	(void)eventually([this] { return proc_state(pid_).starts_with("S"); });
}

HeldChild::~HeldChild()
{
	if (go_fd_ >= 0)
		::close(go_fd_);
	if (!reaped_) {
		::kill(pid_, SIGKILL);
		::waitpid(pid_, nullptr, 0);
	}
}

void HeldChild::go()
{
	const char c = 'g';
	if (::write(go_fd_, &c, 1) != 1)
		throw std::runtime_error("write to a held child");
	::close(go_fd_);
	go_fd_ = -1;
}

int HeldChild::wait()
{
	int status = 0;
	if (reaped_ || ::waitpid(pid_, &status, 0) != pid_)
		return -1;
	reaped_ = true;
	return status;
}

void HeldChild::kill()
{
	::kill(pid_, SIGKILL);
	(void)wait();
}

} // namespace utrace_test
