#include "poll_hook.hpp"

#include <atomic>
#include <dlfcn.h>
#include <poll.h>

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
	using Fn = int (*)(struct pollfd *, nfds_t, int);
	static const auto real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "poll"));
	const int ret = real(fds, nfds, timeout);
	if (Hook *h = armed.exchange(nullptr))
		h->fn(h->arg);
	return ret;
}
