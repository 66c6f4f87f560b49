// The Printer: records in ring order to strace-like lines, JSON lines, or
// the -c table.
#include <algorithm>
#include <array>
#include <charconv>
#include <cinttypes>
#include <csignal>
#include <string_view>
#include <nlohmann/json.hpp>

#include "utrace/error.hpp"
#include "utrace/trace.hpp"

namespace utrace::trace
{

namespace
{

bool is_error(int64_t ret)
{
	return ret < 0 && ret >= -4095;
}

std::string si_code_name(int sig, int code)
{
	switch (code) {
	case SI_USER:
		return "SI_USER";
	case SI_KERNEL:
		return "SI_KERNEL";
	case SI_QUEUE:
		return "SI_QUEUE";
	case SI_TIMER:
		return "SI_TIMER";
	case SI_MESGQ:
		return "SI_MESGQ";
	case SI_ASYNCIO:
		return "SI_ASYNCIO";
	case SI_SIGIO:
		return "SI_SIGIO";
	case SI_TKILL:
		return "SI_TKILL";
	default:
		break;
	}
	if (sig == SIGCHLD) {
		static const char *const cld[] = {"CLD_EXITED",  "CLD_KILLED",  "CLD_DUMPED",
		                                  "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"};
		if (code >= 1 && code <= 6)
			return cld[code - 1];
	}
	if (sig == SIGSEGV && (code == SEGV_MAPERR || code == SEGV_ACCERR))
		return code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_ACCERR";
	return std::to_string(code);
}

} // namespace

void Summary::add(int64_t nr, std::string_view name, uint64_t ns, bool error)
{
	// By number, not by a string compare per call; numbers as far as a
	// table goes (a few hundred), and not beyond.
	constexpr int64_t kIndexed = 4096;
	const bool indexed = nr >= 0 && nr < kIndexed;
	const auto i = static_cast<size_t>(nr);
	Row *row = indexed && i < by_nr_.size() ? by_nr_[i] : nullptr;
	if (row == nullptr) {
		auto it = rows_.find(name);
		if (it == rows_.end())
			it = rows_.emplace(std::string(name), Row{}).first;
		row = &it->second;
		if (indexed) {
			if (i >= by_nr_.size())
				by_nr_.resize(i + 1);
			by_nr_[i] = row;
		}
	}
	row->calls++;
	row->errors += error ? 1 : 0;
	row->ns += ns;
}

uint64_t Summary::calls() const
{
	uint64_t n = 0;
	for (const auto &[name, row] : rows_)
		n += row.calls;
	return n;
}

void Summary::print(std::FILE *out, uint64_t lost) const
{
	std::vector<std::pair<std::string, Row>> rows(rows_.begin(), rows_.end());
	std::stable_sort(rows.begin(), rows.end(),
	                 [](const auto &a, const auto &b) { return a.second.ns > b.second.ns; });
	uint64_t total_ns = 0, calls = 0, errors = 0;
	for (const auto &[name, row] : rows) {
		total_ns += row.ns;
		calls += row.calls;
		errors += row.errors;
	}
	const char *dashes =
	        "------ ----------- ----------- --------- --------- ----------------\n";
	std::fprintf(out, "%6.6s %11.11s %11.11s %9.9s %9.9s %s\n", "% time", "seconds",
	             "usecs/call", "calls", "errors", "syscall");
	std::fputs(dashes, out);
	for (const auto &[name, row] : rows) {
		const double pct = total_ns ? 100.0 * static_cast<double>(row.ns) /
		                                      static_cast<double>(total_ns)
		                            : 0.0;
		std::fprintf(out, "%6.2f %11.6f %11" PRIu64 " %9" PRIu64 " ", pct,
		             static_cast<double>(row.ns) / 1e9, row.ns / row.calls / 1000,
		             row.calls);
		if (row.errors)
			std::fprintf(out, "%9" PRIu64, row.errors);
		else
			std::fprintf(out, "%9s", "");
		std::fprintf(out, " %s\n", name.c_str());
	}
	std::fputs(dashes, out);
	std::fprintf(out, "%6.6s %11.6f %11.11s %9" PRIu64 " ", "100.00",
	             static_cast<double>(total_ns) / 1e9, "", calls);
	if (errors)
		std::fprintf(out, "%9" PRIu64, errors);
	else
		std::fprintf(out, "%9s", "");
	std::fprintf(out, " total\n");
	if (lost)
		std::fprintf(out,
		             "%" PRIu64 " records lost (the ring was full): the counts are short\n",
		             lost);
}

Printer::Printer(const SyscallTable &table, Options opts, std::FILE *out)
    : table_(table), opts_(opts), out_(out)
{
	// Looked up by number at every call, not by name.
	specs_.resize(static_cast<size_t>(table.size()));
	for (int nr = 0; nr < table.size(); nr++) {
		const auto name = table.name(nr);
		if (!name.empty())
			specs_[static_cast<size_t>(nr)] = syscall_spec(name);
	}
}

// The table's name, or "syscall_NR" made in @unknown (a call it does not know).
std::string_view Printer::name_of(int64_t nr, std::string &unknown) const
{
	const auto name = table_.name(nr);
	if (!name.empty())
		return name;
	unknown = "syscall_" + std::to_string(nr);
	return unknown;
}

const SyscallSpec *Printer::spec_of(int64_t nr) const
{
	return nr >= 0 && static_cast<size_t>(nr) < specs_.size() ? specs_[static_cast<size_t>(nr)]
	                                                          : nullptr;
}

void Printer::note_tid(pid_t tid)
{
	if (!first_tid_)
		first_tid_ = tid;
	else if (*first_tid_ != tid)
		many_tids_ = true;
}

// "%-5d " with -o, "[pid %5d] " without, appended to @out; not through
// printf, as on every line, and made again only for another thread.
void Printer::prefix(std::string &out, pid_t tid)
{
	const bool file = opts_.follow && opts_.to_file;
	if (!file && !many_tids_)
		return;
	if (prefix_tid_ != tid) {
		std::array<char, 16> digits{};
		const auto res = std::to_chars(digits.begin(), digits.end(), tid);
		const std::string_view n(digits.data(), res.ptr - digits.begin());
		const size_t pad = n.size() < 5 ? 5 - n.size() : 0;
		const char *const spaces = "     "; // (a fill of @pad goes through replace())
		prefix_.clear();
		if (file)
			prefix_.append(n).append(spaces, pad + 1);
		else
			prefix_.append("[pid ").append(spaces, pad).append(n).append("] ");
		prefix_tid_ = tid;
	}
	out += prefix_;
}

void Printer::line_start(pid_t tid)
{
	close_open_line();
	line_.clear();
	prefix(line_, tid);
	write_line();
}

Printer::Pending &Printer::pending_of(pid_t tid)
{
	if (last_ == nullptr || last_tid_ != tid) {
		last_ = &pending_[tid];
		last_tid_ = tid;
	}
	return *last_;
}

void Printer::write_line()
{
	// This thread's own FILE: no lock to take per line.
	fwrite_unlocked(line_.data(), 1, line_.size(), out_);
}

Printer::Pending *Printer::find_pending(pid_t tid)
{
	if (last_ != nullptr && last_tid_ == tid)
		return last_->active ? last_ : nullptr;
	auto it = pending_.find(tid);
	return it != pending_.end() && it->second.active ? &it->second : nullptr;
}

void Printer::close_open_line()
{
	if (open_tid_) {
		line_ += " <unfinished ...>\n";
		write_line();
		open_tid_.reset();
	}
}

void Printer::idle()
{
	if (strings_due_ > 0)
		return; // the entry's strings are still to come
	flush_entry();
	if (open_tid_) {
		write_line();
		line_.clear();
	}
}

void Printer::flush_entry()
{
	if (!entry_tid_)
		return;
	const pid_t tid = *entry_tid_;
	entry_tid_.reset();
	Pending *p = find_pending(tid);
	if (p == nullptr || opts_.json || opts_.summary)
		return;
	close_open_line();
	line_.clear();
	prefix(line_, tid);
	std::string unknown;
	append_call(line_, name_of(p->nr, unknown), spec_of(p->nr), p->args, p->cap, opts_.strsize);
	// Written with its exit if that comes next (one write), or when
	// something else is printed, or idle().
	p->shown = true;
	open_tid_ = tid;
}

void Printer::entry_strings_done()
{
	Pending *p = entry_tid_ ? find_pending(*entry_tid_) : nullptr;
	if (p != nullptr) {
		try {
			p->cap = collect_captures(strings_);
			p->captured = true;
		} catch (const Error &) {
			// Not the group the entry announced (a LOST record cut
			// it): shown without its strings, as addresses.
		}
	}
	strings_.clear();
	strings_due_ = 0;
	flush_entry();
}

void Printer::record(const Record &r)
{
	if (strings_due_ > 0) {
		if (r.type == RecordType::String) {
			strings_.push_back(r);
			if (--strings_due_ == 0)
				entry_strings_done();
			return;
		}
		entry_strings_done();
	}
	flush_entry();
	if (r.type == RecordType::Lost) {
		lost_ += r.lost();
		if (opts_.json && !opts_.summary) {
			nlohmann::json j = {
			        {"type", "lost"}, {"time_ns", r.time_ns}, {"count", r.lost()}};
			std::fprintf(out_, "%s\n", j.dump().c_str());
		}
		return;
	}
	if (r.type != RecordType::Event)
		return;
	note_tid(r.tid);
	switch (r.event) {
	case Event::SyscallEntry: {
		// Each thread's entry is kept and reused: no allocation per call.
		Pending &p = pending_of(r.tid);
		if (p.active) // an entry without its exit: it never returned
			print_exit(r.tid, p, std::nullopt, 0);
		p.nr = r.syscall_nr;
		std::copy(std::begin(r.args), std::end(r.args), std::begin(p.args));
		p.entry_ns = r.time_ns;
		if (p.captured) {
			p.cap = {};
			p.captured = false;
		}
		p.shown = false;
		p.active = true;
		entry_tid_ = r.tid;
		strings_due_ = r.strings_following();
		break;
	}
	case Event::SyscallExit:
		syscall_exit(r);
		break;
	case Event::Exit:
		task_exit(r);
		break;
	case Event::Signal:
	case Event::SignalIgn:
	case Event::SignalStop:
	case Event::SignalTerm:
	case Event::SignalCore:
		signal(r);
		break;
	default:
		break;
	}
}

void Printer::print_exit(pid_t tid, Pending &p, const std::optional<int64_t> &ret, uint64_t ns)
{
	// The common case, the open line of its entry completed, needs no
	// name: it is on the line already.
	const bool continued = !opts_.summary && !opts_.json && open_tid_ == tid && p.shown;
	std::string unknown;
	const std::string_view name = continued ? std::string_view() : name_of(p.nr, unknown);
	const SyscallSpec *spec = spec_of(p.nr);
	const bool hex_ret = spec != nullptr && spec->hex_ret;
	if (opts_.summary) {
		if (ret)
			summary_.add(p.nr, name, ns, is_error(*ret));
		return;
	}
	if (opts_.json) {
		nlohmann::json j = {{"type", "syscall"},
		                    {"time_ns", p.entry_ns},
		                    {"tid", tid},
		                    {"syscall", name},
		                    {"nr", p.nr},
		                    {"args", format_args(name, p.args, p.cap, opts_.strsize)},
		                    {"raw_args", p.args}};
		if (ret) {
			j["retval"] = *ret;
			j["duration_ns"] = ns;
			if (is_error(*ret)) {
				const char *ename = strerrorname_np(static_cast<int>(-*ret));
				j["error"] = ename != nullptr ? ename : std::to_string(-*ret);
			}
		} else {
			j["retval"] = nullptr; // it never returned (exit_group, a kill)
		}
		// Captured strings as bytes (not quoted): paths and argv.
		for (size_t i = 0; i < 6; i++) {
			if (p.cap.strings[i] && !p.cap.strings[i]->fault)
				j["strings"][std::to_string(i)] = p.cap.strings[i]->value;
			if (p.cap.argvs[i]) {
				std::vector<std::string> v;
				for (const auto &e : p.cap.argvs[i]->elements)
					v.push_back(e.value);
				j["argv"] = v;
			}
		}
		std::fprintf(
		        out_, "%s\n",
		        j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
		return;
	}
	if (continued) {
		open_tid_.reset(); // completed in line_, what idle() left of it
	} else {
		close_open_line();
		line_.clear();
		prefix(line_, tid);
		if (p.shown)
			line_.append("<... ").append(name).append(" resumed>");
		else // its entry was not seen (attached in the call)
			append_call(line_, name, spec, p.args, p.cap, opts_.strsize);
	}
	line_.append(") = ", 4);
	if (ret)
		append_return(line_, *ret, hex_ret);
	else
		line_ += '?';
	line_ += '\n';
	write_line();
}

void Printer::syscall_exit(const Record &r)
{
	Pending *pend = find_pending(r.tid);
	if (pend == nullptr) {
		// A new child's return from the fork that made it: strace
		// does not show it either (the parent's line has it).
		const auto name = table_.name(r.syscall_nr);
		if (name == "clone" || name == "clone3" || name == "fork" || name == "vfork")
			return;
		Pending p;
		p.nr = r.syscall_nr;
		std::copy(std::begin(r.args), std::end(r.args), std::begin(p.args));
		p.entry_ns = r.time_ns;
		print_exit(r.tid, p, r.retval, 0);
		return;
	}
	const uint64_t ns = r.time_ns >= pend->entry_ns ? r.time_ns - pend->entry_ns : 0;
	print_exit(r.tid, *pend, r.retval, ns);
	pend->active = false;
}

void Printer::task_exit(const Record &r)
{
	auto it = pending_.find(r.tid);
	if (it != pending_.end()) {
		if (it->second.active)
			print_exit(r.tid, it->second, std::nullopt, 0);
		if (last_ == &it->second)
			last_ = nullptr;
		pending_.erase(it);
	}
	if (opts_.summary)
		return;
	const auto status = static_cast<int>(r.code);
	const int sig = status & 0x7f;
	if (opts_.json) {
		nlohmann::json j = {{"type", "exit"}, {"time_ns", r.time_ns}, {"tid", r.tid}};
		if (sig != 0) {
			j["signal"] = signal_name(sig);
			j["core_dumped"] = (status & 0x80) != 0;
		} else {
			j["status"] = (status >> 8) & 0xff;
		}
		std::fprintf(out_, "%s\n", j.dump().c_str());
		return;
	}
	line_start(r.tid);
	if (sig != 0)
		std::fprintf(out_, "+++ killed by %s%s +++\n", signal_name(sig).c_str(),
		             (status & 0x80) ? " (core dumped)" : "");
	else
		std::fprintf(out_, "+++ exited with %d +++\n", (status >> 8) & 0xff);
}

void Printer::signal(const Record &r)
{
	// signo 0: a report that is no signal (a handler set up, a QUIESCE).
	if (r.signo <= 0 || opts_.summary)
		return;
	const std::string name = signal_name(r.signo);
	const std::string code = si_code_name(r.signo, r.si_code);
	if (opts_.json) {
		nlohmann::json j = {{"type", "signal"},
		                    {"time_ns", r.time_ns},
		                    {"tid", r.tid},
		                    {"signal", name},
		                    {"si_code", code}};
		std::fprintf(out_, "%s\n", j.dump().c_str());
		return;
	}
	line_start(r.tid);
	std::fprintf(out_, "--- %s {si_signo=%s, si_code=%s} ---\n", name.c_str(), name.c_str(),
	             code.c_str());
}

void Printer::finish()
{
	if (strings_due_ > 0)
		entry_strings_done();
	flush_entry();
	for (auto &[tid, p] : pending_)
		if (p.active)
			print_exit(tid, p, std::nullopt, 0);
	pending_.clear();
	last_ = nullptr;
	close_open_line();
	if (opts_.summary)
		summary_.print(out_, lost_);
	std::fflush(out_);
}

} // namespace utrace::trace
