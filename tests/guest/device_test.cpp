// /dev/utrace smoke tests: the module is loaded by the guest runner (--load)
// before this binary runs and removed after it.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uapi/utrace.h"

namespace
{

class Device : public ::testing::Test
{
protected:
	void SetUp() override
	{
		fd_ = ::open("/dev/utrace", O_RDWR | O_CLOEXEC);
		ASSERT_GE(fd_, 0) << "open /dev/utrace: " << std::strerror(errno);
	}
	void TearDown() override
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	int fd_ = -1;
};

TEST_F(Device, ReportsVersionMatchingSysfs)
{
	utrace_ioc_version v{};
	ASSERT_EQ(::ioctl(fd_, UTRACE_IOC_VERSION, &v), 0) << std::strerror(errno);
	EXPECT_EQ(v.abi, UTRACE_ABI_VERSION);
	EXPECT_EQ(v.api, UTRACE_API_VERSION);
	ASSERT_EQ(v.release[sizeof(v.release) - 1], '\0');
	std::ifstream sysfs("/sys/module/utrace/version");
	std::string version;
	ASSERT_TRUE(std::getline(sysfs, version)) << "no /sys/module/utrace/version";
	EXPECT_EQ(version, v.release);
}

TEST_F(Device, AnswersPingWithComplementOfCookie)
{
	for (__u64 cookie : {0ULL, 1ULL, 0x0123456789abcdefULL, ~0ULL}) {
		utrace_ioc_ping p{cookie, 0};
		ASSERT_EQ(::ioctl(fd_, UTRACE_IOC_PING, &p), 0) << std::strerror(errno);
		EXPECT_EQ(p.cookie, cookie);
		EXPECT_EQ(p.reply, ~cookie);
	}
}

TEST_F(Device, RejectsUnknownIoctlWithENOTTY)
{
	errno = 0;
	EXPECT_EQ(::ioctl(fd_, _IO(UTRACE_IOC_MAGIC, 0x7f), 0), -1);
	EXPECT_EQ(errno, ENOTTY);
	errno = 0;
	EXPECT_EQ(::ioctl(fd_, _IOR('x', 0x00, struct utrace_ioc_version), 0), -1);
	EXPECT_EQ(errno, ENOTTY);
}

TEST_F(Device, RejectsBadPointersWithEFAULT)
{
	for (unsigned long cmd : {UTRACE_IOC_VERSION, UTRACE_IOC_PING}) {
		errno = 0;
		EXPECT_EQ(::ioctl(fd_, cmd, reinterpret_cast<void *>(8)), -1);
		EXPECT_EQ(errno, EFAULT);
		errno = 0;
		EXPECT_EQ(::ioctl(fd_, cmd, nullptr), -1);
		EXPECT_EQ(errno, EFAULT);
	}
}

TEST(DeviceNode, IsACharacterDeviceOnlyRootMayOpen)
{
	struct stat st {
	};
	ASSERT_EQ(::stat("/dev/utrace", &st), 0) << std::strerror(errno);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0600U);
}

} // namespace
