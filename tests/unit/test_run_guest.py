"""Unit tests of the guest runner's result parsing and dmesg checker."""
import importlib.util
import os
import socket
import tempfile
import threading
import unittest

_spec = importlib.util.spec_from_file_location(
    "run_guest", os.path.join(os.path.dirname(__file__), "..", "guest", "run-guest.py"))
run_guest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_guest)

CLEAN = "[    0.1] Linux version 6.1.0\n[    1.2] utrace: loaded\n"


class CheckDmesg(unittest.TestCase):
    def test_clean_log_with_allowed_taint_passes(self):
        self.assertEqual(run_guest.check_dmesg(CLEAN, (1 << 12) | (1 << 13)), [])

    def test_each_bad_pattern_fails(self):
        for line in [
            "WARNING: CPU: 0 PID: 1 at foo.c:1 bar+0x0/0x10",
            "BUG: kernel NULL pointer dereference, address: 0000000000000000",
            "Oops: 0000 [#1] PREEMPT SMP",
            "WARNING: possible circular locking dependency detected",
            "BUG: scheduling while atomic: sh/1/0x00000002",
            "INFO: task sh:1 blocked for more than 30 seconds.",
            "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
            "Kernel panic - not syncing: Fatal exception",
        ]:
            with self.subTest(line=line):
                self.assertEqual(run_guest.check_dmesg(CLEAN + line + "\n", 0), [line])

    def test_each_debug_kernel_report_fails(self):
        for line in [
            "BUG: KASAN: slab-use-after-free in utrace_report_death+0x1c/0x200 [utrace]",
            "UBSAN: shift-out-of-bounds in kmod/utrace.c:120:15",
            "UBSAN: array-index-out-of-bounds in kmod/ptrace.c:88:3",
            "BUG: KFENCE: use-after-free read in utrace_control+0x10/0x90 [utrace]",
            "KFENCE: out-of-bounds write in foo+0x1/0x2",
            "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [sh:123]",
            "NMI watchdog: Watchdog detected hard LOCKUP on cpu 1",
            "WARNING: suspicious RCU usage",
            "ODEBUG: free active (active state 0) object: ffff888 object type: timer_list",
            "DEBUG_LOCKS_WARN_ON(lock->magic != lock)",
            "Kernel panic - not syncing: kernel: panic_on_warn set ...",
            "Kernel panic - not syncing: KASAN: panic_on_warn set ...",
            "general protection fault, probably for non-canonical address "
            "0xdffffc0000000003: 0000 [#1] PREEMPT SMP KASAN NOPTI",
            "general protection fault: 0000 [#1] PREEMPT SMP NOPTI",
            "segment-related general protection fault: 0000 [#1] SMP",
        ]:
            with self.subTest(line=line):
                self.assertEqual(run_guest.check_dmesg(CLEAN + line + "\n", 0), [line])

    def test_user_program_general_protection_fault_passes(self):
        # show_signal(): the SIGSEGV a user program got for its own GPF.
        for line in [
            "traps: prog[1234] general protection fault ip:401136 sp:7ffd5c0b8e10 error:0 "
            "in prog[401000+1000]",
            "traps: ptrace_workload[77] general protection fault ip:7f3a2b1c0d9e "
            "sp:7ffc00000000 error:0 in libc.so.6[7f3a2b000000+155000]",
        ]:
            with self.subTest(line=line):
                self.assertEqual(run_guest.check_dmesg(CLEAN + line + "\n", 0), [])

    def test_taint_other_than_out_of_tree_and_unsigned_fails(self):
        problems = run_guest.check_dmesg(CLEAN, (1 << 9) | (1 << 12))
        self.assertEqual(len(problems), 1)
        self.assertIn("(WO)", problems[0])


# As 6.1 writes /sys/kernel/debug/kmemleak: the first block was allocated at
# boot (jiffy 4294893327), the second during the run.
KMEMLEAK_REPORT = """unreferenced object 0xffff888005a3c000 (size 64):
  comm "swapper/0", pid 1, jiffies 4294893327
  hex dump (first 32 bytes):
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
  backtrace:
    [<(____ptrval____)>] kmalloc_trace+0x26/0xc0
unreferenced object 0xffff888008f9a480 (size 64):
  comm "insmod", pid 69, jiffies 4294918187
  hex dump (first 32 bytes):
    5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a  ZZZZZZZZZZZZZZZZ
  backtrace:
    [<(____ptrval____)>] kmalloc_trace+0x26/0xc0
    [<(____ptrval____)>] 0xffffffffa0005041
"""


