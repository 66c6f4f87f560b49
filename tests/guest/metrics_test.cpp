// The BPF metrics end to end in both guests: libutrace loads and pins the
// programs of bpf/utrace_metrics.bpf.c on utrace.ko's tracepoints, engines
// run on a real thread, and the maps, read back through the pins, hold
// non-zero report histograms, answers, stops and stop durations.  On
// ppc64le (no kernel BTF) only the raw tracepoint programs can load; on
// x86_64 both sets are tested.
#include <gtest/gtest.h>

#include <cerrno>
#include <iostream>
#include <memory>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

#include "error_of.hpp"
#include "tracee.hpp"
#include "utrace/bpf_metrics.hpp"
#include "utrace/device.hpp"
#include "utrace/error.hpp"
#include "utrace/metrics.hpp"

using namespace std::chrono_literals;
using utrace::Action;
using utrace::bit;
using utrace::BpfMode;
using utrace::EngineState;
using utrace::EngineType;
using utrace::Event;
using utrace_test::error_of;
using utrace_test::eventually;
using utrace_test::Tracee;

namespace
{

constexpr unsigned kCount = static_cast<unsigned>(EngineType::Count);
constexpr unsigned kStopper = static_cast<unsigned>(EngineType::Stopper);
constexpr unsigned kEntry = static_cast<unsigned>(Event::SyscallEntry);
constexpr unsigned kExit = static_cast<unsigned>(Event::SyscallExit);
constexpr unsigned kResume = static_cast<unsigned>(Action::Resume);
constexpr unsigned kStopAction = static_cast<unsigned>(Action::Stop);

bool exists(const char *path)
{
	struct stat st {
	};
	return ::stat(path, &st) == 0;
}

bool module_has_btf()
{
	return exists("/sys/kernel/btf/utrace");
}

// The kernel's own BTF: Debian's 6.1 and 6.12 on x86_64 and 6.12 on
// ppc64el have it, 6.1 on ppc64el has none.  The module is built with BTF
// exactly where its kernel has it (scripts/build-kmod.sh, BTF_BASE).
bool kernel_has_btf()
{
	return exists("/sys/kernel/btf/vmlinux");
}

// Loaded for one test, removed after it even if the test fails: a pinned
// link would keep utrace.ko from unloading.
class BpfLoaded
{
public:
	explicit BpfLoaded(BpfMode mode) : mode_(utrace::load_bpf(mode)) {}
	~BpfLoaded()
	{
		if (utrace::bpf_loaded())
			utrace::unload_bpf();
	}
	BpfLoaded(const BpfLoaded &) = delete;
	BpfLoaded &operator=(const BpfLoaded &) = delete;
	[[nodiscard]] const std::string &mode() const { return mode_; }

private:
	std::string mode_;
};

// A count engine sees 50 getppid() calls; a stopper stops the thread at one
// syscall entry for a while.  Checks what the maps say about both.
void engines_fill_the_maps()
{
	utrace::Device dev;
	Tracee t;
	const auto syscalls = bit(Event::SyscallEntry) | bit(Event::SyscallExit);
	const auto counter = dev.attach(t.pid(), EngineType::Count, syscalls);
	constexpr unsigned kCalls = 50;
	for (unsigned i = 0; i < kCalls; i++)
		ASSERT_TRUE(t.run(Tracee::kGetppid));

	const auto stopper = dev.attach(t.pid(), EngineType::Stopper, bit(Event::SyscallEntry),
	                                bit(Event::SyscallEntry));
	t.send(Tracee::kGetppid);
	ASSERT_TRUE(eventually([&] { return dev.info(stopper).state == EngineState::Stopped; }));
	std::this_thread::sleep_for(100ms);
	dev.set_stop_events(stopper, 0);
	EXPECT_EQ(dev.control(stopper, Action::Resume), 0);
	ASSERT_TRUE(t.wait_ack());
	dev.detach(stopper);
	dev.detach(counter);

	const auto m = std::make_unique<utrace::Metrics>(utrace::read_bpf_metrics());
	const auto &entry = m->reports[kCount][kEntry];
	EXPECT_GE(entry.count(), kCalls);
	EXPECT_GE(m->reports[kCount][kExit].count(), kCalls);
	EXPECT_GT(entry.sum_ns, 0U);
	EXPECT_GT(entry.max_ns, 0U);
	EXPECT_GT(entry.quantile_ns(0.5), 0.0);
	EXPECT_LE(entry.quantile_ns(0.99), static_cast<double>(entry.max_ns));
	EXPECT_GE(m->events[kCount][kEntry][kResume], kCalls);
	// The stopper answered STOP once at the entry it stopped at.
	EXPECT_GE(m->events[kStopper][kEntry][kStopAction], 1U);
	EXPECT_GE(m->stops[kStopper][kEntry], 1U);
	EXPECT_GE(m->resumes[kStopper][0], 1U) << "resume reason: resumed";
	ASSERT_GE(m->stop_durations[kStopper].count(), 1U);
	EXPECT_GE(m->stop_durations[kStopper].max_ns, 100'000'000U) << "stopped for 100 ms";
	// Nothing is counted for engine types that did not run.
	EXPECT_EQ(m->reports[static_cast<unsigned>(EngineType::User)][kEntry].count(), 0U);
}

TEST(Metrics, RawTracepointProgramsMeasureEnginesOnEveryArch)
{
	const BpfLoaded bpf(BpfMode::Raw);
	EXPECT_EQ(bpf.mode(), "raw");
	EXPECT_EQ(utrace::bpf_mode(), "raw");
	engines_fill_the_maps();
}

// Which program set a kernel gets is decided by BTF, not by the arch: tp_btf
// wherever the kernel (and so the module) has BTF, raw_tp elsewhere.  The
// line "bpf mode: ..." in the output says which one this kernel used.
TEST(Metrics, AutoPicksBtfProgramsExactlyWhereTheKernelHasBtf)
{
	const bool btf = kernel_has_btf();
	ASSERT_EQ(module_has_btf(), btf)
	        << (btf ? "the kernel has BTF but the module was built without"
	                : "the module has BTF on a kernel without");
	{
		const BpfLoaded bpf(BpfMode::Auto);
		std::cout << "bpf mode: " << bpf.mode() << " (kernel BTF: " << (btf ? "yes" : "no")
		          << ")\n";
		EXPECT_EQ(bpf.mode(), btf ? "btf" : "raw");
		EXPECT_EQ(utrace::bpf_mode(), bpf.mode());
	}
	if (!btf) {
		EXPECT_EQ(error_of([] { utrace::load_bpf(BpfMode::Btf); }), ENOENT);
		EXPECT_FALSE(utrace::bpf_loaded()) << "a failed load leaves no pins";
	}
}

TEST(Metrics, BtfProgramsMeasureEnginesWhereTheModuleHasBtf)
{
	if (!module_has_btf())
		GTEST_SKIP() << "no module BTF on this kernel (Debian's 6.1 on ppc64el)";
	const BpfLoaded bpf(BpfMode::Btf);
	EXPECT_EQ(bpf.mode(), "btf");
	engines_fill_the_maps();
}

// A stop's traced duration covers every moment anyone saw the thread
// stopped: its start is taken before the stop is visible (utrace_stop()).
// The observer polls without sleeping, to see the stop as early as it can;
// each stop's duration is its sum's increase.  Before the fix, the start was
// taken after ->stopped was set, and a stop seen at once then waited on for
// 100 ms was once measured at 99.7 ms.
TEST(Metrics, EveryStopLastsAtLeastAsLongAsItWasSeen)
{
	const BpfLoaded bpf(BpfMode::Raw);
	utrace::Device dev;
	Tracee t;
	constexpr unsigned kStops = 100;
	const auto stopper = dev.attach(t.pid(), EngineType::Stopper, bit(Event::SyscallEntry), 0);
	uint64_t sum = utrace::read_bpf_metrics().stop_durations[kStopper].sum_ns;
	for (unsigned i = 0; i < kStops; i++) {
		dev.set_stop_events(stopper, bit(Event::SyscallEntry));
		t.send(Tracee::kGetppid);
		const auto give_up = std::chrono::steady_clock::now() + 60s;
		while (dev.info(stopper).state != EngineState::Stopped)
			ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "stop " << i;
		const auto seen = std::chrono::steady_clock::now();
		std::this_thread::sleep_for(1ms);
		const auto resumed = std::chrono::steady_clock::now(); // before anything can end it
		dev.set_stop_events(stopper, 0);
		EXPECT_EQ(dev.control(stopper, Action::Resume), 0);
		ASSERT_TRUE(t.wait_ack());
		const uint64_t now = utrace::read_bpf_metrics().stop_durations[kStopper].sum_ns;
		const auto watched =
		        std::chrono::duration_cast<std::chrono::nanoseconds>(resumed - seen);
		EXPECT_GE(now - sum, static_cast<uint64_t>(watched.count())) << "stop " << i;
		sum = now;
	}
	dev.detach(stopper);
}

TEST(Metrics, LoadTwiceIsRefusedAndUnloadRemovesEveryPin)
{
	{
		const BpfLoaded bpf(BpfMode::Auto);
		EXPECT_EQ(error_of([] { utrace::load_bpf(BpfMode::Auto); }), EEXIST);
		EXPECT_TRUE(utrace::bpf_loaded());
	}
	EXPECT_FALSE(utrace::bpf_loaded());
	EXPECT_EQ(error_of([] { utrace::unload_bpf(); }), ENOENT);
	EXPECT_EQ(error_of([] { (void)utrace::read_bpf_metrics(); }), ENOENT);
}

} // namespace
