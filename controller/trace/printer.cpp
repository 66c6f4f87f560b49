// The Printer: records in ring order to strace-like lines, JSON lines, or
// the -c table.
#include <algorithm>
#include <array>
#include <charconv>
#include <cinttypes>
#include <csignal>
#include <cstring>
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

// A call's time, entry to exit record (0 if the clock read them out of order).
uint64_t elapsed(uint64_t entry_ns, uint64_t exit_ns)
{
	return exit_ns >= entry_ns ? exit_ns - entry_ns : 0;
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

Printer::~Printer()
{
	// Lines made and not written yet (finish() writes them; a trace that
	// ended otherwise, by an error, still shows what it had).
	if (text_.size() != 0)
		write_text();
}

Printer::Printer(const SyscallTable &table, Options opts, std::FILE *out)
    : table_(table), opts_(opts), out_(out)
{
	// Looked up by number at every call, not by name.
	calls_.resize(static_cast<size_t>(table.size()));
	for (int nr = 0; nr < table.size(); nr++) {
		auto &c = calls_[static_cast<size_t>(nr)];
		c.name = table.name(nr);
		if (!c.name.empty())
			c.spec = syscall_spec(c.name);
		if (c.name.size() <= c.padded.size())
			std::copy(c.name.begin(), c.name.end(), c.padded.begin());
	}
}

// Number @nr's entry in calls_, or nullptr for one the table does not know.
const Printer::Call *Printer::call_of(int64_t nr) const
{
	if (nr < 0 || static_cast<size_t>(nr) >= calls_.size())
		return nullptr;
	const Call *c = &calls_[static_cast<size_t>(nr)];
	return c->name.empty() ? nullptr : c;
}

// The table's name, or "syscall_NR" made in @unknown (a call it does not know).
std::string_view Printer::name_of(int64_t nr, std::string &unknown) const
{
	if (const Call *c = call_of(nr))
		return c->name;
	unknown = "syscall_" + std::to_string(nr);
	return unknown;
}

const SyscallSpec *Printer::spec_of(int64_t nr) const
{
	const Call *c = call_of(nr);
	return c != nullptr ? c->spec : nullptr;
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
[[gnu::always_inline]] inline void Printer::prefix(LineBuffer &out, pid_t tid)
{
	if (!(opts_.follow && opts_.to_file) && !many_tids_)
		return;
	if (prefix_tid_ != tid)
		make_prefix(tid);
	out.append_short(prefix_, prefix_len_);
}

void Printer::make_prefix(pid_t tid)
{
	std::array<char, 16> digits{};
	const auto res = std::to_chars(digits.begin(), digits.end(), tid);
	const std::string_view n(digits.data(), res.ptr - digits.begin());
	const size_t pad = n.size() < 5 ? 5 - n.size() : 0;
	std::string p;
	if (opts_.follow && opts_.to_file)
		p.append(n).append(pad + 1, ' ');
	else
		p.append("[pid ").append(pad, ' ').append(n).append("] ");
	// At most "[pid " + 10 digits + "] ".
	std::copy(p.begin(), p.end(), prefix_.begin());
	prefix_len_ = p.size();
	prefix_tid_ = tid;
}

void Printer::line_start(pid_t tid)
{
	close_open_line();
	prefix(text_, tid);
}

[[gnu::always_inline]] inline Printer::Pending &Printer::pending_of(pid_t tid)
{
	if (last_ == nullptr || last_tid_ != tid) {
		last_ = &pending_[tid];
		last_tid_ = tid;
	}
	return *last_;
}

// A line was ended: the text goes to the FILE once there is a fair
// amount of it (or at idle() or finish()), not per line.
void Printer::line_done()
{
	constexpr size_t kWriteAt = size_t{64} * 1024;
	if (text_.size() >= kWriteAt)
		write_text();
}

void Printer::write_text()
{
	// This thread's own FILE: no lock to take.
	fwrite_unlocked(text_.view().data(), 1, text_.size(), out_);
	text_.clear();
	open_at_ = 0;
}

void Printer::write_lines()
{
	const size_t n = open_tid_ ? open_at_ : text_.size();
	if (n == 0)
		return;
	fwrite_unlocked(text_.view().data(), 1, n, out_);
	text_.drop_front(n);
	open_at_ = 0;
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
		text_ += " <unfinished ...>\n";
		open_tid_.reset();
		line_done();
	}
}

void Printer::idle()
{
	if (strings_due_ > 0)
		return; // the entry's strings are still to come
	flush_entry();
	// An open line goes out as far as it is; its exit is appended later.
	if (text_.size() != 0)
		write_text();
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
	open_at_ = text_.size();
	prefix(text_, tid);
	std::string unknown;
	append_call(text_, name_of(p->nr, unknown), spec_of(p->nr), p->args, p->cap, opts_.strsize);
	// Completed by its exit if that comes next, else ended as
	// unfinished when something else is printed.
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
	if (entry_tid_) {
		if (r.event == Event::SyscallExit && r.type == RecordType::Event &&
		    *entry_tid_ == r.tid && print_call(r))
			return;
		flush_entry();
	}
	if (r.type == RecordType::Lost) {
		lost(r);
		return;
	}
	if (r.type != RecordType::Event)
		return;
	note_tid(r.tid);
	switch (r.event) {
	case Event::SyscallEntry:
		syscall_entry(r);
		break;
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

void Printer::syscall_entry(const Record &r)
{
	// Each thread's entry is kept and reused: no allocation per call.
	Pending &p = pending_of(r.tid);
	if (p.active) // an entry without its exit: it never returned
		print_exit(r.tid, p, std::nullopt, 0);
	p.nr = r.syscall_nr;
	static_assert(sizeof(p.args) == sizeof(r.args));
	std::memcpy(p.args, r.args, sizeof(p.args)); // (std::copy's was a call)
	p.entry_ns = r.time_ns;
	if (p.captured) {
		p.cap = {};
		p.captured = false;
	}
	p.shown = false;
	p.active = true;
	entry_tid_ = r.tid;
	strings_due_ = r.strings_following();
}

void Printer::lost(const Record &r)
{
	lost_ += r.lost();
	if (opts_.json && !opts_.summary) {
		nlohmann::json j = {{"type", "lost"}, {"time_ns", r.time_ns}, {"count", r.lost()}};
		std::fprintf(out_, "%s\n", j.dump().c_str());
	}
}

// The commonest line: a known call's exit right after its entry (the
// entry not shown yet, its strings in), made whole at once, or counted
// with -c.  False if it is not that case, for the general way:
// flush_entry(), then the exit.
bool Printer::print_call(const Record &r)
{
	// pending_of() made last_ the entry's, and nothing was printed since.
	if (opts_.json || last_ == nullptr || last_tid_ != r.tid)
		return false;
	Pending &p = *last_;
	const Call *c = call_of(p.nr);
	if (c == nullptr || !p.active || p.shown)
		return false;
	entry_tid_.reset();
	p.active = false;
	if (opts_.summary) {
		summary_.add(p.nr, c->name, elapsed(p.entry_ns, r.time_ns), is_error(r.retval));
		return true;
	}
	close_open_line();
	prefix(text_, r.tid);
	if (c->name.size() <= c->padded.size())
		text_.append_short(c->padded, c->name.size());
	else
		text_ += c->name;
	append_args(text_, c->spec, p.args, p.cap, opts_.strsize);
	end_call_line(r.retval, c->spec != nullptr && c->spec->hex_ret);
	return true;
}

// ") = RET\n" (or "= ?" for a call that never returned) ends a call's line.
[[gnu::always_inline]] inline void Printer::end_call_line(const std::optional<int64_t> &ret,
                                                          bool hex_ret)
{
	text_ += ") = ";
	if (ret)
		append_return(text_, *ret, hex_ret);
	else
		text_ += '?';
	text_ += '\n';
	line_done();
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
		open_tid_.reset(); // completed at the end of text_ (or after what idle() wrote)
	} else {
		close_open_line();
		prefix(text_, tid);
		if (p.shown) {
			text_ += "<... ";
			text_ += name;
			text_ += " resumed>";
		} else { // its entry was not seen (attached in the call)
			append_call(text_, name, spec, p.args, p.cap, opts_.strsize);
		}
	}
	end_call_line(ret, hex_ret);
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
	print_exit(r.tid, *pend, r.retval, elapsed(pend->entry_ns, r.time_ns));
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
	if (sig != 0) {
		text_ += "+++ killed by ";
		text_ += signal_name(sig);
		text_ += (status & 0x80) ? " (core dumped) +++\n" : " +++\n";
	} else {
		text_ += "+++ exited with " + std::to_string((status >> 8) & 0xff) + " +++\n";
	}
	line_done();
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
	text_ += "--- " + name + " {si_signo=" + name + ", si_code=" + code + "} ---\n";
	line_done();
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
	write_text();
	if (opts_.summary)
		summary_.print(out_, lost_);
	std::fflush(out_);
}

} // namespace utrace::trace
