// Host unit tests of utracectl trace's model (controller/trace): the
// generated system call tables, -e trace= and the kernel table it becomes,
// strace's notation for arguments and return values, and the Printer on
// synthetic ring records (lines, <unfinished ...>, JSON, -c, lost records).
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/mman.h>
#include <vector>

#include "error_of.hpp"
#include "utrace/trace.hpp"

#include <uapi/utrace.h>

using utrace::Event;
using utrace::Record;
using utrace::RecordType;
using namespace utrace::trace;
using utrace_test::error_of;

namespace
{

const SyscallTable &x86()
{
	return syscalls_x86_64();
}

TEST(TraceTables, AreGeneratedFromTheTargetsSyscallHeader)
{
	EXPECT_EQ(x86().arch(), "x86_64");
	EXPECT_EQ(x86().name(0), "read");
	EXPECT_EQ(x86().name(59), "execve");
	EXPECT_EQ(x86().name(257), "openat");
	EXPECT_EQ(x86().number("exit_group"), 231);
	EXPECT_EQ(x86().name(-1), "");
	EXPECT_EQ(x86().name(100000), "");
	EXPECT_FALSE(x86().number("no_such_call"));
	EXPECT_GT(x86().size(), 400);
	EXPECT_LE(x86().size(), static_cast<int>(utrace::kMaxSyscalls));
}

#ifdef UTRACE_TRACE_PPC64LE_TABLE
TEST(TraceTables, Ppc64leHasItsOwnNumbers)
{
	const SyscallTable &ppc = syscalls_ppc64le();
	EXPECT_EQ(ppc.arch(), "ppc64le");
	EXPECT_EQ(ppc.name(3), "read");
	EXPECT_EQ(ppc.name(11), "execve");
	EXPECT_EQ(ppc.number("openat"), 286);
	EXPECT_EQ(ppc.number("newfstatat"), 291);
	EXPECT_LE(ppc.size(), static_cast<int>(utrace::kMaxSyscalls));
	// The same class names its own numbers there.
	EXPECT_TRUE(parse_trace_expr("%file", ppc)[286]);
}
#endif

std::vector<std::string> names_of(const std::vector<bool> &traced, const SyscallTable &t)
{
	std::vector<std::string> out;
	for (size_t i = 0; i < traced.size(); i++)
		if (traced[i])
			out.emplace_back(t.name(static_cast<int64_t>(i)));
	return out;
}

TEST(TraceExpr, NamesSelectExactlyThoseCalls)
{
	const auto t = parse_trace_expr("trace=openat,close", x86());
	EXPECT_EQ(names_of(t, x86()), (std::vector<std::string>{"close", "openat"}));
	EXPECT_EQ(parse_trace_expr("openat", x86()), parse_trace_expr("trace=openat", x86()));
}

TEST(TraceExpr, ClassesFollowStrace)
{
	const auto file = parse_trace_expr("%file", x86());
	EXPECT_TRUE(file[257]); // openat
	EXPECT_TRUE(file[59]);  // execve
	EXPECT_TRUE(file[262]); // newfstatat
	EXPECT_FALSE(file[0]);  // read
	EXPECT_FALSE(file[3]);  // close
	const auto desc = parse_trace_expr("%desc", x86());
	EXPECT_TRUE(desc[0] && desc[3] && desc[257]);
	const auto mem = parse_trace_expr("%memory", x86());
	EXPECT_TRUE(mem[9] && mem[12] && mem[11]); // mmap, brk, munmap
	const auto proc = parse_trace_expr("%process", x86());
	EXPECT_TRUE(proc[56] && proc[59] && proc[231] && proc[61]); // clone execve exit_group wait4
	const auto net = parse_trace_expr("%network", x86());
	EXPECT_TRUE(net[41] && net[42]); // socket connect
	EXPECT_FALSE(net[0]);
	EXPECT_TRUE(parse_trace_expr("%signal", x86())[13]); // rt_sigaction
	EXPECT_TRUE(parse_trace_expr("%ipc", x86())[29]);    // shmget
}

TEST(TraceExpr, NegationComplementsTheSet)
{
	const auto t = parse_trace_expr("!%file,read", x86());
	EXPECT_FALSE(t[257]);
	EXPECT_FALSE(t[0]);
	EXPECT_TRUE(t[3]);
	EXPECT_TRUE(t[9]);
	const auto none = parse_trace_expr("none", x86());
	EXPECT_EQ(std::count(none.begin(), none.end(), true), 0);
	const auto all = parse_trace_expr("all", x86());
	EXPECT_TRUE(all[0] && all[257]);
}

TEST(TraceExpr, UnknownNamesAndClassesAreRefused)
{
	EXPECT_EQ(error_of([] { (void)parse_trace_expr("openatt", x86()); }), EINVAL);
	EXPECT_EQ(error_of([] { (void)parse_trace_expr("%files", x86()); }), EINVAL);
	EXPECT_EQ(error_of([] { (void)parse_trace_expr("", x86()); }), EINVAL);
	try {
		(void)parse_trace_expr("%nope", x86());
	} catch (const utrace::Error &e) {
		EXPECT_NE(std::string(e.what()).find("%memory"), std::string::npos) << e.what();
	}
}

TEST(TraceKernelTable, ReportsTheSelectionAndCapturesItsStrings)
{
	const auto k = kernel_table(parse_trace_expr("openat,execve,read", x86()), x86());
	ASSERT_EQ(k.size(), static_cast<size_t>(x86().size()));
	EXPECT_EQ(k[257], UTRACE_SYSCALL_REPORT | UTRACE_SYSCALL_STRING(1));
	EXPECT_EQ(k[59], UTRACE_SYSCALL_REPORT | UTRACE_SYSCALL_STRING(0) | UTRACE_SYSCALL_ARGV(1));
	EXPECT_EQ(k[0], UTRACE_SYSCALL_REPORT);
	EXPECT_EQ(k[3], 0);
	EXPECT_EQ(k[231], 0);
	const auto r = kernel_table(parse_trace_expr("rename", x86()), x86());
	EXPECT_EQ(r[82],
	          UTRACE_SYSCALL_REPORT | UTRACE_SYSCALL_STRING(0) | UTRACE_SYSCALL_STRING(1));
}

TEST(TraceDecode, QuotesAsStrace)
{
	EXPECT_EQ(quote("abc", 32, false), "\"abc\"");
	EXPECT_EQ(quote("a\"b\\c\n\t", 32, false), "\"a\\\"b\\\\c\\n\\t\"");
	EXPECT_EQ(quote(std::string("\x01x\x7f"
	                            "1",
	                            4),
	                32, false),
	          "\"\\1x\\1771\"");
	EXPECT_EQ(quote(std::string("\x01"
	                            "1",
	                            2),
	                32, false),
	          "\"\\0011\"");
	EXPECT_EQ(quote("abcdef", 3, false), "\"abc\"...");
	EXPECT_EQ(quote("abc", 32, true), "\"abc\"...");
}

TEST(TraceDecode, FlagsAreNamedInStracesOrder)
{
	EXPECT_EQ(format_open_flags(O_RDONLY | O_CLOEXEC), "O_RDONLY|O_CLOEXEC");
	EXPECT_EQ(format_open_flags(O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY),
	          "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY");
	EXPECT_EQ(format_open_flags(O_WRONLY | O_CREAT | O_TRUNC), "O_WRONLY|O_CREAT|O_TRUNC");
	EXPECT_EQ(format_open_flags(O_RDWR | 0x40000000), "O_RDWR|0x40000000");
	// As strace 6.1 shows them (guest.x86_64.trace_vs_strace found it).
	EXPECT_EQ(format_open_flags(O_RDONLY | O_PATH | O_DIRECTORY),
	          "O_RDONLY|O_PATH|O_DIRECTORY");
	EXPECT_EQ(format_open_flags(O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_PATH),
	          "O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_PATH");
	EXPECT_EQ(format_open_flags(O_RDWR | O_TMPFILE), "O_RDWR|O_TMPFILE");
	EXPECT_EQ(format_prot(0), "PROT_NONE");
	EXPECT_EQ(format_prot(PROT_READ | PROT_EXEC), "PROT_READ|PROT_EXEC");
	EXPECT_EQ(format_map_flags(MAP_PRIVATE | MAP_ANONYMOUS), "MAP_PRIVATE|MAP_ANONYMOUS");
	EXPECT_EQ(format_map_flags(MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE),
	          "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
	EXPECT_EQ(format_at_flags(0), "0");
	EXPECT_EQ(format_at_flags(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW),
	          "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");
	EXPECT_EQ(format_access_mode(0), "F_OK");
	EXPECT_EQ(format_access_mode(R_OK | X_OK), "R_OK|X_OK");
	EXPECT_EQ(signal_name(SIGCHLD), "SIGCHLD");
	EXPECT_EQ(signal_name(SIGRTMIN + 2), "SIGRTMIN+2");
}

TEST(TraceDecode, ReturnValuesNameTheirErrno)
{
	EXPECT_EQ(format_return(3, false), "3");
	EXPECT_EQ(format_return(-ENOENT, false), "-1 ENOENT (No such file or directory)");
	EXPECT_EQ(format_return(-EACCES, true), "-1 EACCES (Permission denied)");
	EXPECT_EQ(format_return(0x7f0000001000, true), "0x7f0000001000");
	EXPECT_EQ(format_return(-512, false),
	          "? ERESTARTSYS (To be restarted if SA_RESTART is set)");
	EXPECT_EQ(format_return(-5000, false), "-5000");
}

// Hex is made two digits per step from a table, the leading zero ones
// left out: every digit count, every digit value in every place, against
// printf.
TEST(TraceDecode, HexIsPrintfs)
{
	std::vector<uint64_t> values = {1, 0xf, 0x10, 0x0123456789abcdefULL, 0xfedcba9876543210ULL};
	for (int bits = 1; bits <= 64; bits++) {
		const uint64_t top = uint64_t{1} << (bits - 1);
		values.push_back(top);
		values.push_back(top | (top - 1));
		values.push_back(top | (0xa5a5a5a5a5a5a5a5ULL & (top - 1)));
	}
	for (const uint64_t v : values) {
		// (an error's range is shown as an errno, not in hex)
		if (static_cast<int64_t>(v) < 0 && static_cast<int64_t>(v) >= -4095)
			continue;
		std::array<char, 32> want{};
		std::snprintf(want.data(), want.size(), "%#" PRIx64, v);
		EXPECT_EQ(format_return(static_cast<int64_t>(v), true), want.data());
	}
}

TEST(TraceDecode, CallsShowTheirArgumentsByType)
{
	utrace::CapturedArgs cap;
	const uint64_t mmap_args[6] = {0,
	                               8192,
	                               PROT_READ | PROT_WRITE,
	                               MAP_PRIVATE | MAP_ANONYMOUS,
	                               static_cast<uint64_t>(-1),
	                               0};
	EXPECT_EQ(format_call("mmap", mmap_args, cap, 32),
	          "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0");
	const uint64_t read_args[6] = {3, 0x7ffd0000, 832};
	EXPECT_EQ(format_call("read", read_args, cap, 32), "read(3, 0x7ffd0000, 832");
	// No string captured (a LOST group): the address, as strace shows a
	// pointer it cannot read.
	const uint64_t open_args[6] = {static_cast<uint64_t>(AT_FDCWD), 0x5000, O_RDONLY};
	EXPECT_EQ(format_call("openat", open_args, cap, 32), "openat(AT_FDCWD, 0x5000, O_RDONLY");
	cap.strings[1] = utrace::CapturedString{"/etc/passwd", false, false};
	EXPECT_EQ(format_call("openat", open_args, cap, 32),
	          "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY");
	// The mode only with O_CREAT.
	const uint64_t creat_args[6] = {3, 0x5000, O_WRONLY | O_CREAT, 0644};
	EXPECT_EQ(format_call("openat", creat_args, cap, 32),
	          "openat(3, \"/etc/passwd\", O_WRONLY|O_CREAT, 0644");
	// A call without a spec: six hex words.
	const uint64_t raw[6] = {1, 2, 3, 4, 5, 6};
	EXPECT_EQ(format_call("io_setup", raw, cap, 32), "io_setup(0x1, 0x2, 0x3, 0x4, 0x5, 0x6");
	// Hex words of every width, odd and even digit counts, 0 and the largest.
	const uint64_t widths[6] = {0, 0xf, 0x10, 0xabc, 0x7ffd12345678, UINT64_MAX};
	EXPECT_EQ(format_call("io_setup", widths, cap, 32),
	          "io_setup(0, 0xf, 0x10, 0xabc, 0x7ffd12345678, 0xffffffffffffffff");
	// Numbers next to strings: NULL, AT_FDCWD, negative and unsigned ones.
	const uint64_t at_args[6] = {static_cast<uint64_t>(AT_FDCWD), 0x5000, 0, UINT64_MAX};
	EXPECT_EQ(format_call("readlinkat", at_args, cap, 32),
	          "readlinkat(AT_FDCWD, \"/etc/passwd\", NULL, 18446744073709551615");
	const uint64_t seek_args[6] = {static_cast<uint64_t>(-1), static_cast<uint64_t>(-5), 7};
	EXPECT_EQ(format_call("lseek", seek_args, cap, 32), "lseek(-1, -5, 7");
	// A path is shown whole, argv strings are cut at -s.
	utrace::CapturedArgs ex;
	ex.strings[0] = utrace::CapturedString{"/bin/echo-with-a-long-name", false, false};
	utrace::CapturedArgv argv;
	argv.elements = {{"echo", false, false}, {"0123456789", false, false}};
	ex.argvs[1] = argv;
	const uint64_t exec_args[6] = {0x1000, 0x2000, 0x7ffe1000};
	EXPECT_EQ(format_call("execve", exec_args, ex, 4),
	          "execve(\"/bin/echo-with-a-long-name\", [\"echo\", \"0123\"...], 0x7ffe1000");
	ex.argvs[1]->truncated = true;
	EXPECT_EQ(format_call("execve", exec_args, ex, 32),
	          "execve(\"/bin/echo-with-a-long-name\", [\"echo\", \"0123456789\", ...], "
	          "0x7ffe1000");
}

// Records as the module writes them.
Record entry(pid_t tid, int nr, std::initializer_list<uint64_t> args, uint64_t t,
             int64_t strings = 0)
{
	Record r;
	r.type = RecordType::Event;
	r.event = Event::SyscallEntry;
	r.tid = tid;
	r.syscall_nr = nr;
	size_t i = 0;
	for (auto a : args)
		r.args[i++] = a;
	r.time_ns = t;
	r.code = strings;
	return r;
}

Record exit_rec(pid_t tid, int nr, int64_t ret, uint64_t t)
{
	Record r;
	r.type = RecordType::Event;
	r.event = Event::SyscallExit;
	r.tid = tid;
	r.syscall_nr = nr;
	r.retval = ret;
	r.time_ns = t;
	return r;
}

Record event(pid_t tid, Event e, int64_t code = 0)
{
	Record r;
	r.type = RecordType::Event;
	r.event = e;
	r.tid = tid;
	r.code = code;
	return r;
}

Record string_rec(pid_t tid, unsigned arg, std::string_view bytes, uint32_t flags,
                  unsigned index = 0)
{
	utrace_record_data d{};
	d.type = UTRACE_RECORD_STRING;
	d.arg = arg;
	d.tid = tid;
	d.index = static_cast<uint16_t>(index);
	d.len = static_cast<uint16_t>(bytes.size());
	d.flags = flags;
	std::memcpy(d.data, bytes.data(), bytes.size());
	Record r;
	std::memcpy(static_cast<void *>(&r), &d, sizeof(r));
	return r;
}

Record lost(uint64_t n)
{
	Record r;
	r.type = RecordType::Lost;
	r.code = static_cast<int64_t>(n);
	return r;
}

std::string run(Options opts, const std::vector<Record> &records)
{
	char *buf = nullptr;
	size_t len = 0;
	std::FILE *f = open_memstream(&buf, &len);
	{
		Printer p(x86(), opts, f);
		for (const auto &r : records)
			p.record(r);
		p.finish();
	}
	std::fclose(f);
	std::string out(buf, len);
	std::free(buf);
	return out;
}

constexpr uint64_t kFdcwd = static_cast<uint64_t>(AT_FDCWD);

TEST(TracePrinter, PairsEntryAndExitIntoOneLine)
{
	const auto out =
	        run({}, {entry(10, 257, {kFdcwd, 0x5000, O_RDONLY | O_CLOEXEC}, 100, 1),
	                 string_rec(10, 1, "/etc/passwd", 0), exit_rec(10, 257, 3, 250),
	                 entry(10, 257, {kFdcwd, 0x6000, O_RDONLY}, 300, 1),
	                 string_rec(10, 1, "/nonexistent", 0), exit_rec(10, 257, -ENOENT, 400),
	                 entry(10, 231, {1}, 500), event(10, Event::Exit, 1 << 8),
	                 event(10, Event::Death, SIGCHLD)});
	EXPECT_EQ(out, "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3\n"
	               "openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file "
	               "or directory)\n"
	               "exit_group(1) = ?\n"
	               "+++ exited with 1 +++\n");
}

TEST(TracePrinter, StringsSplitOverRecordsAndReadsAreJoined)
{
	// A 100-byte path: two records (MORE), and the second comes in the
	// next read() (the printer is fed one record at a time anyway).
	const std::string path = "/" + std::string(99, 'a');
	const auto out =
	        run({}, {entry(10, 257, {kFdcwd, 0x5000, O_RDONLY}, 100, 2),
	                 string_rec(10, 1, std::string_view(path).substr(0, 96), UTRACE_DATA_MORE),
	                 string_rec(10, 1, std::string_view(path).substr(96), 0),
	                 exit_rec(10, 257, 3, 200)});
	EXPECT_EQ(out, "openat(AT_FDCWD, \"" + path + "\", O_RDONLY) = 3\n");
}

TEST(TracePrinter, ExecveShowsPathAndArgv)
{
	const auto out = run({}, {entry(10, 59, {0x1000, 0x2000, 0x7ffe0000}, 100, 4),
	                          string_rec(10, 0, "/bin/sh", 0),
	                          string_rec(10, 1, "sh", UTRACE_DATA_ARGV, 0),
	                          string_rec(10, 1, "-c", UTRACE_DATA_ARGV, 1),
	                          string_rec(10, 1, "", UTRACE_DATA_ARGV | UTRACE_DATA_ARGV_END, 2),
	                          exit_rec(10, 59, 0, 200)});
	EXPECT_EQ(out, "execve(\"/bin/sh\", [\"sh\", \"-c\"], 0x7ffe0000) = 0\n");
}

TEST(TracePrinter, AFaultedPathIsShownAsItsAddress)
{
	const auto out = run({}, {entry(10, 257, {kFdcwd, 0x10, O_RDONLY}, 100, 1),
	                          string_rec(10, 1, "", UTRACE_DATA_FAULT),
	                          exit_rec(10, 257, -EFAULT, 200)});
	EXPECT_EQ(out, "openat(AT_FDCWD, 0x10, O_RDONLY) = -1 EFAULT (Bad address)\n");
}

TEST(TracePrinter, InterleavedThreadsAreUnfinishedAndResumed)
{
	Options o;
	o.follow = true;
	const auto out = run(o, {entry(10, 0, {3, 0x1000, 10}, 100), exit_rec(10, 0, 10, 110),
	                         entry(10, 0, {3, 0x1000, 10}, 120), entry(11, 3, {4}, 130),
	                         exit_rec(11, 3, 0, 140), exit_rec(10, 0, 5, 150)});
	EXPECT_EQ(out, "read(3, 0x1000, 10) = 10\n"
	               "read(3, 0x1000, 10 <unfinished ...>\n"
	               "[pid    11] close(4) = 0\n"
	               "[pid    10] <... read resumed>) = 5\n");
	// With -o FILE and -f: strace's "PID " prefix on every line.
	o.to_file = true;
	const auto file = run(
	        o, {entry(10, 3, {4}, 100), exit_rec(10, 3, 0, 110), event(10, Event::Exit, 9)});
	EXPECT_EQ(file, "10    close(4) = 0\n10    +++ killed by SIGKILL +++\n");
}

// The reader drained the ring in the middle of a call (one that blocks):
// its entry is out at once, as strace shows it, and the line is completed
// by its exit, or cut by another thread's line.  Until the ring is drained,
// nothing: lines go to the FILE then (idle()), not one by one, and a
// call's line is made once, with its exit.
TEST(TracePrinter, ADrainedRingShowsTheCallInProgress)
{
	char *buf = nullptr;
	size_t len = 0;
	std::FILE *f = open_memstream(&buf, &len);
	std::vector<std::string> seen;
	const auto now = [&] {
		std::fflush(f);
		seen.emplace_back(buf, len);
	};
	{
		Options o;
		o.follow = true;
		Printer p(x86(), o, f);
		p.record(entry(10, 0, {0, 0x1000, 10}, 100));
		now();
		p.idle();
		now();
		p.record(exit_rec(10, 0, 4, 110));
		p.record(entry(10, 0, {0, 0x1000, 10}, 120));
		p.idle();
		p.idle(); // nothing more to show
		now();
		p.record(entry(11, 3, {4}, 130));
		p.record(exit_rec(11, 3, 0, 140));
		p.record(exit_rec(10, 0, 5, 150));
		p.record(entry(10, 3, {0}, 160));
		now(); // not drained yet: nothing since the last drain
		p.idle();
		now();
		p.record(exit_rec(10, 3, 0, 170));
		p.finish();
	}
	std::fclose(f);
	const std::string out(buf, len);
	std::free(buf);
	ASSERT_EQ(seen.size(), 5U);
	EXPECT_EQ(seen[0], "");
	EXPECT_EQ(seen[1], "read(0, 0x1000, 10");
	EXPECT_EQ(seen[2], "read(0, 0x1000, 10) = 4\nread(0, 0x1000, 10");
	EXPECT_EQ(out, "read(0, 0x1000, 10) = 4\n"
	               "read(0, 0x1000, 10 <unfinished ...>\n"
	               "[pid    11] close(4) = 0\n"
	               "[pid    10] <... read resumed>) = 5\n"
	               "[pid    10] close(0) = 0\n");
	EXPECT_EQ(seen[3], seen[2]);
	EXPECT_EQ(seen[4], out.substr(0, out.size() - std::string(") = 0\n").size()));
}

// Lines are kept and written in batches (at 64 KiB, at idle(), at the
// end), in a buffer that grows: many lines, from two threads with their
// prefixes, an unfinished call in each batch, come out whole and in order.
TEST(TracePrinter, ManyLinesComeOutInOrder)
{
	Options o;
	o.follow = true;
	o.to_file = true;
	std::vector<Record> records;
	std::string want;
	constexpr int kRounds = 5000; // some 450 KB of lines
	for (int i = 0; i < kRounds; i++) {
		const auto t = static_cast<uint64_t>(i) * 10;
		records.push_back(entry(10, 0, {0, 0x1000, 10}, t));
		records.push_back(entry(11, 3, {static_cast<uint64_t>(i)}, t + 1));
		records.push_back(exit_rec(11, 3, 0, t + 2));
		records.push_back(exit_rec(10, 0, i, t + 3));
		want += "10    read(0, 0x1000, 10 <unfinished ...>\n";
		want += "11    close(" + std::to_string(i) + ") = 0\n";
		want += "10    <... read resumed>) = " + std::to_string(i) + "\n";
	}
	EXPECT_EQ(run(o, records), want);
}

// write_lines() writes the whole lines made so far, not an open line's
// start, and leaves the output as it would have been.
TEST(TracePrinter, WriteLinesLeavesAnOpenLineOpen)
{
	char *buf = nullptr;
	size_t len = 0;
	std::FILE *f = open_memstream(&buf, &len);
	std::string at_write;
	{
		Printer p(x86(), Options{}, f);
		p.record(entry(10, 3, {4}, 100));
		p.record(exit_rec(10, 3, 0, 110));
		p.record(entry(11, 0, {0, 0x1000, 10}, 120));
		p.record(entry(12, 3, {5}, 130)); // 11's line is opened, unfinished
		p.write_lines();
		std::fflush(f);
		at_write.assign(buf, len);
		p.record(exit_rec(12, 3, 0, 140));
		p.record(exit_rec(11, 0, 4, 150));
		p.write_lines(); // (nothing open: all of it)
		p.finish();
	}
	std::fclose(f);
	const std::string out(buf, len);
	std::free(buf);
	EXPECT_EQ(at_write, "close(4) = 0\n");
	EXPECT_EQ(out, "close(4) = 0\n"
	               "[pid    11] read(0, 0x1000, 10 <unfinished ...>\n"
	               "[pid    12] close(5) = 0\n"
	               "[pid    11] <... read resumed>) = 4\n");
}

// LineBuffer: room made past what it has keeps what it has.
TEST(TraceLineBuffer, GrowsAndKeepsItsText)
{
	LineBuffer b;
	b += "abc";
	char *p = b.room(100000);
	std::fill_n(p, 100000, 'x');
	b.commit(p + 100000);
	b += 'd';
	ASSERT_EQ(b.size(), 100004U);
	EXPECT_EQ(b.view().substr(0, 4), "abcx");
	EXPECT_EQ(b.view().substr(99999), "xxxxd");
	b.clear();
	EXPECT_EQ(b.size(), 0U);
}

// A number the table does not know (a newer kernel's call): named by its
// number, six hex arguments, on the entry's line and when resumed.
TEST(TracePrinter, AnUnknownCallIsNamedByItsNumber)
{
	Options o;
	o.follow = true;
	const auto out = run(o, {entry(10, 1000, {1, 0x20}, 100), entry(11, 3, {4}, 110),
	                         exit_rec(11, 3, 0, 120), exit_rec(10, 1000, -ENOSYS, 130)});
	EXPECT_EQ(out, "syscall_1000(0x1, 0x20, 0, 0, 0, 0 <unfinished ...>\n"
	               "[pid    11] close(4) = 0\n"
	               "[pid    10] <... syscall_1000 resumed>) = -1 ENOSYS (Function not "
	               "implemented)\n");
}

TEST(TracePrinter, SignalsAreShownWithTheirCode)
{
	Record sig = event(10, Event::Signal);
	sig.signo = SIGCHLD;
	sig.si_code = CLD_EXITED;
	Record none = event(10, Event::Signal); // a handler report: no signal
	const auto out = run({}, {sig, none});
	EXPECT_EQ(out, "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---\n");
}

TEST(TracePrinter, JsonIsOneObjectPerEvent)
{
	Options o;
	o.json = true;
	const auto out = run(o, {entry(10, 257, {kFdcwd, 0x5000, O_RDONLY}, 100, 1),
	                         string_rec(10, 1, "/x\"y", 0), exit_rec(10, 257, -ENOENT, 350),
	                         lost(7), event(10, Event::Exit, 0)});
	std::vector<nlohmann::json> lines;
	size_t start = 0;
	for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
		lines.push_back(nlohmann::json::parse(out.substr(start, nl - start)));
	ASSERT_EQ(lines.size(), 3U) << out;
	EXPECT_EQ(lines[0]["type"], "syscall");
	EXPECT_EQ(lines[0]["syscall"], "openat");
	EXPECT_EQ(lines[0]["tid"], 10);
	EXPECT_EQ(lines[0]["retval"], -ENOENT);
	EXPECT_EQ(lines[0]["error"], "ENOENT");
	EXPECT_EQ(lines[0]["duration_ns"], 250);
	EXPECT_EQ(lines[0]["args"][1], "\"/x\\\"y\"");
	EXPECT_EQ(lines[0]["strings"]["1"], "/x\"y");
	EXPECT_EQ(lines[1]["type"], "lost");
	EXPECT_EQ(lines[1]["count"], 7);
	EXPECT_EQ(lines[2]["type"], "exit");
	EXPECT_EQ(lines[2]["status"], 0);
}

TEST(TracePrinter, SummaryCountsCallsErrorsAndTime)
{
	Options o;
	o.summary = true;
	Printer *seen = nullptr;
	char *buf = nullptr;
	size_t len = 0;
	std::FILE *f = open_memstream(&buf, &len);
	Printer p(x86(), o, f);
	seen = &p;
	for (const auto &r :
	     {entry(10, 0, {3, 0, 1}, 0), exit_rec(10, 0, 1, 3000), entry(10, 0, {3, 0, 1}, 4000),
	      exit_rec(10, 0, -EINTR, 5000), entry(10, 3, {3}, 6000), exit_rec(10, 3, 0, 12000),
	      // Numbers the table does not know, one past the
	      // summary's index by number: counted by name.
	      entry(10, 999, {}, 13000), exit_rec(10, 999, 0, 14000), entry(10, 5000, {}, 15000),
	      exit_rec(10, 5000, 0, 16000), entry(10, 999, {}, 17000), exit_rec(10, 999, 0, 18000),
	      lost(5)})
		p.record(r);
	p.finish();
	std::fclose(f);
	const std::string out(buf, len);
	std::free(buf);
	EXPECT_EQ(seen->lost(), 5U);
	EXPECT_EQ(out, "% time     seconds  usecs/call     calls    errors syscall\n"
	               "------ ----------- ----------- --------- --------- ----------------\n"
	               " 46.15    0.000006           6         1           close\n"
	               " 30.77    0.000004           2         2         1 read\n"
	               " 15.38    0.000002           1         2           syscall_999\n"
	               "  7.69    0.000001           1         1           syscall_5000\n"
	               "------ ----------- ----------- --------- --------- ----------------\n"
	               "100.00    0.000013                     6         1 total\n"
	               "5 records lost (the ring was full): the counts are short\n");
}

TEST(TracePrinter, ACallThatNeverReturnedEndsWithAQuestionMark)
{
	const auto out = run({}, {entry(10, 0, {0, 0x1000, 1}, 100)});
	EXPECT_EQ(out, "read(0, 0x1000, 1) = ?\n");
}

} // namespace
