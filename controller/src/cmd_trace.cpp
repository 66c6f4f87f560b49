// utracectl trace: strace on observe-only engines.  The traced threads
// never stop: each system call writes records into the ring of our
// /dev/utrace file, which we read in batches and print (controller/trace).
// -e trace= becomes the engines' syscall table, so a filtered-out call is
// decided in the kernel, before any record.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "process.hpp"
#include "utrace/device.hpp"
#include "utrace/error.hpp"
#include "utrace/trace.hpp"

namespace utracectl
{

namespace
{

using utrace::Event;
using utrace::Record;
using utrace::RecordType;

struct TraceOpts {
	bool follow = false;
	std::vector<pid_t> pids;
	std::string expr = "all";
	bool summary = false;
	bool json = false;
	std::string output;
	size_t strsize = 32;
	uint32_t ring = 16384;
	std::vector<std::string> command;
};

volatile sig_atomic_t g_interrupted = 0;

void on_interrupt(int /*sig*/)
{
	g_interrupted = 1;
}

// A thread that is gone or a zombie (its DEATH record may have been lost
// to a full ring).
bool thread_gone(pid_t tid)
{
	const std::string path = "/proc/" + std::to_string(tid) + "/stat";
	std::FILE *f = std::fopen(path.c_str(), "re");
	if (f == nullptr)
		return true;
	char buf[512];
	const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
	std::fclose(f);
	buf[n] = '\0';
	const char *paren = std::strrchr(buf, ')');
	return paren == nullptr || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X';
}

// As execvp() would find it, so that the trace shows one execve (strace
// does the same search).
std::string resolve(const std::string &cmd)
{
	if (cmd.find('/') != std::string::npos)
		return cmd;
	const char *path = std::getenv("PATH");
	std::string p = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
	size_t start = 0;
	while (start <= p.size()) {
		size_t end = p.find(':', start);
		if (end == std::string::npos)
			end = p.size();
		std::string dir = p.substr(start, end - start);
		if (dir.empty())
			dir = ".";
		std::string full = std::move(dir);
		full += '/';
		full += cmd;
		struct stat st {
		};
		if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
		    ::access(full.c_str(), X_OK) == 0)
			return full;
		start = end + 1;
	}
	throw utrace::Error(ENOENT, "cannot find " + cmd + " in PATH");
}

class Tracer
{
public:
	Tracer(const TraceOpts &o, std::FILE *out)
	    : o_(o), table_(utrace::trace::native_syscalls()),
	      printer_(table_,
	               {.follow = o.follow,
	                .to_file = !o.output.empty(),
	                .json = o.json,
	                .summary = o.summary,
	                .strsize = o.strsize},
	               out)
	{
		const auto traced = utrace::trace::parse_trace_expr(o.expr, table_);
		ktable_ = utrace::trace::kernel_table(traced, table_);
	}

	void attach(pid_t tid)
	{
		using utrace::bit;
		const utrace::EventMask events =
		        bit(Event::SyscallEntry) | bit(Event::SyscallExit) | bit(Event::Exit) |
		        bit(Event::Death) | bit(Event::Exec) | bit(Event::Signal) |
		        bit(Event::SignalIgn) | bit(Event::SignalStop) | bit(Event::SignalTerm) |
		        bit(Event::SignalCore) | (o_.follow ? bit(Event::Clone) : 0);
		if (!ring_)
			ring_.emplace(dev_.create_ring(o_.ring, o_.ring / 4));
		const auto id = dev_.attach_observer(
		        tid, events, 0, o_.follow ? utrace::Inherit::Yes : utrace::Inherit::No);
		// Before the thread runs on (the -- COMMAND child waits on a
		// pipe; a -p thread's first calls may be shown unfiltered).
		dev_.set_syscalls(id, ktable_);
		live_.insert(tid);
	}

