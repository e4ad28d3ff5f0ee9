"""The first ten minutes: scripts/demo and `replay --table` as a newcomer reads them."""
import json
import os
import pathlib
import re
import subprocess
import tempfile
import time
import unittest

BINARY = pathlib.Path(os.environ.get("FLOWLIER_BINARY", "build/flowlier")).resolve()
SOURCE = pathlib.Path(os.environ.get("FLOWLIER_SOURCE_DIR", ".")).resolve()
SAMPLE = SOURCE / "examples" / "sample"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def table_rows(text):
    return [line for line in text.splitlines() if TIME.match(line)]


class DemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The demo against this build, writing its events into a temp build dir.
        cls.dir = tempfile.TemporaryDirectory()
        build = pathlib.Path(cls.dir.name)
        (build / "flowlier").symlink_to(BINARY)
        started = time.monotonic()
        # One pipe for stdout and stderr, as `make demo | less` or a CI log sees them.
        cls.result = subprocess.run([str(SOURCE / "scripts" / "demo"), str(build)], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=120)
        cls.seconds = time.monotonic() - started
        cls.events = [json.loads(line) for line in (build / "demo-events.jsonl").read_text().splitlines()]

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_runs_fast_and_evaluates(self):
        self.assertEqual(self.result.returncode, 0, self.result.stdout)
        self.assertLess(self.seconds, 60)
        self.assertIn("recall", self.result.stdout)

    def test_summary_follows_the_table_whole(self):
        lines = self.result.stdout.splitlines()
        rows = [i for i, line in enumerate(lines) if TIME.match(line)]
        summary = next(i for i, line in enumerate(lines) if line.startswith("replay: "))
        self.assertEqual(len(rows), len(self.events))
        self.assertGreater(summary, rows[-1])
        self.assertEqual(rows, list(range(rows[0], rows[0] + len(rows))), "the rows are contiguous")
        for i in rows:
            self.assertNotIn("replay:", lines[i])

    def test_whole_entity_ids(self):
        rows = table_rows(self.result.stdout)
        for row, event in zip(rows, self.events):
            self.assertIn(f" {event['entity']['kind']} {event['entity']['id']} ", row)
        self.assertTrue(any(re.search(r"interface eni-[0-9a-f]{17} ", row) for row in rows))

    def test_beacon_cell_reads_as_a_schedule(self):
        beacons = [(row, e) for row, e in zip(table_rows(self.result.stdout), self.events) if e["detector"] == "beacon"]
        self.assertTrue(beacons, "the sample's beacon is in the table")
        for row, event in beacons:
            cell = re.search(r"every ([0-9.]+) (s|min|h), CV ([0-9.]+), (\d+) contacts", row)
            self.assertIsNotNone(cell, row)
            self.assertAlmostEqual(float(cell.group(3)), event["value"], delta=0.005)
            period = re.search(r"every ([0-9.]+ (?:s|min|h)) \((\d+) contacts", event["explanation"])
            self.assertEqual(f"{cell.group(1)} {cell.group(2)}", period.group(1))
            self.assertEqual(cell.group(4), period.group(2))
            self.assertNotIn("contact_interval_cv 0.", row)

    def test_warm_up_rows_are_marked(self):
        warm_up_end = json.loads((SAMPLE / "labels.json").read_text())["warmup_end"]
        rows = table_rows(self.result.stdout)
        marked = [row for row in rows if row[21:].startswith("warm-up ")]
        self.assertEqual(len(marked), sum(1 for e in self.events if e["time"] < warm_up_end))
        self.assertTrue(all(row[:20] < warm_up_end for row in marked))
        # No baseline pages while it is still young (the evidence floor): nothing fires
        # in the sample's warm-up.
        self.assertFalse([row for row in marked if " firing " in row], "a warm-up row pages")
        if marked:  # the legend comes with the mark
            self.assertIn(f"warm-up: before {warm_up_end}", self.result.stdout)
        self.assertRegex(self.result.stdout, r"excluded episodes: \d+ in warm-up")


class TableTest(unittest.TestCase):
    def test_without_warm_up_there_is_no_mark_column(self):
        result = subprocess.run([str(BINARY), "replay", "--quiet", "--table", str(SAMPLE / "AWSLogs")],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = table_rows(result.stdout)
        self.assertTrue(rows)
        self.assertNotIn("warm-up", result.stdout)
        self.assertTrue(all(row[21:].startswith(("firing ", "resolved ")) for row in rows))

    def test_bad_warm_up_time_is_refused(self):
        result = subprocess.run([str(BINARY), "replay", "--table", "--warm-up-until", "yesterday",
                                 str(SAMPLE / "AWSLogs")], capture_output=True, text=True, timeout=120)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not an RFC 3339 time: 'yesterday'", result.stderr)


class ConfigDefaultsTest(unittest.TestCase):
    def test_open_score_comment_names_the_default_multiplicity(self):
        text = subprocess.run([str(BINARY), "config", "--defaults"], capture_output=True, text=True,
                              timeout=60).stdout
        multiplicity = float(re.search(r"^multiplicity = ([0-9.]+)", text, re.M).group(1))
        open_line = next(line for line in text.splitlines() if line.startswith("open_score"))
        self.assertIn(f"p * {multiplicity:g} by default", open_line)
        self.assertNotIn("p * 10 ", text)


if __name__ == "__main__":
    unittest.main()
