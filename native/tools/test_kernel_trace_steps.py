#!/usr/bin/env python3
"""Tests of kernel-trace-steps.py on hand-made traces (standard library only; run by ./test)."""
import importlib.util
import os
import unittest

_spec = importlib.util.spec_from_file_location(
    "kernel_trace_steps", os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel-trace-steps.py"))
kts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kts)

US = 1000  # ns


def trace(steps, slow_step=None, slow_kernel=None, extra_ns=0, uncaptured=None, pause_before=None, pause_ns=0):
    """Records of ``steps`` decode steps: 2 uploads then 60 kernels of 10 us (names k0..k6), graph 7."""
    rows, t = [], 0
    for s in range(steps):
        if s == pause_before:
            t += pause_ns
        for _ in range(2):
            rows.append(("memcpy-htod", "-", t, t + US, 0))
            t += 2 * US
        for k in range(60):
            d = 10 * US + (extra_ns if s == slow_step and k == slow_kernel else 0)
            rows.append(("kernel", "k%d" % (k % 7), t, t + d, 0 if s == uncaptured else 7))
            t += d + US // 2
    return rows


class KernelTraceStepsTest(unittest.TestCase):
    def test_uploads_after_kernels_open_a_step(self):
        steps = kts.split_steps(trace(5))
        self.assertEqual(5, len(steps))
        self.assertTrue(all(len(s) == 62 for s in steps))

    def test_a_long_idle_after_a_read_back_opens_a_step_even_without_uploads(self):
        rows = trace(2)
        last = rows[-1][3]
        rows.append(("memcpy-dtoh", "-", last, last + US, 0))  # the step's read-back
        rows.append(("kernel", "start", last + 5_000 * US, last + 5_010 * US, 0))  # 5 ms later, no upload before it
        self.assertEqual(3, len(kts.split_steps(rows, gap_ms=1.0)))
        self.assertEqual(2, len(kts.split_steps(rows, gap_ms=10.0)))

    def test_a_long_pause_inside_a_step_stays_in_it_as_idle(self):
        rows = trace(6)
        # step 4's second upload 2 ms late (more than the gap): still one step, 2 ms slower, all of it idle
        start = [i for i, r in enumerate(rows) if r[0] == "memcpy-htod"][9]
        rows = rows[:start] + [(k, n, a + 2_000 * US, b + 2_000 * US, g) for k, n, a, b, g in rows[start:]]
        self.assertEqual(6, len(kts.split_steps(rows, gap_ms=1.0)))
        lines = kts.report(rows)
        self.assertTrue(any("trace step 4: span +2.000 ms (kernels +0.000, idle +2.000)" in l for l in lines), lines)

    def test_a_slow_step_names_the_kernel_that_grew_and_says_it_ran_uncaptured(self):
        lines = kts.report(trace(10, slow_step=3, slow_kernel=5, extra_ns=200 * US, uncaptured=3))
        self.assertEqual("10 steps of 1 kinds", lines[0])
        slow = [i for i, l in enumerate(lines) if l.startswith("  trace step")]
        self.assertEqual(1, len(slow), lines)
        self.assertIn("trace step 3: span +0.200 ms (kernels +0.200, idle +0.000), graph ids 0", lines[slow[0]])
        self.assertEqual("    +0.2000 ms  k5", lines[slow[0] + 1])

    def test_idle_inside_a_step_shows_as_idle_not_as_kernel_time(self):
        rows = trace(6)
        # step 4's second upload 0.5 ms late: its kernels take their usual time, the GPU waits
        start = [i for i, r in enumerate(rows) if r[0] == "memcpy-htod"][9]
        rows = rows[:start] + [(k, n, a + 500 * US, b + 500 * US, g) for k, n, a, b, g in rows[start:]]
        lines = kts.report(rows)
        self.assertTrue(any("trace step 4: span +0.500 ms (kernels +0.000, idle +0.500)" in l for l in lines), lines)

    def test_by_name_sets_each_kinds_kernels_apart_by_their_time_a_step(self):
        rows = trace(4)
        # a fifth step of another kind: the same 60 kernels and 3 more named "extra" of 50 us each
        t = rows[-1][3] + US
        rows.append(("memcpy-htod", "-", t, t + US, 0))
        t += 2 * US
        for k in range(63):
            d = 50 * US if k >= 60 else 10 * US
            rows.append(("kernel", "extra" if k >= 60 else "k%d" % (k % 7), t, t + d, 7))
            t += d + US // 2
        lines = kts.report(rows, top_names=2)
        kind1 = lines.index(next(l for l in lines if l.startswith("kind 1:")))
        kind2 = lines.index(next(l for l in lines if l.startswith("kind 2:")))
        # 60 kernels over 7 names: k0..k3 run 9 times a step (0.09 ms), k4..k6 8 times
        self.assertEqual("    0.0900 ms a step,    9 kernels  k0", lines[kind1 + 1])
        self.assertEqual("    0.1500 ms a step,    3 kernels  extra", lines[kind2 + 1])
        self.assertTrue(lines[kind2 + 2].endswith("9 kernels  k0"), lines)
        self.assertFalse(any("extra" in l for l in lines[kind1:kind2]), lines)


if __name__ == "__main__":
    unittest.main()
