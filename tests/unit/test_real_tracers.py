"""Unit tests of ptrace-real-tracers.py's normalisation: what varies from run
to run goes, and a real difference stays."""
import importlib.util
import os
import unittest

_spec = importlib.util.spec_from_file_location(
    "real_tracers",
    os.path.join(os.path.dirname(__file__), "..", "guest", "ptrace-real-tracers.py"))
real_tracers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(real_tracers)

RUN1 = """\
== process 3000002
mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fbc3ba16000
mmap(0x7fbc3b84f000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7fbc3b84f000
rt_sigaction(SIGUSR1, {sa_handler=0x564a1cfce1f9, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7fbc3b865050}, NULL, 8) = 0
clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fbc3b826a10) = 3000004
wait4(3000004, [{WIFEXITED(s) && WEXITSTATUS(s) == 7}], 0, NULL) = 3000004
getrandom("\\x24\\x67\\xd4\\xe8\\x41\\x20\\xa5\\x55", 8, GRND_NONBLOCK) = 8
--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=3000004, si_uid=0, si_status=7, si_utime=0, si_stime=1} ---
== process 3000004
set_robust_list(0x7fbc3b826a20, 24)     = 0
"""

RUN2 = """\
== process 3000012
mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f30d38c1000
mmap(0x7f30d36fa000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7f30d36fa000
rt_sigaction(SIGUSR1, {sa_handler=0x56129e4261f9, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f30d3710050}, NULL, 8) = 0
clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f30d36d1a10) = 3000013
wait4(3000013, [{WIFEXITED(s) && WEXITSTATUS(s) == 7}], 0, NULL) = 3000013
getrandom("\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08", 8, GRND_NONBLOCK) = 8
--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=3000013, si_uid=0, si_status=7, si_utime=2 /* 0.02 s */, si_stime=0} ---
== process 3000013
set_robust_list(0x7f30d36d1a20, 24)     = 0
"""


class NormaliseStrace(unittest.TestCase):
    def test_runs_differing_only_in_pids_addresses_random_bytes_and_times_match(self):
        self.assertNotEqual(RUN1, RUN2)
        self.assertEqual(real_tracers.normalise_strace(RUN1),
                         real_tracers.normalise_strace(RUN2))

    def test_pids_become_their_rank(self):
        out = real_tracers.normalise_strace(RUN1)
        self.assertIn("== process P0", out)
        self.assertIn("wait4(P1, [{WIFEXITED(s) && WEXITSTATUS(s) == 7}], 0, NULL) = P1", out)
        self.assertIn("si_pid=P1,", out)

    def test_short_hex_and_small_numbers_stay(self):
        out = real_tracers.normalise_strace(RUN1)
        self.assertIn("3, 0x26000) = 0xADDR", out)
        self.assertIn("mmap(NULL, 8192,", out)

    def test_real_differences_stay(self):
        for old, new in [
            ("WEXITSTATUS(s) == 7", "WEXITSTATUS(s) == 0"),  # another exit status
            ("si_code=CLD_EXITED", "si_code=CLD_KILLED"),  # another siginfo
            ("set_robust_list(0x7fbc3b826a20, 24)     = 0\n", ""),  # a lost syscall
            ("= 3000004\n", "= ? <unavailable>\n"),  # a lost syscall exit
            ("getrandom(", "getrandom64("),
        ]:
            with self.subTest(change=new):
                changed = RUN1.replace(old, new, 1)
                self.assertNotEqual(changed, RUN1)
                self.assertNotEqual(real_tracers.normalise_strace(RUN1),
                                    real_tracers.normalise_strace(changed))

    def test_compare_prints_the_diff(self):
        a = real_tracers.normalise_strace(RUN1)
        b = real_tracers.normalise_strace(RUN1.replace("si_status=7", "si_status=9"))
        self.assertTrue(real_tracers.compare("strace", a, a))
        self.assertFalse(real_tracers.compare("strace", a, b))


class NormaliseGdb(unittest.TestCase):
    def test_inferior_pids_become_their_rank(self):
        run = ("[Detaching after fork from child process 3000120]\n"
               "[Inferior 1 (process 3000118) exited normally]\n")
        self.assertEqual(real_tracers.normalise_gdb(run),
                         "[Detaching after fork from child process P1]\n"
                         "[Inferior 1 (process P0) exited normally]\n")

    def test_thread_exit_notes_just_before_the_exit_go(self):
        native1 = ("$5 = 0\n[Thread 0x7ffff7dd2740 (LWP 3000006) exited]\n"
                   "[Thread 0x7ffff7dd16c0 (LWP 3000009) exited]\n[New process 3000006]\n"
                   "[Inferior 1 (process 3000006) exited with code 062]\n")
        native2 = ("$5 = 0\n[Thread 0x7ffff7dd16c0 (LWP 3000009) exited]\n"
                   "[Inferior 1 (process 3000006) exited with code 062]\n")
        self.assertEqual(real_tracers.normalise_gdb(native1),
                         real_tracers.normalise_gdb(native2))
        self.assertEqual(real_tracers.normalise_gdb(native2),
                         "$5 = 0\n[Inferior 1 (process P0) exited with code 062]\n")

    def test_thread_exit_notes_elsewhere_stay(self):
        run = ("[Thread 0x7ffff7dd16c0 (LWP 3000009) exited]\n$5 = 0\n"
               "[Inferior 1 (process 3000006) exited normally]\n")
        self.assertIn("[Thread 0x7ffff7dd16c0 (LWP P1) exited]", real_tracers.normalise_gdb(run))

    def test_addresses_stay(self):
        # gdb turns address randomisation off: its addresses are compared.
        line = "#1  0x00007ffff7e5df4f in __pthread_kill_internal (signo=10)\n"
        self.assertEqual(real_tracers.normalise_gdb(line), line)


if __name__ == "__main__":
    unittest.main()
