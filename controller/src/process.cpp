#include "process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "utrace/error.hpp"

namespace utracectl
{

std::vector<pid_t> threads_of(pid_t pid)
{
	const std::string dir = "/proc/" + std::to_string(pid) + "/task";
	std::unique_ptr<DIR, int (*)(DIR *)> d(::opendir(dir.c_str()), ::closedir);
	if (!d)
		throw utrace::Error(ESRCH, "no process " + std::to_string(pid));
	std::vector<pid_t> tids;
	while (const dirent *e = ::readdir(d.get()))
		if (e->d_name[0] != '.')
			tids.push_back(static_cast<pid_t>(std::stol(e->d_name)));
	return tids;
}

HeldCommand::HeldCommand(const std::vector<std::string> &argv, const std::string &path,
                         const char *who)
{
	int go[2];
	if (::pipe2(go, O_CLOEXEC) != 0)
		utrace::throw_errno(errno, "pipe");
	// Built before the fork: the child only reads, execs or exits.
	std::vector<char *> args;
	args.reserve(argv.size() + 1);
	for (const auto &a : argv)
		args.push_back(const_cast<char *>(a.c_str()));
	args.push_back(nullptr);
	pid_ = ::fork();
	if (pid_ < 0) {
		const int err = errno;
		::close(go[0]);
		::close(go[1]);
		utrace::throw_errno(err, "fork");
	}
	if (pid_ == 0) {
		char c = 0;
		::close(go[1]);
		if (::read(go[0], &c, 1) != 1)
			::_exit(126);
		if (path.empty())
			::execvp(args[0], args.data());
		else
			::execv(path.c_str(), args.data());
		std::fprintf(stderr, "%s: cannot run %s: %s\n", who,
		             path.empty() ? args[0] : path.c_str(), std::strerror(errno));
		::_exit(127);
	}
	::close(go[0]);
	go_fd_ = go[1];
}

HeldCommand::~HeldCommand()
{
	if (go_fd_ >= 0)
		::close(go_fd_);
	if (!reaped_) {
		::kill(pid_, SIGKILL);
		while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR)
			;
	}
}

void HeldCommand::go(const char *what)
{
	const char c = 'g';
	if (::write(go_fd_, &c, 1) != 1)
		utrace::throw_errno(errno, what);
	::close(go_fd_);
	go_fd_ = -1;
}

int HeldCommand::wait()
{
	int status = 0;
	while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR)
		;
	reaped_ = true;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

} // namespace utracectl
