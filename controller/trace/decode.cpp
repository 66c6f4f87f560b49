// Argument and return value decoding, in strace's notation.  Flag values
// come from the target's own <fcntl.h> and <sys/mman.h> (they differ
// between x86_64 and powerpc64le), names and order from strace's xlat
// tables.
#include <algorithm>
#include <array>
#include <charconv>
#include <cinttypes>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <unordered_map>

#include "utrace/trace.hpp"

namespace utrace::trace
{

namespace
{

using A = Arg;

// The calls decoded by type.  Any other is shown with six hex arguments.
// Looked up at every call printed: hashed, not ordered.
const std::unordered_map<std::string_view, SyscallSpec> kSpecs = [] {
	std::unordered_map<std::string_view, SyscallSpec> m;
	auto add = [&m](std::string_view name, std::vector<Arg> args, bool hex_ret = false,
	                bool no_return = false) {
		m.emplace(name, SyscallSpec{name, std::move(args), hex_ret, no_return});
	};
	add("read", {A::Fd, A::Ptr, A::Uint});
	add("write", {A::Fd, A::Ptr, A::Uint});
	add("pread64", {A::Fd, A::Ptr, A::Uint, A::Off});
	add("pwrite64", {A::Fd, A::Ptr, A::Uint, A::Off});
	add("close", {A::Fd});
	add("open", {A::Path, A::OpenFlags, A::Mode});
	add("openat", {A::Dirfd, A::Path, A::OpenFlags, A::Mode});
	add("creat", {A::Path, A::Mode});
	add("stat", {A::Path, A::Ptr});
	add("lstat", {A::Path, A::Ptr});
	add("fstat", {A::Fd, A::Ptr});
	add("newfstatat", {A::Dirfd, A::Path, A::Ptr, A::AtFlags});
	add("fstatat64", {A::Dirfd, A::Path, A::Ptr, A::AtFlags});
	add("statfs", {A::Path, A::Ptr});
	add("fstatfs", {A::Fd, A::Ptr});
	add("access", {A::Path, A::AccessMode});
	add("faccessat", {A::Dirfd, A::Path, A::AccessMode});
	add("faccessat2", {A::Dirfd, A::Path, A::AccessMode, A::AtFlags});
	add("execve", {A::Path, A::Argv, A::Envp});
	add("execveat", {A::Dirfd, A::Path, A::Argv, A::Envp, A::AtFlags});
	add("mmap", {A::Ptr, A::Uint, A::Prot, A::MapFlags, A::Fd, A::HexOff}, true);
	add("munmap", {A::Ptr, A::Uint});
	add("mprotect", {A::Ptr, A::Uint, A::Prot});
	add("brk", {A::Ptr}, true);
	add("exit", {A::Int}, false, true);
	add("exit_group", {A::Int}, false, true);
	add("lseek", {A::Fd, A::Off, A::Whence});
	add("dup", {A::Fd});
	add("dup2", {A::Fd, A::Fd});
	add("unlink", {A::Path});
	add("unlinkat", {A::Dirfd, A::Path, A::AtFlags});
	add("mkdir", {A::Path, A::Mode});
	add("mkdirat", {A::Dirfd, A::Path, A::Mode});
	add("rmdir", {A::Path});
	add("chdir", {A::Path});
	add("fchdir", {A::Fd});
	add("chroot", {A::Path});
	add("chmod", {A::Path, A::Mode});
	add("fchmod", {A::Fd, A::Mode});
	add("fchmodat", {A::Dirfd, A::Path, A::Mode});
	add("readlink", {A::Path, A::Ptr, A::Uint});
	add("readlinkat", {A::Dirfd, A::Path, A::Ptr, A::Uint});
	add("rename", {A::Path, A::Path});
	add("renameat", {A::Dirfd, A::Path, A::Dirfd, A::Path});
	add("link", {A::Path, A::Path});
	add("symlink", {A::Path, A::Path});
	add("truncate", {A::Path, A::Off});
	add("ftruncate", {A::Fd, A::Off});
	add("fsync", {A::Fd});
	add("fdatasync", {A::Fd});
	add("getdents64", {A::Fd, A::Ptr, A::Uint});
	add("getcwd", {A::Ptr, A::Uint});
	add("umask", {A::Mode});
	add("kill", {A::WaitPid, A::Signal});
	add("tkill", {A::Int, A::Signal});
	add("tgkill", {A::Int, A::Int, A::Signal});
	add("set_tid_address", {A::Ptr});
	// Not decoded further, but with their number of arguments.
	add("rt_sigaction", {A::Signal, A::Ptr, A::Ptr, A::Uint});
	add("rt_sigprocmask", {A::Int, A::Ptr, A::Ptr, A::Uint});
	add("rt_sigreturn", {});
	add("wait4", {A::WaitPid, A::Ptr, A::Hex, A::Ptr});
	add("fcntl", {A::Fd, A::Int, A::Hex});
	add("ioctl", {A::Fd, A::Hex, A::Hex});
	add("arch_prctl", {A::Hex, A::Hex});
	add("set_robust_list", {A::Ptr, A::Uint});
	add("rseq", {A::Ptr, A::Uint, A::Int, A::Hex});
	add("prlimit64", {A::Int, A::Int, A::Ptr, A::Ptr});
	add("getrandom", {A::Ptr, A::Uint, A::Hex});
	add("clone", {A::Hex, A::Ptr, A::Ptr, A::Ptr, A::Hex});
	add("clone3", {A::Ptr, A::Uint});
	add("pipe2", {A::Ptr, A::Hex});
	add("fadvise64", {A::Fd, A::Off, A::Off, A::Int});
	add("socket", {A::Int, A::Int, A::Int});
	add("connect", {A::Fd, A::Ptr, A::Uint});
	add("nanosleep", {A::Ptr, A::Ptr});
	add("clock_nanosleep", {A::Int, A::Int, A::Ptr, A::Ptr});
	add("statx", {A::Dirfd, A::Path, A::Hex, A::Hex, A::Ptr});
	add("getdents", {A::Fd, A::Ptr, A::Uint});
	for (auto name : {"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	                  "getpgrp", "setsid", "sched_yield", "fork", "vfork", "sync", "pause"})
		add(name, {});
	return m;
}();

template <typename T> struct Flag {
	T value;
	const char *name;
};

// The longest number put_hex() and put_dec() write: "0x" and 16 digits, or
// a sign and 20.
constexpr size_t kNumberMax = 21;

// printf's "%#" PRIx64 ("0" for 0) at @p, without printf: it is on every
// line.  Returns the end.
char *put_hex(char *p, uint64_t v)
{
	if (v == 0) {
		*p = '0';
		return p + 1;
	}
	*p++ = '0';
	*p++ = 'x';
	// Digits: a nibble each, the leading zero ones left out; two at a
	// time from the end.
	static constexpr std::array<char, 512> kPairs = [] {
		std::array<char, 512> t{};
		for (size_t i = 0; i < 256; i++) {
			t[2 * i] = "0123456789abcdef"[i >> 4];
			t[2 * i + 1] = "0123456789abcdef"[i & 0xf];
		}
		return t;
	}();
	char *const end = p + (67 - __builtin_clzll(v)) / 4;
	char *q = end;
	for (; v > 0xf; v >>= 8) {
		q -= 2;
		std::memcpy(q, &kPairs[2 * (v & 0xff)], 2);
	}
	if (q != p)
		*p = "0123456789abcdef"[v];
	return end;
}

// A pointer: NULL, or put_hex()'s.
[[gnu::always_inline]] inline char *put_ptr(char *p, uint64_t v)
{
	return v == 0 ? std::copy_n("NULL", 4, p) : put_hex(p, v);
}

template <typename T> char *put_dec(char *p, T v)
{
	return std::to_chars(p, p + kNumberMax, v).ptr;
}

void append_hex(std::string &out, uint64_t v)
{
	std::array<char, kNumberMax> buf{};
	// (pointer, length): an iterator pair goes through replace().
	out.append(buf.data(), static_cast<size_t>(put_hex(buf.data(), v) - buf.data()));
}

std::string hex(uint64_t v)
{
	std::string out;
	append_hex(out, v);
	return out;
}

template <typename T> void append_dec(std::string &out, T v)
{
	std::array<char, kNumberMax> buf{};
	out.append(buf.data(), static_cast<size_t>(put_dec(buf.data(), v) - buf.data()));
}

std::string join_flags(uint64_t v, std::initializer_list<Flag<uint64_t>> flags, std::string out)
{
	for (const auto &f : flags) {
		if (f.value != 0 && (v & f.value) == f.value) {
			if (!out.empty())
				out += '|';
			out += f.name;
			v &= ~f.value;
		}
	}
	if (v != 0) {
		if (!out.empty())
			out += '|';
		out += hex(v);
	}
	return out;
}

void append_ptr(std::string &out, uint64_t v)
{
	std::array<char, kNumberMax> buf{};
	out.append(buf.data(), static_cast<size_t>(put_ptr(buf.data(), v) - buf.data()));
}

std::string octal_mode(uint64_t v)
{
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%#03" PRIo64, v);
	return buf;
}

// strace's quoting (quote()), appended.
void append_quoted(std::string &out, std::string_view s, size_t max, bool cut)
{
	out += '"';
	const bool longer = s.size() > max;
	if (longer)
		s = s.substr(0, max);
	for (size_t i = 0; i < s.size(); i++) {
		const auto c = static_cast<unsigned char>(s[i]);
		switch (c) {
		case '"':
			out += "\\\"";
			break;
		case '\\':
			out += "\\\\";
			break;
		case '\t':
			out += "\\t";
			break;
		case '\n':
			out += "\\n";
			break;
		case '\v':
			out += "\\v";
			break;
		case '\f':
			out += "\\f";
			break;
		case '\r':
			out += "\\r";
			break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				out += static_cast<char>(c);
			} else {
				// As strace: the shortest octal, unless a digit follows.
				const bool digit_next =
				        i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7';
				char buf[8];
				std::snprintf(buf, sizeof(buf), digit_next ? "\\%03o" : "\\%o", c);
				out += buf;
			}
		}
	}
	out += '"';
	if (longer || cut)
		out += "...";
}

void append_captured(std::string &out, const std::optional<CapturedString> &c, uint64_t addr,
                     size_t max)
{
	if (!c || c->fault)
		append_ptr(out, addr);
	else
		append_quoted(out, c->value, max, c->truncated);
}

std::string format_argv(const std::optional<utrace::CapturedArgv> &v, uint64_t addr, size_t strsize)
{
	if (addr == 0)
		return "NULL";
	if (!v || (v->fault && v->elements.empty()))
		return hex(addr);
	std::string out = "[";
	for (size_t i = 0; i < v->elements.size(); i++) {
		if (i != 0)
			out += ", ";
		const auto &e = v->elements[i];
		if (e.fault)
			out += '0';
		else
			append_quoted(out, e.value, strsize, e.truncated);
	}
	if (v->truncated)
		out += v->elements.empty() ? "..." : ", ...";
	return out + "]";
}

} // namespace

const SyscallSpec *syscall_spec(std::string_view name)
{
	auto it = kSpecs.find(name);
	return it == kSpecs.end() ? nullptr : &it->second;
}

std::string quote(std::string_view s, size_t max, bool cut)
{
	std::string out;
	append_quoted(out, s, max, cut);
	return out;
}

std::string format_open_flags(uint64_t flags)
{
	std::string out;
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		out = "O_RDONLY";
		break;
	case O_WRONLY:
		out = "O_WRONLY";
		break;
	case O_RDWR:
		out = "O_RDWR";
		break;
	default:
		out = "O_ACCMODE";
	}
	flags &= ~static_cast<uint64_t>(O_ACCMODE);
#if defined(__powerpc64__)
	constexpr uint64_t kLargefile = 0200000;
#else
	constexpr uint64_t kLargefile = 0100000;
#endif
	// strace's order (xlat/open_mode_flags.in), not the values': O_PATH
	// and O_CLOEXEC before O_DIRECTORY, O_TMPFILE (which holds
	// O_DIRECTORY's bit) before it.
	out = join_flags(flags,
	                 {{O_CREAT, "O_CREAT"},
	                  {O_EXCL, "O_EXCL"},
	                  {O_NOCTTY, "O_NOCTTY"},
	                  {O_TRUNC, "O_TRUNC"},
	                  {O_APPEND, "O_APPEND"},
	                  {O_NONBLOCK, "O_NONBLOCK"},
	                  {O_SYNC, "O_SYNC"},
	                  {O_DSYNC, "O_DSYNC"},
	                  {O_ASYNC, "O_ASYNC"},
	                  {O_DIRECT, "O_DIRECT"},
	                  {kLargefile, "O_LARGEFILE"},
	                  {O_NOFOLLOW, "O_NOFOLLOW"},
	                  {O_NOATIME, "O_NOATIME"},
	                  {O_CLOEXEC, "O_CLOEXEC"},
	                  {O_PATH, "O_PATH"},
	                  {O_TMPFILE, "O_TMPFILE"},
	                  {O_DIRECTORY, "O_DIRECTORY"}},
	                 out);
	return out;
}

std::string format_prot(uint64_t prot)
{
	if (prot == 0)
		return "PROT_NONE";
	return join_flags(prot,
	                  {{PROT_READ, "PROT_READ"},
	                   {PROT_WRITE, "PROT_WRITE"},
	                   {PROT_EXEC, "PROT_EXEC"},
	                   {0x8, "PROT_SEM"},
	                   {PROT_GROWSDOWN, "PROT_GROWSDOWN"},
	                   {PROT_GROWSUP, "PROT_GROWSUP"}},
	                  {});
}

std::string format_map_flags(uint64_t flags)
{
	std::string out;
	switch (flags & 0xf) {
	case MAP_SHARED:
		out = "MAP_SHARED";
		break;
	case MAP_PRIVATE:
		out = "MAP_PRIVATE";
		break;
	case MAP_SHARED_VALIDATE:
		out = "MAP_SHARED_VALIDATE";
		break;
	default:
		out = hex(flags & 0xf);
	}
	return join_flags(flags & ~uint64_t{0xf},
	                  {{MAP_FIXED, "MAP_FIXED"},
	                   {MAP_ANONYMOUS, "MAP_ANONYMOUS"},
#ifdef MAP_32BIT
	                   {MAP_32BIT, "MAP_32BIT"},
#endif
	                   {MAP_GROWSDOWN, "MAP_GROWSDOWN"},
	                   {MAP_DENYWRITE, "MAP_DENYWRITE"},
	                   {MAP_EXECUTABLE, "MAP_EXECUTABLE"},
	                   {MAP_LOCKED, "MAP_LOCKED"},
	                   {MAP_NORESERVE, "MAP_NORESERVE"},
	                   {MAP_POPULATE, "MAP_POPULATE"},
	                   {MAP_NONBLOCK, "MAP_NONBLOCK"},
	                   {MAP_STACK, "MAP_STACK"},
	                   {MAP_HUGETLB, "MAP_HUGETLB"},
	                   {MAP_SYNC, "MAP_SYNC"},
	                   {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"}},
	                  out);
}

std::string format_at_flags(uint64_t flags)
{
	if (flags == 0)
		return "0";
	return join_flags(flags,
	                  {{AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
	                   {AT_REMOVEDIR, "AT_REMOVEDIR"},
	                   {AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"},
	                   {AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
	                   {AT_EMPTY_PATH, "AT_EMPTY_PATH"}},
	                  {});
}

std::string format_access_mode(uint64_t mode)
{
	if (mode == 0)
		return "F_OK";
	return join_flags(mode, {{R_OK, "R_OK"}, {W_OK, "W_OK"}, {X_OK, "X_OK"}}, {});
}

std::string signal_name(int sig)
{
	if (sig > 0 && sig < SIGRTMIN) {
		if (const char *abbrev = sigabbrev_np(sig))
			return std::string("SIG") + abbrev;
	}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		return sig == SIGRTMIN ? std::string("SIGRTMIN")
		                       : "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
	return std::to_string(sig);
}

void LineBuffer::grow(size_t n)
{
	const size_t cap = std::max(2 * cap_, len_ + n);
	auto buf = std::make_unique_for_overwrite<char[]>(cap);
	std::memcpy(buf.get(), buf_.get(), len_);
	buf_ = std::move(buf);
	cap_ = cap;
}

void append_return(LineBuffer &out, int64_t retval, bool hex_ret)
{
	if (retval < 0 && retval >= -4095) {
		const int err = static_cast<int>(-retval);
		// The kernel's restart codes (linux/errno.h), as strace names them.
		switch (err) {
		case 512:
			out += "? ERESTARTSYS (To be restarted if SA_RESTART is set)";
			return;
		case 513:
			out += "? ERESTARTNOINTR (To be restarted)";
			return;
		case 514:
			out += "? ERESTARTNOHAND (To be restarted if no handler)";
			return;
		case 516:
			out += "? ERESTART_RESTARTBLOCK (Interrupted by signal)";
			return;
		default:
			break;
		}
		const char *name = strerrorname_np(err);
		const char *desc = strerrordesc_np(err);
		out += "-1 ";
		out += name != nullptr ? name : "E???";
		out += " (";
		if (desc != nullptr) {
			out += desc;
		} else {
			out += "Unknown error ";
			out.commit(put_dec(out.room(kNumberMax), err));
		}
		out += ')';
		return;
	}
	char *p = out.room(kNumberMax);
	out.commit(hex_ret ? put_hex(p, static_cast<uint64_t>(retval)) : put_dec(p, retval));
}

std::string format_return(int64_t retval, bool hex_ret)
{
	LineBuffer out;
	append_return(out, retval, hex_ret);
	return std::string(out.view());
}

namespace
{

// Argument @v of a kind shown as a number (or AT_FDCWD, NULL) at @p, as
// append_arg() shows it; returns the end, or nullptr for another kind.
[[gnu::always_inline]] inline char *put_number_arg(char *p, Arg kind, uint64_t v)
{
	const auto iv = static_cast<int>(static_cast<int32_t>(v));
	switch (kind) {
	case A::Int:
	case A::Fd:
	case A::WaitPid:
		return put_dec(p, iv);
	case A::Uint:
		return put_dec(p, v);
	case A::Off:
		return put_dec(p, static_cast<int64_t>(v));
	case A::Hex:
	case A::HexOff:
		return put_hex(p, v);
	case A::Ptr:
	case A::Envp:
		return put_ptr(p, v);
	case A::Dirfd:
		if (iv == AT_FDCWD)
			return std::copy_n("AT_FDCWD", 8, p);
		return put_dec(p, iv);
	default:
		return nullptr;
	}
}

// Appends argument @i of a call decoded by @spec as format_call() shows
// it.  False for open's mode without O_CREAT or O_TMPFILE, which strace
// leaves out (and every argument after it).
bool append_arg(std::string &out, const SyscallSpec &spec, size_t i, const uint64_t (&args)[6],
                const Captures &cap, size_t strsize)
{
	const uint64_t v = args[i];
	const auto iv = static_cast<int>(static_cast<int32_t>(v));
	std::array<char, kNumberMax> buf{};
	if (char *end = put_number_arg(buf.data(), spec.args[i], v)) {
		out.append(buf.data(), static_cast<size_t>(end - buf.data()));
		return true;
	}
	switch (spec.args[i]) {
	case A::Int:
	case A::Fd:
	case A::WaitPid:
	case A::Uint:
	case A::Off:
	case A::Hex:
	case A::HexOff:
	case A::Ptr:
	case A::Envp:
	case A::Dirfd:
		break; // put_number_arg()'s
	case A::Path:
		// strace shows a path whole, not cut at -s.
		append_captured(out, cap.strings[i], v, SIZE_MAX);
		break;
	case A::Str:
		append_captured(out, cap.strings[i], v, strsize);
		break;
	case A::Argv:
		out += format_argv(cap.argvs[i], v, strsize);
		break;
	case A::OpenFlags:
		out += format_open_flags(v);
		break;
	case A::Mode:
		// open's mode only with O_CREAT or O_TMPFILE, as strace.
		if (i > 0 && spec.args[i - 1] == A::OpenFlags && (args[i - 1] & O_CREAT) == 0 &&
		    (args[i - 1] & O_TMPFILE) != O_TMPFILE)
			return false;
		out += octal_mode(v);
		break;
	case A::Prot:
		out += format_prot(v);
		break;
	case A::MapFlags:
		out += format_map_flags(v);
		break;
	case A::AtFlags:
		out += format_at_flags(v);
		break;
	case A::AccessMode:
		out += format_access_mode(v);
		break;
	case A::Signal:
		out += signal_name(iv);
		break;
	case A::Whence:
		switch (iv) {
		case SEEK_SET:
			out += "SEEK_SET";
			break;
		case SEEK_CUR:
			out += "SEEK_CUR";
			break;
		case SEEK_END:
			out += "SEEK_END";
			break;
		case SEEK_DATA:
			out += "SEEK_DATA";
			break;
		case SEEK_HOLE:
			out += "SEEK_HOLE";
			break;
		default:
			append_dec(out, iv);
		}
		break;
	}
	return true;
}

} // namespace

std::vector<std::string> format_args(std::string_view name, const uint64_t (&args)[6],
                                     const Captures &cap, size_t strsize)
{
	std::vector<std::string> out;
	const SyscallSpec *spec = syscall_spec(name);
	if (spec == nullptr) {
		for (const uint64_t v : args)
			out.push_back(hex(v));
		return out;
	}
	for (size_t i = 0; i < spec->args.size(); i++) {
		std::string s;
		if (!append_arg(s, *spec, i, args, cap, strsize))
			break;
		out.push_back(std::move(s));
	}
	return out;
}

void append_call(LineBuffer &out, std::string_view name, const SyscallSpec *spec,
                 const uint64_t (&args)[6], const Captures &cap, size_t strsize)
{
	out += name;
	append_args(out, spec, args, cap, strsize);
}

void append_args(LineBuffer &out, const SyscallSpec *spec, const uint64_t (&args)[6],
                 const Captures &cap, size_t strsize)
{
	// The arguments shown as numbers, the most of most calls, are
	// written in place, in room made once for all six (this is on every
	// line); any other argument is made as a string.
	constexpr size_t kNumbers = 1 + 6 * (2 + kNumberMax);
	char *p = out.room(kNumbers);
	*p++ = '(';
	if (spec == nullptr) {
		for (size_t i = 0; i < 6; i++) {
			if (i != 0)
				p = std::copy_n(", ", 2, p);
			p = put_hex(p, args[i]);
		}
		out.commit(p);
		return;
	}
	for (size_t i = 0; i < spec->args.size(); i++) {
		char *const sep = p;
		if (i != 0)
			p = std::copy_n(", ", 2, p);
		if (char *end = put_number_arg(p, spec->args[i], args[i])) {
			p = end;
			continue;
		}
		out.commit(sep);
		std::string arg(i != 0 ? ", " : "");
		if (!append_arg(arg, *spec, i, args, cap, strsize))
			return;
		out += arg;
		p = out.room(kNumbers);
	}
	out.commit(p);
}

std::string format_call(std::string_view name, const uint64_t (&args)[6], const Captures &cap,
                        size_t strsize)
{
	LineBuffer out;
	append_call(out, name, syscall_spec(name), args, cap, strsize);
	return std::string(out.view());
}

} // namespace utrace::trace
