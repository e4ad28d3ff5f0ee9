"""`flowlier replay --threads N` (one intake, N engines on N threads) writes exactly the
events of `--threads 1`, byte for byte (ids, scores, set and order), on every test input:
the tests' data files, the demo sample, simulated estates of each cloud, and across a
--state-out / --state-in split, whose files follow the live service's layout."""
import os
import pathlib
import re
import subprocess
import tempfile
import unittest

BINARY = os.environ.get("FLOWLIER_BINARY", "build/flowlier")
SOURCE = pathlib.Path(os.environ.get("FLOWLIER_SOURCE_DIR", "."))
SAMPLE = SOURCE / "examples" / "sample" / "AWSLogs"
TEST_DATA = SOURCE / "tests" / "data"
THREADS = (1, 2, 3)


def flowlier(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=300)


class ReplayThreadsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.tmp = pathlib.Path(cls.dir.name)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def replay(self, name, threads, *args, expect=0):
        out = self.tmp / f"{name}-{threads}.jsonl"
        result = flowlier("replay", "-q", "--threads", str(threads), "-o", str(out), *map(str, args))
        self.assertEqual(result.returncode, expect, result.stderr)
        return out.read_text() if out.exists() else "", result.stderr

    def assert_threads_agree(self, name, *inputs, at_least=1, expect=0):
        outputs = {n: self.replay(name, n, *inputs, expect=expect) for n in THREADS}
        one, summary = outputs[1]
        self.assertGreaterEqual(len(one.splitlines()), at_least, f"{name}: too few events to compare")
        for n in THREADS[1:]:
            self.assertEqual(outputs[n][0], one, f"{name}: --threads {n} differs from --threads 1")
            # The summary's totals add up over the engines.
            for counted in ("windows closed", "entities", "events"):
                pattern = counted + r": (\d+)"
                self.assertEqual(re.search(pattern, outputs[n][1]).group(1), re.search(pattern, summary).group(1),
                                 f"{name}: {counted}")
        return one

    def test_the_demo_sample(self):
        self.assert_threads_agree("sample", SAMPLE, at_least=10)

    def test_every_file_of_the_test_data(self):
        files = [p for kind in ("aws", "azure", "gcp") for p in sorted((TEST_DATA / kind).iterdir())]
        self.assertGreater(len(files), 5)
        for path in files:
            self.assert_threads_agree(path.name, path, at_least=0)

    def test_simulated_estates_of_every_cloud(self):
        # AWS v2 (local addresses learnt by the intake), AWS v5, GCP and Azure, each in its layout.
        for fmt in ("v2", "v5-custom", "gcp", "azure-vnet"):
            out = self.tmp / f"sim-{fmt}"
            made = flowlier("sim", "--out", str(out), "--seed", "701", "--hours", "10", "--format", fmt)
            self.assertEqual(made.returncode, 0, made.stderr)
            logs = [p for p in out.iterdir() if p.is_dir()]
            self.assertEqual(len(logs), 1, list(out.iterdir()))
            self.assert_threads_agree(f"sim-{fmt}", logs[0], at_least=3)

    def test_a_state_split_equals_one_run_whatever_the_threads(self):
        files = sorted(SAMPLE.rglob("*.log.gz"))
        whole = self.assert_threads_agree("whole", *files, at_least=10).splitlines()
        for threads in THREADS:
            state = self.tmp / f"split{threads}" / "state"
            state.parent.mkdir()
            self.replay(f"first{threads}", threads, "--state-out", state, *files[:5])
            # The live service's layout: PATH for one engine, PATH.shard-K-of-N for more, PATH.intake.
            names = sorted(p.name for p in state.parent.iterdir())
            expected = ["state"] if threads == 1 else [f"state.shard-{k}-of-{threads}" for k in range(threads)]
            self.assertEqual(names, sorted(expected + ["state.intake"]))
            # Without --threads the second run follows the states' engine count.
            out = self.tmp / f"second{threads}.jsonl"
            result = flowlier("replay", "-q", "--state-in", str(state), "-o", str(out), *map(str, files[5:]))
            self.assertEqual(result.returncode, 0, result.stderr)
            second = out.read_text().splitlines()
            self.assertTrue(second)
            self.assertEqual(second, whole[len(whole) - len(second):])
        # Another engine count cannot take these states (entities are split by hash).
        refused = flowlier("replay", "-q", "--threads", "2", "--state-in", str(self.tmp / "split3" / "state"),
                           str(files[5]))
        self.assertEqual(refused.returncode, 2)
        self.assertIn("written by 3 engines, this run has 2: set --threads 3", refused.stderr)


if __name__ == "__main__":
    unittest.main()
