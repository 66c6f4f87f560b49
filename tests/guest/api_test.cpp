// The in-kernel engine API, from another module: utrace_test_api.ko runs its
// checks (attach flags, set_events, control, stop, examine, barrier, detach)
// on a thread of ours when loaded; its init fails if any check fails (the
// failed checks are in dmesg).
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.hpp"

using utrace_test::Tracee;

namespace
{

// utrace_test_api.ko sits beside the utrace.ko the runner loaded.
std::string api_module()
{
	const char *mods = std::getenv("UTRACE_MODULES");
	if (!mods)
		return "";
	std::istringstream in(mods);
	for (std::string m; in >> m;)
		if (m.size() >= 9 && m.compare(m.size() - 9, 9, "utrace.ko") == 0)
			return m.substr(0, m.size() - 9) + "utrace_test_api.ko";
	return "";
}

// Loads utrace_test_api.ko with @params, which runs its checks in its init,
// and unloads it: "" if every check passed, else what failed.
std::string run_api_module(const std::string &params)
{
	const std::string ko = api_module();
	if (ko.empty())
		return "the guest runner exports UTRACE_MODULES";
	const int fd = ::open(ko.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ko + ": " + std::strerror(errno);
	const long ret = ::syscall(SYS_finit_module, fd, params.c_str(), 0);
	const int err = errno;
	::close(fd);
	if (ret != 0)
		return std::string("utrace_test_api checks failed (") + std::strerror(err) +
		       "): see the guest dmesg";
	if (::syscall(SYS_delete_module, "utrace_test_api", O_NONBLOCK) != 0)
		return std::string("delete_module: ") + std::strerror(errno);
	return "";
}

TEST(KernelApi, AnEngineModuleSeesTheUpstreamContract)
{
	Tracee t;
	ASSERT_EQ(run_api_module("pid=" + std::to_string(t.pid())), "");
	// The thread it stopped, examined and resumed still works.
	ASSERT_TRUE(t.run(Tracee::kGetppid));
}

// A callback runs without the utrace lock: a detach or an event removal
// that returned 0 (or -EINPROGRESS and then utrace_barrier()) must still
// mean no callback runs after it.  The module checks that over 400 rounds on
// a thread in a getppid() loop (run_race_checks(); KASAN and lockdep watch
// them on the debug kernel).
TEST(KernelApi, DetachAndEventRemovalRaceAThreadInASyscallLoop)
{
	Tracee t;
	const pid_t spinner = ::fork();
	ASSERT_GE(spinner, 0) << std::strerror(errno);
	if (spinner == 0) {
		::prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			::syscall(SYS_getppid);
	}
	const std::string failed = run_api_module("pid=" + std::to_string(t.pid()) +
	                                          " spin=" + std::to_string(spinner));
	::kill(spinner, SIGKILL);
	int status = 0;
	ASSERT_EQ(::waitpid(spinner, &status, 0), spinner);
	EXPECT_EQ(failed, "");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

} // namespace
