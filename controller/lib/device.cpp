#include "utrace/device.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <utility>

#include "uapi/utrace.h"
#include "utrace/error.hpp"

namespace utrace
{

Device::Device(const std::string &path)
{
	fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
	if (fd_ >= 0)
		return;
	const int err = errno;
	if (err == ENOENT)
		throw Error(err, path + " does not exist: the utrace module is not loaded "
		                        "(run 'utracectl load')");
	if (err == EACCES || err == EPERM)
		throw Error(err, path + ": permission denied (utracectl needs root)");
	throw_errno(err, "open " + path);
}

Device::~Device()
{
	if (fd_ >= 0)
		::close(fd_);
}

Device::Device(Device &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Device &Device::operator=(Device &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			::close(fd_);
		fd_ = std::exchange(other.fd_, -1);
	}
	return *this;
}

ModuleVersion Device::version() const
{
	utrace_ioc_version v{};
	if (::ioctl(fd_, UTRACE_IOC_VERSION, &v) != 0)
		throw_errno(errno, "UTRACE_IOC_VERSION");
	v.release[sizeof(v.release) - 1] = '\0';
	return {v.abi, v.api, v.release};
}

uint64_t Device::ping(uint64_t cookie) const
{
	utrace_ioc_ping p{cookie, 0};
	if (::ioctl(fd_, UTRACE_IOC_PING, &p) != 0)
		throw_errno(errno, "UTRACE_IOC_PING");
	return p.reply;
}

} // namespace utrace
