// Host unit tests of the ptrace backend switch (utracectl ptrace-backend):
// parsing, the error sentences, and reading/writing a parameter directory and
// a /proc tree that the tests make themselves.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "utrace/error.hpp"
#include "utrace/ptrace_backend.hpp"

namespace
{

namespace fs = std::filesystem;
using utrace::PtraceBackend;

// A temporary directory, removed with everything in it.
class TempDir
{
public:
	TempDir()
	{
		std::string tmpl = (fs::temp_directory_path() / "utrace-unit-XXXXXX").string();
		path_ = ::mkdtemp(tmpl.data());
	}
	~TempDir() { fs::remove_all(path_); }
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	[[nodiscard]] const fs::path &path() const { return path_; }

private:
	fs::path path_;
};

void write_file(const fs::path &p, const std::string &text)
{
	fs::create_directories(p.parent_path());
	std::ofstream(p) << text;
}

std::string read_file(const fs::path &p)
{
	std::ifstream in(p);
	return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What fn() throws, or a failure if it does not.
template <typename F> utrace::Error error_of(F fn)
{
	try {
		fn();
	} catch (const utrace::Error &e) {
		return e;
	}
	ADD_FAILURE() << "no error";
	return {0, ""};
}

TEST(PtraceBackend, ParsesTheBoolParameter)
{
	EXPECT_EQ(utrace::parse_backend_param("Y\n"), PtraceBackend::Utrace);
	EXPECT_EQ(utrace::parse_backend_param("N\n"), PtraceBackend::Native);
	EXPECT_EQ(utrace::parse_backend_param("Y"), PtraceBackend::Utrace);
	const auto e = error_of([] { (void)utrace::parse_backend_param("1\n"); });
	EXPECT_EQ(e.code(), EPROTO);
}

TEST(PtraceBackend, Names)
{
	EXPECT_STREQ(utrace::backend_name(PtraceBackend::Utrace), "utrace");
	EXPECT_STREQ(utrace::backend_name(PtraceBackend::Native), "native");
}

TEST(PtraceBackend, BusyNamesTheBackendItsTraceesAndWhatToDo)
{
	const auto e = utrace::backend_write_error(EBUSY, PtraceBackend::Native,
	                                           PtraceBackend::Utrace, 2U);
	EXPECT_EQ(e.code(), EBUSY);
	EXPECT_STREQ(e.what(), "cannot switch the ptrace backend to utrace: tracees exist under "
	                       "the current backend (native, 2 traced threads); detach them first");
	const auto one = utrace::backend_write_error(EBUSY, PtraceBackend::Utrace,
	                                             PtraceBackend::Native, 1U);
	EXPECT_STREQ(one.what(),
	             "cannot switch the ptrace backend to native: tracees exist under "
	             "the current backend (utrace, 1 traced thread); detach them first");
	const auto unknown = utrace::backend_write_error(EBUSY, PtraceBackend::Utrace,
	                                                 PtraceBackend::Native, std::nullopt);
	EXPECT_STREQ(unknown.what(),
	             "cannot switch the ptrace backend to native: tracees exist under the current "
	             "backend (utrace); detach them first");
}

TEST(PtraceBackend, OtherWriteErrorsSayWhy)
{
	const auto acc = utrace::backend_write_error(EACCES, PtraceBackend::Native,
	                                             PtraceBackend::Utrace, std::nullopt);
	EXPECT_EQ(acc.code(), EACCES);
	EXPECT_NE(std::string(acc.what()).find("permission denied"), std::string::npos);
	EXPECT_NE(std::string(acc.what()).find("needs root"), std::string::npos);
	const auto gone = utrace::backend_write_error(ENOENT, PtraceBackend::Native,
	                                              PtraceBackend::Utrace, std::nullopt);
	EXPECT_NE(std::string(gone.what()).find("utrace is not loaded"), std::string::npos);
	const auto other = utrace::backend_write_error(EIO, PtraceBackend::Native,
	                                               PtraceBackend::Utrace, std::nullopt);
	EXPECT_NE(std::string(other.what()).find("Input/output error"), std::string::npos);
}

TEST(PtraceBackend, ModuleNotLoadedIsENOENT)
{
	const TempDir tmp;
	const auto dir = (tmp.path() / "utrace" / "parameters").string();
	const auto e = error_of([&] { (void)utrace::read_ptrace_backend(dir); });
	EXPECT_EQ(e.code(), ENOENT);
	EXPECT_STREQ(e.what(), "utrace is not loaded (utracectl load)");
}

TEST(PtraceBackend, ModuleWithoutTheSwitchIsEOPNOTSUPP)
{
	const TempDir tmp;
	const auto dir = tmp.path() / "utrace" / "parameters";
	fs::create_directories(dir);
	const auto e = error_of([&] { (void)utrace::read_ptrace_backend(dir.string()); });
	EXPECT_EQ(e.code(), EOPNOTSUPP);
	EXPECT_NE(std::string(e.what()).find("no ptrace backend"), std::string::npos);
}

TEST(PtraceBackend, SwitchWritesTheParameterAndReturnsThePrevious)
{
	const TempDir tmp;
	const auto dir = tmp.path() / "utrace" / "parameters";
	write_file(dir / "ptrace_backend", "N\n");
	EXPECT_EQ(utrace::read_ptrace_backend(dir.string()), PtraceBackend::Native);
	EXPECT_EQ(utrace::set_ptrace_backend(PtraceBackend::Utrace, dir.string()),
	          PtraceBackend::Native);
	EXPECT_EQ(read_file(dir / "ptrace_backend"), "Y\n");
	EXPECT_EQ(utrace::set_ptrace_backend(PtraceBackend::Utrace, dir.string()),
	          PtraceBackend::Utrace);
	EXPECT_EQ(utrace::set_ptrace_backend(PtraceBackend::Native, dir.string()),
	          PtraceBackend::Utrace);
	EXPECT_EQ(read_file(dir / "ptrace_backend"), "N\n");
}

TEST(PtraceBackend, UtraceTraceesOnlyIfExposed)
{
	const TempDir tmp;
	EXPECT_FALSE(utrace::read_utrace_tracees(tmp.path().string()));
	write_file(tmp.path() / "ptrace_tracees", "3\n");
	EXPECT_EQ(utrace::read_utrace_tracees(tmp.path().string()), 3U);
}

TEST(PtraceBackend, NativeTraceesAreThreadsWithATracerPid)
{
	const TempDir tmp;
	const auto &proc = tmp.path();
	write_file(proc / "1/task/1/status", "Name:\tinit\nTracerPid:\t0\nUid:\t0\n");
	write_file(proc / "20/task/20/status", "Name:\tsh\nTracerPid:\t19\n");
	write_file(proc / "20/task/21/status", "Name:\tsh\nTracerPid:\t19\n");
	write_file(proc / "30/task/30/status", "Name:\tx\nTracerPid:\t0\n");
	write_file(proc / "self/task/30/status", "Name:\tx\nTracerPid:\t5\n"); // not a pid
	fs::create_directories(proc / "40/task");                              // exited
	EXPECT_EQ(utrace::count_native_tracees(proc.string()), 2U);
	EXPECT_EQ(utrace::count_native_tracees((proc / "missing").string()), 0U);
}

} // namespace
