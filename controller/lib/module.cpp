#include "utrace/module.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "module_image.hpp"
#include "utrace/error.hpp"

namespace utrace
{

namespace
{

#ifndef UTRACE_MODULE_DECOMPRESS
// <linux/module.h>'s MODULE_INIT_COMPRESSED_FILE (Linux 5.17), which older
// uapi headers lack.
constexpr int kModuleInitCompressedFile = 4;
#endif

bool is_file(const std::string &path)
{
	struct stat st {
	};
	return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

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

// Whether /proc/cpuinfo lists the "ibt" flag: the kernel enforces IBT.
bool cpu_enforces_ibt()
{
	std::ifstream in("/proc/cpuinfo");
	std::string line;
	while (std::getline(in, line)) {
		if (line.rfind("flags", 0) != 0)
			continue;
		return (line + " ").find(" ibt ") != std::string::npos;
	}
	return false;
}

} // namespace

std::string kernel_release()
{
	struct utsname u {
	};
	if (::uname(&u) != 0)
		throw_errno(errno, "uname");
	return u.release;
}

std::string find_module(const std::optional<std::string> &explicit_path)
{
	if (explicit_path) {
		if (!is_file(*explicit_path))
			throw Error(ENOENT, "module file " + *explicit_path + " not found");
		return *explicit_path;
	}
	std::vector<std::string> tried;
	if (const char *env = std::getenv("UTRACE_MODULE"); env && *env)
		tried.emplace_back(env);
	// Where DKMS installs it (package utrace-dkms; compressed like the
	// kernel's own modules where those are, as on Debian 13's 6.12), then
	// where `make modules_install` would.
	const std::string lib = "/lib/modules/" + kernel_release();
	for (const char *suffix : {"", ".xz", ".zst", ".gz"})
		tried.push_back(lib + "/updates/dkms/utrace.ko" + suffix);
	tried.push_back(lib + "/extra/utrace.ko");
	tried.emplace_back(UTRACE_BUILD_MODULE);
	for (const auto &p : tried)
		if (is_file(p))
			return p;
	std::string msg = "utrace.ko not found; looked at";
	for (const auto &p : tried)
		msg += " " + p;
	throw Error(ENOENT, msg + " (build it, or pass --module PATH)");
}

bool module_compressed(const std::string &path)
{
	for (const std::string_view suffix : {".ko.xz", ".ko.zst", ".ko.gz"})
		if (path.ends_with(suffix))
			return true;
	return false;
}

std::optional<std::string> module_vermagic(const std::string &path)
{
	const std::string data = module_image(path);
	static constexpr std::string_view kKey = "vermagic=";
	for (size_t pos = data.find(kKey); pos != std::string::npos;
	     pos = data.find(kKey, pos + 1)) {
		// .modinfo entries are NUL-separated "key=value" strings.
		if (pos != 0 && data[pos - 1] != '\0')
			continue;
		const size_t start = pos + kKey.size();
		const size_t end = data.find('\0', start);
		if (end == std::string::npos)
			break;
		return data.substr(start, end - start);
	}
	return std::nullopt;
}

std::string vermagic_release(const std::string &vermagic)
{
	return vermagic.substr(0, vermagic.find(' '));
}

bool module_loaded()
{
	struct stat st {
	};
	return ::stat((std::string("/sys/module/") + kModuleName).c_str(), &st) == 0;
}

namespace
{

// A compressed module: decompressed here and given to init_module(), as
// modprobe does (module_image.cpp says why not the kernel's decompression).
// Without decompressors (the static ppc64le test build), the kernel's:
// finit_module() with MODULE_INIT_COMPRESSED_FILE.
int load_compressed(const std::string &path, int fd, const std::string &args)
{
#ifdef UTRACE_MODULE_DECOMPRESS
	(void)fd;
	const std::string image = module_image(path);
	return static_cast<int>(
	        ::syscall(SYS_init_module, image.data(), image.size(), args.c_str()));
#else
	(void)path;
	return static_cast<int>(
	        ::syscall(SYS_finit_module, fd, args.c_str(), kModuleInitCompressedFile));
#endif
}

} // namespace

void load_module(const std::string &path, const std::vector<std::string> &params)
{
	const bool compressed = module_compressed(path);
	const std::string release = kernel_release();
#ifndef UTRACE_MODULE_DECOMPRESS
	// The kernel decompresses it, and checks its vermagic.
	if (!compressed)
#endif
	{
		const auto vermagic = module_vermagic(path);
		if (!vermagic)
			throw Error(ENOEXEC, path + " is not a kernel module (no vermagic)");
		if (vermagic_release(*vermagic) != release)
			throw Error(ENOEXEC, path + " was built for kernel " +
			                             vermagic_release(*vermagic) +
			                             ", this kernel is " + release);
	}
	if (module_loaded())
		throw Error(EEXIST, "utrace is already loaded (utracectl unload first)");

	Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (fd.get() < 0)
		throw_errno(errno, "open " + path);
	std::string args;
	for (const auto &p : params)
		args += (args.empty() ? "" : " ") + p;
	const int ret =
	        compressed
	                ? load_compressed(path, fd.get(), args)
	                : static_cast<int>(::syscall(SYS_finit_module, fd.get(), args.c_str(), 0));
	if (ret == 0)
		return;
	const int err = errno;
#ifndef UTRACE_MODULE_DECOMPRESS
	if (compressed && err == EOPNOTSUPP)
		throw Error(err, "this kernel cannot decompress modules (CONFIG_MODULE_DECOMPRESS "
		                 "is off): decompress " +
		                         path + " and load that");
#endif
	switch (err) {
	case EPERM:
		throw Error(err, "loading a module needs root (CAP_SYS_MODULE)");
	case EEXIST:
		throw Error(err, "utrace is already loaded (utracectl unload first)");
	case ENOSYS:
		throw Error(err, "this kernel cannot load modules (CONFIG_MODULES is off)");
	case ENOEXEC:
		throw Error(err, path + " is not a valid module for kernel " + release);
	case EINVAL:
		throw Error(err, "the kernel rejected " + path + " or its parameters (see dmesg)");
	case EOPNOTSUPP:
		// kmod/kcall.c: a call into the kernel that is not direct, to a
		// function without ENDBR64, where IBT would make it a #CP.
		throw Error(err, std::string("utrace.ko refused this kernel: ") +
		                         (cpu_enforces_ibt() ? "the CPU enforces IBT"
		                                             : "IBT assumed (ibt_assume_unsafe)") +
		                         " and a kernel function it calls has no ENDBR64 and "
		                         "cannot be called directly (dmesg names it)");
	default:
		throw_errno(err, "finit_module " + path);
	}
}

void unload_module()
{
	if (::syscall(SYS_delete_module, kModuleName, O_NONBLOCK) == 0)
		return;
	const int err = errno;
	switch (err) {
	case ENOENT:
		throw Error(err, "utrace is not loaded");
	case EPERM:
		throw Error(err, "unloading a module needs root (CAP_SYS_MODULE)");
	case EWOULDBLOCK:
		throw Error(err, "utrace is in use (close /dev/utrace users, detach the ptrace "
		                 "backend's tracees, and retry)");
	default:
		throw_errno(err, "delete_module utrace");
	}
}

} // namespace utrace
