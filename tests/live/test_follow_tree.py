#!/usr/bin/python3
"""`flowlier run --follow TREE` over real delivery trees equals `flowlier replay TREE`.

The tree is the simulator's Azure NSG layout (resourceId=/.../NETWORKSECURITYGROUPS/<nsg>/
y=/m=/d=/h=/m=00/macAddress=<mac>/PT1H.json: several NSGs and MACs, hours over two days),
whose path order is not time order: read in path order, one MAC's whole history would
come before the next and most records would be late. Most of the tree is there when the
service starts (the backlog); the last hours arrive while it runs, in new nested
directories. The events the service writes to its file sink (ids, entities, scores)
must be replay's, up to the live close point (replay also flushes its last windows).
The same for an AWS S3 tree of hourly .gz files (read whole once settled)."""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import BINARY, LATENESS, WINDOW, free_ports, scrape, wait_until_ready, write_config  # noqa: E402

HOURS = 30
LATE_HOURS = 2  # added while the service runs


def blobs(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        out += [os.path.join(d, f) for f in files if not f.startswith(".")]
    return out


def hour_of(path):
    if "AWSLogs" in path:  # ..._vpcflowlogs_<region>_<id>_YYYYMMDDTHHMMZ_<hash>.log.gz
        stamp = os.path.basename(path).split("_")[-2]
        return stamp[:4], stamp[4:8], stamp[9:11]
    parts = dict(p.split("=", 1) for p in path.split("/") if p[:2] in ("y=", "d=", "h="))
    return parts["y"], parts["d"], parts["h"]


def record_times(path):
    """The record times (flow start) of an Azure PT1H.json blob or an AWS .log.gz file."""
    if path.endswith(".gz"):
        with gzip.open(path, "rt") as f:
            fields = next(f).split()
            start = fields.index("start")
            for line in f:
                yield int(line.split()[start])
        return
    with open(path) as f:
        doc = json.load(f)
    for record in doc["records"]:
        for rule in record["properties"]["flows"]:
            for group in rule["flows"]:
                for t in group["flowTuples"]:
                    yield int(t.split(",", 1)[0])


def event_key(e):
    return (e["id"], e["entity"]["kind"], e["entity"]["id"], e["score"], e["status"])


class FollowTreeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.ports = free_ports(3)
        self.config = write_config(os.path.join(self.tmp.name, "run.toml"), *self.ports)
        self.replay_out = os.path.join(self.tmp.name, "replay.jsonl")

    def tearDown(self):
        self.tmp.cleanup()

    def simulate(self, fmt, logs):
        sim = os.path.join(self.tmp.name, "sim")
        subprocess.run([BINARY, "sim", "--out", sim, "--hours", str(HOURS), "--scale", "0.3", "--format", fmt,
                        "--start", "2026-03-02T12:00:00Z"], check=True, capture_output=True)
        self.tree = os.path.join(self.tmp.name, "tree")
        shutil.move(os.path.join(sim, logs), os.path.join(self.tree, logs))
        return blobs(self.tree)

    def test_followed_azure_tree_equals_replay(self):
        files = self.simulate("azure-nsg", "insights-logs-networksecuritygroupflowevent")
        self.assertGreater(len({p.split("/macAddress=")[1] for p in files}), 3)  # several MACs
        self.assertGreater(len({p.split("NETWORKSECURITYGROUPS/")[1].split("/")[0] for p in files}), 1)
        self.assertNotEqual(sorted(files), sorted(files, key=lambda p: (hour_of(p), p)))  # name order is not time
        self.follow_equals_replay(files)

    def test_followed_aws_tree_equals_replay(self):
        files = self.simulate("v2", "AWSLogs")
        self.assertTrue(all(p.endswith(".log.gz") for p in files))
        self.follow_equals_replay(files)
        self.assertEqual(self.gzip_files, len(files))  # each read whole, once

    def follow_equals_replay(self, files):
        hours = sorted({hour_of(p) for p in files})
        self.assertGreaterEqual(len(hours), HOURS - 1)

        # Replay of the whole tree, as it will be once the last hours have arrived.
        done = subprocess.run([BINARY, "replay", "--no-progress", "--config", self.config, "--out", self.replay_out,
                               self.tree], check=True, capture_output=True, text=True)
        total = int(done.stderr.split("replay: ", 1)[1].split(" records", 1)[0])
        with open(self.replay_out) as f:
            replay = [json.loads(line) for line in f if line.strip()]
        newest = max(max(record_times(p)) for p in files)
        cut = (newest - LATENESS) // WINDOW * WINDOW
        expected = sorted(event_key(e) for e in replay if e["window"]["end"] <= time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(cut)))
        self.assertGreater(len(expected), 4)

        # The last hours wait outside the tree; they come back as new nested directories.
        late = set(hours[-LATE_HOURS:])
        staging = os.path.join(self.tree, ".staging")
        moved = []
        for p in files:
            if hour_of(p) in late:
                target = os.path.join(staging, os.path.relpath(p, self.tree))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.rename(p, target)
                moved.append(p)
        late_records = sum(sum(1 for _ in record_times(os.path.join(staging, os.path.relpath(p, self.tree))))
                           for p in moved)

        sink = os.path.join(self.tmp.name, "sink.jsonl")
        live_config = os.path.join(self.tmp.name, "live.toml")
        with open(self.config) as base, open(live_config, "w") as f:
            f.write(base.read() + f'\n[[sinks]]\ntype = "file"\npath = "{sink}"\n')
        proc = subprocess.Popen([BINARY, "run", "--config", live_config, "--idle-seconds", "0", "--follow", self.tree],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_until_ready(self, self.ports[2], proc)
            self.wait_records(total - late_records)
            # All of the last hours appear at once, in directories the service has not seen.
            os.rename(staging, os.path.join(self.tree, "arrived"))
            self.wait_records(total)
            m = scrape(self.ports[2])
            self.assertEqual(m["flowlier_late_records_total"], 0)
            self.assertEqual(m["flowlier_follow_tree_skipped"], 0)
            self.assertEqual(sum(v for k, v in m.items() if k.startswith("flowlier_records_rejected_total")), 0)
            self.wait_published(m)
            self.gzip_files = scrape(self.ports[2])["flowlier_gzip_files_total"]
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        with open(sink) as f:
            live = sorted(event_key(json.loads(line)) for line in f if line.strip())
        print(f"\n  {len(files)} blobs, {total} records; replay {len(replay)} events, {len(expected)} up to the "
              f"live close point; live {len(live)}", file=sys.stderr)
        self.assertEqual(live, expected)

    def wait_records(self, n, timeout=120):
        deadline = time.time() + timeout
        while (got := scrape(self.ports[2])["flowlier_records_received_total"]) < n:
            self.assertLess(time.time(), deadline, f"only {got} of {n} records arrived")
            time.sleep(0.2)
        time.sleep(0.5)
        self.assertEqual(scrape(self.ports[2])["flowlier_records_received_total"], n, "more records than there are")

    def wait_published(self, m, timeout=60):
        # The engines have taken every record once the scoring queue is empty and the
        # published sequence stops moving.
        deadline, last = time.time() + timeout, -1
        while True:
            m = scrape(self.ports[2])
            seq = m["flowlier_published_sequence"]
            if seq == last and m['flowlier_queue_depth{stage="scoring"}'] == 0 and \
                    m['flowlier_queue_depth{stage="publish"}'] == 0:
                return
            self.assertLess(time.time(), deadline, "events kept coming")
            last = seq
            time.sleep(1.0)


if __name__ == "__main__":
    unittest.main()
