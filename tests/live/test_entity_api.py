#!/usr/bin/python3
"""Issue 16, a live view of entities and episodes: a running `flowlier run` (two scoring
engines) fed the demo sample answers, over HTTP on its metrics listener,
GET /api/v1/episodes?status=open with exactly the episodes its published events left
open (fired, not resolved), and GET /api/v1/entities/{kind}/{id} with the entity's
baseline per feature, its last windows' values and scores (the same as replay's trace
of that entity) and its incident's open episode; unknown kinds and entities are 400
and 404, and so is any status but open. Across a restart from the snapshot, open
episodes keep their start. The engines answer on their own threads (service/EntityApi).
"""
import calendar
import csv
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import (BINARY, SAMPLE, LiveTest, Service, ServiceCase, free_ports, read_lines, unix,  # noqa: E402
                       write_config)

# Cut inside the sample's 06:00 file, while two episodes are open: a port scan opened at
# 05:49 that announced once, and an exfiltration opened at 06:28 that escalated since.
CUT = calendar.timegm((2026, 3, 2, 6, 36, 0))


def split_sample(directory, cut=CUT):
    """The sample as two lists of files: the records that start before `cut`, then the rest."""
    before, after = [], []
    for path in SAMPLE:
        lines = read_lines(path)
        start = lines[0].split().index("start")
        for name, paths, keep in (("before", before, lambda t: t < cut), ("after", after, lambda t: t >= cut)):
            part = [line for line in lines[1:] if keep(int(line.split()[start]))]
            if part:
                paths.append(os.path.join(directory, f"{name}-{os.path.basename(path)}"))
                with gzip.open(paths[-1], "wt") as f:
                    f.write("\n".join([lines[0], *part]) + "\n")
    return before, after


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.headers["Content-Type"], json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], json.loads(e.read())


