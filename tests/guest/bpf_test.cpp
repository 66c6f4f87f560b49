// The BPF pipeline end to end in the guest kernel: a skeleton built by
// bpftool loads, attaches to the raw syscall tracepoints and counts.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <numeric>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "syscount.h"
#include "syscount.skel.h"

namespace
{

struct SkelDeleter {
	void operator()(syscount *s) const { syscount::destroy(s); }
};
using SyscountPtr = std::unique_ptr<syscount, SkelDeleter>;

__u64 read_slot(const syscount &skel, __u32 slot)
{
	const int ncpus = libbpf_num_possible_cpus();
	std::vector<__u64> per_cpu(static_cast<size_t>(ncpus));
	if (bpf_map__lookup_elem(skel.maps.counts, &slot, sizeof(slot), per_cpu.data(),
	                         per_cpu.size() * sizeof(__u64), 0) != 0)
		return ~0ULL;
	return std::accumulate(per_cpu.begin(), per_cpu.end(), __u64{0});
}

TEST(Bpf, SyscountSkeletonCountsOwnSyscallsOnly)
{
	SyscountPtr skel(syscount::open());
	ASSERT_TRUE(skel) << "open skeleton: " << std::strerror(errno);
	skel->rodata->target_tgid = static_cast<__u32>(::getpid());
	ASSERT_EQ(syscount::load(skel.get()), 0) << "load: " << std::strerror(errno);
	ASSERT_EQ(syscount::attach(skel.get()), 0) << "attach: " << std::strerror(errno);

	constexpr int kCalls = 1000;
	for (int i = 0; i < kCalls; i++)
		::syscall(SYS_getppid);
	syscount::detach(skel.get());

	const __u64 enters = read_slot(*skel, SYSCOUNT_ENTER);
	const __u64 exits = read_slot(*skel, SYSCOUNT_EXIT);
	EXPECT_GE(enters, static_cast<__u64>(kCalls));
	EXPECT_GE(exits, static_cast<__u64>(kCalls));
	// Only this process is counted: a busy system would add far more.
	EXPECT_LT(enters, static_cast<__u64>(kCalls) + 200);
}

} // namespace
