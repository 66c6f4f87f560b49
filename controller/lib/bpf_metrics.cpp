#include "utrace/bpf_metrics.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <linux/magic.h>
#include <memory>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <vector>

#include "utrace/error.hpp"
#include "utrace/module.hpp"
#include "utrace_metrics.h"
#include "utrace_metrics.skel.h"

static_assert(utrace::kMetricTypes == UM_NR_TYPES);
static_assert(utrace::kMetricEvents == UM_NR_EVENTS);
static_assert(utrace::kMetricActions == UM_NR_ACTIONS);
static_assert(utrace::kMetricReasons == UM_NR_REASONS);
static_assert(utrace::kHistSlots == UM_NR_SLOTS);
static_assert(sizeof(utrace::Histogram) == sizeof(struct um_hist));

namespace utrace
{

namespace
{

const std::string kMapDir = std::string(kBpfPinDir) + "/maps";
const std::string kLinkDir = std::string(kBpfPinDir) + "/links";
constexpr const char *kModuleBtf = "/sys/kernel/btf/utrace";

bool exists(const std::string &path)
{
	struct stat st {
	};
	return ::stat(path.c_str(), &st) == 0;
}

// libbpf's messages go here instead of stderr; the last one explains a
// failure.
std::string &libbpf_last()
{
	static std::string last;
	return last;
}

int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	va_list copy;
	va_copy(copy, args);
	const int n = std::vsnprintf(nullptr, 0, fmt, copy);
	va_end(copy);
	std::string msg(n > 0 ? static_cast<size_t>(n) : 0, '\0');
	if (n > 0)
		std::vsnprintf(msg.data(), msg.size() + 1, fmt, args);
	while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
		msg.pop_back();
	if (!msg.empty())
		libbpf_last() = msg;
	if (std::getenv("UTRACE_BPF_DEBUG"))
		std::fprintf(stderr, "libbpf: %s\n", msg.c_str());
	return n;
}

[[noreturn]] void throw_bpf(int err, const std::string &what)
{
	if (err == EPERM || err == EACCES)
		throw Error(err, what + ": BPF needs root (CAP_BPF and CAP_PERFMON)");
	std::string msg = what + ": " + std::strerror(err);
	if (!libbpf_last().empty())
		msg += " (libbpf: " + libbpf_last() + ")";
	throw Error(err, msg);
}

// The ids of the pinned links.  Removing a link's last pin releases it
// later, after an RCU grace period and from a work item (bpffs frees the
// inode so), and only then does its program leave the tracepoint.
std::vector<uint32_t> pinned_link_ids()
{
	std::vector<uint32_t> ids;
	DIR *d = ::opendir(kLinkDir.c_str());
	if (!d)
		return ids;
	while (const dirent *e = ::readdir(d)) {
		const std::string_view name = e->d_name;
		if (name == "." || name == "..")
			continue;
		const int fd = bpf_obj_get((kLinkDir + "/" + e->d_name).c_str());
		if (fd < 0)
			continue;
		bpf_link_info info{};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			ids.push_back(info.id);
		::close(fd);
	}
	::closedir(d);
	return ids;
}

// Waits until the kernel has released these links (their ids are gone).
void wait_links_released(const std::vector<uint32_t> &ids)
{
	constexpr int kPolls = 10000; // 1 ms each
	for (const uint32_t id : ids) {
		for (int i = 0;; i++) {
			const int fd = bpf_link_get_fd_by_id(id);
			if (fd < 0 && errno == ENOENT)
				break;
			if (fd >= 0)
				::close(fd);
			if (i == kPolls)
				throw Error(EBUSY, "the kernel has not released BPF link " +
				                           std::to_string(id) + " after 10 s");
			::usleep(1000);
		}
	}
}

// Removes every pin and the folders; what is not there is skipped.
void remove_pins()
{
	for (const auto &dir : {kLinkDir, kMapDir}) {
		if (DIR *d = ::opendir(dir.c_str())) {
			while (const dirent *e = ::readdir(d)) {
				const std::string_view name = e->d_name;
				if (name != "." && name != "..")
					::unlink((dir + "/" + e->d_name).c_str());
			}
			::closedir(d);
		}
		::rmdir(dir.c_str());
	}
	::rmdir(kBpfPinDir);
}

struct SkelDeleter {
	void operator()(utrace_metrics *s) const { utrace_metrics::destroy(s); }
};

class Fd
{
public:
	explicit Fd(int fd) : fd_(fd) {}
	~Fd()
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	[[nodiscard]] int get() const { return fd_; }

private:
	int fd_;
};

// Per-CPU values of @key in the pinned map @fd, @size bytes each.
std::vector<char> lookup_percpu(int fd, uint32_t key, size_t size, int ncpus)
{
	const size_t stride = (size + 7) & ~size_t{7};
	std::vector<char> buf(stride * static_cast<size_t>(ncpus));
	if (bpf_map_lookup_elem(fd, &key, buf.data()) != 0)
		throw_bpf(errno, "read BPF map");
	return buf;
}

template <typename Fn> void read_map(const char *name, uint32_t entries, size_t size, Fn &&fn)
{
	Fd fd(bpf_obj_get((kMapDir + "/" + name).c_str()));
	if (fd.get() < 0)
		throw_bpf(errno, std::string("open pinned map ") + name);
	const int ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		throw_bpf(-ncpus, "count possible CPUs");
	const size_t stride = (size + 7) & ~size_t{7};
	for (uint32_t key = 0; key < entries; key++) {
		const auto buf = lookup_percpu(fd.get(), key, size, ncpus);
		for (int cpu = 0; cpu < ncpus; cpu++)
			fn(key, buf.data() + stride * static_cast<size_t>(cpu));
	}
}

uint64_t as_u64(const char *p)
{
	uint64_t v = 0;
	std::memcpy(&v, p, sizeof(v));
	return v;
}

Histogram as_hist(const char *p)
{
	Histogram h;
	std::memcpy(&h, p, sizeof(h));
	return h;
}

} // namespace

