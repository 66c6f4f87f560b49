// conformance: the differential ptrace conformance suite.
//
//   conformance list                       scenario names, one a line
//   conformance run [--only NAME]...       run under the current backend, print traces
//   conformance check [--differences FILE] [--known FILE] [--only NAME]... [--inject NAME]
//                     [--save DIR] [--repeat N]
//       run every scenario under the native backend and the utrace backend
//       (/sys/module/utrace/parameters/ptrace_backend), compare, print a
//       unified diff per mismatch; without the knob, run native twice and
//       compare (determinism check).  Exit 0 only when every trace matches,
//       except scenarios listed in the --known file (open bugs of the
//       utrace backend, each with its reason): their mismatch is printed as
//       KNOWN and does not fail the run, their utrace run has a 10 s time
//       limit, and a listed scenario that matches fails the run (FIXED), so
//       the list stays true.  --repeat N runs the whole check N times (a
//       flake hunt, with --only): every run is reported, then the number of
//       failed runs and each scenario's count of failures.
//   conformance compare A B [--differences FILE] [--arch ARCH]
//       compare two saved runs (the output of "run")
//
// Each scenario runs in its own process (the tracer), in its own process
// group, with SIGCHLD blocked and a time limit; the runner is a child
// subreaper, so whatever the scenario leaves behind is killed and reaped.
#include "arch.hpp"
#include "compare.hpp"
#include "trace.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

constexpr const char *kKnob = "/sys/module/utrace/parameters/ptrace_backend";
constexpr unsigned kScenarioTimeout = 60; // seconds, TCG guests included
constexpr unsigned kKnownTimeout = 10;    // a known bug's utrace run (a hang costs this)

volatile sig_atomic_t g_alarm = 0;
void on_alarm(int)
{
	g_alarm = 1;
}

struct RunResult {
	conf::Traces traces;
	std::vector<std::string> errors; // scenarios that failed to run
};

std::string status_text(int st)
{
	if (WIFEXITED(st))
		return "exited " + std::to_string(WEXITSTATUS(st));
	if (WIFSIGNALED(st))
		return "killed by " + conf::sig_name(WTERMSIG(st));
	return "status " + std::to_string(st);
}

// Kill and reap everything a scenario left: its process group, and any
// orphan that was reparented to us (we are a subreaper).
void reap_leftovers(pid_t pgid)
{
	for (int i = 0; i < 10000; i++) {
		kill(-pgid, SIGKILL);
		int st;
		pid_t r = waitpid(-1, &st, __WALL | WNOHANG);
		if (r > 0)
			continue;
		if (r < 0 && errno == ECHILD)
			return;
		// Children that left the group: find them by their parent.
		if (DIR *d = opendir("/proc")) {
			while (dirent *e = readdir(d)) {
				pid_t p = static_cast<pid_t>(atoi(e->d_name));
				if (p <= 0)
					continue;
				char path[64];
				snprintf(path, sizeof path, "/proc/%d/stat", p);
				FILE *f = fopen(path, "re");
				if (!f)
					continue;
				int ppid = 0;
				if (fscanf(f, "%*d (%*[^)]) %*c %d", &ppid) == 1 &&
				    ppid == getpid())
					kill(p, SIGKILL);
				fclose(f);
			}
			closedir(d);
		}
		usleep(1000);
	}
	fprintf(stderr, "conformance: could not reap what a scenario left behind\n");
}

std::vector<std::string> run_one(const conf::Scenario &s, bool inject, unsigned timeout,
                                 std::string &error)
{
	// O_APPEND: the scenario's processes write lines to the one file at
	// once, and a memfd's position is not locked across them (no
	// FMODE_ATOMIC_POS): two writes at one offset lost a line. Appends
	// are made under the inode lock.
	int fd = memfd_create("conformance-trace", 0);
	if (fd < 0 || fcntl(fd, F_SETFL, O_APPEND) != 0) {
		perror("memfd_create");
		exit(2);
	}
	fflush(nullptr);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		setpgid(0, 0);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, nullptr);
		signal(SIGALRM, SIG_DFL);
		conf::Trace t(fd);
		if (inject)
			t.emit(conf::Line("injected-difference").str("why", "--inject"));
		s.fn(t);
		fflush(nullptr);
		_exit(0);
	}
	setpgid(pid, pid);
	g_alarm = 0;
	alarm(timeout);
	int st = 0;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR && !g_alarm) {
	}
	alarm(0);
	if (r != pid) {
		error = "timed out after " + std::to_string(timeout) + " s";
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		error = "scenario process " + status_text(st);
	}
	reap_leftovers(pid);
	std::string text;
	lseek(fd, 0, SEEK_SET);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		text.append(buf, static_cast<size_t>(n));
	close(fd);
	std::vector<std::string> lines;
	std::istringstream in(text);
	std::string line;
	while (std::getline(in, line))
		lines.push_back(line);
	if (!error.empty())
		lines.push_back(conf::Line("scenario-error").str("what", error).text());
	return lines;
}

