#!/usr/bin/python3
"""Tests of scripts/nab-score: NAB's sigmoid, probation and window rules on tiny
hand-made series, the threshold sweep, bad input, and the published windowedGaussian
scores on the shared NAB corpus (failing, saying so, when ../shared/data is missing).

Run: /usr/bin/python3 tests/lab/nab_scorer_test.py [SOURCE_DIR]
"""
import datetime
import importlib.machinery
import importlib.util
import io
import json
import math
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

SOURCE_DIR = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                             os.path.join(os.path.dirname(__file__), "..", ".."))
NAB_DIR = os.path.normpath(os.path.join(SOURCE_DIR, "..", "shared", "data", "nab"))


def load_scorer():
    path = os.path.join(SOURCE_DIR, "scripts", "nab-score")
    loader = importlib.machinery.SourceFileLoader("nab_score", path)
    spec = importlib.util.spec_from_loader("nab_score", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


ns = load_scorer()
STANDARD = {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11}
T0 = datetime.datetime(2014, 4, 1)


def times(n):
    return [T0 + datetime.timedelta(minutes=5 * i) for i in range(n)]


def series(scores, key="cat/s.csv"):
    return ns.Series(key, times(len(scores)), list(scores))


def window(first, last):
    ts = times(last + 1)
    return (ts[first], ts[last])


def score_of(scores, windows, threshold=0.5, weights=STANDARD, fraction=0.0):
    rows = ns.sweep_rows(series(scores), windows, weights, fraction)
    return ns.score_at(rows, weights, threshold)[0]


class SigmoidRules(unittest.TestCase):
    def test_known_values(self):
        # NAB's docstring: -1 -> 0.98661, -0.5 -> 0.84828, 0 -> 0, 1 -> -0.98661.
        self.assertAlmostEqual(ns.scaled_sigmoid(-1.0), 0.986614, places=6)
        self.assertAlmostEqual(ns.scaled_sigmoid(-0.5), 0.848284, places=6)
        self.assertEqual(ns.scaled_sigmoid(0.0), 0.0)
        self.assertAlmostEqual(ns.scaled_sigmoid(1.0), -0.986614, places=6)
        self.assertAlmostEqual(ns.scaled_sigmoid(2.999), -1.0, places=5)
        self.assertEqual(ns.scaled_sigmoid(3.0), -1.0)
        self.assertEqual(ns.scaled_sigmoid(100.0), -1.0)

    def test_probation_length(self):
        self.assertEqual(ns.probation_length(100), 15)
        self.assertEqual(ns.probation_length(4032), 604)
        self.assertEqual(ns.probation_length(22695), 750)  # capped at 0.15 * 5000


class WindowRules(unittest.TestCase):
    # 10 rows, one window over rows 2..4 (width 3), no probation.
    W = [window(2, 4)]

    def test_no_detection_costs_fn(self):
        self.assertAlmostEqual(score_of([0] * 10, self.W), -1.0)

    def test_left_edge_scores_tp_weight(self):
        scores = [0] * 10
        scores[2] = 1
        self.assertAlmostEqual(score_of(scores, self.W), 1.0)

    def test_only_earliest_detection_counts(self):
        scores = [0] * 10
        scores[3] = scores[4] = 1
        expected = ns.scaled_sigmoid(-(4 - 3 + 1) / 3.0) / ns.scaled_sigmoid(-1.0)
        self.assertAlmostEqual(score_of(scores, self.W), expected)
        scores[2] = 1
        self.assertAlmostEqual(score_of(scores, self.W), 1.0)

    def test_right_edge_detection_scores_low_but_positive(self):
        scores = [0] * 10
        scores[4] = 1
        expected = ns.scaled_sigmoid(-1 / 3.0) / ns.scaled_sigmoid(-1.0)
        self.assertAlmostEqual(score_of(scores, self.W), expected)
        self.assertTrue(0 < expected < 1)

    def test_false_positive_before_first_window_costs_fp_weight(self):
        scores = [0] * 10
        scores[0] = 1
        self.assertAlmostEqual(score_of(scores, self.W), -1.0 - 0.11)

    def test_false_positive_after_window_decays_with_distance(self):
        # Row 5 is one row past the right edge: y = 1 / (3 - 1) = 0.5.
        scores = [0] * 10
        scores[5] = 1
        self.assertAlmostEqual(score_of(scores, self.W), -1.0 + 0.11 * ns.scaled_sigmoid(0.5))
        # Row 9: y = 5 / 2 = 2.5, nearly the full penalty.
        scores = [0] * 10
        scores[9] = 1
        self.assertAlmostEqual(score_of(scores, self.W), -1.0 + 0.11 * ns.scaled_sigmoid(2.5))
        self.assertLess(ns.scaled_sigmoid(2.5), ns.scaled_sigmoid(0.5))

    def test_probation_rows_are_ignored(self):
        # 20 rows, 15 % probation = 3 rows: a detection at row 1 costs nothing.
        scores = [0] * 20
        scores[1] = 1
        w = [window(10, 12)]
        self.assertAlmostEqual(score_of(scores, w, fraction=0.15), -1.0)
        scores[3] = 1
        self.assertAlmostEqual(score_of(scores, w, fraction=0.15), -1.0 - 0.11)

    def test_window_matched_by_time_not_text(self):
        labels = {"cat/s.csv": [("2014-04-01 00:10:00.000000", "2014-04-01 00:20:00.000000")]}
        parsed = {k: [(ns.parse_time(a), ns.parse_time(b)) for a, b in v] for k, v in labels.items()}
        scores = [0] * 10
        scores[2] = 1
        rows = ns.sweep_rows(series(scores), parsed["cat/s.csv"], STANDARD, 0.0)
        self.assertAlmostEqual(ns.score_at(rows, STANDARD, 0.5)[0], 1.0)

    def test_window_not_in_series_is_reported(self):
        problems = []
        w = [(T0 + datetime.timedelta(minutes=1), T0 + datetime.timedelta(minutes=20))]
        rows = ns.sweep_rows(series([0] * 10), w, STANDARD, 0.0, problems)
        self.assertEqual(len(problems), 1)
        self.assertTrue(all(r[2] is None for r in rows))


class ThresholdSweep(unittest.TestCase):
    def test_sweep_matches_fixed_threshold_scoring(self):
        scores = [0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.7, 0.4, 0.95, 0.1]
        rows = ns.sweep_rows(series(scores), [window(3, 5)], STANDARD, 0.0)
        table = ns.scores_by_threshold(rows, STANDARD)
        self.assertEqual(table[0][0], 1.1)
        self.assertAlmostEqual(table[0][1], -1.0)
        for threshold, total, *_ in table[1:]:
            self.assertAlmostEqual(total, ns.score_at(rows, STANDARD, threshold)[0])
        thresholds = [t for t, *_ in table]
        self.assertEqual(thresholds, sorted(set(thresholds), reverse=True))

    def test_best_threshold_prefers_highest_among_ties(self):
        table = [(1.1, -1.0, 0, 0, 0, 0), (0.9, 0.5, 0, 0, 0, 0), (0.8, 0.5, 0, 0, 0, 0),
                 (0.1, 0.2, 0, 0, 0, 0)]
        self.assertEqual(ns.best_threshold(table)[0], 0.9)

    def test_corpus_optimum_picks_window_detection(self):
        # Row 3 (left edge) has the second highest score; the highest is a false positive
        # before the window. Best: threshold 0.8 (TP 1.0 - FP 0.11 = 0.89).
        scores = [0, 0.9, 0, 0.8, 0, 0, 0, 0, 0, 0]
        rows = ns.sweep_rows(series(scores), [window(3, 5)], STANDARD, 0.0)
        best = ns.best_threshold(ns.scores_by_threshold(rows, STANDARD))
        self.assertEqual(best[0], 0.8)
        self.assertAlmostEqual(best[1], 0.89)


class BadInput(unittest.TestCase):
    def test_bad_lines_are_counted_with_line_numbers(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.csv")
            with open(path, "w") as f:
                f.write("timestamp,value,anomaly_score\n"
                        "2014-04-01 00:00:00,1,0.5\n"
                        "not a time,1,0.5\n"
                        "2014-04-01 00:10:00,1\n"
                        "2014-04-01 00:15:00,1,abc\n"
                        "2014-04-01 00:20:00,1,0.25\n")
            problems = []
            ts, sc = ns.read_results_file(path, problems)
            self.assertEqual(sc, [0.5, 0.25])
            self.assertEqual(len(problems), 3)
            self.assertIn(":3:", problems[0])
            self.assertIn(":4:", problems[1])
            self.assertIn(":5:", problems[2])

    def test_missing_directory_is_an_error_not_a_crash(self):
        err = io.StringIO()
        with redirect_stderr(err):
            rc = ns.main(["/nonexistent/dir", "--labels", "/nonexistent/l.json"])
        self.assertEqual(rc, 2)
        self.assertIn("does not exist", err.getvalue())


class PublishedScores(unittest.TestCase):
    def test_windowed_gaussian_reproduces_the_scoreboard(self):
        # Fails without the data: a skipped check would pass without checking anything.
        results = os.path.join(NAB_DIR, "results", "windowedGaussian")
        self.assertTrue(os.path.isdir(results), f"this test needs {results} (../shared/data/nab): it is missing")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "summary.json")
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                rc = ns.main([os.path.join(NAB_DIR, "results", "windowedGaussian"),
                              "--nab", NAB_DIR, "--json", out])
            self.assertEqual(rc, 0)
            with open(out) as f:
                summary = json.load(f)
        with open(os.path.join(NAB_DIR, "results", "final_results.json")) as f:
            published = json.load(f)["windowedGaussian"]
        self.assertEqual(summary["files"], 58)
        self.assertEqual(summary["windows"], 116)
        for profile in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"):
            self.assertAlmostEqual(summary["profiles"][profile]["score"], published[profile],
                                   delta=0.01, msg=profile)
        self.assertAlmostEqual(summary["profiles"]["standard"]["score"], 39.65, delta=0.01)
        self.assertAlmostEqual(summary["profiles"]["reward_low_FP_rate"]["score"], 20.87, delta=0.01)
        self.assertAlmostEqual(summary["profiles"]["reward_low_FN_rate"]["score"], 47.41, delta=0.01)
        # NAB's own totals row for the standard profile: raw -24.0131054891, 521 TP, 409 FP.
        self.assertAlmostEqual(summary["profiles"]["standard"]["raw_score"], -24.0131054891, places=6)
        self.assertEqual(summary["profiles"]["standard"]["tp"], 521)
        self.assertEqual(summary["profiles"]["standard"]["fp"], 409)


if __name__ == "__main__":
    if not os.path.isdir(NAB_DIR):
        print("note: %s is missing; the published-score check will be skipped" % NAB_DIR)
    unittest.main(argv=[sys.argv[0], "-v"])