bool bpf_loaded()
{
	return exists(kBpfPinDir);
}

std::string bpf_mode()
{
	if (exists(kLinkDir + "/tp_btf_report_end"))
		return "btf";
	if (exists(kLinkDir + "/raw_tp_report_end"))
		return "raw";
	return "";
}

std::string load_bpf(BpfMode mode)
{
	libbpf_set_print(libbpf_print);
	libbpf_last().clear();
	if (!module_loaded())
		throw Error(ENOENT, "utrace is not loaded: the BPF programs attach to its "
		                    "tracepoints (utracectl load)");
	struct statfs fs {
	};
	if (::statfs(kBpfFsDir, &fs) != 0 || fs.f_type != BPF_FS_MAGIC)
		throw Error(ENODEV, std::string("no BPF filesystem at ") + kBpfFsDir +
		                            " (mount -t bpf bpf " + kBpfFsDir + ")");
	if (bpf_loaded())
		throw Error(EEXIST, std::string("the utrace BPF programs are already loaded (") +
		                            kBpfPinDir + "; utracectl unload first)");
	if (mode == BpfMode::Auto)
		mode = exists(kModuleBtf) ? BpfMode::Btf : BpfMode::Raw;
	if (mode == BpfMode::Btf && !exists(kModuleBtf))
		throw Error(ENOENT, std::string("the module has no BTF (") + kModuleBtf +
		                            " missing): use the raw tracepoint programs");
	const std::string_view prefix = mode == BpfMode::Btf ? "tp_btf_" : "raw_tp_";

	std::unique_ptr<utrace_metrics, SkelDeleter> skel(utrace_metrics::open());
	if (!skel)
		throw_bpf(errno, "open BPF object utrace_metrics");
	bpf_program *prog = nullptr;
	bpf_object__for_each_program(prog, skel->obj)
	{
		const std::string_view name = bpf_program__name(prog);
		bpf_program__set_autoload(prog, name.starts_with(prefix));
	}
	if (utrace_metrics::load(skel.get()) != 0)
		throw_bpf(errno, "load BPF programs");

	if (::mkdir(kBpfPinDir, 0700) != 0)
		throw_bpf(errno, std::string("create ") + kBpfPinDir);
	try {
		if (::mkdir(kMapDir.c_str(), 0700) != 0 || ::mkdir(kLinkDir.c_str(), 0700) != 0)
			throw_bpf(errno, "create pin folders in " + std::string(kBpfPinDir));
		bpf_map *map = nullptr;
		bpf_object__for_each_map(map, skel->obj)
		{
			const std::string path = kMapDir + "/" + bpf_map__name(map);
			if (bpf_map__pin(map, path.c_str()) != 0)
				throw_bpf(errno, "pin " + path);
		}
		bpf_object__for_each_program(prog, skel->obj)
		{
			if (!bpf_program__autoload(prog))
				continue;
			const std::string path = kLinkDir + "/" + bpf_program__name(prog);
			bpf_link *link = bpf_program__attach(prog);
			if (!link)
				throw_bpf(errno, std::string("attach ") + bpf_program__name(prog));
			const int err = bpf_link__pin(link, path.c_str());
			// The pin keeps the link (and the attachment); our fd goes.
			bpf_link__destroy(link);
			if (err != 0)
				throw_bpf(-err, "pin " + path);
		}
	} catch (...) {
		remove_pins();
		throw;
	}
	return mode == BpfMode::Btf ? "btf" : "raw";
}