bool selected(const std::string &name, const std::vector<std::string> &only)
{
	if (only.empty())
		return true;
	for (const auto &o : only)
		if (fnmatch(o.c_str(), name.c_str(), 0) == 0)
			return true;
	return false;
}

// KNOWN file: "ARCH/SCENARIO  REASON" a line (glob as in DIFFERENCES), # comments.
struct Known {
	std::string glob, reason;
	int lineno;
};

std::vector<Known> load_known(const std::string &text)
{
	std::vector<Known> out;
	std::istringstream in(text);
	std::string line;
	int n = 0;
	while (std::getline(in, line)) {
		n++;
		auto b = line.find_first_not_of(" \t");
		if (b == std::string::npos || line[b] == '#')
			continue;
		auto e = line.find_first_of(" \t", b);
		auto r = e == std::string::npos ? e : line.find_first_not_of(" \t", e);
		if (r == std::string::npos ||
		    line.substr(b, e - b).find('/') == std::string::npos) {
			fprintf(stderr,
			        "conformance: known-bugs file line %d: want ARCH/SCENARIO REASON\n",
			        n);
			exit(2);
		}
		out.push_back({line.substr(b, e - b), line.substr(r), n});
	}
	return out;
}

bool is_known(const std::vector<Known> &known, const std::string &name)
{
	std::string key = std::string(conf::kArch) + "/" + name;
	for (const auto &k : known)
		if (fnmatch(k.glob.c_str(), key.c_str(), 0) == 0)
			return true;
	return false;
}

RunResult run_all(const std::vector<std::string> &only, const std::string &inject,
                  const std::vector<Known> &known = {})
{
	RunResult res;
	for (const auto &s : conf::scenarios()) {
		if (!selected(s.name, only))
			continue;
		std::string error;
		unsigned timeout = is_known(known, s.name) ? kKnownTimeout : kScenarioTimeout;
		res.traces[s.name] = run_one(s, s.name == inject, timeout, error);
		if (!error.empty())
			res.errors.push_back(s.name + ": " + error);
	}
	return res;
}

std::string dump(const conf::Traces &t)
{
	std::string out;
	for (const auto &s : conf::scenarios()) {
		auto it = t.find(s.name);
		if (it == t.end())
			continue;
		out += "=== " + s.name + "\n";
		for (const auto &l : it->second)
			out += l + "\n";
	}
	return out;
}

