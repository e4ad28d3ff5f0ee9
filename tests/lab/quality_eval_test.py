#!/usr/bin/python3
"""scripts/quality-eval end to end: one short simulated seed and a tiny hand-made real
capture, both models side by side, the zoo ablation, markdown and JSON.

Run: /usr/bin/python3 tests/lab/quality_eval_test.py SOURCE_DIR BINARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.path.abspath(sys.argv[1])
BINARY = os.path.abspath(sys.argv[2])
LABELS = os.path.join(SOURCE_DIR, "tests", "data", "lab", "real-capture-small.labels.json")
ENI = "eni-4202999ade35530de"
HOST = "147.32.83.234"


def write_capture(path):
    """A day of quiet traffic to the host, and the attacker's burst on tcp/1337 during incident 1."""
    labels = json.load(open(LABELS))
    lines = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
             "action log-status"]
    t = labels["t0"]
    k = 0
    while t < labels["t_end"]:
        peer = "93.184.216.%d" % (10 + k % 5)
        lines.append("2 123456789012 %s %s %s %d 443 6 10 4000 %d %d ACCEPT OK" % (ENI, HOST, peer, 40000 + k % 2000, t, t + 2))
        lines.append("2 123456789012 %s %s %s 443 %d 6 12 9000 %d %d ACCEPT OK" % (ENI, peer, HOST, 40000 + k % 2000, t, t + 2))
        first = labels["incidents"][0]
        if first["start"] <= t < first["end"]:
            for j in range(8):
                lines.append("2 123456789012 %s 102.22.193.101 %s %d 1337 6 3 180 %d %d ACCEPT OK"
                             % (ENI, HOST, 50000 + j, t + j, t + j + 1))
        t += 60
        k += 1
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class QualityEvalTest(unittest.TestCase):
    def test_side_by_side(self):
        with tempfile.TemporaryDirectory() as tmp:
            real = os.path.join(tmp, "real")
            os.mkdir(real)
            shutil.copy(LABELS, os.path.join(real, "tiny.labels.json"))
            write_capture(os.path.join(real, "tiny.vpc.log"))
            out = os.path.join(tmp, "summary.json")
            proc = subprocess.run(
                [sys.executable, os.path.join(SOURCE_DIR, "scripts", "quality-eval"), "--binary", BINARY,
                 "--seeds", "5", "--days", "1", "--no-nab", "--real", real, "--work", os.path.join(tmp, "work"),
                 "--json", out, "--ablate", "1"],
                capture_output=True, text=True)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            s = json.load(open(out))
            rows = {(r["input"], r["model"]): r for r in s["inputs"]}
            self.assertEqual(set(rows), {(i, m) for i in ("seed-5", "tiny") for m in ("flowlier", "trailing-outlier")})
            self.assertEqual(rows[("seed-5", "flowlier")]["incidents"], 11)
            self.assertEqual(rows[("tiny", "trailing-outlier")]["incidents"], 3)
            self.assertAlmostEqual(rows[("tiny", "flowlier")]["days"], 1.0)
            self.assertIn("admin-ssh", rows[("seed-5", "flowlier")]["zoo"])
            self.assertIn("whole zoo", s["ablation"])
            for member, v in s["ablation"].items():
                self.assertEqual(v["seeds"], 1, member)
                self.assertGreaterEqual(v["paging_false_per_day_without"], 0)
            self.assertIn("| **sim, 1 seeds** | flowlier |", proc.stdout)
            self.assertIn("| tiny | trailing-outlier |", proc.stdout)
            self.assertIn("quality-eval took", proc.stdout)
            # A second run reuses the finished simulations and replays.
            again = subprocess.run(
                [sys.executable, os.path.join(SOURCE_DIR, "scripts", "quality-eval"), "--binary", BINARY,
                 "--seeds", "5", "--days", "1", "--no-nab", "--real", real, "--work", os.path.join(tmp, "work"),
                 "--json", "-"], capture_output=True, text=True)
            self.assertEqual(again.returncode, 0, again.stderr)
            self.assertEqual(json.loads(again.stdout)["inputs"], s["inputs"])

    def test_missing_binary_is_named(self):
        proc = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "scripts", "quality-eval"), "--binary",
                               "/nonexistent/flowlier", "--no-nab"], capture_output=True, text=True)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("/nonexistent/flowlier", proc.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
