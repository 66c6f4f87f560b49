// Host unit tests of libutrace's module-file handling.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "utrace/error.hpp"
#include "utrace/module.hpp"

namespace
{

std::string write_temp(const std::string &bytes)
{
	char name[] = "/tmp/utrace-unit-XXXXXX";
	const int fd = ::mkstemp(name);
	EXPECT_GE(fd, 0);
	::close(fd);
	std::ofstream(name, std::ios::binary) << bytes;
	return name;
}

TEST(Vermagic, IsReadFromModinfoEntry)
{
	using namespace std::string_literals;
	const auto path = write_temp("junk\0license=GPL\0vermagic=6.1.0-50-amd64 SMP preempt "
	                             "mod_unload modversions \0author=x\0"s);
	const auto vm = utrace::module_vermagic(path);
	ASSERT_TRUE(vm);
	EXPECT_EQ(*vm, "6.1.0-50-amd64 SMP preempt mod_unload modversions ");
	EXPECT_EQ(utrace::vermagic_release(*vm), "6.1.0-50-amd64");
	std::remove(path.c_str());
}

TEST(Vermagic, IgnoresTheKeyInsideAnotherString)
{
	using namespace std::string_literals;
	const auto path = write_temp("\0description=no vermagic=here\0"s);
	EXPECT_FALSE(utrace::module_vermagic(path));
	std::remove(path.c_str());
}

TEST(Vermagic, OfTheBuiltModulesNamesTheirKernels)
{
	const auto x86 = utrace::module_vermagic(UTRACE_KO_X86_64);
	const auto ppc = utrace::module_vermagic(UTRACE_KO_PPC64LE);
	ASSERT_TRUE(x86 && ppc);
	EXPECT_TRUE(utrace::vermagic_release(*x86).ends_with("-amd64")) << *x86;
	EXPECT_TRUE(utrace::vermagic_release(*ppc).ends_with("-powerpc64le")) << *ppc;
}

TEST(FindModule, ExplicitMissingPathIsENOENTNamingIt)
{
	try {
		(void)utrace::find_module(std::string("/nonexistent/utrace.ko"));
		FAIL() << "no error";
	} catch (const utrace::Error &e) {
		EXPECT_EQ(e.code(), ENOENT);
		EXPECT_NE(std::string(e.what()).find("/nonexistent/utrace.ko"), std::string::npos);
	}
}

TEST(FindModule, CompressedModulesAreRecognisedBySuffix)
{
	// DKMS compresses the module like the kernel's own (Debian 13: .ko.xz);
	// utracectl load passes those to the kernel to decompress.
	EXPECT_TRUE(utrace::module_compressed("/lib/modules/r/updates/dkms/utrace.ko.xz"));
	EXPECT_TRUE(utrace::module_compressed("utrace.ko.zst"));
	EXPECT_TRUE(utrace::module_compressed("utrace.ko.gz"));
	EXPECT_FALSE(utrace::module_compressed("/lib/modules/r/updates/dkms/utrace.ko"));
	EXPECT_FALSE(utrace::module_compressed("utrace.xz"));
}

TEST(LoadModule, RefusesAModuleBuiltForAnotherKernel)
{
	// The ppc64le module is never for this (x86_64) machine's kernel: the
	// vermagic check refuses it before finit_module is tried.
	try {
		utrace::load_module(UTRACE_KO_PPC64LE, {});
		FAIL() << "no error";
	} catch (const utrace::Error &e) {
		EXPECT_EQ(e.code(), ENOEXEC);
		EXPECT_NE(std::string(e.what()).find("was built for kernel"), std::string::npos)
		        << e.what();
	}
}

} // namespace
