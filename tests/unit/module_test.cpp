// Host unit tests of libutrace's module-file handling.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
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

// The built module stripped of debug sections, as DKMS installs it.
const std::string &stripped_module()
{
	struct Stripped {
		std::string path = write_temp("");
		Stripped()
		{
			const std::string sh = "strip -g -o " + path + " " UTRACE_KO_X86_64;
			EXPECT_EQ(std::system(sh.c_str()), 0) << sh;
		}
		~Stripped() { std::remove(path.c_str()); }
		Stripped(const Stripped &) = delete;
		Stripped &operator=(const Stripped &) = delete;
	};
	static const Stripped s;
	return s.path;
}

// stripped_module() compressed by @cmd (a shell command from stdin to
// stdout) as DKMS or the kernel's build would, then through @then.
std::string compressed_module(const std::string &cmd, const std::string &then = "")
{
	std::string out = write_temp("");
	const std::string sh = cmd + " <" + stripped_module() + then + " >" + out;
	EXPECT_EQ(std::system(sh.c_str()), 0) << sh;
	return out;
}

// DKMS 3.0.10 (Debian 12) runs `xz -f`: CRC64 checks, which the kernel's
// own decompressor refuses; the kernel's build uses CRC32 and a 1 MiB
// dictionary; zstd and gzip as DKMS runs them.
TEST(Vermagic, OfACompressedModuleIsItsDecompressions)
{
	const auto plain = utrace::module_vermagic(stripped_module());
	ASSERT_TRUE(plain);
	for (const char *cmd :
	     {"xz", "xz --check=crc32 --lzma2=dict=1MiB", "zstd -q -20 --ultra", "gzip -9"}) {
		const auto path = compressed_module(cmd);
		EXPECT_EQ(utrace::module_vermagic(path), plain) << cmd;
		std::remove(path.c_str());
	}
}

TEST(Vermagic, OfATruncatedCompressedModuleIsEINVALNamingTheFile)
{
	for (const char *cmd : {"xz", "zstd -q", "gzip"}) {
		const auto path = compressed_module(cmd, " | head -c 20000");
		try {
			(void)utrace::module_vermagic(path);
			ADD_FAILURE() << cmd << ": no error";
		} catch (const utrace::Error &e) {
			EXPECT_EQ(e.code(), EINVAL) << cmd;
			EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
		}
		std::remove(path.c_str());
	}
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