class CheckKmemleak(unittest.TestCase):
    def test_each_suspect_fails(self):
        self.assertEqual(run_guest.check_kmemleak(KMEMLEAK_REPORT), [
            "kmemleak: unreferenced object 0xffff888005a3c000 (size 64): comm swapper/0 pid 1",
            "kmemleak: unreferenced object 0xffff888008f9a480 (size 64): comm insmod pid 69",
        ])

    def test_suspects_allocated_before_the_run_pass(self):
        self.assertEqual(run_guest.check_kmemleak(KMEMLEAK_REPORT, since=4294900000), [
            "kmemleak: unreferenced object 0xffff888008f9a480 (size 64): comm insmod pid 69",
        ])
        self.assertEqual(run_guest.check_kmemleak(KMEMLEAK_REPORT, since=4294918188), [])

    def test_empty_report_or_none_passes(self):
        self.assertEqual(run_guest.check_kmemleak(""), [])
        self.assertEqual(run_guest.check_kmemleak(None), [])


class CheckConsole(unittest.TestCase):
    PANIC = ("@@UTRACE-BEGIN output@@\r\n"
             "WARNING: this line is the command's own output\r\n"
             "[    5.100000] utrace: loaded\r\n"
             "[    5.200000] WARNING: CPU: 0 PID: 91 at warnmod.c:9 utrace_test_warn_init+0x9/0x20\r\n"
             "[    5.300000] Kernel panic - not syncing: kernel: panic_on_warn set ...\r\n")

    def test_kernel_lines_of_a_panicked_guest_fail(self):
        self.assertEqual(run_guest.check_console(self.PANIC), [
            "[    5.200000] WARNING: CPU: 0 PID: 91 at warnmod.c:9 utrace_test_warn_init+0x9/0x20",
            "[    5.300000] Kernel panic - not syncing: kernel: panic_on_warn set ...",
        ])

    def test_command_output_and_clean_kernel_lines_pass(self):
        self.assertEqual(run_guest.check_console(
            "WARNING: not a kernel line\r\n[    1.000000] Linux version 6.1.192\r\n"), [])

    def test_replayed_lines_are_named_once(self):
        line = "[    5.200000] BUG: KASAN: slab-out-of-bounds in f+0x1/0x2"
        self.assertEqual(run_guest.check_console(line + "\n" + line + "\n"), [line])


class Args:
    arch = "x86_64"
    load = ["/b/kmod/x86_64-debug/utrace.ko"]
    command = ["true"]
    cwd = "/"
    gcov = None
    kernel = "debug"
    append = ""
    memory = 2048
    smp = 2
    icount = None
    tcg = "multi"
    hostfwd = []
    root_image = None


class DebugKernel(unittest.TestCase):
    def test_run_start_is_noted_before_insmod_and_kmemleak_scanned_after_rmmod(self):
        script = run_guest.job_script(Args())
        start = script.index("@@UTRACE-JIFFIES $(awk '/^jiffies:/ {print $2; exit}' "
                             "/proc/timer_list)@@")
        insmod = script.index("insmod /b/kmod/x86_64-debug/utrace.ko")
        rmmod = script.index("rmmod utrace")
        report = script.index("@@UTRACE-BEGIN kmemleak@@")
        self.assertLess(start, insmod)
        self.assertLess(rmmod, report)
        self.assertEqual(script[rmmod:report].count("echo scan > /sys/kernel/debug/kmemleak"), 2)

    def test_the_debian_kernel_run_does_not_touch_kmemleak(self):
        args = Args()
        args.kernel = "debian"
        self.assertNotIn("kmemleak", run_guest.job_script(args))

    def test_gcov_data_is_copied_out_after_the_modules_are_removed(self):
        args = Args()
        args.gcov = "/b/gcov/smoke"
        script = run_guest.job_script(args)
        self.assertLess(script.index("rmmod utrace"), script.index("/sys/kernel/debug/gcov"))

    def test_debug_kernel_boots_with_panic_on_warn_and_log_replay(self):
        env = {"KIMAGE": "/c/bzImage"}
        cmd = run_guest.qemu_command(Args(), env, "/t/initrd", "/t/out")
        self.assertEqual(cmd[cmd.index("-kernel") + 1], "/c/bzImage")
        append = cmd[cmd.index("-append") + 1]
        self.assertIn("panic_on_warn=1", append)
        self.assertIn("panic_print=0x20", append)
        args = Args()
        args.kernel = "debian"
        append = run_guest.qemu_command(args, env, "/t/initrd", "/t/out")
        self.assertNotIn("panic_on_warn", append[append.index("-append") + 1])


