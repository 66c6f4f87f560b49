// /dev/utrace: the module's control device.  RAII owner of one open fd.
#pragma once

#include <cstdint>
#include <string>

namespace utrace
{

struct ModuleVersion {
	uint32_t abi = 0;    // UTRACE_ABI_VERSION of the loaded module
	uint32_t api = 0;    // utrace engine API (upstream: 20091216)
	std::string release; // module version string
};

class Device
{
public:
	static constexpr const char *kPath = "/dev/utrace";

	// Opens kPath; throws Error (ENOENT: "module not loaded", EACCES: "needs root").
	explicit Device(const std::string &path = kPath);
	~Device();
	Device(const Device &) = delete;
	Device &operator=(const Device &) = delete;
	Device(Device &&other) noexcept;
	Device &operator=(Device &&other) noexcept;

	[[nodiscard]] ModuleVersion version() const;
	// Round trip through the module; returns the module's reply (~cookie).
	[[nodiscard]] uint64_t ping(uint64_t cookie) const;
	[[nodiscard]] int fd() const noexcept { return fd_; }

private:
	int fd_ = -1;
};

} // namespace utrace
