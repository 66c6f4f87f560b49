#include "tracer.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <elf.h>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench
{

namespace
{

[[noreturn]] void fail(const std::string &what)
{
	throw std::runtime_error(what + ": " + std::strerror(errno));
}

struct ChildResult {
	int64_t ns;
	int64_t instructions; // -1: not counted
};

// Index of the syscall number in NT_PRSTATUS: x86_64 user_regs_struct's
// orig_rax, powerpc pt_regs' gpr[0].
#if defined(__x86_64__)
constexpr size_t kSyscallNrReg = 15;
#elif defined(__powerpc64__)
constexpr size_t kSyscallNrReg = 0;
#else
#error "unsupported architecture"
#endif

} // namespace

LoopChild::LoopChild(uint64_t iterations, bool traceme)
{
	int go[2];
	int res[2];
	if (::pipe2(go, O_CLOEXEC) || ::pipe2(res, O_CLOEXEC))
		fail("pipe");
	pid_ = ::fork();
	if (pid_ < 0)
		fail("fork");
	if (pid_ == 0) {
		::prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (traceme && (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) || ::raise(SIGSTOP)))
			::_exit(93);
		const int zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
		const Counter counter(0);
		char c;
		if (zero < 0 || ::read(go[0], &c, 1) != 1)
			::_exit(94);
		timespec t0{};
		timespec t1{};
		counter.start();
		::clock_gettime(CLOCK_MONOTONIC, &t0);
		syscall_loop(zero, iterations);
		::clock_gettime(CLOCK_MONOTONIC, &t1);
		const auto instr = counter.stop();
		const ChildResult r{(t1.tv_sec - t0.tv_sec) * 1000000000 +
		                            (t1.tv_nsec - t0.tv_nsec),
		                    instr ? static_cast<int64_t>(*instr) : -1};
		::_exit(::write(res[1], &r, sizeof(r)) == sizeof(r) ? 0 : 95);
	}
	::close(go[0]);
	::close(res[1]);
	go_fd_ = go[1];
	res_fd_ = res[0];
	if (traceme) {
		int status = 0;
		if (::waitpid(pid_, &status, 0) != pid_ || !WIFSTOPPED(status))
			throw std::runtime_error("the traced child did not stop");
		if (::ptrace(PTRACE_SETOPTIONS, pid_, nullptr,
		             PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL))
			fail("PTRACE_SETOPTIONS");
	}
}

LoopChild::~LoopChild()
{
	::close(go_fd_);
	::close(res_fd_);
	if (!reaped_) {
		::kill(pid_, SIGKILL);
		int status = 0;
		::waitpid(pid_, &status, 0);
	}
}

void LoopChild::go() const
{
	if (::write(go_fd_, "g", 1) != 1)
		fail("write to a loop child");
}

Sample LoopChild::result()
{
	ChildResult r{};
	if (::read(res_fd_, &r, sizeof(r)) != sizeof(r))
		throw std::runtime_error("a loop child died without its result");
	if (!reaped_) {
		int status = 0;
		::waitpid(pid_, &status, 0);
		reaped_ = true;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			throw std::runtime_error("a loop child failed: status " +
			                         std::to_string(status));
	}
	Sample s;
	s.ns = static_cast<double>(r.ns);
	if (r.instructions >= 0)
		s.instructions = static_cast<double>(r.instructions);
	return s;
}

uint64_t ptrace_syscall_loop(LoopChild &child, std::vector<int64_t> *record)
{
	const pid_t pid = child.pid();
	uint64_t stops = 0;
	uint64_t regs[64] = {};
	for (int sig = 0;;) {
		if (::ptrace(PTRACE_SYSCALL, pid, nullptr, sig))
			fail("PTRACE_SYSCALL");
		int status = 0;
		if (::waitpid(pid, &status, 0) != pid)
			fail("waitpid");
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			child.reaped();
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				throw std::runtime_error("the traced child failed: status " +
				                         std::to_string(status));
			return stops;
		}
		sig = 0;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			stops++;
			if (record) {
				iovec iov{regs, sizeof(regs)};
				if (::ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov))
					fail("PTRACE_GETREGSET");
				record->push_back(static_cast<int64_t>(regs[kSyscallNrReg]));
			}
		} else if (WSTOPSIG(status) != SIGTRAP) {
			sig = WSTOPSIG(status); // deliver anything else
		}
	}
}

bool ptrace_backend_available()
{
	struct stat st {
	};
	return ::stat(kPtraceBackendParam, &st) == 0;
}

void set_ptrace_backend(bool on)
{
	const int fd = ::open(kPtraceBackendParam, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail(std::string("open ") + kPtraceBackendParam);
	const bool ok = ::write(fd, on ? "1" : "0", 1) == 1;
	::close(fd);
	if (!ok)
		fail(std::string("write ") + kPtraceBackendParam);
}

} // namespace bench