	// Until every traced thread is dead (or SIGINT), then the end.
	// @child: the -- COMMAND child, whose records before its exec are
	// utracectl's own (the pipe it waited on).
	void run(std::optional<pid_t> child)
	{
		if (child)
			before_exec_ = *child;
		while (!live_.empty() && !g_interrupted) {
			const size_t n = take(std::chrono::milliseconds(200));
			// Drained: a call in progress shows.
			printer_.idle();
			// Records were lost: a DEATH among them is looked for
			// now, not after a read's timeout (200 ms).
			if (n > 0 && printer_.lost() != swept_lost_) {
				swept_lost_ = printer_.lost();
				sweep();
			}
			if (n == 0) {
				if (ring_->at_end())
					break;
				sweep();
			}
		}
		// What is still in the ring.
		while (take(std::chrono::milliseconds(0)) > 0) {
		}
		printer_.finish();
	}

	[[nodiscard]] uint64_t lost() const { return printer_.lost(); }

private:
	// The records there are, waiting at most @timeout if there are none;
	// how many.  Copied out with read() for a quarter ring's worth of
	// records, then read in place from the mapped ring (no copy), given
	// back every kGiveBack records so that the threads write on: mapping
	// the ring (and unmapping it at the end) costs a page table entry per
	// page, which a short trace does not win back (0.4 ms of ppc64le
	// 6.12's 4 KiB pages against its 5 ms runs), a long one does.  Copying
	// as much as mapping costs, then mapping, is never more than twice the
	// better of the two; a quarter of the default ring's 2 MiB is about
	// that much on real hardware, and less than a ring's copy (2 MiB, some
	// 2 ms) under qemu -icount, which charges rep movsb per byte.
	size_t take(std::chrono::milliseconds timeout)
	{
		if (!ring_->mapped()) {
			const size_t n = ring_->read(buf_, timeout);
			for (size_t i = 0; i < n; i++)
				handle(buf_[i]);
			copied_ += n;
			if (copied_ >= o_.ring / 4)
				ring_->map();
			return n;
		}
		// A store per 64 records: a slot held while its batch is
		// formatted is one the threads cannot write (a small ring).
		constexpr size_t kGiveBack = 64;
		const utrace::RecordSpan span = ring_->peek(timeout);
		size_t done = 0;
		for (size_t i = 0; i < span.size(); i++) {
			handle(span[i]);
			if (++done == kGiveBack) {
				ring_->consume(done);
				done = 0;
			}
		}
		ring_->consume(done);
		return span.size();
	}

	// Threads whose DEATH record a full ring dropped.
	void sweep()
	{
		for (auto it = live_.begin(); it != live_.end();)
			it = thread_gone(*it) ? live_.erase(it) : std::next(it);
	}

	void handle(const Record &r)
	{
		if (r.type == RecordType::Lost) {
			printer_.record(r);
			return;
		}
		if (before_exec_ && r.tid == *before_exec_) {
			const bool exec_entry = r.type == RecordType::Event &&
			                        r.event == Event::SyscallEntry &&
			                        table_.name(r.syscall_nr) == "execve";
			if (exec_entry || (r.type == RecordType::Event && r.event == Event::Exec))
				before_exec_.reset();
			if (!exec_entry)
				return;
		}
		if (r.type == RecordType::Event) {
			if (r.event == Event::Clone) {
				const int64_t child_id = r.inherited_id();
				if (child_id > 0) {
					live_.insert(static_cast<pid_t>(r.code));
				} else if (child_id < 0) {
					// After the lines before it (on stderr too, by default).
					printer_.write_lines();
					std::fprintf(
					        stderr,
					        "utracectl trace: thread %d's child %lld is not "
					        "traced: %s\n",
					        r.tid, static_cast<long long>(r.code),
					        std::strerror(static_cast<int>(-child_id)));
				}
			} else if (r.event == Event::Death) {
				live_.erase(r.tid);
			}
		}
		printer_.record(r);
	}

