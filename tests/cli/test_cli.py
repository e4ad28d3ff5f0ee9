"""End-to-end tests of the flowlier binary: real files, real processes, exit codes and messages."""
import gzip
import json
import os
import pathlib
import subprocess
import tempfile
import unittest

BINARY = os.environ.get("FLOWLIER_BINARY", "build/flowlier")
SOURCE = pathlib.Path(os.environ.get("FLOWLIER_SOURCE_DIR", "."))
SHARED = SOURCE.parent / "shared"
SAMPLE = SOURCE / "examples" / "sample"

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
GOOD = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"


def flowlier(*args, stdin=None):
    return subprocess.run([BINARY, *args], input=stdin, capture_output=True, text=True, timeout=120)


class NormalizeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = pathlib.Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def test_records_are_json_lines_with_a_summary(self):
        path = self.tmp / "flows.log"
        path.write_text(HEADER + GOOD * 3)
        result = flowlier("normalize", str(path))
        self.assertEqual(result.returncode, 0, result.stderr)
        records = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual(len(records), 3)
        self.assertEqual(records[0]["srcaddr"], "172.31.16.139")
        self.assertEqual(records[0]["dstport"], 22)
        self.assertEqual(records[0]["line"], 2)
        self.assertIn("3 records from 1 input", result.stderr)

    def test_stdin_and_gzip(self):
        gz = self.tmp / "flows.log.gz"
        gz.write_bytes(gzip.compress((HEADER + GOOD * 2).encode()))
        self.assertEqual(len(flowlier("normalize", str(gz)).stdout.splitlines()), 2)
        result = flowlier("normalize", "-", stdin=HEADER + GOOD)
        self.assertEqual(len(result.stdout.splitlines()), 1)
        self.assertIn("<stdin>", result.stdout)

    def test_bad_lines_are_located_counted_and_kept(self):
        path = self.tmp / "bad.log"
        path.write_text(HEADER + GOOD + GOOD.replace(" 22 ", " 70000 ") + "2 too few fields\n" + GOOD)
        rejects = self.tmp / "rejects.jsonl"
        result = flowlier("normalize", "--rejects", str(rejects), str(path))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(len(result.stdout.splitlines()), 2)
        self.assertIn(f"{path}:3: rejected (bad_port)", result.stderr)
        self.assertIn(f"{path}:4: rejected (wrong_field_count)", result.stderr)
        self.assertIn("rejected: 2 (wrong_field_count 1, bad_port 1)", result.stderr)
        kept = [json.loads(line) for line in rejects.read_text().splitlines()]
        self.assertEqual([r["reason"] for r in kept], ["bad_port", "wrong_field_count"])
        self.assertIn("70000", kept[0]["raw"])

    def test_hostile_line_is_rejected_without_losing_the_next(self):
        path = self.tmp / "long.log"
        path.write_text(HEADER + "x" * (10 << 20) + "\n" + GOOD)
        result = flowlier("normalize", str(path))
        self.assertEqual(len(result.stdout.splitlines()), 1)
        self.assertIn("line_too_long", result.stderr)

    def test_unreadable_empty_truncated_and_unknown_inputs_name_the_file(self):
        missing = self.tmp / "missing.log"
        empty = self.tmp / "empty.log"
        empty.write_text("")
        truncated = self.tmp / "cut.log.gz"
        truncated.write_bytes(gzip.compress((HEADER + GOOD * 500).encode())[:-40])
        unknown = self.tmp / "what.txt"
        unknown.write_text("hello world\n")
        for path, words in [(missing, "no such file"), (empty, "empty"), (truncated, "truncated"),
                            (unknown, "cannot tell the format")]:
            result = flowlier("normalize", str(path))
            self.assertEqual(result.returncode, 1, path)
            self.assertIn(str(path), result.stderr)
            self.assertIn(words, result.stderr)
        # What was valid before the truncation is still written.
        self.assertGreater(len(flowlier("normalize", str(truncated)).stdout.splitlines()), 100)

    def test_check_writes_nothing_and_answers_like_a_linter(self):
        clean = self.tmp / "clean.log"
        clean.write_text(HEADER + GOOD * 4)
        result = flowlier("normalize", "--check", str(clean))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertIn("4 records from 1 input", result.stderr)
        self.assertIn("by format: aws-vpc 4", result.stderr)
        self.assertIn("rejected: 0", result.stderr)

        bad = self.tmp / "bad.log"
        bad.write_text(HEADER + GOOD + GOOD.replace(" 6 20 ", " 6 2x0 ") + GOOD + "2 too few fields\n")
        rejects = self.tmp / "rejects.jsonl"
        result = flowlier("normalize", "--check", "--rejects", str(rejects), str(bad), str(clean))
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertIn(f"{bad}:3: rejected (bad_number)", result.stderr)
        self.assertIn(f"{bad}:5: rejected (wrong_field_count)", result.stderr)
        self.assertIn("6 records from 2 input", result.stderr)
        self.assertIn("rejected: 2 (wrong_field_count 1, bad_number 1)", result.stderr)
        self.assertEqual([json.loads(line)["line"] for line in rejects.read_text().splitlines()], [3, 5])

        # An input it could not read in full outranks rejects: the check is incomplete.
        missing = self.tmp / "missing.log"
        result = flowlier("normalize", "--check", str(bad), str(missing))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn(str(missing), result.stderr)
        # Nothing to write to: --out with --check is a usage error.
        result = flowlier("normalize", "--check", "--out", str(self.tmp / "out.jsonl"), str(clean))
        self.assertEqual(result.returncode, 2)
        self.assertFalse((self.tmp / "out.jsonl").exists())

    def test_every_shared_sample_normalizes(self):
        samples = SHARED / "data" / "samples"
        # A test that skipped without the data would pass without testing anything.
        self.assertTrue(samples.exists(), f"this test needs {samples} (../shared/data): it is missing")
        for path in sorted(samples.rglob("*")):
            if path.suffix not in (".log", ".json", ".jsonl"):
                continue
            with self.subTest(path=path.name):
                result = flowlier("normalize", str(path))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertGreater(len(result.stdout.splitlines()), 0)


