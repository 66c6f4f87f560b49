// observe: run a command with an observe-only user engine on it (libutrace's
// Device::create_ring / attach_observer / Ring::map, peek and consume: the
// records read in place, in the mapped ring) and print one line per
// system call, in the order the kernel wrote them, then how many records the
// ring dropped.  The command is never stopped by its system calls.
//
//   observe [-q] COMMAND [ARG...]      (root; utrace.ko loaded)
//
// -q prints only the summary.  The command starts stopped (SIGSTOP before
// its exec) so that the engine sees it from its first system call.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "utrace/device.hpp"

int main(int argc, char **argv)
{
	int first = 1;
	const bool quiet = argc > 1 && std::strcmp(argv[1], "-q") == 0;
	if (quiet)
		first = 2;
	if (argc <= first) {
		std::fprintf(stderr, "usage: observe [-q] COMMAND [ARG...]\n");
		return 2;
	}
	const pid_t pid = ::fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		::raise(SIGSTOP);
		::execvp(argv[first], argv + first);
		std::perror(argv[first]);
		::_exit(127);
	}
	int status = 0;
	if (::waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
		return 1;
	try {
		using utrace::bit;
		using utrace::Event;
		const utrace::Device dev;
		// Woken at 2048 unread records (or its death): big batches.
		utrace::Ring ring = dev.create_ring(4096, 2048);
		ring.map(); // records read in place, no copy
		(void)dev.attach_observer(pid, bit(Event::SyscallExit) | bit(Event::Death));
		::kill(pid, SIGCONT);
		uint64_t calls = 0;
		uint64_t lost = 0;
		for (bool dead = false; !dead;) {
			const utrace::RecordSpan recs = ring.peek(std::chrono::milliseconds(1000));
			const size_t n = recs.size();
			// Its DEATH record was dropped (a full ring): it is a zombie.
			siginfo_t info{};
			if (n == 0 &&
			    ::waitid(P_PID, static_cast<id_t>(pid), &info,
			             WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    info.si_pid != 0)
				break;
			for (size_t i = 0; i < n; i++) {
				const utrace::Record &r = recs[i];
				if (r.type == utrace::RecordType::Lost) {
					lost += r.lost();
				} else if (r.event == Event::Death) {
					dead = true;
				} else {
					calls++;
					if (!quiet)
						std::printf(
						        "%d syscall %lld (0x%llx, 0x%llx, 0x%llx) "
						        "= %lld\n",
						        r.tid, static_cast<long long>(r.syscall_nr),
						        static_cast<unsigned long long>(r.args[0]),
						        static_cast<unsigned long long>(r.args[1]),
						        static_cast<unsigned long long>(r.args[2]),
						        static_cast<long long>(r.retval));
				}
			}
			ring.consume(n); // their slots may be written again
		}
		std::printf("%llu system calls recorded, %llu dropped\n",
		            static_cast<unsigned long long>(calls),
		            static_cast<unsigned long long>(lost));
	} catch (const std::exception &e) {
		std::fprintf(stderr, "observe: %s\n", e.what());
		::kill(pid, SIGKILL);
		::waitpid(pid, nullptr, 0);
		return 1;
	}
	if (::waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
