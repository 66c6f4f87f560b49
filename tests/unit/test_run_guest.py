"""Unit tests of the guest runner's result parsing and dmesg checker."""
import importlib.util
import os
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

    def test_taint_other_than_out_of_tree_and_unsigned_fails(self):
        problems = run_guest.check_dmesg(CLEAN, (1 << 9) | (1 << 12))
        self.assertEqual(len(problems), 1)
        self.assertIn("(WO)", problems[0])


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

    def test_missing_result_is_none(self):
        res = run_guest.sections("[ 1.0] Kernel panic\r\n")
        self.assertIsNone(res["rc"])
        self.assertIsNone(res["dmesg"])


if __name__ == "__main__":
    unittest.main()