class ConfigTest(unittest.TestCase):
    def test_defaults_round_trip_and_unknown_keys_are_named(self):
        with tempfile.TemporaryDirectory() as d:
            good = pathlib.Path(d) / "good.toml"
            good.write_text(flowlier("config", "--defaults").stdout)
            self.assertEqual(flowlier("config", "--check", str(good)).returncode, 0)
            bad = pathlib.Path(d) / "bad.toml"
            bad.write_text("[window]\nseconds = 60\n\n[detectors.volume]\nhalf_lfe = 3\n")
            result = flowlier("config", "--check", str(bad))
            self.assertNotEqual(result.returncode, 0)
            self.assertIn(f"{bad}:5: unknown key 'detectors.volume.half_lfe'", result.stderr)
            wrong = pathlib.Path(d) / "wrong.toml"
            wrong.write_text("[window]\nseconds = \"sixty\"\n")
            self.assertIn("'window.seconds' must be a non-negative integer", flowlier("config", "--check", str(wrong)).stderr)


class ReplayTest(unittest.TestCase):
    def test_events_conform_to_the_schema(self):
        import jsonschema
        schema_path = SHARED / "contracts" / "anomaly-event.schema.json"
        if not schema_path.exists():
            schema_path = SOURCE / "tests" / "data" / "contracts" / "anomaly-event.schema.json"
        schema = json.loads(schema_path.read_text())
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        with tempfile.TemporaryDirectory() as d:
            out = pathlib.Path(d) / "events.jsonl"
            result = flowlier("replay", "-q", "-o", str(out), str(SAMPLE / "AWSLogs"))
            self.assertEqual(result.returncode, 0, result.stderr)
            events = [json.loads(line) for line in out.read_text().splitlines()]
        self.assertGreater(len(events), 5)
        for event in events:
            errors = sorted(validator.iter_errors(event), key=str)
            self.assertEqual(errors, [], event)
            self.assertTrue(event["time"].endswith("Z"))
        self.assertIn("resolved", {e["status"] for e in events})
        categories = {e.get("category") for e in events}
        self.assertTrue({"port-scan", "ddos", "exfiltration"} <= categories, categories)

    def test_state_split_equals_one_run(self):
        files = sorted((SAMPLE / "AWSLogs").rglob("*.log.gz"))
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            whole = flowlier("replay", "-q", "-o", str(d / "whole.jsonl"), *map(str, files))
            self.assertEqual(whole.returncode, 0, whole.stderr)
            one = flowlier("replay", "-q", "--state-out", str(d / "state"), "-o", str(d / "a.jsonl"), *map(str, files[:5]))
            self.assertEqual(one.returncode, 0, one.stderr)
            two = flowlier("replay", "-q", "--state-in", str(d / "state"), "-o", str(d / "b.jsonl"), *map(str, files[5:]))
            self.assertEqual(two.returncode, 0, two.stderr)
            second = (d / "b.jsonl").read_text().splitlines()
            whole_events = (d / "whole.jsonl").read_text().splitlines()
            self.assertTrue(second)
            self.assertEqual(second, whole_events[len(whole_events) - len(second):])
            # One engine per core wrote PATH, or PATH.shard-K-of-N, and PATH.intake.
            for path in d.glob("state*"):
                path.write_bytes(b"garbage")
            bad = flowlier("replay", "-q", "--state-in", str(d / "state"), str(files[0]))
            self.assertEqual(bad.returncode, 2)
            self.assertIn("engine state", bad.stderr)


