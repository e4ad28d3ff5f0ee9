"""Wrong configuration, wrong files and wrong flags, as a new user makes them: each must
exit non-zero naming the problem (issue: every door checks what comes in)."""
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cli import SAMPLE, flowlier  # noqa: E402

FILES = sorted((SAMPLE / "AWSLogs").rglob("*.log.gz"))


class Tmp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = pathlib.Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = self.tmp / name
        path.write_text(text)
        return str(path)


class WrongFlagsTest(Tmp):
    def test_unknown_flag_exits_2_with_the_nearest(self):
        result = flowlier("replay", "--tabel", str(FILES[0]))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--tabel: did you mean --table?", result.stderr)
        result = flowlier("replya", str(FILES[0]))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("did you mean replay?", result.stderr)

    def test_bad_values_and_missing_arguments_exit_2(self):
        self.assertEqual(flowlier("run", "--role", "bogus").returncode, 2)
        self.assertEqual(flowlier("eval", "--labels", "x").returncode, 2)  # --events missing
        self.assertEqual(flowlier("normalize").returncode, 2)
        self.assertEqual(flowlier("--help").returncode, 0)
        self.assertEqual(flowlier("--version").returncode, 0)

    def test_config_key_typo_offers_the_key(self):
        bad = self.write("bad.toml", "[scoring]\ncritcal = 95.0\n")
        result = flowlier("config", "--check", bad)
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown key 'scoring.critcal' (did you mean 'scoring.critical'?)", result.stderr)


