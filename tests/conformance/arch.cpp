// Arch glue of the conformance suite: the labelled probe code and the
// syscall register view for x86_64 and ppc64le.
#include "arch.hpp"

#include <cerrno>
#include <cstddef>
#include <linux/audit.h>
#include <map>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <vector>
#if defined(__powerpc64__)
#include <asm/ptrace.h>
#endif

#if defined(__x86_64__)
// SYS_kill 62, SIGSTOP 19, SYS_getpid 39.
asm(R"(
	.text
	.globl conf_probe, conf_L_stopped, conf_L_nop, conf_L_sc, conf_L_after_sc
	.globl conf_L_jmp, conf_L_target, conf_L_end
	.hidden conf_probe, conf_L_stopped, conf_L_nop, conf_L_sc, conf_L_after_sc
	.hidden conf_L_jmp, conf_L_target, conf_L_end
	.type conf_probe, @function
conf_probe:
	mov $62, %eax
	mov $19, %esi
	syscall
conf_L_stopped:
	nop
conf_L_nop:
	mov $39, %eax
conf_L_sc:
	syscall
conf_L_after_sc:
	nop
conf_L_jmp:
	jmp conf_L_target
	nop
	nop
conf_L_target:
	nop
conf_L_end:
	ret
	.size conf_probe, .-conf_probe
)");
#elif defined(__powerpc64__)
// SYS_kill 37, SIGSTOP 19, SYS_getpid 20.  No TOC use: global entry is local.
asm(R"(
	.text
	.globl conf_probe, conf_L_stopped, conf_L_nop, conf_L_sc, conf_L_after_sc
	.globl conf_L_jmp, conf_L_target, conf_L_end
	.type conf_probe, @function
	.p2align 2
conf_probe:
	li 0, 37
	li 4, 19
	sc
conf_L_stopped:
	nop
conf_L_nop:
	li 0, 20
conf_L_sc:
	sc
conf_L_after_sc:
	nop
conf_L_jmp:
	b conf_L_target
	nop
	nop
conf_L_target:
	nop
conf_L_end:
	blr
	.size conf_probe, .-conf_probe
)");
#endif

namespace conf
{

namespace
{

struct Label {
	std::string name;
	unsigned long addr;
	unsigned long size;
};

std::vector<Label> &labels()
{
	static std::vector<Label> l = {
	        {"conf_L_stopped", reinterpret_cast<unsigned long>(conf_L_stopped), 0},
	        {"conf_L_nop", reinterpret_cast<unsigned long>(conf_L_nop), 0},
	        {"conf_L_sc", reinterpret_cast<unsigned long>(conf_L_sc), 0},
	        {"conf_L_after_sc", reinterpret_cast<unsigned long>(conf_L_after_sc), 0},
	        {"conf_L_jmp", reinterpret_cast<unsigned long>(conf_L_jmp), 0},
	        {"conf_L_target", reinterpret_cast<unsigned long>(conf_L_target), 0},
	        {"conf_L_end", reinterpret_cast<unsigned long>(conf_L_end), 0},
	        {"conf_probe", reinterpret_cast<unsigned long>(&conf_probe),
	         reinterpret_cast<unsigned long>(conf_L_end) + 4 -
	                 reinterpret_cast<unsigned long>(&conf_probe)},
	};
	return l;
}

} // namespace

void add_ip_label(const std::string &name, const void *addr, unsigned long size)
{
	labels().push_back({name, reinterpret_cast<unsigned long>(addr), size});
}

std::string ip_name(unsigned long ip)
{
	for (const auto &l : labels())
		if (l.size == 0 && ip == l.addr)
			return l.name;
	for (const auto &l : labels())
		if (l.size != 0 && ip >= l.addr && ip < l.addr + l.size)
			return l.name + "+" + std::to_string(ip - l.addr);
	return "elsewhere";
}

#if defined(__x86_64__)

uint32_t audit_arch()
{
	return AUDIT_ARCH_X86_64;
}

bool get_sysregs(pid_t pid, SysRegs &r)
{
	user_regs_struct u{};
	if (ptrace(PTRACE_GETREGS, pid, nullptr, &u) != 0)
		return false;
	r.nr = static_cast<long>(u.orig_rax);
	const unsigned long long a[6] = {u.rdi, u.rsi, u.rdx, u.r10, u.r8, u.r9};
	for (int i = 0; i < 6; i++)
		r.args[i] = static_cast<long>(a[i]);
	r.ret = static_cast<long>(u.rax);
	r.so = false;
	r.ip = u.rip;
	r.sp = u.rsp;
	return true;
}

static bool edit(pid_t pid, void (*fn)(user_regs_struct &, long), long v)
{
	user_regs_struct u{};
	if (ptrace(PTRACE_GETREGS, pid, nullptr, &u) != 0)
		return false;
	fn(u, v);
	return ptrace(PTRACE_SETREGS, pid, nullptr, &u) == 0;
}

bool set_syscall_nr(pid_t pid, long nr)
{
	return edit(
	        pid, [](user_regs_struct &u, long v) { u.orig_rax = v; }, nr);
}

bool set_return(pid_t pid, long ret)
{
	return edit(
	        pid, [](user_regs_struct &u, long v) { u.rax = v; }, ret);
}

bool set_ip(pid_t pid, unsigned long ip)
{
	return edit(
	        pid, [](user_regs_struct &u, long v) { u.rip = v; }, static_cast<long>(ip));
}

#else

uint32_t audit_arch()
{
	return AUDIT_ARCH_PPC64LE;
}

// <asm/ptrace.h> makes the request names plain ints on powerpc.
static long pt(long req, pid_t pid, pt_regs *regs)
{
	return ptrace(static_cast<enum __ptrace_request>(req), pid, nullptr, regs);
}

constexpr unsigned long kCrSo = 0x10000000UL;

bool get_sysregs(pid_t pid, SysRegs &r)
{
	pt_regs p{};
	if (pt(PTRACE_GETREGS, pid, &p) != 0)
		return false;
	r.nr = static_cast<long>(p.gpr[0]);
	r.args[0] = static_cast<long>(p.orig_gpr3);
	for (int i = 1; i < 6; i++)
		r.args[i] = static_cast<long>(p.gpr[3 + i]);
	r.so = (p.ccr & kCrSo) != 0;
	r.ret = r.so ? -static_cast<long>(p.gpr[3]) : static_cast<long>(p.gpr[3]);
	r.ip = p.nip;
	r.sp = p.gpr[1];
	return true;
}

static bool edit(pid_t pid, void (*fn)(pt_regs &, long), long v)
{
	pt_regs p{};
	if (pt(PTRACE_GETREGS, pid, &p) != 0)
		return false;
	fn(p, v);
	return pt(PTRACE_SETREGS, pid, &p) == 0;
}

bool set_syscall_nr(pid_t pid, long nr)
{
	return edit(
	        pid, [](pt_regs &p, long v) { p.gpr[0] = v; }, nr);
}

// powerpc's sc convention: a positive errno in r3 with CR0.SO set.
bool set_return(pid_t pid, long ret)
{
	return edit(
	        pid,
	        [](pt_regs &p, long v) {
		        if (v < 0 && v >= -4095) {
			        p.gpr[3] = -v;
			        p.ccr |= kCrSo;
		        } else {
			        p.gpr[3] = v;
			        p.ccr &= ~kCrSo;
		        }
	        },
	        ret);
}

bool set_ip(pid_t pid, unsigned long ip)
{
	return edit(
	        pid, [](pt_regs &p, long v) { p.nip = v; }, static_cast<long>(ip));
}

#endif

} // namespace conf
