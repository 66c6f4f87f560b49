// System call tables, strace's classes, -e trace= and the kernel's table.
#include <algorithm>
#include <cerrno>

#include "utrace/error.hpp"
#include "utrace/trace.hpp"

namespace utrace::trace
{

SyscallTable::SyscallTable(std::string_view arch,
                           const std::vector<std::pair<int, std::string_view>> &entries)
    : arch_(arch)
{
	int max = -1;
	for (const auto &[nr, name] : entries)
		max = std::max(max, nr);
	names_.resize(static_cast<size_t>(max) + 1);
	for (const auto &[nr, name] : entries) {
		names_[static_cast<size_t>(nr)] = name;
		numbers_.emplace(name, nr);
	}
}

std::string_view SyscallTable::name(int64_t nr) const
{
	if (nr < 0 || nr >= static_cast<int64_t>(names_.size()))
		return {};
	return names_[static_cast<size_t>(nr)];
}

std::optional<int> SyscallTable::number(std::string_view name) const
{
	auto it = numbers_.find(name);
	if (it == numbers_.end())
		return std::nullopt;
	return it->second;
}

const SyscallTable &native_syscalls()
{
#if defined(__powerpc64__)
	return syscalls_ppc64le();
#else
	return syscalls_x86_64();
#endif
}

namespace
{

// Class membership after strace's sysent tables (linux/64/syscallent.h,
// linux/x86_64/syscallent.h, linux/powerpc64/syscallent.h: the TF, TP, TN,
// TS, TI, TD and TM flags of strace 6.x).  Names one ABI lacks are skipped.
const std::map<std::string_view, std::vector<std::string_view>, std::less<>> kClasses = {
        {"file",
         {"access",
          "acct",
          "chdir",
          "chmod",
          "chown",
          "chroot",
          "creat",
          "execve",
          "execveat",
          "faccessat",
          "faccessat2",
          "fanotify_mark",
          "fchmodat",
          "fchmodat2",
          "fchownat",
          "fsconfig",
          "fspick",
          "fstatat64",
          "futimesat",
          "getcwd",
          "getxattr",
          "inotify_add_watch",
          "lchown",
          "lgetxattr",
          "link",
          "linkat",
          "listxattr",
          "llistxattr",
          "lremovexattr",
          "lsetxattr",
          "lstat",
          "mkdir",
          "mkdirat",
          "mknod",
          "mknodat",
          "mount",
          "mount_setattr",
          "move_mount",
          "name_to_handle_at",
          "newfstatat",
          "open",
          "open_tree",
          "openat",
          "openat2",
          "pivot_root",
          "quotactl",
          "readlink",
          "readlinkat",
          "removexattr",
          "rename",
          "renameat",
          "renameat2",
          "rmdir",
          "setxattr",
          "stat",
          "statfs",
          "statx",
          "swapoff",
          "swapon",
          "symlink",
          "symlinkat",
          "truncate",
          "umount2",
          "unlink",
          "unlinkat",
          "uselib",
          "utime",
          "utimensat",
          "utimes",
          "landlock_add_rule"}},
        {"process",
         {"clone", "clone3", "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4",
          "waitid", "waitpid", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
          "pidfd_send_signal"}},
        {"network",
         {"accept",     "accept4",    "bind",      "connect",  "getpeername", "getsockname",
          "getsockopt", "listen",     "recv",      "recvfrom", "recvmmsg",    "recvmsg",
          "send",       "sendmmsg",   "sendmsg",   "sendto",   "setsockopt",  "shutdown",
          "socket",     "socketpair", "socketcall"}},
        {"signal",
         {"kill",
          "pause",
          "rt_sigaction",
          "rt_sigpending",
          "rt_sigprocmask",
          "rt_sigqueueinfo",
          "rt_sigreturn",
          "rt_sigsuspend",
          "rt_sigtimedwait",
          "rt_tgsigqueueinfo",
          "sigaction",
          "sigaltstack",
          "signal",
          "signalfd",
          "signalfd4",
          "sigpending",
          "sigprocmask",
          "sigreturn",
          "sigsuspend",
          "tgkill",
          "tkill",
          "pidfd_send_signal"}},
        {"ipc",
         {"ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
          "shmat", "shmctl", "shmdt", "shmget"}},
        {"desc",
         {"read",
          "write",
          "open",
          "close",
          "creat",
          "dup",
          "dup2",
          "dup3",
          "fcntl",
          "fstat",
          "fstatfs",
          "fsync",
          "fdatasync",
          "ioctl",
          "lseek",
          "_llseek",
          "pread64",
          "pwrite64",
          "readv",
          "writev",
          "preadv",
          "pwritev",
          "preadv2",
          "pwritev2",
          "select",
          "_newselect",
          "pselect6",
          "poll",
          "ppoll",
          "epoll_create",
          "epoll_create1",
          "epoll_ctl",
          "epoll_wait",
          "epoll_pwait",
          "epoll_pwait2",
          "eventfd",
          "eventfd2",
          "signalfd",
          "signalfd4",
          "timerfd_create",
          "timerfd_settime",
          "timerfd_gettime",
          "inotify_init",
          "inotify_init1",
          "inotify_add_watch",
          "inotify_rm_watch",
          "fanotify_init",
          "fanotify_mark",
          "flock",
          "fchdir",
          "fchmod",
          "fchown",
          "fallocate",
          "ftruncate",
          "getdents",
          "getdents64",
          "mmap",
          "openat",
          "openat2",
          "pipe",
          "pipe2",
          "readahead",
          "sendfile",
          "splice",
          "tee",
          "vmsplice",
          "sync_file_range",
          "sync_file_range2",
          "fadvise64",
          "fgetxattr",
          "fsetxattr",
          "flistxattr",
          "fremovexattr",
          "faccessat",
          "faccessat2",
          "fchmodat",
          "fchownat",
          "newfstatat",
          "fstatat64",
          "futimesat",
          "linkat",
          "mkdirat",
          "mknodat",
          "readlinkat",
          "renameat",
          "renameat2",
          "symlinkat",
          "unlinkat",
          "utimensat",
          "statx",
          "name_to_handle_at",
          "open_by_handle_at",
          "execveat",
          "copy_file_range",
          "memfd_create",
          "userfaultfd",
          "bpf",
          "perf_event_open",
          "pidfd_open",
          "pidfd_getfd",
          "io_uring_setup",
          "io_uring_enter",
          "io_uring_register",
          "close_range",
          "syncfs",
          "setns",
          "fstatfs64",
          "fsopen",
          "fsmount",
          "fspick",
          "open_tree",
          "move_mount",
          "accept",
          "accept4",
          "bind",
          "connect",
          "getpeername",
          "getsockname",
          "getsockopt",
          "listen",
          "recv",
          "recvfrom",
          "recvmmsg",
          "recvmsg",
          "send",
          "sendmmsg",
          "sendmsg",
          "sendto",
          "setsockopt",
          "shutdown",
          "socket",
          "socketpair"}},
        {"memory",
         {"brk",
          "mmap",
          "mmap2",
          "munmap",
          "mremap",
          "mprotect",
          "madvise",
          "mlock",
          "mlock2",
          "munlock",
          "mlockall",
          "munlockall",
          "mincore",
          "msync",
          "remap_file_pages",
          "mbind",
          "set_mempolicy",
          "get_mempolicy",
          "migrate_pages",
          "move_pages",
          "shmat",
          "shmdt",
          "pkey_mprotect",
          "pkey_alloc",
          "pkey_free",
          "process_madvise",
          "process_mrelease",
          "subpage_prot",
          "map_shadow_stack"}},
};

} // namespace

const std::vector<std::string_view> *syscall_class(std::string_view name)
{
	auto it = kClasses.find(name);
	return it == kClasses.end() ? nullptr : &it->second;
}

std::vector<std::string_view> syscall_class_names()
{
	std::vector<std::string_view> names;
	names.reserve(kClasses.size());
	for (const auto &[name, members] : kClasses)
		names.push_back(name);
	return names;
}

std::vector<bool> parse_trace_expr(std::string_view expr, const SyscallTable &table)
{
	const size_t n = static_cast<size_t>(table.size());
	bool negate = false;
	if (expr.starts_with("trace="))
		expr.remove_prefix(6);
	if (expr.starts_with('!')) {
		negate = true;
		expr.remove_prefix(1);
	}
	std::vector<bool> traced(n, false);
	if (expr.empty())
		throw Error(EINVAL, "-e trace=: an empty set (say none)");
	while (!expr.empty()) {
		const size_t comma = expr.find(',');
		std::string_view word = expr.substr(0, comma);
		expr = comma == std::string_view::npos ? std::string_view{}
		                                       : expr.substr(comma + 1);
		while (!word.empty() && word.front() == ' ')
			word.remove_prefix(1);
		while (!word.empty() && word.back() == ' ')
			word.remove_suffix(1);
		if (word == "all") {
			std::fill(traced.begin(), traced.end(), true);
		} else if (word == "none") {
			// adds nothing
		} else if (word.starts_with('%')) {
			const auto *members = syscall_class(word.substr(1));
			if (members == nullptr) {
				std::string known;
				for (auto c : syscall_class_names())
					known += (known.empty() ? "%" : ", %") + std::string(c);
				throw Error(EINVAL, "-e trace=: unknown class " +
				                            std::string(word) +
				                            " (known: " + known + ")");
			}
			for (auto m : *members)
				if (auto nr = table.number(m))
					traced[static_cast<size_t>(*nr)] = true;
		} else {
			auto nr = table.number(word);
			if (!nr)
				throw Error(EINVAL, "-e trace=: " + std::string(word) +
				                            ": no such system call on " +
				                            std::string(table.arch()));
			traced[static_cast<size_t>(*nr)] = true;
		}
	}
	if (negate)
		traced.flip();
	return traced;
}

std::vector<uint16_t> kernel_table(const std::vector<bool> &traced, const SyscallTable &table)
{
	std::vector<uint16_t> out(traced.size(), 0);
	for (size_t nr = 0; nr < traced.size(); nr++) {
		if (!traced[nr])
			continue;
		uint16_t v = kSyscallReport;
		if (const auto *spec = syscall_spec(table.name(static_cast<int64_t>(nr)))) {
			for (size_t i = 0; i < spec->args.size() && i < 6; i++) {
				const Arg a = spec->args[i];
				if (a == Arg::Path || a == Arg::Str)
					v |= syscall_string(static_cast<unsigned>(i));
				else if (a == Arg::Argv)
					v |= syscall_argv(static_cast<unsigned>(i));
			}
		}
		out[nr] = v;
	}
	return out;
}

} // namespace utrace::trace