	const TraceOpts &o_;
	const utrace::trace::SyscallTable &table_;
	utrace::trace::Printer printer_;
	std::vector<uint16_t> ktable_;
	utrace::Device dev_;
	std::optional<utrace::Ring> ring_;
	std::set<pid_t> live_;
	std::optional<pid_t> before_exec_;
	uint64_t swept_lost_ = 0; // lost records when sweep() last looked
	std::vector<Record> buf_ = std::vector<Record>(1024); // take()'s, until the ring is mapped
	uint64_t copied_ = 0;                                 // records read() copied out
};

int trace(const TraceOpts &o)
{
	if (o.pids.empty() && o.command.empty())
		throw utrace::Error(EINVAL, "trace: give -p PID or -- COMMAND");
	if (!o.pids.empty() && !o.command.empty())
		throw utrace::Error(EINVAL, "trace: -p and -- COMMAND exclude each other");
	std::unique_ptr<std::FILE, int (*)(std::FILE *)> file(nullptr, std::fclose);
	std::FILE *out = stderr; // as strace's
	if (!o.output.empty()) {
		file.reset(std::fopen(o.output.c_str(), "we"));
		if (!file)
			utrace::throw_errno(errno, "trace: open " + o.output);
		out = file.get();
	}
	Tracer tracer(o, out);
	struct sigaction sa {
	};
	sa.sa_handler = on_interrupt;
	::sigaction(SIGINT, &sa, nullptr);
	::sigaction(SIGTERM, &sa, nullptr);
	::sigaction(SIGHUP, &sa, nullptr);

	int exit_code = 0;
	if (!o.pids.empty()) {
		for (const pid_t pid : o.pids) {
			for (const pid_t tid : threads_of(pid))
				tracer.attach(tid);
			// As strace says it (scripts wait for it).
			std::fprintf(stderr, "utracectl trace: process %d attached\n", pid);
		}
		tracer.run(std::nullopt);
	} else {
		HeldCommand child(o.command, resolve(o.command[0]), "utracectl trace");
		tracer.attach(child.pid());
		child.go("trace: start the command");
		tracer.run(child.pid());
		exit_code = child.wait();
	}
	if (tracer.lost() > 0)
		std::fprintf(stderr,
		             "utracectl trace: %llu records lost: the ring was full (a larger "
		             "--ring, or a narrower -e trace=, keeps up)\n",
		             static_cast<unsigned long long>(tracer.lost()));
	return exit_code;
}

} // namespace

void add_trace_commands(CLI::App &app, int &exit_code)
{
	auto o = std::make_shared<TraceOpts>();
	auto *cmd = app.add_subcommand(
	        "trace",
	        "Trace system calls like strace, on observe-only engines: the traced threads "
	        "never stop, records are read in batches from a ring");
	cmd->add_flag("-f", o->follow,
	              "Follow children and threads (each inherits the engine when it is created)");
	cmd->add_option("-p", o->pids, "Trace every thread of process PID (repeatable)")
	        ->type_name("PID")
	        ->allow_extra_args(false);
	cmd->add_option("-e", o->expr,
	                "trace=SET: system calls by name or class (%file, %process, %network, "
	                "%signal, %ipc, %desc, %memory), comma-separated, all, none, a leading "
	                "! negates; filtered in the kernel")
	        ->type_name("SET")
	        ->capture_default_str();
	cmd->add_flag("-c", o->summary,
	              "Print only a summary: calls, errors and time (entry to exit record, "
	              "wall clock) per system call");
	cmd->add_flag("--json", o->json,
	              "One JSON object per line: per system call at its exit (args, retval, "
	              "error, duration_ns), per signal, exit and lost-record count");
	cmd->add_option("-o", o->output, "Write the trace to FILE (default: standard error)")
	        ->type_name("FILE");
	cmd->add_option("-s", o->strsize,
	                "Show at most STRSIZE bytes of argv strings (paths whole)")
	        ->type_name("STRSIZE")
	        ->capture_default_str();
	cmd->add_option("--ring", o->ring,
	                "Ring size in records (a power of two, 2..65536; 128 bytes each)")
	        ->type_name("RECORDS")
	        ->capture_default_str();
	cmd->add_option("command", o->command, "Command to start and trace (after --)");
	cmd->footer("Records a full ring drops are counted and reported on standard error at "
	            "the end (and in -c and --json). Strings are captured by the kernel at "
	            "entry: paths up to 256 bytes, argv up to 32 elements.");
	cmd->callback([o, &exit_code] { exit_code = trace(*o); });
}

} // namespace utracectl
