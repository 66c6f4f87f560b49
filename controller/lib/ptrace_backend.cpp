#include "utrace/ptrace_backend.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace utrace
{

namespace
{

namespace fs = std::filesystem;

bool exists(const std::string &path)
{
	struct stat st {
	};
	return ::stat(path.c_str(), &st) == 0;
}

std::string backend_param(const std::string &param_dir)
{
	return param_dir + "/ptrace_backend";
}

// The parameter file, after checking that the module and its switch exist.
std::string backend_param_checked(const std::string &param_dir)
{
	std::string path = backend_param(param_dir);
	if (exists(path))
		return path;
	if (!exists(fs::path(param_dir).parent_path().string()))
		throw Error(ENOENT, "utrace is not loaded (utracectl load)");
	throw Error(EOPNOTSUPP, "this utrace.ko has no ptrace backend (no " + path + ")");
}

bool is_number(const std::string &s)
{
	return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The TracerPid of one /proc/PID/task/TID/status, 0 if it is gone.
long tracer_pid(const fs::path &status)
{
	std::ifstream in(status);
	std::string line;
	while (std::getline(in, line)) {
		static constexpr std::string_view kKey = "TracerPid:";
		if (line.starts_with(kKey))
			return std::strtol(line.c_str() + kKey.size(), nullptr, 10);
	}
	return 0;
}

} // namespace

const char *backend_name(PtraceBackend b)
{
	return b == PtraceBackend::Utrace ? "utrace" : "native";
}

PtraceBackend parse_backend_param(std::string_view text)
{
	if (text == "Y" || text == "Y\n")
		return PtraceBackend::Utrace;
	if (text == "N" || text == "N\n")
		return PtraceBackend::Native;
	throw Error(EPROTO, "ptrace_backend reads '" + std::string(text) + "', not Y or N");
}

PtraceBackend read_ptrace_backend(const std::string &param_dir)
{
	const std::string path = backend_param_checked(param_dir);
	std::ifstream in(path);
	if (!in)
		throw_errno(errno ? errno : EIO, "read " + path);
	std::stringstream text;
	text << in.rdbuf();
	return parse_backend_param(text.str());
}

std::optional<unsigned> read_utrace_tracees(const std::string &param_dir)
{
	std::ifstream in(param_dir + "/ptrace_tracees");
	unsigned n = 0;
	if (!(in >> n))
		return std::nullopt;
	return n;
}

unsigned count_native_tracees(const std::string &proc)
{
	unsigned n = 0;
	std::error_code ec;
	// Processes and threads come and go while we look: skip what vanished.
	for (const auto &p : fs::directory_iterator(proc, ec)) {
		if (!is_number(p.path().filename().string()))
			continue;
		std::error_code tec;
		for (const auto &t : fs::directory_iterator(p.path() / "task", tec))
			if (tracer_pid(t.path() / "status") != 0)
				n++;
	}
	return n;
}

Error backend_write_error(int err, PtraceBackend from, PtraceBackend to,
                          std::optional<unsigned> tracees)
{
	const std::string what =
	        std::string("cannot switch the ptrace backend to ") + backend_name(to) + ": ";
	switch (err) {
	case EBUSY: {
		std::string msg =
		        what + "tracees exist under the current backend (" + backend_name(from);
		if (tracees)
			msg += ", " + std::to_string(*tracees) +
			       (*tracees == 1 ? " traced thread" : " traced threads");
		return {err, msg + "); detach them first"};
	}
	case EACCES:
	case EPERM:
		return {err, what + "permission denied (writing the module parameter "
		                    "ptrace_backend needs root)"};
	case ENOENT:
		return {err, what + "utrace is not loaded (utracectl load)"};
	case EINVAL:
		return {err, what + "the module rejected the value"};
	default:
		return {err, what + std::strerror(err)};
	}
}

PtraceBackend set_ptrace_backend(PtraceBackend to, const std::string &param_dir,
                                 const std::string &proc)
{
	const PtraceBackend from = read_ptrace_backend(param_dir);
	const std::string path = backend_param(param_dir);
	const char *value = to == PtraceBackend::Utrace ? "Y" : "N";
	const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0) {
		const ssize_t n = ::write(fd, value, 1);
		if (n != 1)
			err = n < 0 ? errno : EIO;
		::close(fd);
	}
	if (err == 0)
		return from;
	std::optional<unsigned> tracees;
	if (err == EBUSY)
		tracees = from == PtraceBackend::Utrace ? read_utrace_tracees(param_dir)
		                                        : std::optional(count_native_tracees(proc));
	throw backend_write_error(err, from, to, tracees);
}

} // namespace utrace
