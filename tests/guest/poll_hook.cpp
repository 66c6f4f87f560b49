#include "poll_hook.hpp"

#include <atomic>
#include <poll.h>
#include <time.h>

namespace
{

struct Hook {
	void (*fn)(void *);
	void *arg;
};

std::atomic<Hook *> armed{nullptr};
Hook slot;

} // namespace

namespace utrace_test
{

void after_next_poll(void (*hook)(void *), void *arg)
{
	slot = {hook, arg};
	armed.store(&slot);
}

} // namespace utrace_test

// NOLINTNEXTLINE(readability-inconsistent-declaration-parameter-name)
extern "C" int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	// libc's poll() is ppoll() with a timespec (no dlsym(RTLD_NEXT): the
	// ppc64le test binaries are static).
	timespec ts{timeout / 1000, (timeout % 1000) * 1000000L};
	const int ret = ::ppoll(fds, nfds, timeout < 0 ? nullptr : &ts, nullptr);
	if (Hook *h = armed.exchange(nullptr))
		h->fn(h->arg);
	return ret;
}