void unload_bpf()
{
	if (!bpf_loaded())
		throw Error(ENOENT, "the utrace BPF programs are not loaded");
	const std::vector<uint32_t> links = pinned_link_ids();
	remove_pins();
	if (bpf_loaded())
		throw_errno(errno ? errno : EBUSY, std::string("remove ") + kBpfPinDir);
	wait_links_released(links);
}

Metrics read_bpf_metrics()
{
	libbpf_set_print(libbpf_print);
	if (!bpf_loaded())
		throw Error(ENOENT, "the utrace BPF metrics are not loaded (utracectl load)");
	Metrics m;
	read_map("report_hist", UM_NR_TYPES * UM_NR_EVENTS, sizeof(um_hist),
	         [&](uint32_t key, const char *p) {
		         m.reports[key / UM_NR_EVENTS][key % UM_NR_EVENTS].merge(as_hist(p));
	         });
	read_map("events", UM_NR_TYPES * UM_NR_EVENTS * UM_NR_ACTIONS, sizeof(uint64_t),
	         [&](uint32_t key, const char *p) {
		         const uint32_t te = key / UM_NR_ACTIONS;
		         m.events[te / UM_NR_EVENTS][te % UM_NR_EVENTS][key % UM_NR_ACTIONS] +=
		                 as_u64(p);
	         });
	read_map("stops", UM_NR_TYPES * UM_NR_EVENTS, sizeof(uint64_t),
	         [&](uint32_t key, const char *p) {
		         m.stops[key / UM_NR_EVENTS][key % UM_NR_EVENTS] += as_u64(p);
	         });
	read_map("resumes", UM_NR_TYPES * UM_NR_REASONS, sizeof(uint64_t),
	         [&](uint32_t key, const char *p) {
		         m.resumes[key / UM_NR_REASONS][key % UM_NR_REASONS] += as_u64(p);
	         });
	read_map("stop_hist", UM_NR_TYPES, sizeof(um_hist),
	         [&](uint32_t key, const char *p) { m.stop_durations[key].merge(as_hist(p)); });
	return m;
}

} // namespace utrace