std::string read_file(const std::string &path)
{
	std::ifstream f(path);
	if (!f) {
		fprintf(stderr, "conformance: cannot read %s\n", path.c_str());
		exit(2);
	}
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

bool write_knob(const char *v)
{
	int fd = open(kKnob, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = write(fd, v, strlen(v)) == static_cast<ssize_t>(strlen(v));
	close(fd);
	return ok;
}

std::vector<conf::Rule> load_rules(const std::string &path)
{
	if (path.empty())
		return {};
	try {
		return conf::parse_rules(read_file(path));
	} catch (const std::exception &e) {
		fprintf(stderr, "conformance: %s\n", e.what());
		exit(2);
	}
}

int report(const conf::Comparison &c, const std::vector<conf::Rule> &rules,
           const std::vector<std::string> &errors, size_t count, const std::string &what,
           const std::vector<Known> &known = {}, const conf::Traces *ran = nullptr)
{
	if (!c.report.empty())
		printf("%s", c.report.c_str());
	size_t failing = 0, nknown = 0, fixed = 0;
	for (const auto &m : c.mismatched) {
		if (is_known(known, m)) {
			printf("KNOWN %s (tests/conformance/KNOWN_BUGS)\n", m.c_str());
			nknown++;
		} else {
			printf("MISMATCH %s\n", m.c_str());
			failing++;
		}
	}
	if (ran) {
		for (const auto &[name, lines] : *ran) {
			if (is_known(known, name) &&
			    std::find(c.mismatched.begin(), c.mismatched.end(), name) ==
			            c.mismatched.end()) {
				printf("FIXED %s: it matches now; remove it from KNOWN_BUGS\n",
				       name.c_str());
				fixed++;
			}
		}
	}
	for (const auto &e : errors)
		printf("ERROR %s\n", e.c_str());
	for (int line : c.unused_rules) {
		for (const auto &r : rules) {
			std::string arch = r.glob.substr(0, r.glob.find('/'));
			if (r.lineno == line && fnmatch(arch.c_str(), conf::kArch, 0) == 0)
				printf("note: DIFFERENCES:%d matched no line\n", line);
		}
	}
	printf("conformance [%s]: %zu scenarios, %zu mismatched, %zu known, %zu fixed, %zu errors "
	       "(%s)\n",
	       conf::kArch, count, failing, nknown, fixed, errors.size(), what.c_str());
	return failing == 0 && fixed == 0 && errors.empty() ? 0 : 1;
}

int usage()
{
	fprintf(stderr,
	        "usage: conformance list | run [--only GLOB]... | check [--differences FILE] "
	        "[--known FILE] [--only GLOB]... [--inject NAME] [--save DIR] [--repeat N] | "
	        "compare A B "
	        "[--differences FILE] [--arch ARCH]\n");
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--helper") == 0)
		return conf::helper_main(argc, argv);
	if (argc < 2)
		return usage();
	std::string cmd = argv[1];
	std::vector<std::string> only, positional;
	std::string differences, known_file, inject, save, arch = conf::kArch;
	int repeat = 1;
	for (int i = 2; i < argc; i++) {
		std::string a = argv[i];
		auto next = [&]() -> std::string {
			if (i + 1 >= argc) {
				usage();
				exit(2);
			}
			return argv[++i];
		};
		if (a == "--only")
			only.push_back(next());
		else if (a == "--differences")
			differences = next();
		else if (a == "--known")
			known_file = next();
		else if (a == "--inject")
			inject = next();
		else if (a == "--save")
			save = next();
		else if (a == "--arch")
			arch = next();
		else if (a == "--repeat")
			repeat = atoi(next().c_str());
		else if (a.rfind("--", 0) == 0)
			return usage();
		else
			positional.push_back(a);
	}
	setvbuf(stdout, nullptr, _IOLBF, 0);

	if (cmd == "list") {
		for (const auto &s : conf::scenarios())
			printf("%-40s %s\n", s.name.c_str(), s.doc.c_str());
		return 0;
	}
	if (cmd == "compare") {
		if (positional.size() != 2)
			return usage();
		auto rules = load_rules(differences);
		auto a = conf::parse_traces(read_file(positional[0]));
		auto b = conf::parse_traces(read_file(positional[1]));
		auto c = conf::compare(a, b, rules, arch, "a", "b");
		return report(c, rules, {}, a.size(), positional[0] + " vs " + positional[1]);
	}
	if (cmd != "run" && cmd != "check")
		return usage();

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	struct sigaction sa {
	};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, nullptr);

	if (cmd == "run") {
		auto r = run_all(only, inject);
		printf("%s", dump(r.traces).c_str());
		for (const auto &e : r.errors)
			fprintf(stderr, "ERROR %s\n", e.c_str());
		return r.errors.empty() ? 0 : 1;
	}

	auto rules = load_rules(differences);
	std::vector<Known> known;
	if (!known_file.empty())
		known = load_known(read_file(known_file));
	bool have_knob = access(kKnob, W_OK) == 0;
	if (!have_knob) {
		rules.clear(); // intentional differences are between backends
		known.clear(); // and so are the backend's known bugs
	}
	// One check: native against utrace (or native twice); the scenarios
	// that failed it are added to `failed`.
	auto check_once = [&](std::map<std::string, int> &failed) {
		auto start = std::chrono::steady_clock::now();
		RunResult a, b;
		std::string name_b, what;
		if (have_knob) {
			std::string old = read_file(kKnob);
			printf("conformance: utrace backend found (%s): native vs utrace\n", kKnob);
			if (!write_knob("0")) {
				perror(kKnob);
				exit(2);
			}
			a = run_all(only, "");
			if (!write_knob("1")) {
				perror(kKnob);
				exit(2);
			}
			b = run_all(only, inject, known);
			write_knob(old.empty() || old[0] == '\n' ? "0" : old.substr(0, 1).c_str());
			name_b = "utrace";
			what = "native vs utrace";
		} else {
			printf("conformance: utrace backend NOT available (no %s): running the "
			       "native backend twice and comparing (determinism check only)\n",
			       kKnob);
			a = run_all(only, "");
			b = run_all(only, inject);
			name_b = "native-again";
			what = "native vs native: utrace backend not available";
		}
		double secs =
		        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
		                .count();
		if (!save.empty()) {
			std::ofstream(save + "/native.trace") << dump(a.traces);
			std::ofstream(save + "/" + name_b + ".trace") << dump(b.traces);
		}
		auto c = conf::compare(a.traces, b.traces, rules, conf::kArch, "native", name_b);
		// A scenario that fails natively is a bug in the scenario; under
		// utrace its error line is part of the trace and shows in the diff.
		std::vector<std::string> errors = a.errors;
		if (!have_knob)
			errors.insert(errors.end(), b.errors.begin(), b.errors.end());
		for (const auto &m : c.mismatched)
			if (!is_known(known, m))
				failed[m]++;
		for (const auto &e : errors)
			failed[e.substr(0, e.find(':'))]++;
		char buf[64];
		snprintf(buf, sizeof buf, ", %.1f s", secs);
		return report(c, rules, errors, a.traces.size(), what + buf, known, &b.traces);
	};
	std::map<std::string, int> failed;
	if (repeat <= 1)
		return check_once(failed);
	// --repeat: hunting a flake.  Every run is reported; the summary
	// counts the runs that failed and each scenario's mismatches.
	int bad = 0;
	for (int i = 0; i < repeat; i++)
		bad += check_once(failed) != 0;
	printf("conformance repeat [%s]: %d runs, %d failed", conf::kArch, repeat, bad);
	for (const auto &[name, n] : failed)
		printf("%s %s x%d", name == failed.begin()->first ? ":" : ",", name.c_str(), n);
	printf("\n");
	return bad ? 1 : 0;
}
