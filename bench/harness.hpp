// The benchmark harness: measurement (wall time and, where the guest has a
// PMU, instruction counts), a worker process that runs the syscall loop on
// command, interleaved repetitions of a benchmark's variants, and the
// ratios each benchmark reports.
//
// Every figure is a ratio against a baseline measured in the same run:
// repetitions of the baseline and of each variant alternate (the order
// rotates each repetition), so a slow phase of the host (2 cores shared with
// other work, TCG guests) hits both sides alike.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace bench
{

// How much work one run does.
struct Config {
	bool quick = false;
	uint64_t loop_iterations = 0;           // iterations of the syscall loop (2 calls each)
	unsigned reps = 0;                      // measured repetitions per variant
	uint64_t ptrace_stops = 0;              // B3: stop/resume cycles per sample
	uint64_t observe_iterations = 0;        // B4: loop iterations under a tracer
	std::vector<unsigned> engines_per_task; // B6
	std::vector<unsigned> traced_tasks;     // B6
	unsigned b7_dirs = 0;                   // B7: the data tree's directories
	unsigned b7_files = 0;                  // B7: files per directory
	unsigned b7_reps = 0;                   // B7: measured repetitions
	std::string utracectl_path;             // B7: the utracectl binary
	std::string compare_module;             // B7: another utrace.ko to compare with
	std::string module_path;                // utrace.ko, loaded by the suite
	std::vector<std::string> only;          // benchmark ids to run (empty: all)
	// "icount": the guest runs under qemu -icount and its clock counts
	// executed instructions; "host": its clock is real time.
	std::string clock = "host";

	static Config make(bool quick);
};

// A hardware instruction counter (perf_event_open, PERF_COUNT_HW_INSTRUCTIONS)
// for one task.  qemu's TCG x86_64 has no PMU (the guest says "PMU not
// available due to virtualization"); its POWER9 PMU counts instructions of
// user and kernel mode alike (the exclude_kernel bit has no effect there, so
// kernel work is in the count).  Not available: every read is nullopt.
class Counter
{
public:
	explicit Counter(pid_t pid = 0);
	~Counter();
	Counter(const Counter &) = delete;
	Counter &operator=(const Counter &) = delete;
	Counter(Counter &&other) noexcept;
	Counter &operator=(Counter &&other) noexcept;

	[[nodiscard]] bool available() const { return fd_ >= 0; }
	void start() const;
	[[nodiscard]] std::optional<uint64_t> stop() const;
	// The count so far, without stopping it.
	[[nodiscard]] std::optional<uint64_t> read() const;

	// Whether this guest counts instructions at all.
	static bool supported();

private:
	int fd_ = -1;
};

// One measurement: wall time, and instructions when counted.
struct Sample {
	double ns = 0;
	std::optional<double> instructions;
};

// The loop every benchmark times: syscall(SYS_getpid) and a 64-byte read of
// /dev/zero per iteration.
void syscall_loop(int zero_fd, uint64_t iterations);

// A child process that runs syscall_loop() on command and times itself (its
// own clock and instruction counter), so whatever traces it is measured by
// what it costs the traced process.
class Worker
{
public:
	// Seccomp: the worker runs under a seccomp filter that allows every
	// call (installed before its first loop): its system calls take the
	// kernel's slow path, as a sandboxed program's do.
	enum class Filter { None, Seccomp };
	explicit Worker(Filter filter = Filter::None);
	~Worker();
	Worker(const Worker &) = delete;
	Worker &operator=(const Worker &) = delete;

	[[nodiscard]] pid_t pid() const { return pid_; }
	// Runs the loop in the worker and returns its measurement.
	[[nodiscard]] Sample loop(uint64_t iterations) const;

private:
	pid_t pid_ = -1;
	int cmd_fd_ = -1;
	int res_fd_ = -1;
};

// Processes (or threads of one process) that only wait: tasks for engines to
// be attached to.  They block in read() of a pipe until destroyed.
class Idlers
{
public:
	enum class Kind { Processes, Threads };
	Idlers(Kind kind, unsigned count);
	~Idlers();
	Idlers(const Idlers &) = delete;
	Idlers &operator=(const Idlers &) = delete;

	[[nodiscard]] const std::vector<pid_t> &tids() const { return tids_; }

private:
	Kind kind_;
	std::vector<pid_t> tids_;
	pid_t holder_ = -1; // Threads: the process holding the threads
	int release_fd_ = -1;
};

// One configuration of a benchmark: set up, measured, torn down, once per
// repetition.
struct Variant {
	std::string name;
	std::function<void()> setup = [] {};
	std::function<Sample()> measure;
	std::function<void()> teardown = [] {};
};

// Samples per variant name, repetitions interleaved.  Each repetition sets up
// each variant, measures it once and tears it down; a first round of all
// variants is a warm-up and is not kept.
using Samples = std::map<std::string, std::vector<Sample>>;
Samples interleave(const std::vector<Variant> &variants, unsigned reps);

// Statistics over repetitions.
double median(std::vector<double> v);
double quantile(std::vector<double> v, double q);

// A ratio as reported and gated.
struct Ratio {
	std::string id;     // "B1", "B6.engines.16", ...
	std::string title;  // what is compared with what
	std::string better; // "lower" or "higher"
	std::optional<double> target;
	std::string status = "measured"; // or "not measured: <why>"
	std::optional<double> wall;      // ratio from wall time (see set_ratio())
	std::optional<double> wall_q1;   // its spread: quartiles of the per-round ratios
	std::optional<double> wall_q3;
	std::optional<double> instructions;                  // ratio from instruction counts
	std::string note;                                    // what limits it, how it was measured
	std::vector<std::pair<std::string, double>> details; // raw figures

	[[nodiscard]] bool measured() const { return status == "measured"; }
};

// How set_ratio() combines the rounds: PerRound, the median of each round's
// ratio (for whole times); OfMedians, the ratio of the medians (for
// overheads, differences that one round may see near zero).
enum class Pairing { PerRound, OfMedians };

// The figure a ratio is judged by, and its name: the icount clock when
// there is one (every instruction the only vCPU ran in the interval:
// tracee, tracer, kernel, interrupts), else the PMU's per-task instruction
// count (ppc64le), else host time.  Empty / nullopt when not measured.
std::string basis(const Ratio &r, const Config &c);
std::optional<double> primary(const Ratio &r, const Config &c);

// Fills @r's wall and instruction ratios from per-round values of a
// numerator and a denominator figure.  The wall quartiles are those of the
// per-round ratios either way.
void set_ratio(Ratio &r, const std::vector<double> &num_wall, const std::vector<double> &den_wall,
               const std::vector<double> &num_instr, const std::vector<double> &den_instr,
               Pairing pairing);

// Per-repetition figures of one variant.
std::vector<double> walls(const std::vector<Sample> &s);
std::vector<double> instrs(const std::vector<Sample> &s); // empty when not counted

// Elementwise a - b (same length).
std::vector<double> minus(const std::vector<double> &a, const std::vector<double> &b);

using Benchmark = std::function<std::vector<Ratio>(const Config &)>;

// Logs a progress line to stderr (prefixed "bench:").
void log(const std::string &msg);

} // namespace bench
