// Runs test code between a poll() and whatever its caller does next: this
// binary's own poll() takes the place of libc's for every caller in it,
// libutrace (linked statically) included.  It polls as libc's does, then
// runs the hook armed with after_next_poll(), once.
#pragma once

namespace utrace_test
{

void after_next_poll(void (*hook)(void *), void *arg);

} // namespace utrace_test
