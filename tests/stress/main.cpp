// utrace_stress: the race stress suite (README "Stress suite").  Run as root
// in a guest:
//
//   utrace_stress --module PATH/utrace.ko [--seconds N] [gtest flags]
//
// It loads the module (unless loaded), records its refcount and slab
// objects, runs the scenarios (each a loop of at most --seconds, loop counts
// printed), checks after each that nothing was lost, unloads the module and,
// where the kernel has kmemleak, checks that it found nothing.
//
// Child modes (exec'ed by the scenarios and the strace driver):
//   utrace_stress --child exit          a few system calls, exit 0
//   utrace_stress --child fork-tree N   a binary tree of forks N deep; each
//                                       node waits for its two children and
//                                       exits 0 only if both exited 0
//   utrace_stress --child exec-loop     starts two threads and execs itself
//                                       again, for ever (killed with its
//                                       parent): its cred_guard_mutex is held
//                                       most of the time
//   utrace_stress --child exec-loop-alone   the same with no thread: its
//                                       execs skip de_thread()'s
//                                       zap_other_threads()
#include <csignal>
#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <execinfo.h>
#include <iostream>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "common.hpp"
#include "fixture.hpp"

namespace stress
{

void StressTest::SetUp()
{
	start_ = Clock::now();
	if (!module_loaded()) {
		const std::string err = load_module();
		ASSERT_EQ(err, "") << "loading " << options().module;
		record_baseline();
	}
}

void StressTest::TearDown()
{
	std::vector<std::string> problems;
	check_nothing_lost(problems);
	if (module_loaded()) {
		if (backend_on() && set_backend(false) != 0)
			problems.push_back("ptrace_backend cannot be switched off at the end");
		check_module_state(problems);
	}
	for (const auto &p : problems)
		ADD_FAILURE() << "lost: " << p;
}

Budget StressTest::budget(double share) const
{
	return Budget(std::chrono::milliseconds(
	        static_cast<long>(static_cast<double>(options().seconds.count()) * 1000 * share)));
}

void StressTest::expect_none(const Failures &f, const std::string &what) const
{
	for (const auto &line : f.all())
		ADD_FAILURE() << what << ": " << line;
}

void StressTest::report(const Counters &c) const
{
	c.print(::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() +
	                std::string(".") +
	                ::testing::UnitTest::GetInstance()->current_test_info()->name(),
	        Clock::now() - start_);
}

namespace
{

// Loads the module for the whole run, unloads it at the end, checks kmemleak.
class ModuleEnvironment : public ::testing::Environment
{
public:
	void SetUp() override
	{
		if (!module_loaded()) {
			const std::string err = load_module();
			ASSERT_EQ(err, "") << "loading " << options().module;
		}
		record_baseline();
		std::cout << "stress baseline: refcnt " << baseline().refcnt << ", slab objects "
		          << format_slabs(baseline().slabs) << std::endl;
		kmemleak_ = kmemleak_path();
		if (!kmemleak_.empty())
			write_file(kmemleak_, "clear");
		std::cout << "stress kmemleak: "
		          << (kmemleak_.empty() ? "not available on this kernel" : kmemleak_)
		          << std::endl;
	}

	void TearDown() override
	{
		if (module_loaded()) {
			if (backend_on()) {
				EXPECT_EQ(set_backend(false), 0) << "ptrace_backend off at the end";
			}
			int err = 0;
			eventually(
			        [&] {
				        err = try_unload_module();
				        return err != EBUSY && err != EAGAIN;
			        },
			        10s);
			EXPECT_EQ(err, 0) << "unloading utrace at the end: " << std::strerror(err)
			                  << ", refcnt " << module_refcnt();
		}
		if (kmemleak_.empty())
			return;
		// Two scans: an object is reported once it stayed unreferenced
		// through a scan after its minimum age (5 s).
		std::this_thread::sleep_for(5s);
		write_file(kmemleak_, "scan");
		write_file(kmemleak_, "scan");
		const std::string leaks = read_file(kmemleak_);
		EXPECT_EQ(leaks, "") << "kmemleak reports";
		std::cout << "stress kmemleak: " << (leaks.empty() ? "clean" : "LEAKS")
		          << std::endl;
	}

private:
	static std::string kmemleak_path()
	{
		const char *path = "/sys/kernel/debug/kmemleak";
		struct stat st {
		};
		if (::stat(path, &st) != 0)
			::mount("debugfs", "/sys/kernel/debug", "debugfs", 0, nullptr);
		return ::stat(path, &st) == 0 ? path : "";
	}

