// B7, against the tools users know: real workloads run untraced, under
// `strace -f -o /dev/null`, `strace -f --seccomp-bpf -e trace=FILTER`,
// `utracectl trace -f -o /dev/null` and `utracectl trace -f -e
// trace=FILTER`, interleaved in one run (bench::interleave), each variant a
// fresh command timed from fork to exit by this process.  Interleaved so,
// the utracectl runs come less than a second apart and find the module's
// lazy hooks on (kmod/hooks.c); the "cold" variant waits for them to go
// first, as a user's first trace after a pause finds them, and its attach
// pays the ftrace code update that enables them.
//
// Workloads, over a generated tree (B7_DIRS x B7_FILES text files, 0.5 to
// 8 KiB, like a header directory):
//   find-cat: find DATA -type f | xargs cat > /dev/null  (syscall-heavy:
//             an open, fstat, read, write, close per file)
//   tar:      tar cf OUT.tar DATA
//   compile:  cc -c of a generated C file (where a compiler is installed,
//             the full run)
//   dd:       dd bs=1 of 20000 bytes (kDdBytes) from /dev/zero to /dev/null (the full
//             run): a read and a write of one byte each, the cheapest calls
//             a tool makes, where a tracer's cost per call is all there is
//
// The quick run (CI) measures B7 only where nothing is staged (ppc64le,
// about 10 s): staging the x86_64 tmpfs root takes about 100 s of guest
// time there, over the quick run's budget, so x86_64's B7 is the full
// run's.
//
// Nothing may come from the 9p root of the x86_64 guest while measured: a
// program paging in over 9p blocks on the host (seconds when the host is
// loaded), which not even qemu -icount hides.  So where ldd exists (the
// x86_64 guest, the host's root) the programs, the libraries ldd names and
// the data are copied into a tmpfs root (/tmp/b7root, with /dev and /proc
// bound) and every command runs chrooted there; the ppc64le guest runs from
// its initramfs (busybox's find, xargs, cat and tar; utracectl given with
// bench.py's --file), in memory already.  A variant whose tool is missing
// (strace, cc in the ppc64le guest) is "not measured".
//
// --compare-module OTHER.ko adds the two utracectl variants on OTHER.ko
// (loaded for their turn of each round, the suite's module reloaded after):
// a change of the module measured before/after, side by side in one run
// (details "..._compare_module").
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "benchmarks.hpp"
#include "utrace/module.hpp"

