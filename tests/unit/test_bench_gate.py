"""Unit tests of the performance gate (bench/gate.py) and of the result
extraction in bench/bench.py: a regression beyond the tolerance fails, noise
within it passes, in both directions and through the command line."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "bench")
sys.path.insert(0, BENCH)
import bench  # noqa: E402
import gate  # noqa: E402


def entry(rid, value, better="lower", basis="wall", status="measured", **kw):
    e = {"id": rid, "value": value, "better": better, "basis": basis, "status": status,
         basis: value, "target": None}
    e.update(kw)
    return e


def run_of(mode, *entries):
    return {"arch": "x86_64", "mode": mode, "ratios": list(entries)}


def baseline_of(*entries):
    return {"ratios": {e["id"]: e for e in entries}}


class Compare(unittest.TestCase):
    def test_unchanged_run_passes(self):
        base = baseline_of(entry("B1", 1.0), entry("B4", 1.2, better="higher"))
        ok, lines = gate.compare(base, run_of("full", entry("B1", 1.0),
                                              entry("B4", 1.2, better="higher")))
        self.assertTrue(ok, lines)

    def test_lower_is_better_ratio_that_grows_beyond_tolerance_fails(self):
        base = baseline_of(entry("B2", 2.0))
        ok, lines = gate.compare(base, run_of("full", entry("B2", 2.0 * 1.16)))
        self.assertFalse(ok)
        self.assertTrue(any(line.startswith("REGRESSED") and "B2" in line for line in lines),
                        lines)

    def test_noise_within_tolerance_passes(self):
        base = baseline_of(entry("B2", 2.0))
        ok, lines = gate.compare(base, run_of("full", entry("B2", 2.0 * 1.14)))
        self.assertTrue(ok, lines)

    def test_higher_is_better_ratio_that_falls_fails(self):
        base = baseline_of(entry("B4", 1.2, better="higher"))
        ok, _ = gate.compare(base, run_of("full", entry("B4", 1.2 * 0.8, better="higher")))
        self.assertFalse(ok)
        ok, _ = gate.compare(base, run_of("full", entry("B4", 5.0, better="higher")))
        self.assertTrue(ok, "an improvement is no regression")

    def test_quick_runs_get_the_wider_tolerance(self):
        base = baseline_of(entry("B4", 1.0, better="higher"))  # wall
        self.assertFalse(gate.compare(base, run_of("full", entry("B4", 0.8, better="higher")))[0])
        self.assertTrue(gate.compare(base, run_of("quick", entry("B4", 0.8, better="higher")))[0])
        self.assertFalse(gate.compare(base, run_of("quick", entry("B4", 0.69, better="higher")))[0])

    def test_instruction_counts_and_icount_get_the_tighter_tolerance(self):
        for basis in ("instructions", "icount"):
            base = baseline_of(entry("B2", 1.0, basis=basis))
            run = run_of("full", entry("B2", 1.06, basis=basis))
            self.assertFalse(gate.compare(base, run)[0], basis)
            run = run_of("quick", entry("B2", 1.06, basis=basis))
            self.assertTrue(gate.compare(base, run)[0], basis)

    def test_untraced_cost_is_held_to_two_percent_when_counted(self):
        base = baseline_of(entry("B1", 1.0, basis="icount"))
        self.assertTrue(gate.compare(base, run_of("quick", entry("B1", 1.019, basis="icount")))[0])
        self.assertFalse(gate.compare(base, run_of("quick", entry("B1", 1.03, basis="icount")))[0])

    def test_host_clock_modes_use_their_kind_of_tolerance(self):
        base = baseline_of(entry("B2", 1.0))
        self.assertTrue(gate.compare(base, run_of("quick-host", entry("B2", 1.25)))[0])
        self.assertFalse(gate.compare(base, run_of("full-host", entry("B2", 1.25)))[0])

    def test_an_entry_may_carry_its_own_tolerance(self):
        base = baseline_of(entry("B6.tasks.10", 1.0, tolerance=0.5))
        self.assertTrue(gate.compare(base, run_of("full", entry("B6.tasks.10", 1.4)))[0])

    def test_failed_or_lost_benchmarks_fail(self):
        base = baseline_of(entry("B1", 1.0), entry("B2", 2.0))
        ok, lines = gate.compare(base, run_of(
            "full", entry("B1", None, status="failed: the worker died")))
        self.assertFalse(ok)
        self.assertTrue(any("B2" in line and "missing" in line for line in lines), lines)
        ok, _ = gate.compare(base, run_of("full", entry("B1", None, status="not measured: x"),
                                          entry("B2", 2.0)))
        self.assertFalse(ok, "measured in the baseline, not measured now")

    def test_newly_measured_ratio_passes_and_is_named(self):
        base = baseline_of(entry("B3", None, better="higher",
                                 status="not measured: no backend"))
        ok, lines = gate.compare(base, run_of("full", entry("B3", 0.5, better="higher")))
        self.assertTrue(ok)
        self.assertTrue(lines[0].startswith("new"), lines)

    def test_baseline_on_instructions_falls_back_to_wall_without_a_pmu(self):
        b = entry("B1", 1.0, basis="instructions")
        b["wall"] = 1.0
        run = run_of("full", entry("B1", 1.5, basis="icount"))  # no PMU, and much worse
        self.assertFalse(gate.compare(baseline_of(b), run)[0])


class CommandLine(unittest.TestCase):
    def test_exit_status_is_one_on_a_regression_and_zero_otherwise(self):
        with tempfile.TemporaryDirectory() as tmp:
            base = os.path.join(tmp, "x86_64.json")
            with open(base, "w", encoding="utf-8") as f:
                json.dump({"arch": "x86_64", "full": baseline_of(entry("B2", 2.0))}, f)
            for value, status in ((2.0, 0), (3.0, 1)):
                res = os.path.join(tmp, "run.json")
                with open(res, "w", encoding="utf-8") as f:
                    json.dump(run_of("full", entry("B2", value)), f)
                p = subprocess.run([sys.executable, os.path.join(BENCH, "gate.py"), base, res],
                                   capture_output=True, text=True, check=False)
                self.assertEqual(p.returncode, status, p.stdout + p.stderr)


class Extract(unittest.TestCase):
    def test_json_is_found_between_markers_despite_console_noise(self):
        out = ("bench: running B1\r\n@@BENCH-JSON-BEGIN@@\r\n[  3.1] some kernel line\r\n"
               '{"arch":"x86_64","mode":"quick","ratios":[]}\r\n@@BENCH-JSON-END@@\r\n')
        self.assertEqual(bench.extract(out)["mode"], "quick")
        self.assertIsNone(bench.extract("no markers"))


class UpdateBaseline(unittest.TestCase):
    def run_with(self, mode, host, *entries):
        r = run_of(mode, *entries)
        r["host"] = host
        return r

    def test_a_partial_run_merges_and_a_whole_run_replaces(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x86_64.json")
            bench.update_baseline(path, self.run_with("quick", {"date": "1"},
                                                      entry("B1", 1.0), entry("B2", 4.0)))
            bench.update_baseline(path, self.run_with("quick", {"date": "2"},
                                                      entry("B7.x", 2.0), entry("B2", 5.0)),
                                  merge="B7")
            with open(path, encoding="utf-8") as f:
                q = json.load(f)["quick"]
            self.assertEqual(sorted(q["ratios"]), ["B1", "B2", "B7.x"])
            self.assertEqual(q["ratios"]["B2"]["value"], 5.0)
            self.assertEqual(q["recorded"], {"date": "1"})
            self.assertEqual(q["recorded_only"], {"B7": {"date": "2"}})
            bench.update_baseline(path, self.run_with("quick", {"date": "3"}, entry("B1", 1.0)))
            with open(path, encoding="utf-8") as f:
                q = json.load(f)["quick"]
            self.assertEqual(sorted(q["ratios"]), ["B1"])
            self.assertEqual(q["recorded"], {"date": "3"})


if __name__ == "__main__":
    unittest.main()