	std::string kmemleak_;
};

int child_exit()
{
	for (int i = 0; i < 16; i++)
		::syscall(SYS_getppid);
	return 0;
}

// A node of the fork tree: fork two children that are nodes one level
// down, wait for both; 0 only if both exited 0.
int fork_tree(int depth)
{
	if (depth <= 0)
		return 0;
	pid_t kids[2];
	for (auto &kid : kids) {
		kid = ::fork();
		if (kid == 0)
			::_exit(fork_tree(depth - 1));
		if (kid < 0)
			return 2;
	}
	int ret = 0;
	for (const pid_t kid : kids) {
		int status = 0;
		if (::waitpid(kid, &status, 0) != kid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ret = 1;
	}
	return ret;
}

// Execs itself again and again; each program starts two threads first, so
// that each exec also waits in de_thread() for them to die.  An exec holds
// the process's cred_guard_mutex from prepare_bprm_creds() to
// setup_new_exec(): a PTRACE_ATTACH or PTRACE_SEIZE of this process waits
// for it, in the middle of the call (BackendSwitchOnNeverLeavesANativeTracee).
//
// @threads false (exec-loop-alone): no thread, so de_thread() has no other
// thread to kill (no zap_other_threads(), which clears the exec'ing
// thread's own pending ptrace traps, a PTRACE_INTERRUPT's among them).
[[noreturn]] void exec_loop(char **argv, bool threads)
{
	// Gone with the harness, whatever happens to it (kept across exec).
	::prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; threads && i < 2; i++)
		std::thread([] {
			for (;;)
				::syscall(SYS_getppid);
		}).detach();
	for (int i = 0; i < 16; i++)
		::syscall(SYS_getppid);
	::execv("/proc/self/exe", argv);
	::_exit(65);
}

int child_main(int argc, char **argv)
{
	const std::string mode = argc > 2 ? argv[2] : "";
	if (mode == "exit")
		return child_exit();
	if (mode == "exec-loop")
		exec_loop(argv, true);
	if (mode == "exec-loop-alone")
		exec_loop(argv, false);
	if (mode == "fork-tree" && argc > 3)
		return fork_tree(std::atoi(argv[3]));
	std::cerr << "utrace_stress --child: unknown mode '" << mode << "'\n";
	return 64;
}

// A crash of the suite itself (an abort from the C library's heap checks, a
// fault) prints the frames' addresses before the default action, so a CI
// log says where: addr2line -e utrace_stress -f -C ADDR...
void crash_backtrace(int sig)
{
	void *frames[64];
	const int n = ::backtrace(frames, 64);
	static const char head[] = "utrace_stress: fatal signal, backtrace:\n";
	(void)!::write(STDERR_FILENO, head, sizeof(head) - 1);
	::backtrace_symbols_fd(frames, n, STDERR_FILENO);
	::signal(sig, SIG_DFL);
	::raise(sig);
}

} // namespace

} // namespace stress

int main(int argc, char **argv)
{
	using namespace stress;
	if (argc > 1 && std::strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);

	::testing::InitGoogleTest(&argc, argv);
	// A write to a pipe whose reader died (a killed tracer or tracee) must
	// fail with EPIPE, which the scenario reports, not end the whole run
	// silently (exit status 141 in BackendSwitchIsRefusedWhileTracersWork).
	::signal(SIGPIPE, SIG_IGN);
	// backtrace() allocates on its first call: not in the handler, where
	// the heap may be what broke.
	void *warm[1];
	(void)::backtrace(warm, 1);
	for (const int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL})
		::signal(sig, crash_backtrace);
	char self[PATH_MAX] = {};
	if (::readlink("/proc/self/exe", self, sizeof(self) - 1) > 0)
		options().self = self;
	for (int i = 1; i < argc; i++) {
		const std::string arg = argv[i];
		if (arg == "--module" && i + 1 < argc) {
			options().module = argv[++i];
		} else if (arg == "--seconds" && i + 1 < argc) {
			options().seconds = std::chrono::seconds(std::atoi(argv[++i]));
		} else {
			std::cerr
			        << "usage: utrace_stress --module KO [--seconds N] [gtest flags]\n"
			        << "       utrace_stress --child exit|fork-tree N|exec-loop\n";
			return 64;
		}
	}
	if (options().module.empty() && !module_loaded()) {
		std::cerr << "utrace_stress: --module is needed (the module is not loaded)\n";
		return 64;
	}
	// Orphans of the scenarios' processes come here to be reaped, so a
	// zombie left anywhere below is one nobody can reap.
	if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		std::perror("PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	std::cout << "stress: " << options().seconds.count() << " s per scenario" << std::endl;
	::testing::AddGlobalTestEnvironment(new ModuleEnvironment);
	return RUN_ALL_TESTS();
}