class EntityApiTest(ServiceCase):
    push_and_collect = LiveTest.push_and_collect  # only the helper, not LiveTest's tests

    @classmethod
    def setUpClass(cls):
        if not SAMPLE:
            raise unittest.SkipTest("examples/sample is missing")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.flows_port, cls.events_port, cls.metrics_port = free_ports(3)
        cls.config = write_config(os.path.join(cls.tmp.name, "run.toml"), cls.flows_port, cls.events_port,
                                  cls.metrics_port, extra="\n[service]\nscoring_threads = 2\n")
        cls.zmq = zmq.Context()

    def trace(self, entity):
        """replay --trace of the entity over the sample: {(window end, kind, feature): row}."""
        out = os.path.join(self.tmp.name, "trace.csv")
        subprocess.run([BINARY, "replay", "-q", "--config", self.config, "--out", os.path.join(self.tmp.name, "r.jsonl"),
                        "--trace", entity["id"], "--trace-out", out, *SAMPLE], check=True, stderr=subprocess.DEVNULL)
        with open(out) as f:
            return {(int(r["window_end"]), r["entity_kind"], r["feature"]): r for r in csv.DictReader(f)}

    def check_recent_windows(self, view):
        """recent_windows: the last 8 windows closed, oldest first, values and scores as replay saw them."""
        recent = view["recent_windows"]
        self.assertGreater(len(recent), 0, view)
        self.assertLessEqual(len(recent), 8)
        ends = [unix(w["end"]) for w in recent]
        self.assertEqual(ends, sorted(set(ends)), "not oldest first")
        self.assertLessEqual(ends[-1], unix(view["as_of"]))
        trace = self.trace(view)
        traced = sorted({end for end, kind, _ in trace if kind == view["kind"] and end <= unix(view["as_of"])})
        self.assertEqual(ends, traced[-len(ends):], "not the entity's last windows")
        if len(traced) >= 8:
            self.assertEqual(len(recent), 8)
        for w in recent:
            self.assertEqual(set(w["values"]), set(view["baseline"]))
            self.assertEqual(set(w["scores"]), set(view["baseline"]))
            for feature, value in w["values"].items():
                row = trace[(unix(w["end"]), view["kind"], feature)]
                self.assertAlmostEqual(value, float(row["value"]), delta=1e-3 * max(1.0, float(row["value"])))
                score = w["scores"][feature]
                if row["warming_up"] == "1":
                    self.assertIsNone(score)
                    continue
                # The trace has each feature's own p; the engine combines a few (a new
                # peer on a new port, a run), which can only raise their scores.
                p = max(float(row["tail_probability"]), 1e-300)
                own = 100 * min(1.0, max(0.0, -math.log10(p * 14) / 12))
                if feature in ("bytes_out", "new_ports", "external_client_flows"):
                    self.assertGreaterEqual(score, own - 0.5)
                else:
                    self.assertAlmostEqual(score, own, delta=0.5)

    def test_open_episodes_and_entity_view(self):
        service = Service(self.config)
        self.wait_ready(service)
        try:
            events = [e for _, e, _ in self.push_and_collect(service, SAMPLE)]
            fired = {e["episode"]: e for e in events if e["status"] == "firing"}
            resolved = {e["episode"] for e in events if e["status"] == "resolved"}
            still_open = set(fired) - resolved
            self.assertGreater(len(still_open), 0, "the sample leaves no episode open: nothing to check")

            status, content_type, body = get(self.metrics_port, "/api/v1/episodes?status=open")
            self.assertEqual(status, 200)
            self.assertEqual(content_type, "application/json")
            self.assertEqual({x["episode"] for x in body["episodes"]}, still_open)
            for x in body["episodes"]:
                last = [e for e in events if e["episode"] == x["episode"]][-1]
                self.assertEqual(x["entity"], {"kind": last["entity"]["kind"], "id": last["entity"]["id"]})
                self.assertEqual(x["severity"], last["severity"])
                self.assertEqual(x.get("category", ""), last.get("category", ""))
                self.assertEqual(x["start"], min(e["window"]["start"] for e in events if e["episode"] == x["episode"]))

            episode = sorted(still_open)[0]
            entity = fired[episode]["entity"]
            status, _, view = get(self.metrics_port,
                                  f"/api/v1/entities/{entity['kind']}/{urllib.parse.quote(entity['id'], safe='')}")
            self.assertEqual(status, 200, view)
            self.assertEqual((view["kind"], view["id"]), (entity["kind"], entity["id"]))
            self.assertIn(episode, [x["episode"] for x in view["open_episodes"]])
            self.assertEqual(len(view["baseline"]), 14)
            self.check_recent_windows(view)
            warm = [f for f, b in view["baseline"].items() if not b["warming_up"]]
            self.assertGreater(len(warm), 0, view)
            for name in warm:
                b = view["baseline"][name]
                self.assertLessEqual(b["lower"], b["expected"])
                if b["upper"] is not None:
                    self.assertLessEqual(b["expected"], b["upper"])

            self.assertEqual(get(self.metrics_port, "/api/v1/entities/interface/eni-not-seen")[0], 404)
            self.assertEqual(get(self.metrics_port, "/api/v1/entities/planet/earth")[0], 400)
            self.assertEqual(get(self.metrics_port, "/api/v1/entities/interface")[0], 400)

            # The query is read: no status means open, anything else says why it is refused.
            self.assertEqual(get(self.metrics_port, "/api/v1/episodes")[2], body)
            for query, says in [("status=all", "only open episodes are kept"),
                                ("status=resolved", "only open episodes are kept"),
                                ("status=opened", "unknown status 'opened'"),
                                ("state=open", "unknown query parameter 'state'"),
                                ("status=open&status=%22x", "unknown status '\"x'")]:
                status, content_type, error = get(self.metrics_port, "/api/v1/episodes?" + query)
                self.assertEqual((status, content_type), (400, "application/json"), query)
                self.assertIn(says, error["error"], query)
        finally:
            rc, err = service.stop()
        self.assertEqual(rc, 0, err)

    def test_open_episodes_keep_their_start_across_a_restart(self):
        state = os.path.join(self.tmp.name, "state.bin")
        config = write_config(os.path.join(self.tmp.name, "state.toml"), self.flows_port, self.events_port,
                              self.metrics_port, extra=f"""
[state]
path = "{state}"

[service]
scoring_threads = 2
""")
        first_files, second_files = split_sample(self.tmp.name)
        service = Service(config)
        self.wait_ready(service)
        try:
            first = [e for _, e, _ in self.push_and_collect(service, first_files)]
            before = get(self.metrics_port, "/api/v1/episodes?status=open")[2]["episodes"]
        finally:
            rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        self.assertGreater(len(before), 0, "nothing open at the cut: nothing to check")
        for x in before:
            self.assertEqual(x["start"], min(e["window"]["start"] for e in first if e["episode"] == x["episode"]))

        service = Service(config)
        self.wait_ready(service)
        try:
            after = get(self.metrics_port, "/api/v1/episodes?status=open")[2]["episodes"]
            second = [e for _, e, _ in self.push_and_collect(service, second_files)]
        finally:
            rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        self.assertIn("restored state", err)
        self.assertEqual({x["episode"]: x["start"] for x in after}, {x["episode"]: x["start"] for x in before})
        # The events after the restart continue those episodes under the same ids, and
        # the starts are those of a run without a restart (replay).
        continued = {e["episode"] for e in second} & {x["episode"] for x in before}
        self.assertGreater(len(continued), 0, "no restored episode was updated or resolved after the restart")
        out = os.path.join(self.tmp.name, "replay.jsonl")
        subprocess.run([BINARY, "replay", "-q", "--config", self.config, "--out", out, *SAMPLE], check=True,
                       stderr=subprocess.DEVNULL)
        with open(out) as f:
            replay = [json.loads(line) for line in f if line.strip()]
        for x in after:
            self.assertEqual(x["start"], min(e["window"]["start"] for e in replay if e["episode"] == x["episode"]))


if __name__ == "__main__":
    unittest.main()