class SpoolDirTest(unittest.TestCase):
    """A sink without spool_dir spools under the state directory, never where the run starts."""

    def run_replay(self, d, state_path, env_extra):
        work = d / "work"
        work.mkdir()
        config = d / "flowlier.toml"
        state = f'[state]\npath = "{state_path}"\n\n' if state_path else ""
        # Nothing listens on port 1: the events wait in the spool.
        config.write_text(state + '[[sinks]]\ntype = "webhook"\nid = "hook"\nformat = "json"\n'
                          'url = "http://127.0.0.1:1/"\nmax_retries = 1\n')
        env = {k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "XDG_STATE_HOME")}
        env.update(env_extra)
        result = subprocess.run([BINARY, "replay", "-q", "-c", str(config), "--sink-wait", "0.2", "-o", "/dev/null",
                                 str(next((SAMPLE / "AWSLogs").rglob("*.log.gz")))],
                                capture_output=True, text=True, timeout=120, cwd=work, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(list(work.iterdir()), [], "the run wrote into its working directory")

    def test_beside_the_state_path(self):
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            (d / "state").mkdir()
            self.run_replay(d, d / "state" / "flowlier.bin", {"HOME": str(d / "home")})
            self.assertTrue((d / "state" / "spool" / "hook").is_dir())
            self.assertFalse((d / "home").exists())

    def test_in_systemds_state_directory(self):
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            self.run_replay(d, d / "elsewhere.bin", {"STATE_DIRECTORY": str(d / "var")})
            self.assertTrue((d / "var" / "spool" / "hook").is_dir())

    def test_without_a_state_path_in_the_users_state_home(self):
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            self.run_replay(d, "", {"HOME": str(d / "home")})
            self.assertTrue((d / "home" / ".local" / "state" / "flowlier" / "spool" / "hook").is_dir())


class TimeOrderedReplayTest(unittest.TestCase):
    """A delivery tree whose name order is not time order replays like one time-sorted file."""

    def test_tree_of_small_files_equals_the_sorted_file(self):
        import datetime
        import hashlib
        records = []
        header = None
        for path in sorted((SAMPLE / "AWSLogs").rglob("*.log.gz")):
            lines = gzip.decompress(path.read_bytes()).decode().splitlines()
            header = lines[0]
            records += [line.split(" ") for line in lines[1:] if line]
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            # One file per interface and 5-minute delivery batch, stamped with the batch's
            # end as AWS names them; the interfaces spread over three regions. Names sort by
            # region, then interface: one interface's whole history before the next.
            # The files partition the time-sorted stream, as delivered blobs do.
            records.sort(key=lambda f: (int(f[10]), int(f[11])))
            batches = {}
            for fields in records:
                eni, start = fields[2], int(fields[10])
                region = ["ap-south-1", "eu-west-1", "us-east-1"][int(hashlib.md5(eni.encode()).hexdigest(), 16) % 3]
                batches.setdefault((region, eni, start // 300), []).append(" ".join(fields))
            for (region, eni, batch), lines in batches.items():
                stamp = datetime.datetime.fromtimestamp((batch + 1) * 300, datetime.timezone.utc)
                folder = d / "tree" / "AWSLogs" / "123456789012" / "vpcflowlogs" / region / stamp.strftime("%Y/%m/%d")
                folder.mkdir(parents=True, exist_ok=True)
                name = f"123456789012_vpcflowlogs_{region}_fl-{eni[-6:]}_{stamp.strftime('%Y%m%dT%H%MZ')}_{batch:08x}.log"
                (folder / name).write_text(header + "\n" + "\n".join(lines) + "\n")
            self.assertGreater(len(batches), 1000)
            (d / "sorted.log").write_text(header + "\n" + "\n".join(" ".join(f) for f in records) + "\n")
            one = flowlier("replay", "-q", "-o", str(d / "sorted.jsonl"), str(d / "sorted.log"))
            self.assertEqual(one.returncode, 0, one.stderr)
            tree = flowlier("replay", "-q", "-o", str(d / "tree.jsonl"), str(d / "tree"))
            self.assertEqual(tree.returncode, 0, tree.stderr)
            self.assertIn(f"{len(batches)} input(s)", tree.stderr)
            self.assertIn("late records: 0 (", one.stderr)
            self.assertIn("late records: 0 (", tree.stderr)
            expected = [self.comparable(line) for line in (d / "sorted.jsonl").read_text().splitlines()]
            self.assertGreater(len(expected), 5)
            self.assertEqual([self.comparable(line) for line in (d / "tree.jsonl").read_text().splitlines()], expected)

    @staticmethod
    def comparable(line):
        """The event, with contributors of equal share in a fixed order: records of the same
        second from different files may reach the engine in either order, which only
        changes how ties among contributors are listed."""
        event = json.loads(line)
        for key in ("contributors",):
            if isinstance(event.get(key), list):
                event[key] = sorted(event[key], key=lambda c: json.dumps(c, sort_keys=True))
        event.pop("explanation", None)
        return event


class HelpTest(unittest.TestCase):
    def test_every_subcommand_has_help(self):
        top = flowlier("--help")
        self.assertEqual(top.returncode, 0)
        for command in ["normalize", "replay", "config", "sim", "eval"]:
            with self.subTest(command=command):
                result = flowlier(command, "--help")
                self.assertEqual(result.returncode, 0)
                self.assertIn("Usage", result.stdout)


if __name__ == "__main__":
    unittest.main()
