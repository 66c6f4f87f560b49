// Other users in the guest tests: processes that run as a given uid (no
// passwd entry needed) and drive their own /dev/utrace file, for the
// ownership and permission tests (ownership_test.cpp).  The test itself runs
// as root; every helper is a forked child that drops to the uid first and
// closes every inherited descriptor, so it holds no file of the test.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

#include "uapi/utrace.h"

namespace utrace_test
{

// Unprivileged uids the tests use (no passwd entries needed).
inline constexpr uid_t kUserA = 1001;
inline constexpr uid_t kUserB = 1002;

// In a forked child: drop to @uid/@uid with no supplementary groups, close
// every descriptor above 2 but @keep, and be traceable by @uid (dumpable,
// any tracer as far as Yama is concerned); false on failure.
bool become(uid_t uid, const std::vector<int> &keep = {});

// Makes /dev/utrace usable by every user (mode 0666) while it lives; the
// module creates it 0600.
class OpenDeviceToAll
{
public:
	OpenDeviceToAll();
	~OpenDeviceToAll();
	OpenDeviceToAll(const OpenDeviceToAll &) = delete;
	OpenDeviceToAll &operator=(const OpenDeviceToAll &) = delete;
};

// A process of @uid that blocks in read(2) until destroyed.
class UserSleeper
{
public:
	explicit UserSleeper(uid_t uid);
	~UserSleeper();
	UserSleeper(const UserSleeper &) = delete;
	UserSleeper &operator=(const UserSleeper &) = delete;
	[[nodiscard]] pid_t pid() const { return pid_; }

private:
	pid_t pid_ = -1;
	int fd_ = -1;
};

// A process of @uid with its own /dev/utrace file, doing one request at a
// time for the test; every call returns 0 or the errno the module gave.
// It answers every report of its user engines with RESUME by itself.
class UserAgent
{
public:
	explicit UserAgent(uid_t uid);
	~UserAgent();
	UserAgent(const UserAgent &) = delete;
	UserAgent &operator=(const UserAgent &) = delete;
	[[nodiscard]] pid_t pid() const { return pid_; }

	int attach(pid_t tid, uint32_t type, uint64_t events, uint64_t stop_events, uint32_t flags,
	           uint64_t *id);
	// UTRACE_IOC_SET_EVENTS, _SET_STOP_EVENTS, _CONTROL or _DETACH.
	int engine(unsigned long cmd, uint64_t id, uint64_t arg);
	int info(uint64_t id, utrace_ioc_engine_info *out = nullptr);
	int list(std::vector<uint64_t> *ids);
	// Closes its file (detaching what the file owns) and opens another.
	int reopen();
	// Reports it answered so far.
	uint64_t replies();

private:
	// One request to the agent (users.cpp); returns its errno.
	int call(const void *req, void *resp);
	pid_t pid_ = -1;
	int req_fd_ = -1;
	int resp_fd_ = -1;
};

// Runs @path with @arg as @uid in a child that waits for go(); returns its
// standard output once it has ended (and its wait status).
class UserExec
{
public:
	UserExec(uid_t uid, const std::string &path, const std::string &arg);
	~UserExec();
	UserExec(const UserExec &) = delete;
	UserExec &operator=(const UserExec &) = delete;
	[[nodiscard]] pid_t pid() const { return pid_; }
	void go();
	// Output until EOF; @status gets the wait status (-1 on timeout).
	std::string finish(int *status);

private:
	pid_t pid_ = -1;
	int go_fd_ = -1;
	int out_fd_ = -1;
	bool reaped_ = false;
};

} // namespace utrace_test