class Sections(unittest.TestCase):
    def test_framed_output_is_parsed(self):
        text = ("noise\r\n@@UTRACE-BEGIN output@@\r\nhello\r\n@@UTRACE-END output@@\r\n"
                "@@UTRACE-RC 7@@\r\n@@UTRACE-BEGIN dmesg@@\r\n[0] x\r\n"
                "@@UTRACE-END dmesg@@\r\n@@UTRACE-TAINT 4096@@\r\n")
        res = run_guest.sections(text)
        self.assertEqual(res["output"], "hello\n")
        self.assertEqual(res["rc"], 7)
        self.assertEqual(res["dmesg"], "[0] x\n")
        self.assertEqual(res["taint"], 4096)
        self.assertEqual(res["modfail"], [])
        self.assertIsNone(res["kmemleak"])
        self.assertIsNone(res["jiffies"])

    def test_kmemleak_section_is_parsed(self):
        text = ("@@UTRACE-JIFFIES 4294900000@@\r\n"
                "@@UTRACE-BEGIN kmemleak@@\r\nunreferenced object 0x1 (size 8):\r\n"
                "@@UTRACE-END kmemleak@@\r\n")
        res = run_guest.sections(text)
        self.assertEqual(res["kmemleak"], "unreferenced object 0x1 (size 8):\n")
        self.assertEqual(res["jiffies"], 4294900000)

    def test_missing_result_is_none(self):
        res = run_guest.sections("[ 1.0] Kernel panic\r\n")
        self.assertIsNone(res["rc"])
        self.assertIsNone(res["dmesg"])
        self.assertIsNone(res["partial"])

    def test_output_of_a_command_that_never_ended_is_kept(self):
        res = run_guest.sections("@@UTRACE-BEGIN output@@\r\nseed 1\r\nFAIL: no progress\r\n")
        self.assertIsNone(res["output"])
        self.assertEqual(res["partial"], "seed 1\nFAIL: no progress\n")

    def test_ended_output_is_not_partial(self):
        res = run_guest.sections("@@UTRACE-BEGIN output@@\r\nok\r\n@@UTRACE-END output@@\r\n")
        self.assertIsNone(res["partial"])


class Hangs(unittest.TestCase):
    def test_every_guest_panics_on_a_lockup_a_hung_task_or_an_rcu_stall(self):
        for kernel in ("debug", "debian"):
            args = Args()
            args.kernel = kernel
            cmd = run_guest.qemu_command(args, {"KIMAGE": "/c/k"}, "/t/initrd", "/t/out")
            append = cmd[cmd.index("-append") + 1].split()
            for opt in ("softlockup_panic=1", "hung_task_panic=1",
                        "sysctl.kernel.panic_on_rcu_stall=1"):
                self.assertIn(opt, append)

    def test_the_monitor_socket_is_in_the_runs_temporary_folder(self):
        cmd = run_guest.qemu_command(Args(), {"KIMAGE": "/c/k"}, "/t/initrd", "/t/out")
        self.assertEqual(cmd[cmd.index("-monitor") + 1],
                         "unix:/t/monitor.sock,server=on,wait=off")

    def test_symbols_name_text_addresses_only_inside_the_kernel(self):
        sym = run_guest.symbolizer([
            "ffffffff81000000 T _stext",
            "ffffffff81000100 t helper",
            "ffffffff81000200 D some_data",
            "ffffffff81000300 T _etext",
        ])
        self.assertEqual(sym(0xffffffff81000104), "helper+0x4")
        self.assertEqual(sym(0xffffffff81000250), "helper+0x150")
        self.assertIsNone(sym(0x55f0edb5a110))
        self.assertIsNone(sym(0xffffffff81000400))

    def test_vcpu_places_are_read_from_the_monitor_and_named(self):
        """A stand-in for qemu's human monitor: its prompt, then two vCPUs'
        registers in the form 'info registers -a' prints them."""
        regs = ("info registers -a\r\n\r\nCPU#0\r\nRAX=0000000000000000 "
                "RIP=ffffffff81000104 RFL=00000246\r\n\r\nCPU#1\r\n"
                "RIP=000055f0edb5a110 RFL=00000202\r\n(qemu) ")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "monitor.sock")
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(path)
            srv.listen(4)

            def serve():
                for _ in range(2):
                    conn, _ = srv.accept()
                    with conn:
                        conn.sendall(b"QEMU 7.2.0 monitor\r\n(qemu) ")
                        conn.recv(100)
                        conn.sendall(regs.encode())
            t = threading.Thread(target=serve)
            t.start()
            env = {"SYSTEM_MAP": os.path.join(tmp, "System.map")}
            with open(env["SYSTEM_MAP"], "w", encoding="utf-8") as f:
                f.write("ffffffff81000100 t helper\nffffffff81000300 T _etext\n")
            places = run_guest.vcpu_places(path, "x86_64", env, samples=2)
            t.join()
            srv.close()
        self.assertEqual(places, [
            f"sample {n}: vCPU 0: 0xffffffff81000104 (helper+0x4), vCPU 1: 0x55f0edb5a110"
            for n in (1, 2)])

    def test_no_monitor_gives_no_places(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertEqual(run_guest.vcpu_places(os.path.join(tmp, "none"), "x86_64", {}), [])


if __name__ == "__main__":
    unittest.main()
