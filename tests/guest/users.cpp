#include "users.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace utrace_test
{

namespace
{

constexpr const char *kDevice = "/dev/utrace";

bool read_all(int fd, void *buf, size_t len)
{
	auto *p = static_cast<char *>(buf);
	while (len) {
		const ssize_t n = ::read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= static_cast<size_t>(n);
	}
	return true;
}

bool write_all(int fd, const void *buf, size_t len)
{
	const auto *p = static_cast<const char *>(buf);
	while (len) {
		const ssize_t n = ::write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= static_cast<size_t>(n);
	}
	return true;
}

void reap(pid_t pid)
{
	int st = 0;
	while (::waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
}

} // namespace

bool become(uid_t uid, const std::vector<int> &keep)
{
	// Every descriptor but 0-2 and @keep goes: the child must not keep a
	// /dev/utrace file of the test open.
	for (int fd = 3; fd < 1024; fd++) {
		bool kept = false;
		for (const int k : keep)
			kept = kept || k == fd;
		if (!kept)
			::close(fd);
	}
	if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
	    ::setresuid(uid, uid, uid) != 0 || ::geteuid() != uid)
		return false;
	// Dropping root's uid made the process non-dumpable, which ptrace's
	// rule (ptrace_may_access) protects from its own user: undo that, as
	// an exec would.  And Yama's default ptrace_scope (1) lets only an
	// ancestor attach: these processes are siblings, so each accepts any
	// tracer Yama-wise (the uid rule still applies: another user is refused).
	if (::prctl(PR_SET_DUMPABLE, 1) != 0)
		return false;
	(void)::prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY); // EINVAL without Yama
	return true;
}

OpenDeviceToAll::OpenDeviceToAll()
{
	if (::chmod(kDevice, 0666) != 0)
		throw std::runtime_error(std::string("chmod /dev/utrace: ") + std::strerror(errno));
}

OpenDeviceToAll::~OpenDeviceToAll()
{
	::chmod(kDevice, 0600);
}

// The child says it is ready (it has become its user) on @fd.
static void wait_ready(int fd, pid_t pid)
{
	char c = 0;
	pollfd p{fd, POLLIN, 0};
	if (::poll(&p, 1, 60000) != 1 || ::read(fd, &c, 1) != 1 || c != 'r') {
		::kill(pid, SIGKILL);
		reap(pid);
		throw std::runtime_error("a helper process could not become its user");
	}
}

