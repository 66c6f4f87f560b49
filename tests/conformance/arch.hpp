// What differs between x86_64 and ppc64le for the scenarios: the probe code
// with known labels, the syscall register view, the audit arch.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

extern "C" {
// conf_probe(pid): kill(pid, SIGSTOP) by a raw syscall, then a few labelled
// instructions: a nop, a getpid syscall, a nop, a taken branch.  Stops inside
// it have instruction pointers that are the same in every run.
void conf_probe(long pid);
extern char conf_L_stopped[];  // after the kill syscall: the SIGSTOP stop
extern char conf_L_nop[];      // after the nop: the first single step
extern char conf_L_sc[];       // the getpid syscall instruction
extern char conf_L_after_sc[]; // after it: where syscall stops report
extern char conf_L_jmp[];      // the taken branch
extern char conf_L_target[];   // its target
extern char conf_L_end[];      // the return
}

namespace conf
{

#if defined(__x86_64__)
constexpr const char *kArch = "x86_64";
#elif defined(__powerpc64__)
constexpr const char *kArch = "ppc64le";
#else
#error "the conformance suite knows x86_64 and ppc64le"
#endif

// The syscall view of a stopped tracee's registers.
struct SysRegs {
	long nr;      // x86 orig_rax, ppc gpr[0]
	long args[6]; // x86 rdi..r9, ppc orig_gpr3, gpr[4..8]
	long ret;     // x86 rax, ppc gpr[3] negated when CR0.SO is set
	bool so;      // ppc: CR0.SO (error); x86 always false
	unsigned long ip;
	unsigned long sp;
};
bool get_sysregs(pid_t pid, SysRegs &r);
// Change the syscall number / return value of a stopped tracee.
bool set_syscall_nr(pid_t pid, long nr);
bool set_return(pid_t pid, long ret);
// Move the tracee's instruction pointer.
bool set_ip(pid_t pid, unsigned long ip);

// A code address as a label: "conf_L_sc", "handler+0", "conf_probe+12",
// or "elsewhere".
std::string ip_name(unsigned long ip);
// Extra names for ip_name (signal handlers of the scenarios).
void add_ip_label(const std::string &name, const void *addr, unsigned long size);

// AUDIT_ARCH_* of this arch (PTRACE_GET_SYSCALL_INFO, seccomp filters).
uint32_t audit_arch();

} // namespace conf