class WrongConfigTest(Tmp):
    def test_thresholds_out_of_order_are_refused(self):
        bad = self.write("t.toml", "[scoring]\nlow = 90.0\ncritical = 50.0\n")
        for args in (("config", "--check", bad), ("run", "--check-config", bad), ("replay", "-c", bad, str(FILES[0]))):
            with self.subTest(args=args[0]):
                result = flowlier(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("thresholds must be ordered low < medium < high < critical", result.stderr)

    def test_bad_endpoints_are_refused_when_checking(self):
        bad = self.write("e.toml", '[endpoints]\nflows_in = "tcp://127.0.0.1:notaport"\n')
        for args in (("config", "--check", bad), ("run", "--check-config", bad)):
            with self.subTest(args=args[0]):
                result = flowlier(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(":2: 'endpoints.flows_in' 'tcp://127.0.0.1:notaport' is not a ZeroMQ endpoint",
                              result.stderr)
        good = self.write("g.toml", "")
        result = flowlier("run", "--check-config", good, "--role", "score", "--shard-count", "2", "--listen",
                          "tcp://*:x", "--publish-to", "tcp://127.0.0.1:9")
        self.assertEqual(result.returncode, 2)
        self.assertIn("service.listen / --listen: 'tcp://*:x' is not a ZeroMQ endpoint", result.stderr)

    def test_port_in_use_names_the_endpoint(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        free = socket.socket()
        free.bind(("127.0.0.1", 0))
        other, metrics = free.getsockname()[1], None
        free.close()
        m = socket.socket()
        m.bind(("127.0.0.1", 0))
        metrics = m.getsockname()[1]
        m.close()
        config = self.write("p.toml", f'[endpoints]\nflows_in = "tcp://127.0.0.1:{other}"\n'
                                      f'events_out = "tcp://127.0.0.1:{port}"\nmetrics = "127.0.0.1:{metrics}"\n')
        result = flowlier("run", "-c", config)
        taken.close()
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn(f"cannot bind endpoints.events_out tcp://127.0.0.1:{port}: Address already in use", result.stderr)
        self.assertNotIn(f"flows_in tcp://127.0.0.1:{other}", result.stderr)

    def test_key_file_of_the_wrong_kind_is_refused_naming_it(self):
        prefix = str(self.tmp / "server")
        self.assertEqual(flowlier("keygen", prefix).returncode, 0)
        result = flowlier("run", "--curve-secret", prefix + ".pub", "--curve-allow", prefix + ".pub")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{prefix}.pub:1: this is a CURVE public key file, a secret key is needed here", result.stderr)
        result = flowlier("run", "--curve-secret", prefix + ".key", "--curve-allow", prefix + ".key")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"--curve-allow: {prefix}.key:1: this is a CURVE secret key file", result.stderr)
        # A bare secret key (no keygen comment) in the allow-list is caught too.
        bare = self.write("allow", pathlib.Path(prefix + ".key").read_text().splitlines()[1] + "\n")
        result = flowlier("run", "--curve-secret", prefix + ".key", "--curve-allow", bare)
        self.assertEqual(result.returncode, 2)
        self.assertIn("holds the server's secret key", result.stderr)


class WrongFilesTest(Tmp):
    def test_score_series_that_scores_nothing_fails(self):
        unreadable = self.write("bad.csv", "when,what\nyesterday,3\nx,y\n")
        result = flowlier("score-series", unreadable)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no rows scored (4 bad lines)", result.stderr)
        empty = self.write("empty.csv", "")
        result = flowlier("score-series", empty)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no rows scored (no data rows)", result.stderr)
        good = self.write("good.csv", "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2\n")
        self.assertEqual(flowlier("score-series", good).returncode, 0)

    def test_eval_of_a_file_without_events_fails(self):
        normalized = self.tmp / "normalized.jsonl"
        result = flowlier("normalize", "-o", str(normalized), str(FILES[0]))
        if result.returncode != 0 or not normalized.exists():
            normalized.write_text(flowlier("normalize", str(FILES[0])).stdout)
        result = flowlier("eval", "--labels", str(SAMPLE / "labels.json"), "--events", str(normalized))
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("no anomaly events", result.stderr)

    def test_state_of_other_settings_is_refused_naming_both_values(self):
        state = self.tmp / "state"
        sixty = self.write("60.toml", "[window]\nseconds = 60\n")
        thirty = self.write("30.toml", "[window]\nseconds = 30\n")
        one = flowlier("replay", "-q", "-c", sixty, "--state-out", str(state), "-o", str(self.tmp / "a"), str(FILES[0]))
        self.assertEqual(one.returncode, 0, one.stderr)
        two = flowlier("replay", "-q", "-c", thirty, "--state-in", str(state), "-o", str(self.tmp / "b"), str(FILES[1]))
        self.assertEqual(two.returncode, 2)
        self.assertIn("window.seconds = 60", two.stderr)
        self.assertIn("window.seconds = 30", two.stderr)

    def test_summary_after_state_in_counts_this_run_only(self):
        def counts(stderr):
            windows = int(re.search(r"windows closed: (\d+)", stderr).group(1))
            firing, resolved = map(int, re.search(r"\((\d+) firing, (\d+) resolved\)", stderr).group(1, 2))
            events = int(re.search(r"events: (\d+) \(", stderr).group(1))
            return windows, firing, resolved, events

        state = self.tmp / "state"
        one = flowlier("replay", "-q", "--state-out", str(state), "-o", str(self.tmp / "a"), *map(str, FILES[:5]))
        two = flowlier("replay", "-q", "--state-in", str(state), "-o", str(self.tmp / "b"), *map(str, FILES[5:]))
        whole = flowlier("replay", "-q", "-o", str(self.tmp / "w"), *map(str, FILES))
        for r in (one, two, whole):
            self.assertEqual(r.returncode, 0, r.stderr)
        w1, f1, r1, e1 = counts(one.stderr)
        w2, f2, r2, e2 = counts(two.stderr)
        ww, fw, rw, ew = counts(whole.stderr)
        # The second run's bracketed counts add up to its own events.
        self.assertEqual(f2 + r2, e2)
        self.assertLess(w2, ww)
        self.assertEqual(f2 + r2, len((self.tmp / "b").read_text().splitlines()))


if __name__ == "__main__":
    unittest.main()