namespace bench
{

namespace
{

constexpr const char *kRoot = "/tmp/b7root";
// The filter of the filtered variants: what a user asks to see of these
// workloads, a few calls out of many.
constexpr const char *kFilter = "openat";
// dd's blocks of one byte: 2 * kDdBytes system calls.
constexpr int kDdBytes = 20000;

int64_t now_ns()
{
	timespec ts{};
	::clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool exists(const std::string &p)
{
	return ::access(p.c_str(), F_OK) == 0;
}

// Runs @argv (PATH searched) in @root (chrooted unless "/"), stdin from
// /dev/null, stdout and stderr to /dev/null unless @show; returns the exit
// status and the time from fork to exit.
int run(const std::string &root, const std::vector<std::string> &argv, double *ns,
        bool show = false)
{
	std::vector<char *> a;
	a.reserve(argv.size() + 1);
	for (const auto &s : argv)
		a.push_back(const_cast<char *>(s.c_str()));
	a.push_back(nullptr);
	const int64_t t0 = now_ns();
	const pid_t pid = ::fork();
	if (pid < 0)
		throw std::runtime_error(std::string("B7: fork: ") + std::strerror(errno));
	if (pid == 0) {
		if (root != "/" && (::chroot(root.c_str()) != 0 || ::chdir("/") != 0))
			::_exit(126);
		const int null = ::open("/dev/null", O_RDWR);
		if (null >= 0) {
			::dup2(null, 0);
			if (!show) {
				::dup2(null, 1);
				::dup2(null, 2);
			}
		}
		::setenv("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", 1);
		::setenv("LC_ALL", "C", 1);
		::execvp(a[0], a.data());
		::_exit(127);
	}
	int status = 0;
	while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (ns != nullptr)
		*ns = static_cast<double>(now_ns() - t0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void write_file(const std::string &path, const std::string &body)
{
	std::FILE *f = std::fopen(path.c_str(), "we");
	if (f == nullptr || std::fwrite(body.data(), 1, body.size(), f) != body.size())
		throw std::runtime_error("B7: cannot write " + path);
	std::fclose(f);
}

// The data tree: deterministic text files (a header directory's shape).
void make_tree(const std::string &dir, unsigned dirs, unsigned files)
{
	uint32_t seed = 12345;
	auto next = [&seed] {
		seed = seed * 1103515245 + 12345;
		return (seed >> 8) & 0xffffff;
	};
	::mkdir(dir.c_str(), 0755);
	for (unsigned d = 0; d < dirs; d++) {
		const std::string sub = dir + "/d" + std::to_string(d);
		::mkdir(sub.c_str(), 0755);
		for (unsigned f = 0; f < files; f++) {
			const size_t size = 512 + next() % (8192 - 512);
			std::string body;
			body.reserve(size + 80);
			while (body.size() < size)
				body += "#define UTRACE_B7_" + std::to_string(next()) + " " +
				        std::to_string(next() % 4096) + " /* a line of text */\n";
			write_file(sub + "/f" + std::to_string(f) + ".h", body);
		}
	}
}

// A small translation unit without includes (no headers to copy).
std::string small_c()
{
	std::string s = "typedef unsigned long size_t;\n";
	for (int i = 0; i < 40; i++) {
		const std::string n = std::to_string(i);
		const std::string len = std::to_string(8 + i);
		s += "struct s";
		s += n;
		s += " { int a; long b; char c[";
		s += len;
		s += "]; };\nstatic int f";
		s += n;
		s += "(struct s";
		s += n;
		s += " *p, int k)\n{\n\tint r = 0;\n\tfor (int i = 0; i < k; i++)\n"
		     "\t\tr += p->a * i + (int)p->b - p->c[i % ";
		s += len;
		s += "];\n\treturn r;\n}\n";
	}
	s += "int b7_main(int k)\n{\n\tstruct s0 x = {1, 2, {0}};\n\tint r = 0;\n";
	for (int i = 0; i < 40; i++)
		s += "\tr += f" + std::to_string(i) + "((void *)&x, k);\n";
	return s + "\treturn r;\n}\n";
}

// Copies the programs and the libraries ldd names into kRoot.
const char *kStage = R"SH(set -e
R=$1; shift
rm -rf "$R"
mkdir -p "$R/usr/bin" "$R/usr/lib" "$R/usr/lib64" "$R/dev" "$R/proc" "$R/tmp"
ln -s usr/bin "$R/bin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
ln -s usr/bin "$R/sbin"
put() { # put SRC DEST: DEST's content is SRC's (links followed)
	mkdir -p "$R$(dirname "$2")"
	cp "$(readlink -f "$1")" "$R$2"
}
for spec in "$@"; do
	src=${spec%%=*}; dest=${spec#*=}
	put "$src" "$dest"
	for lib in $(ldd "$src" 2>/dev/null | sed -n 's|.*=> \(/[^ ]*\).*|\1|p; s|^[[:space:]]*\(/[^ ]*\) (.*|\1|p'); do
		[ -e "$R$lib" ] || put "$lib" "$lib"
	done
done
)SH";

std::string which(const std::string &name)
{
	for (const char *dir : {"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
		std::string p = std::string(dir) + "/";
		p += name;
		if (::access(p.c_str(), X_OK) == 0)
			return p;
	}
	return "";
}

struct Setup {
	std::string root = "/"; // where the commands run (chroot)
	std::string data;       // inside root
	bool strace = false;
	bool cc = false;
	std::string utracectl; // inside root
};

Setup stage(const Config &c)
{
	Setup s;
	const bool chrooted = exists("/usr/bin/ldd");
	const std::string strace = which("strace");
	std::string cc = which("cc");
	if (cc.empty())
		cc = which("gcc");
	if (c.quick)
		cc.clear(); // the compile workload is the full run's
	if (!chrooted) {
		// In memory already (the initramfs): run in place.
		s.data = "/tmp/b7data";
		s.strace = !strace.empty();
		s.cc = !cc.empty();
		s.utracectl = c.utracectl_path;
		make_tree(s.data, c.b7_dirs, c.b7_files);
		write_file("/tmp/b7small.c", small_c());
		return s;
	}
	s.root = kRoot;
	std::vector<std::string> argv = {"sh", "-c", kStage, "stage", kRoot};
	for (const char *tool : {"sh", "find", "xargs", "cat", "tar", "rm", "dd"})
		argv.push_back(which(tool) + "=/usr/bin/" + tool);
	argv.push_back(c.utracectl_path + "=/usr/bin/utracectl");
	if (!strace.empty())
		argv.push_back(strace + "=/usr/bin/strace");
	if (!cc.empty()) {
		// The driver, and what it runs for -c: cc1 and as.
		std::string cc1;
		std::string as;
		{
			// gcc -print-prog-name=cc1 names its path.
			std::FILE *p = ::popen((cc + " -print-prog-name=cc1").c_str(), "r");
			char buf[512] = {0};
			if (p != nullptr && std::fgets(buf, sizeof(buf), p) != nullptr)
				cc1 = buf;
			if (p != nullptr)
				::pclose(p);
			while (!cc1.empty() && (cc1.back() == '\n' || cc1.back() == ' '))
				cc1.pop_back();
		}
		as = which("as");
		if (!cc1.empty() && cc1[0] == '/' && !as.empty()) {
			argv.push_back(cc + "=/usr/bin/cc");
			argv.push_back(cc1 + "=" + cc1);
			argv.push_back(as + "=/usr/bin/as");
			// Included before every file (no include path at all fails).
			if (exists("/usr/include/stdc-predef.h"))
				argv.emplace_back("/usr/include/stdc-predef.h=/usr/include/"
				                  "stdc-predef.h");
			s.cc = true;
		}
	}
	if (run("/", argv, nullptr, true) != 0)
		throw std::runtime_error("B7: staging the tmpfs root failed");
	const std::string dev = std::string(kRoot) + "/dev";
	const std::string proc = std::string(kRoot) + "/proc";
	if (::mount("/dev", dev.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
	    ::mount("/proc", proc.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
		throw std::runtime_error(std::string("B7: bind mounts: ") + std::strerror(errno));
	s.data = "/tmp/b7data";
	s.strace = !strace.empty();
	s.utracectl = "/usr/bin/utracectl";
	make_tree(std::string(kRoot) + s.data, c.b7_dirs, c.b7_files);
	write_file(std::string(kRoot) + "/tmp/b7small.c", small_c());
	return s;
}

void unstage(const Setup &s)
{
	if (s.root == "/") {
		run("/", {"rm", "-rf", s.data, "/tmp/b7small.c", "/tmp/b7small.o", "/tmp/b7.tar"},
		    nullptr);
		return;
	}
	::umount2((s.root + "/dev").c_str(), MNT_DETACH);
	::umount2((s.root + "/proc").c_str(), MNT_DETACH);
	run("/", {"rm", "-rf", s.root}, nullptr);
}

struct Workload {
	std::string name;
	std::string title;
	std::vector<std::string> argv;
	bool needs_cc = false;
	bool full_only = false;
	std::optional<double> target_vs_strace;
};

} // namespace

std::vector<Ratio> b7_workloads(const Config &c)
{
	if (c.utracectl_path.empty())
		return {{.id = "B7", .status = "not measured: no --utracectl"}};
	if (c.quick && exists("/usr/bin/ldd"))
		return {{.id = "B7",
		         .status = "not measured: the full run's here (staging the tmpfs root "
		                   "takes about 100 s of the x86_64 guest)"}};
	ensure_loaded(c);
	const int64_t t0 = now_ns();
	const Setup s = stage(c);
	log("B7 staged in " + std::to_string((now_ns() - t0) / 1000000) + " ms");
	const std::vector<Workload> workloads = {
	        {.name = "find-cat",
	         .title = "find | xargs cat",
	         .argv = {"sh", "-c", "find " + s.data + " -type f | xargs cat > /dev/null"},
	         .target_vs_strace = 20.0},
	        {.name = "tar",
	         .title = "tar cf of the tree",
	         .argv = {"tar", "cf", "/tmp/b7.tar", s.data}},
	        {.name = "compile",
	         .title = "cc -c of a small file",
	         .argv = {"cc", "-O0", "-c", "/tmp/b7small.c", "-o", "/tmp/b7small.o"},
	         .needs_cc = true},
	        {.name = "dd",
	         .title = "dd bs=1 (a one-byte read and write per block)",
	         .argv = {"sh", "-c",
	                  "dd if=/dev/zero of=/dev/null bs=1 count=" + std::to_string(kDdBytes) +
	                          " 2>/dev/null"},
	         .full_only = true},
	};
	std::vector<Ratio> out;
	try {
		for (const auto &w : workloads) {
			const std::string id = "B7." + w.name;
			auto ratio = [&](const std::string &what, const std::string &title,
			                 const std::string &better, std::optional<double> target) {
				std::string rid = id;
				rid += ".";
				rid += what;
				return Ratio{.id = std::move(rid),
				             .title = w.title + (": " + title),
				             .better = better,
				             .target = target};
			};
			std::vector<Ratio> rs = {
			        ratio("trace",
			              "slowdown under utracectl trace -f (traced / untraced)",
			              "lower", std::nullopt),
			        ratio("filtered",
			              std::string("slowdown under utracectl trace -f -e trace=") +
			                      kFilter,
			              "lower", std::nullopt),
			        ratio("vs-strace",
			              "speed-up of utracectl trace -f over strace -f (strace time "
			              "/ "
			              "utracectl time)",
			              "higher", w.target_vs_strace),
			        ratio("vs-seccomp",
			              std::string("utracectl trace -f -e trace=") + kFilter +
			                      " time / strace -f --seccomp-bpf -e trace=" +
			                      kFilter + " time",
			              "lower", 1.0),
			        ratio("cold",
			              "slowdown under utracectl trace -f started cold, the "
			              "module's lazy hooks off as after a second without a "
			              "traced task (traced / untraced)",
			              "lower", std::nullopt),
			};
			if ((w.needs_cc && !s.cc) || (w.full_only && c.quick)) {
				for (auto &r : rs)
					r.status = c.quick ? "not measured: the full run's"
					                   : "not measured: no C compiler in this "
					                     "guest";
				out.insert(out.end(), rs.begin(), rs.end());
				continue;
			}
			auto timed = [&](std::vector<std::string> pre) {
				return [&s, &w, pre = std::move(pre)] {
					std::vector<std::string> argv = pre;
					argv.insert(argv.end(), w.argv.begin(), w.argv.end());
					Sample smp;
					const int st = run(s.root, argv, &smp.ns);
					if (st != 0)
						throw std::runtime_error("B7: " + argv[0] + " " +
						                         w.name + " exited with " +
						                         std::to_string(st));
					return smp;
				};
			};
			const std::string ef = std::string("trace=") + kFilter;
			std::vector<Variant> vs = {
			        {.name = "untraced", .measure = timed({})},
			        {.name = "utrace",
			         .measure = timed(
			                 {s.utracectl, "trace", "-f", "-o", "/dev/null", "--"})},
			        {.name = "utrace-filtered",
			         .measure = timed({s.utracectl, "trace", "-f", "-o", "/dev/null",
			                           "-e", ef, "--"})},
			        // What a first trace after a pause pays: its attach
			        // enables the lazy hooks, one ftrace code update.
			        {.name = "utrace-cold",
			         .setup = wait_lazy_hooks_off,
			         .measure = timed(
			                 {s.utracectl, "trace", "-f", "-o", "/dev/null", "--"})},
			};
			if (!c.compare_module.empty()) {
				// The same tracer on another build of the module,
				// loaded for its turn of each round.
				auto other = [&c] {
					ensure_unloaded();
					utrace::load_module(c.compare_module, {});
				};
				auto back = [&c] {
					ensure_unloaded();
					ensure_loaded(c);
				};
				vs.push_back({.name = "utrace-compare",
				              .setup = other,
				              .measure = timed({s.utracectl, "trace", "-f", "-o",
				                                "/dev/null", "--"}),
				              .teardown = back});
				vs.push_back({.name = "utrace-filtered-compare",
				              .setup = other,
				              .measure = timed({s.utracectl, "trace", "-f", "-o",
				                                "/dev/null", "-e", ef, "--"}),
				              .teardown = back});
			}
			if (s.strace) {
				vs.push_back({.name = "strace",
				              .measure = timed(
				                      {"strace", "-f", "-o", "/dev/null", "--"})});
				vs.push_back(
				        {.name = "strace-seccomp",
				         .measure = timed({"strace", "-f", "--seccomp-bpf", "-o",
				                           "/dev/null", "-e", ef, "--"})});
			}
			log("B7 " + w.name);
			const Samples smp = interleave(vs, c.b7_reps);
			const auto &u = smp.at("untraced");
			const auto &t = smp.at("utrace");
			const auto &tf = smp.at("utrace-filtered");
			const auto &tc = smp.at("utrace-cold");
			const std::vector<double> none;
			set_ratio(rs[0], walls(t), walls(u), none, none, Pairing::PerRound);
			set_ratio(rs[1], walls(tf), walls(u), none, none, Pairing::PerRound);
			set_ratio(rs[4], walls(tc), walls(u), none, none, Pairing::PerRound);
			const double mu = median(walls(u));
			std::vector<std::pair<std::string, double>> details = {
			        {"untraced_ms", mu / 1e6},
			        {"slowdown_utracectl", median(walls(t)) / mu},
			        {"slowdown_utracectl_filtered", median(walls(tf)) / mu},
			        {"slowdown_utracectl_cold", median(walls(tc)) / mu},
			};
			if (s.strace) {
				const auto &st = smp.at("strace");
				const auto &ss = smp.at("strace-seccomp");
				set_ratio(rs[2], walls(st), walls(t), none, none,
				          Pairing::PerRound);
				set_ratio(rs[3], walls(tf), walls(ss), none, none,
				          Pairing::PerRound);
				details.emplace_back("slowdown_strace", median(walls(st)) / mu);
				details.emplace_back("slowdown_strace_seccomp",
				                     median(walls(ss)) / mu);
			} else {
				rs[2].status = rs[3].status =
				        "not measured: no strace in this guest";
			}
			if (!c.compare_module.empty()) {
				details.emplace_back("slowdown_utracectl_compare_module",
				                     median(walls(smp.at("utrace-compare"))) / mu);
				details.emplace_back(
				        "slowdown_utracectl_filtered_compare_module",
				        median(walls(smp.at("utrace-filtered-compare"))) / mu);
			}
			for (auto &r : rs) {
				r.details = details;
				r.note = "each variant a fresh command, timed fork to exit; "
				         "programs and "
				         "data in memory (tmpfs)";
			}
			out.insert(out.end(), rs.begin(), rs.end());
		}
	} catch (...) {
		unstage(s);
		throw;
	}
	unstage(s);
	return out;
}

} // namespace bench