UserSleeper::UserSleeper(uid_t uid)
{
	int p[2];
	int ready[2];
	if (::pipe2(p, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0)
		throw std::runtime_error("pipe");
	pid_ = ::fork();
	if (pid_ < 0)
		throw std::runtime_error("fork");
	if (pid_ == 0) {
		if (!become(uid, {p[0], ready[1]}) || ::write(ready[1], "r", 1) != 1)
			::_exit(100);
		char c = 0;
		while (::read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		::_exit(0);
	}
	::close(p[0]);
	::close(ready[1]);
	fd_ = p[1];
	wait_ready(ready[0], pid_);
	::close(ready[0]);
}

UserSleeper::~UserSleeper()
{
	::close(fd_);
	::kill(pid_, SIGKILL);
	reap(pid_);
}

namespace
{

struct AgentRequest {
	enum Op : uint32_t { Attach, Engine, Info, List, Reopen, Replies } op;
	uint32_t type;
	uint32_t flags;
	int32_t tid;
	uint64_t cmd;
	uint64_t id;
	uint64_t a;
	uint64_t b;
};

struct AgentResponse {
	int32_t err;
	uint32_t n;
	uint64_t id;
	utrace_ioc_engine_info info;
	uint64_t ids[128];
};

int errno_of(int ret)
{
	return ret == 0 ? 0 : errno;
}

void agent_do(int dev, const AgentRequest &req, AgentResponse &resp, uint64_t replies)
{
	switch (req.op) {
	case AgentRequest::Attach: {
		utrace_ioc_attach a{};
		a.tid = req.tid;
		a.type = req.type;
		a.events = req.a;
		a.stop_events = req.b;
		a.flags = req.flags;
		resp.err = errno_of(::ioctl(dev, UTRACE_IOC_ATTACH, &a));
		resp.id = a.id;
		break;
	}
	case AgentRequest::Engine: {
		utrace_ioc_engine e{req.id, req.a};
		resp.err = errno_of(::ioctl(dev, static_cast<unsigned long>(req.cmd), &e));
		break;
	}
	case AgentRequest::Info:
		resp.info.id = req.id;
		resp.err = errno_of(::ioctl(dev, UTRACE_IOC_ENGINE_INFO, &resp.info));
		break;
	case AgentRequest::List: {
		utrace_ioc_list l{};
		l.ids = reinterpret_cast<uintptr_t>(resp.ids);
		l.count = 128;
		resp.err = errno_of(::ioctl(dev, UTRACE_IOC_LIST, &l));
		resp.n = l.count;
		break;
	}
	case AgentRequest::Reopen:
		break; // done by the loop
	case AgentRequest::Replies:
		resp.id = replies;
		break;
	}
}

// The agent: requests on @req_fd, responses on @resp_fd; answers its user
// engines' reports as they come.
[[noreturn]] void agent_loop(int req_fd, int resp_fd)
{
	int dev = ::open(kDevice, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	const int open_errno = dev < 0 ? errno : 0;
	uint64_t replies = 0;
	for (;;) {
		pollfd p[2] = {{req_fd, POLLIN, 0}, {dev, POLLIN, 0}};
		if (::poll(p, dev >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			::_exit(101);
		}
		if (dev >= 0 && (p[1].revents & POLLIN)) {
			utrace_report_msg msg{};
			if (::read(dev, &msg, sizeof(msg)) == sizeof(msg) &&
			    (msg.flags & UTRACE_MSG_NEEDS_REPLY)) {
				utrace_reply_msg reply{};
				reply.seq = msg.seq;
				reply.action = UTRACE_IOC_ACTION_RESUME;
				if (::write(dev, &reply, sizeof(reply)) == sizeof(reply))
					replies++;
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		AgentRequest req{};
		if (!read_all(req_fd, &req, sizeof(req)))
			::_exit(0);
		AgentResponse resp{};
		if (dev < 0) {
			resp.err = open_errno;
		} else if (req.op == AgentRequest::Reopen) {
			::close(dev);
			dev = ::open(kDevice, O_RDWR | O_CLOEXEC | O_NONBLOCK);
			resp.err = dev < 0 ? errno : 0;
		} else {
			agent_do(dev, req, resp, replies);
		}
		if (!write_all(resp_fd, &resp, sizeof(resp)))
			::_exit(102);
	}
}

} // namespace

UserAgent::UserAgent(uid_t uid)
{
	int req[2];
	int resp[2];
	if (::pipe2(req, O_CLOEXEC) != 0 || ::pipe2(resp, O_CLOEXEC) != 0)
		throw std::runtime_error("pipe");
	pid_ = ::fork();
	if (pid_ < 0)
		throw std::runtime_error("fork");
	if (pid_ == 0) {
		if (!become(uid, {req[0], resp[1]}))
			::_exit(100);
		agent_loop(req[0], resp[1]);
	}
	::close(req[0]);
	::close(resp[1]);
	req_fd_ = req[1];
	resp_fd_ = resp[0];
}

UserAgent::~UserAgent()
{
	::close(req_fd_);
	::close(resp_fd_);
	reap(pid_);
}

int UserAgent::call(const void *req, void *resp)
{
	if (!write_all(req_fd_, req, sizeof(AgentRequest)) ||
	    !read_all(resp_fd_, resp, sizeof(AgentResponse)))
		throw std::runtime_error("the user agent died");
	return static_cast<AgentResponse *>(resp)->err;
}

int UserAgent::attach(pid_t tid, uint32_t type, uint64_t events, uint64_t stop_events,
                      uint32_t flags, uint64_t *id)
{
	AgentRequest req{};
	req.op = AgentRequest::Attach;
	req.tid = tid;
	req.type = type;
	req.a = events;
	req.b = stop_events;
	req.flags = flags;
	AgentResponse resp{};
	const int err = call(&req, &resp);
	if (id)
		*id = err ? 0 : resp.id;
	return err;
}

int UserAgent::engine(unsigned long cmd, uint64_t id, uint64_t arg)
{
	AgentRequest req{};
	req.op = AgentRequest::Engine;
	req.cmd = cmd;
	req.id = id;
	req.a = arg;
	AgentResponse resp{};
	return call(&req, &resp);
}

int UserAgent::info(uint64_t id, utrace_ioc_engine_info *out)
{
	AgentRequest req{};
	req.op = AgentRequest::Info;
	req.id = id;
	AgentResponse resp{};
	const int err = call(&req, &resp);
	if (out)
		*out = resp.info;
	return err;
}

int UserAgent::list(std::vector<uint64_t> *ids)
{
	AgentRequest req{};
	req.op = AgentRequest::List;
	AgentResponse resp{};
	const int err = call(&req, &resp);
	if (!err && ids)
		ids->assign(resp.ids, resp.ids + std::min<uint32_t>(resp.n, 128));
	return err;
}

int UserAgent::reopen()
{
	AgentRequest req{};
	req.op = AgentRequest::Reopen;
	AgentResponse resp{};
	return call(&req, &resp);
}

uint64_t UserAgent::replies()
{
	AgentRequest req{};
	req.op = AgentRequest::Replies;
	AgentResponse resp{};
	(void)call(&req, &resp);
	return resp.id;
}

UserExec::UserExec(uid_t uid, const std::string &path, const std::string &arg)
{
	int go[2];
	int out[2];
	int ready[2];
	if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
	    ::pipe2(ready, O_CLOEXEC) != 0)
		throw std::runtime_error("pipe");
	pid_ = ::fork();
	if (pid_ < 0)
		throw std::runtime_error("fork");
	if (pid_ == 0) {
		if (!become(uid, {go[0], out[1], ready[1]}) || ::write(ready[1], "r", 1) != 1)
			::_exit(100);
		char c = 0;
		if (::read(go[0], &c, 1) != 1)
			::_exit(101);
		if (::dup2(out[1], 1) != 1)
			::_exit(102);
		const char *argv[] = {path.c_str(), arg.c_str(), nullptr};
		::execv(path.c_str(), const_cast<char **>(argv));
		::_exit(127);
	}
	::close(go[0]);
	::close(out[1]);
	::close(ready[1]);
	go_fd_ = go[1];
	out_fd_ = out[0];
	wait_ready(ready[0], pid_);
	::close(ready[0]);
}

UserExec::~UserExec()
{
	::close(go_fd_);
	::close(out_fd_);
	if (!reaped_) {
		::kill(pid_, SIGKILL);
		reap(pid_);
	}
}

void UserExec::go()
{
	if (::write(go_fd_, "g", 1) != 1)
		throw std::runtime_error("write go");
}

std::string UserExec::finish(int *status)
{
	std::string out;
	char buf[256];
	for (;;) {
		pollfd p{out_fd_, POLLIN, 0};
		if (::poll(&p, 1, 60000) != 1) {
			*status = -1;
			return out;
		}
		const ssize_t n = ::read(out_fd_, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	int st = 0;
	while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR)
		;
	reaped_ = true;
	*status = st;
	return out;
}

} // namespace utrace_test
