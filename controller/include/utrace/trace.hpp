// utracectl trace: a system call tracer on observe-only engines.  This is
// its model, independent of the device: system call tables (generated from
// the target's <sys/syscall.h>), -e trace= selections and the kernel table
// they become (UTRACE_IOC_SET_SYSCALLS), argument decoding, and the
// Printer that turns the ring's records into strace-like lines, JSON lines
// or a -c summary.  controller/src/cmd_trace.cpp drives it from a Device.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "utrace/device.hpp"

namespace utrace::trace
{

// System call numbers and names of one ABI (the tracee's native one).
class SyscallTable
{
public:
	SyscallTable(std::string_view arch,
	             const std::vector<std::pair<int, std::string_view>> &entries);
	[[nodiscard]] std::string_view arch() const { return arch_; }
	// "" for a number the table does not know.
	[[nodiscard]] std::string_view name(int64_t nr) const;
	[[nodiscard]] std::optional<int> number(std::string_view name) const;
	// One more than the largest number.
	[[nodiscard]] int size() const { return static_cast<int>(names_.size()); }

private:
	std::string_view arch_;
	std::vector<std::string_view> names_;
	std::map<std::string_view, int, std::less<>> numbers_;
};

// The generated tables (controller/trace/gen-syscalls.py): the build's
// target always; the host build also has ppc64le's when its cross compiler
// is there (UTRACE_TRACE_PPC64LE_TABLE).
const SyscallTable &syscalls_x86_64();
const SyscallTable &syscalls_ppc64le();
const SyscallTable &native_syscalls();

// strace's classes (-e trace=%file ...), by name; see trace_classes.cpp.
// Names the table has not are skipped.  nullptr for an unknown class.
const std::vector<std::string_view> *syscall_class(std::string_view name);
std::vector<std::string_view> syscall_class_names();

// -e trace=EXPR: "all", "none", names, %classes, /regex is not supported;
// a leading '!' negates the whole set (as strace).  Throws Error(EINVAL)
// naming an unknown name or class.  The result: traced[nr].
std::vector<bool> parse_trace_expr(std::string_view expr, const SyscallTable &table);

// How an argument is shown (and whether the kernel captures it).
enum class Arg : uint8_t {
	Int,        // signed decimal
	Uint,       // unsigned decimal (sizes, counts)
	Hex,        // 0x...
	Ptr,        // NULL or 0x... (buffers, structs we do not decode)
	Fd,         // int
	Dirfd,      // AT_FDCWD or int
	Path,       // a string the kernel captures, shown whole
	Str,        // a string the kernel captures, cut at -s
	Argv,       // an array of strings the kernel captures
	Envp,       // 0x... /* N vars */ is strace's; we give the address
	OpenFlags,  // O_*
	Mode,       // 0644
	Prot,       // PROT_*
	MapFlags,   // MAP_*
	AtFlags,    // AT_*
	AccessMode, // F_OK, R_OK|W_OK
	Signal,     // SIGTERM
	Whence,     // SEEK_*
	Off,        // signed decimal offset
	HexOff,     // mmap's offset: 0x...
	WaitPid,    // -1, pid
};

struct SyscallSpec {
	std::string_view name;
	std::vector<Arg> args;
	bool hex_ret = false;   // mmap, brk: the return value in hex
	bool no_return = false; // exit, exit_group: "= ?"
};

// The decoding of a known system call, or nullptr (shown with six hex args).
const SyscallSpec *syscall_spec(std::string_view name);

// The kernel's table (UTRACE_IOC_SET_SYSCALLS): per number bit 0 report,
// bits 1..6 capture argument (bit - 1) as a string, 7..12 as an argv array.
std::vector<uint16_t> kernel_table(const std::vector<bool> &traced, const SyscallTable &table);

// What the kernel captured at an entry: utrace::CapturedArgs (device.hpp,
// put together by utrace::collect_captures() from the STRING records).
using Captures = CapturedArgs;

// strace's quoting: "a\nb\"c", with ... after a string longer than
// @max (or already cut by the kernel).
std::string quote(std::string_view s, size_t max, bool cut);
std::string format_open_flags(uint64_t flags);
std::string format_prot(uint64_t prot);
std::string format_map_flags(uint64_t flags);
std::string format_at_flags(uint64_t flags);
std::string format_access_mode(uint64_t mode);
std::string signal_name(int sig); // "SIGTERM", or the number
// "= 3", "= -1 ENOENT (No such file or directory)", "= 0x7f..." (hex_ret),
// "= ? ERESTARTSYS (To be restarted if SA_RESTART is set)".
std::string format_return(int64_t retval, bool hex_ret);
// Each argument as format_call() shows it (six hex numbers for a call
// without a spec; open's mode only with O_CREAT/O_TMPFILE).
std::vector<std::string> format_args(std::string_view name, const uint64_t (&args)[6],
                                     const Captures &cap, size_t strsize);
// Text being made in place: the Printer's output between two writes to
// its FILE.  Room is made first, then written without a check per piece
// (this is on every line, where std::string's appends and a FILE's
// per-call bookkeeping cost more than the formatting).
class LineBuffer
{
public:
	LineBuffer() : buf_(std::make_unique_for_overwrite<char[]>(kInitial)), cap_(kInitial) {}
	// At least @n bytes of room at the end: write there, then commit().
	char *room(size_t n)
	{
		if (cap_ - len_ < n)
			grow(n);
		return buf_.get() + len_;
	}
	// What room() gave is written up to @end.
	void commit(const char *end) { len_ = static_cast<size_t>(end - buf_.get()); }
	void append(const char *s, size_t n)
	{
		std::memcpy(room(n), s, n);
		len_ += n;
	}
	LineBuffer &operator+=(std::string_view s)
	{
		append(s.data(), s.size());
		return *this;
	}
	// @n bytes of @s, which has N bytes to read: a copy of a size known
	// at compile time (a few moves, not a call) for short pieces.
	template <size_t N> void append_short(const std::array<char, N> &s, size_t n)
	{
		std::memcpy(room(N), s.data(), N);
		len_ += n;
	}
	LineBuffer &operator+=(char c)
	{
		*room(1) = c;
		len_++;
		return *this;
	}
	// The first @n bytes are gone (written).
	void drop_front(size_t n)
	{
		std::memmove(buf_.get(), buf_.get() + n, len_ - n);
		len_ -= n;
	}
	[[nodiscard]] std::string_view view() const { return {buf_.get(), len_}; }
	[[nodiscard]] size_t size() const { return len_; }
	void clear() { len_ = 0; }

private:
	static constexpr size_t kInitial = 4096;
	void grow(size_t n);
	std::unique_ptr<char[]> buf_;
	size_t len_ = 0;
	size_t cap_;
};

// "openat(AT_FDCWD, \"/etc\", O_RDONLY" without the closing parenthesis.
std::string format_call(std::string_view name, const uint64_t (&args)[6], const Captures &cap,
                        size_t strsize);
// The same, appended to @out, with the call's spec (syscall_spec(@name)) at
// hand: the Printer's, with no string made per argument.
void append_call(LineBuffer &out, std::string_view name, const SyscallSpec *spec,
                 const uint64_t (&args)[6], const Captures &cap, size_t strsize);
// What append_call() appends after the name: "(" and the arguments.
void append_args(LineBuffer &out, const SyscallSpec *spec, const uint64_t (&args)[6],
                 const Captures &cap, size_t strsize);
// format_return(), appended to @out.
void append_return(LineBuffer &out, int64_t retval, bool hex_ret);

// Per system call: calls, errors, time between entry and exit records.
class Summary
{
public:
	// A call of number @nr (its row found by number after the first;
	// -1: by @name only), named @name in the table.
	void add(int64_t nr, std::string_view name, uint64_t ns, bool error);
	void print(std::FILE *out, uint64_t lost) const;
	[[nodiscard]] uint64_t calls() const;

private:
	struct Row {
		uint64_t calls = 0, errors = 0, ns = 0;
	};
	std::map<std::string, Row, std::less<>> rows_;
	std::vector<Row *> by_nr_; // rows_'s nodes (which stay put), by number
};

struct Options {
	bool follow = false;  // -f: "[pid N]" prefixes as strace's
	bool to_file = false; // -o: with -f, "PID " prefixes instead
	bool json = false;    // one JSON object per event
	bool summary = false; // -c: only the table
	size_t strsize = 32;  // -s
};

// Turns records, in ring order, into output.  Entry and exit of a system
// call are printed as strace does: the entry when it comes (its
// arguments are all known then: captured strings follow their EVENT
// record), completed by its exit if that is the next thing printed, else
// " <unfinished ...>" and later "<... NAME resumed>) = RET".  JSON prints
// one object per finished call (at its exit) and per other event.
class Printer
{
public:
	Printer(const SyscallTable &table, Options opts, std::FILE *out);
	~Printer();
	Printer(const Printer &) = delete;
	Printer &operator=(const Printer &) = delete;
	// Every record, STRING records too (they follow their entry's EVENT
	// record, and may come in the next read()).
	void record(const Record &r);
	// The reader has drained the ring: the lines made so far go to the
	// FILE (they are kept until then, or until 64 KiB of them), with an
	// entry not shown yet (a call that blocks shows "read(0, " as strace
	// does).
	void idle();
	// The whole lines made so far go to the FILE, not an open line's
	// start: what the caller writes to the same FILE next (a message on
	// stderr) comes after them, not in a line.
	void write_lines();
	// End of the stream: calls that never returned end with "= ?";
	// the -c table, and the lost count.
	void finish();
	[[nodiscard]] uint64_t lost() const { return lost_; }
	[[nodiscard]] const Summary &summary() const { return summary_; }

private:
	struct Pending {
		int64_t nr = -1;
		uint64_t args[6] = {};
		uint64_t entry_ns = 0;
		Captures cap;
		bool captured = false; // @cap holds strings (else empty)
		bool shown = false;    // its entry was printed (or is in text_)
		bool active = false;   // in a call (else kept for the next)
	};
	void flush_entry();
	void entry_strings_done();
	void close_open_line();
	void note_tid(pid_t tid);
	void prefix(LineBuffer &out, pid_t tid);
	void make_prefix(pid_t tid);
	void line_start(pid_t tid);
	void line_done();
	void write_text();
	Pending *find_pending(pid_t tid);
	Pending &pending_of(pid_t tid);
	void syscall_entry(const Record &r);
	void syscall_exit(const Record &r);
	void lost(const Record &r);
	void print_exit(pid_t tid, Pending &p, const std::optional<int64_t> &ret, uint64_t ns);
	void task_exit(const Record &r);
	void signal(const Record &r);
	bool print_call(const Record &r);
	void end_call_line(const std::optional<int64_t> &ret, bool hex_ret);
	struct Call {
		std::string_view name; // "" for a number the table does not know
		const SyscallSpec *spec = nullptr;
		std::array<char, 32> padded{}; // @name, if it fits, for append_short()
	};
	const Call *call_of(int64_t nr) const;
	std::string_view name_of(int64_t nr, std::string &unknown) const;
	const SyscallSpec *spec_of(int64_t nr) const;

	const SyscallTable &table_;
	Options opts_;
	std::FILE *out_;
	std::vector<Call> calls_; // by number
	LineBuffer text_;         // lines not written to @out_ yet, the open one last
	std::map<pid_t, Pending> pending_;
	Pending *last_ = nullptr; // pending_'s node of @last_tid_ (nodes stay put)
	pid_t last_tid_ = 0;
	std::optional<pid_t> entry_tid_; // an entry not printed yet
	size_t strings_due_ = 0;         // STRING records still to come for it
	std::vector<Record> strings_;
	std::optional<pid_t> open_tid_;  // whose line is open (ends text_, if not written)
	size_t open_at_ = 0;             // where in text_ it starts (0: written up to there)
	std::optional<pid_t> first_tid_; // the first thread seen
	bool many_tids_ = false;         // and another since: prefixes
	std::array<char, 32> prefix_{};  // the last prefix made, for @prefix_tid_
	size_t prefix_len_ = 0;
	pid_t prefix_tid_ = -1;
	uint64_t lost_ = 0;
	Summary summary_;
};

} // namespace utrace::trace
