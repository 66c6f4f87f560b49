// Scenarios: the tracee's memory and registers.  PEEK/POKE TEXT/DATA/USER,
// GETREGS/SETREGS, GETFPREGS/SETFPREGS, GETREGSET/SETREGSET, and the
// arch-specific requests (x86 ARCH_PRCTL, GET_THREAD_AREA; powerpc
// GETVRREGS/SETVRREGS/GETVSRREGS/SETVSRREGS).
#include "support.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <elf.h>
#include <sys/uio.h>
#include <sys/user.h>
#if defined(__x86_64__)
#include <asm/ldt.h>
#include <asm/prctl.h>
#else
#include <asm/ptrace.h>
#endif

using namespace conf;

extern "C" int conf_ret1(void);

#if defined(__x86_64__)
// mov $1, %eax; ret: the immediate is byte 1 of the first word.
asm(R"(
	.text
	.globl conf_ret1
	.hidden conf_ret1
	.type conf_ret1, @function
conf_ret1:
	mov $1, %eax
	ret
	.size conf_ret1, .-conf_ret1
)");
constexpr int kImmByte = 1;
#else
// li 3, 1; blr: the immediate is byte 0 of the first (little-endian) word.
asm(R"(
	.text
	.globl conf_ret1
	.type conf_ret1, @function
	.p2align 2
conf_ret1:
	li 3, 1
	blr
	.size conf_ret1, .-conf_ret1
)");
constexpr int kImmByte = 0;
#endif

SCENARIO(peek_poke_data, "PEEKDATA reads a variable, POKEDATA changes what the tracee sees")
{
	pid_t c = probe_tracee(t, 0, {}, [] { _exit(g_var == 0x5678 ? 41 : 42); });
	t.peek(PTRACE_PEEKDATA, c, U(&g_var), "g_var");
	t.ptrace(PTRACE_POKEDATA, c, U(&g_var), 0x5678, "g_var = 0x5678");
	t.peek(PTRACE_PEEKDATA, c, U(&g_var), "g_var");
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(peek_poke_text, "POKETEXT patches code the tracee then runs (private COW text)")
{
	pid_t c = probe_tracee(t, 0, {}, [] { _exit(conf_ret1()); });
	long w = t.peek(PTRACE_PEEKTEXT, c, U(&conf_ret1), "conf_ret1", false);
	unsigned char bytes[sizeof(long)];
	memcpy(bytes, &w, sizeof w);
	t.value("immediate before", bytes[kImmByte]);
	bytes[kImmByte] = 7;
	memcpy(&w, bytes, sizeof w);
	t.ptrace(PTRACE_POKETEXT, c, U(&conf_ret1), static_cast<unsigned long>(w), "imm = 7");
	t.value("own copy unchanged", conf_ret1());
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(peek_poke_bad_address, "PEEK/POKE at unmapped addresses: EIO (or EFAULT)")
{
	pid_t c = probe_tracee(t, 0);
	t.peek(PTRACE_PEEKDATA, c, 0, "address 0");
	t.peek(PTRACE_PEEKTEXT, c, 8, "address 8");
	t.ptrace(PTRACE_POKEDATA, c, 0, 1, "address 0");
	t.ptrace(PTRACE_POKETEXT, c, ~0UL & ~7UL, 1, "top of the address space");
	t.peek(PTRACE_PEEKDATA, c, ~0UL & ~7UL, "top of the address space");
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

#if defined(__x86_64__)
constexpr unsigned long kUserNr = offsetof(struct user, regs.orig_rax);
constexpr unsigned long kUserRet = offsetof(struct user, regs.rax);
constexpr unsigned long kUserDr7 = offsetof(struct user, u_debugreg) + 7 * 8;
constexpr unsigned long kUserEnd = sizeof(struct user);
#else
constexpr unsigned long kUserNr = PT_R0 * 8;
constexpr unsigned long kUserRet = PT_R3 * 8;
constexpr unsigned long kUserDr7 = PT_TRAP * 8; // the trap number of the stop
constexpr unsigned long kUserEnd = (PT_FPSCR + 1) * 8;
#endif

SCENARIO(peekuser_pokeuser, "PEEKUSER/POKEUSER of the syscall number and return register; "
                            "unaligned and out-of-range offsets")
{
	pid_t c = t.traceme("tracee", [] { _exit(static_cast<int>(syscall(SYS_getppid) & 0x7f)); });
	t.ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
	t.resume(PTRACE_SYSCALL, c);
	long nr = t.peek(PTRACE_PEEKUSER, c, kUserNr, "syscall nr slot", false);
	t.value("syscall nr", syscall_name(nr));
	t.peek(PTRACE_PEEKUSER, c, kUserDr7, "x86 dr7 / ppc trap");
	t.peek(PTRACE_PEEKUSER, c, kUserNr + 1, "unaligned");
	t.peek(PTRACE_PEEKUSER, c, kUserEnd, "past the end");
	t.ptrace(PTRACE_POKEUSER, c, kUserEnd, 0, "past the end");
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_POKEUSER, c, kUserRet, 33, "return register = 33");
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

#if defined(__x86_64__)
using Regs = user_regs_struct;
static unsigned long long &reg_ip(Regs &r)
{
	return r.rip;
}
#else
using Regs = pt_regs;
static unsigned long &reg_ip(Regs &r)
{
	return r.nip;
}
#endif

SCENARIO(getregs_setregs, "SETREGS moves the ip past the getpid syscall: the next syscall "
                          "stop is exit_group")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	Regs r{};
	t.ptrace(PTRACE_GETREGS, c, 0, U(&r));
	t.value("ip", ip_name(reg_ip(r)));
	reg_ip(r) = U(conf_L_target);
	t.ptrace(PTRACE_SETREGS, c, 0, U(&r));
	Regs back{};
	t.ptrace(PTRACE_GETREGS, c, 0, U(&back));
	t.value("ip read back", ip_name(reg_ip(back)));
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(getregs_bad_buffer, "GETREGS/SETREGS/GETFPREGS with a bad user pointer: EFAULT; on a "
                             "running tracee: ESRCH")
{
	pid_t c = probe_tracee(t, 0);
	t.ptrace(PTRACE_GETREGS, c, 0, 8, "buffer at 8");
	t.ptrace(PTRACE_SETREGS, c, 0, 8, "buffer at 8");
	t.ptrace(PTRACE_GETFPREGS, c, 0, 8, "buffer at 8");
	t.ptrace(PTRACE_CONT, c);
	Regs r{};
	t.ptrace(PTRACE_GETREGS, c, 0, U(&r), "running");
	t.wait(c);
}

SCENARIO(fpregs_get_set, "GETFPREGS shows the initial FP state; SETFPREGS changes it")
{
	pid_t c = probe_tracee(t, 0);
#if defined(__x86_64__)
	user_fpregs_struct f{};
	t.ptrace(PTRACE_GETFPREGS, c, 0, U(&f));
	t.value("cwd", f.cwd);
	t.value("mxcsr", f.mxcsr);
	f.xmm_space[0] = 0x11223344;
	f.mxcsr = 0x1fa0;
	t.ptrace(PTRACE_SETFPREGS, c, 0, U(&f));
	user_fpregs_struct g{};
	t.ptrace(PTRACE_GETFPREGS, c, 0, U(&g));
	t.value("xmm0 word 0", g.xmm_space[0]);
	t.value("mxcsr", g.mxcsr);
#else
	double f[33] = {};
	t.ptrace(PTRACE_GETFPREGS, c, 0, U(f));
	uint64_t fpscr;
	memcpy(&fpscr, &f[32], 8);
	t.value("fpscr", static_cast<long long>(fpscr));
	f[0] = 1.5;
	t.ptrace(PTRACE_SETFPREGS, c, 0, U(f));
	double g[33] = {};
	t.ptrace(PTRACE_GETFPREGS, c, 0, U(g));
	t.value("fpr0 * 2", static_cast<long long>(g[0] * 2));
#endif
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(regset_prstatus, "GETREGSET NT_PRSTATUS: size, same bytes as GETREGS, short iov, "
                          "unknown type; SETREGSET moves the ip")
{
	pid_t c = probe_tracee(t, PTRACE_O_TRACESYSGOOD);
	Regs a{}, b{};
	iovec iov{&a, sizeof a};
	t.ptrace(PTRACE_GETREGSET, c, NT_PRSTATUS, U(&iov));
	t.value("iov_len", static_cast<long long>(iov.iov_len));
	t.ptrace(PTRACE_GETREGS, c, 0, U(&b));
	t.check("same as GETREGS", memcmp(&a, &b, sizeof a) == 0);
	char small[16];
	iovec s{small, sizeof small};
	t.ptrace(PTRACE_GETREGSET, c, NT_PRSTATUS, U(&s), "16-byte iov");
	t.value("iov_len", static_cast<long long>(s.iov_len));
	iovec bad{&a, sizeof a};
	t.ptrace(PTRACE_GETREGSET, c, 0x7777, U(&bad), "type 0x7777");
	t.ptrace(PTRACE_GETREGSET, c, NT_PRSTATUS, 8, "iovec at 8");
	reg_ip(a) = U(conf_L_target);
	iov = {&a, sizeof a};
	t.ptrace(PTRACE_SETREGSET, c, NT_PRSTATUS, U(&iov));
	t.resume(PTRACE_SYSCALL, c);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(regset_fp_and_vector, "GETREGSET NT_PRFPREG and the vector sets (x86 XSTATE, ppc "
                               "VMX/VSX): sizes; SETREGSET NT_PRFPREG round trip")
{
	pid_t c = probe_tracee(t, 0);
	alignas(64) static unsigned char buf[8192];
	iovec iov{buf, sizeof buf};
	t.ptrace(PTRACE_GETREGSET, c, NT_PRFPREG, U(&iov), "NT_PRFPREG");
	t.value("NT_PRFPREG iov_len", static_cast<long long>(iov.iov_len));
	t.ptrace(PTRACE_SETREGSET, c, NT_PRFPREG, U(&iov), "NT_PRFPREG back");
#if defined(__x86_64__)
	iov = {buf, sizeof buf};
	t.ptrace(PTRACE_GETREGSET, c, NT_X86_XSTATE, U(&iov), "NT_X86_XSTATE");
	t.check("XSTATE at least 576 bytes", iov.iov_len >= 576);
#else
	iov = {buf, sizeof buf};
	t.ptrace(PTRACE_GETREGSET, c, NT_PPC_VMX, U(&iov), "NT_PPC_VMX");
	t.value("NT_PPC_VMX iov_len", static_cast<long long>(iov.iov_len));
	iov = {buf, sizeof buf};
	t.ptrace(PTRACE_GETREGSET, c, NT_PPC_VSX, U(&iov), "NT_PPC_VSX");
	t.value("NT_PPC_VSX iov_len", static_cast<long long>(iov.iov_len));
#endif
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

#if defined(__x86_64__)

SCENARIO(x86_arch_prctl, "x86: PTRACE_ARCH_PRCTL GET_FS equals the tracer's (forked), SET_GS "
                         "then GET_GS, bad code EINVAL")
{
	pid_t c = probe_tracee(t, 0);
	unsigned long fs = 0, mine = 0, gs = 0;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &mine);
	t.ptrace(PTRACE_ARCH_PRCTL, c, U(&fs), ARCH_GET_FS);
	t.check("fs as the tracer's", fs == mine);
	t.ptrace(PTRACE_ARCH_PRCTL, c, 0x10000, ARCH_SET_GS);
	t.ptrace(PTRACE_ARCH_PRCTL, c, U(&gs), ARCH_GET_GS);
	t.value("gs", static_cast<long long>(gs));
	t.ptrace(PTRACE_ARCH_PRCTL, c, U(&gs), 0x9999);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(x86_get_thread_area, "x86: PTRACE_GET_THREAD_AREA of a TLS slot and of a bad index")
{
	pid_t c = probe_tracee(t, 0);
	user_desc d{};
	t.ptrace(PTRACE_GET_THREAD_AREA, c, 12, U(&d), "index 12");
	t.value("entry_number", d.entry_number);
	t.value("base_addr", d.base_addr);
	t.value("seg_not_present", d.seg_not_present);
	t.ptrace(PTRACE_GET_THREAD_AREA, c, 1, U(&d), "index 1");
	user_desc set{};
	set.entry_number = 13;
	set.base_addr = 0x1000;
	set.limit = 0xfff;
	set.seg_32bit = 1;
	t.ptrace(PTRACE_SET_THREAD_AREA, c, 13, U(&set), "index 13");
	user_desc back{};
	t.ptrace(PTRACE_GET_THREAD_AREA, c, 13, U(&back), "index 13");
	t.value("base_addr", back.base_addr);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

#else

SCENARIO(ppc_vrregs, "powerpc: GETVRREGS/SETVRREGS round trip of vr0 and vscr")
{
	pid_t c = probe_tracee(t, 0);
	alignas(16) unsigned char vr[34 * 16] = {};
	t.ptrace(PTRACE_GETVRREGS, c, 0, U(vr));
	for (int i = 0; i < 16; i++)
		vr[i] = static_cast<unsigned char>(i + 1);
	t.ptrace(PTRACE_SETVRREGS, c, 0, U(vr));
	alignas(16) unsigned char back[34 * 16] = {};
	t.ptrace(PTRACE_GETVRREGS, c, 0, U(back));
	t.check("vr0 read back", memcmp(vr, back, 16) == 0);
	t.ptrace(PTRACE_GETVRREGS, c, 0, 8, "buffer at 8");
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(ppc_vsrregs, "powerpc: GETVSRREGS/SETVSRREGS round trip of vs0's low doubleword")
{
	pid_t c = probe_tracee(t, 0);
	uint64_t vsr[32] = {};
	t.ptrace(PTRACE_GETVSRREGS, c, 0, U(vsr));
	vsr[0] = 0x0102030405060708ULL;
	t.ptrace(PTRACE_SETVSRREGS, c, 0, U(vsr));
	uint64_t back[32] = {};
	t.ptrace(PTRACE_GETVSRREGS, c, 0, U(back));
	t.check("vs0 read back", back[0] == vsr[0]);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

SCENARIO(ppc_getregs64, "powerpc: PTRACE_GETREGS64 equals PTRACE_GETREGS for a 64-bit tracee")
{
	pid_t c = probe_tracee(t, 0);
	pt_regs a{}, b{};
	t.ptrace(PTRACE_GETREGS, c, 0, U(&a));
	t.ptrace(PTRACE_GETREGS64, c, 0, U(&b));
	t.check("same", memcmp(&a, &b, sizeof a) == 0);
	t.ptrace(PTRACE_CONT, c);
	t.wait(c);
}

#endif
