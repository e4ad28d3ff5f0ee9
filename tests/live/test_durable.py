#!/usr/bin/python3
"""No page lost, none paged twice (issue 11): `flowlier run` with real ZeroMQ peers, a
file sink and an HTTP receiver process (tests/transport/receiver.py) on loopback.

- A receiver that is down while the sink's 16 KiB spool fills under the default
  `spool_full_policy = "block"`: the PUB stream and the file sink still get every
  event, a kill -9 and a SIGTERM (which must exit in bounded time) lose none of them,
  and once the receiver is up it gets every event that was published.
- kill -9 right after firing events, five times, and at two random points, each time
  restarted: every episode
  that fired is resolved in the end, and no episode is re-opened under another id
  while it is open.
- A followed file, stopped and restarted (SIGTERM, then kill -9): nothing is read twice.
- A flood of new entities under a small [limits] max_memory: the resident memory stays
  within the limit plus the fixed overhead, every refusal is counted by reason, and
  /readyz says so; late records are counted as records.
"""
import random
import re
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import BINARY, SAMPLE, free_ports, read_lines, scrape, wait_until_ready, write_config  # noqa: E402

RECEIVER = os.environ.get("FLOWLIER_RECEIVER") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "transport", "receiver.py")
CHUNK_LINES = 2000
# SIGTERM's documented bound: the stages drain, the engines wait at most 5 s for the
# publish stage, the sinks get 10 s to deliver; the rest stays spooled.
SIGTERM_BOUND_SECONDS = 20


# Detection settings for tests about delivery, not detection: the short sample pages
# often (a young baseline may page on one window, and a score of 50 is p = 1e-3).
EVENTFUL = """[detectors]
evidence_power = 12.0

[scoring]
multiplicity = 1.0
decades = 6.0
"""

def sample_chunks():
    """The sample as messages of CHUNK_LINES records, each with its file's header."""
    chunks, newest = [], 0
    for path in SAMPLE:
        lines = read_lines(path)
        header, body = lines[0], lines[1:]
        for i in range(0, len(body), CHUNK_LINES):
            part = body[i:i + CHUNK_LINES]
            chunks.append(("\n".join([header, *part]) + "\n").encode())
            for line in part:
                fields = line.split()
                if len(fields) == 14 and fields[10].isdigit():
                    newest = max(newest, int(fields[11]))
    return chunks, header, newest


def tick(header, time_s):
    """One record far ahead of the data: it closes every window, so quiet episodes resolve."""
    return (header + f"\n2 123456789012 eni-0tick 10.9.9.9 10.9.9.8 40000 443 6 1 40 {time_s} {time_s} ACCEPT OK\n").encode()


def read_events(path):
    """Events in a JSON Lines file, by id (a sink delivers at least once)."""
    events = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                e = json.loads(line)  # a torn line would fail here
                events[e["id"]] = e
    return events


def group_of(detector):
    return "beacon" if detector == "beacon" else "isolation" if detector == "isolation" else "baseline"


class DurableCase(unittest.TestCase):
    def setUp(self):
        if not SAMPLE:
            self.skipTest("examples/sample is missing")
        self.tmp = tempfile.TemporaryDirectory()
        self.zmq = zmq.Context()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.zmq.destroy(linger=0)
        self.tmp.cleanup()

    def start(self, config, metrics_port):
        proc = subprocess.Popen([BINARY, "run", "--config", config, "--idle-seconds", "0"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        wait_until_ready(self, metrics_port, proc)
        return proc

    def sockets(self, flows_port, events_port):
        sub = self.zmq.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVHWM, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"tcp://127.0.0.1:{events_port}")
        push = self.zmq.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 0)
        push.connect(f"tcp://127.0.0.1:{flows_port}")
        time.sleep(0.3)  # the subscription reaches the PUB socket before events flow
        return sub, push

    def collect_until_quiet(self, sub, metrics_port, received, quiet=1.5, timeout=60):
        """PUB events until none came for `quiet` seconds once `received` records are in."""
        events, quiet_since, deadline = [], time.time(), time.time() + timeout
        while time.time() < deadline:
            if sub.poll(100):
                _, payload, _ = sub.recv_multipart()
                events.append(json.loads(payload))
                quiet_since = time.time()
                continue
            m = scrape(metrics_port)
            if m["flowlier_records_received_total"] < received or \
                    m["flowlier_published_sequence"] > len(events):
                quiet_since = time.time()
            elif time.time() - quiet_since >= quiet:
                return events
        self.fail("the service never went quiet")


class SinkOutageTest(DurableCase):
    def test_a_dead_receiver_under_block_stalls_nothing_and_loses_nothing(self):
        flows, events_port, metrics_port, http_port = free_ports(4)
        file_sink = os.path.join(self.tmp.name, "events.jsonl")
        spool = os.path.join(self.tmp.name, "spool")
        record = os.path.join(self.tmp.name, "received.jsonl")
        config = write_config(os.path.join(self.tmp.name, "run.toml"), flows, events_port, metrics_port, extra=f"""
{EVENTFUL}
[state]
path = "{self.tmp.name}/state.bin"
snapshot_interval_seconds = 1

[service]
scoring_threads = 2

[[sinks]]
type = "webhook"
id = "hook"
format = "json"
url = "http://127.0.0.1:{http_port}/json"
spool_dir = "{spool}"
spool_max_bytes = 16384
spool_full_policy = "block"
batch_timeout_ms = 100
backoff_initial_ms = 100
backoff_max_ms = 500
timeout_ms = 2000

[[sinks]]
type = "file"
path = "{file_sink}"
""")
        chunks, header, _ = sample_chunks()
        half = len(chunks) // 2
        published = {}

        # Run 1: the receiver is down; the first half; kill -9 once all is published.
        proc = self.start(config, metrics_port)
        sub, push = self.sockets(flows, events_port)
        for c in chunks[:half]:
            push.send(c)
        lines = sum(c.count(b"\n") - 1 for c in chunks[:half])
        run1 = self.collect_until_quiet(sub, metrics_port, lines)
        m = scrape(metrics_port)
        self.assertGreater(m['flowlier_sink_backlog_events{sink="hook"}'], 0,
                           "the probe needs the spool full: events must be waiting in the backlog")
        self.assertEqual(m['flowlier_sink_dropped_total{sink="hook"}'], 0)
        # Nothing stalled: the PUB stream and the file sink have every event.
        self.assertEqual(len(run1), m["flowlier_published_sequence"])
        self.assertEqual(set(read_events(file_sink)), {e["id"] for e in run1},
                         "the file sink lost events while the other sink's receiver was down")
        published.update({e["id"]: e for e in run1})
        proc.kill()
        proc.communicate()
        sub.close()
        push.close()

        # Run 2: still down; the second half; SIGTERM must stop it in bounded time.
        proc = self.start(config, metrics_port)
        sub, push = self.sockets(flows, events_port)
        for c in chunks[half:]:
            push.send(c)
        lines = sum(c.count(b"\n") - 1 for c in chunks[half:])
        run2 = self.collect_until_quiet(sub, metrics_port, lines)
        published.update({e["id"]: e for e in run2})
        self.assertGreater(len(run2), 0)
        started = time.time()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=SIGTERM_BOUND_SECONDS + 10)
        took = time.time() - started
        self.assertEqual(proc.returncode, 0, err)
        self.assertLess(took, SIGTERM_BOUND_SECONDS, f"SIGTERM took {took:.1f} s under a sink outage")
        self.assertIn("waiting in the backlog", err)
        sub.close()
        push.close()
        print(f"published {len(published)} events, SIGTERM took {took:.1f} s", file=sys.stderr)
        self.assertGreater(len(published), 12, "the sample should give more events than the probe's stall point")
        self.assertEqual(set(read_events(file_sink)), set(published))

        # Run 3: the receiver is up: every published event reaches it.
        receiver = subprocess.Popen(["/usr/bin/python3", RECEIVER, "--port", str(http_port), "--record", record],
                                    stdout=subprocess.PIPE, text=True)
        self.procs.append(receiver)
        self.assertTrue(receiver.stdout.readline().startswith("PORT"))
        proc = self.start(config, metrics_port)
        deadline = time.time() + 40
        got = set()
        while time.time() < deadline:
            if os.path.exists(record):
                with open(record) as f:
                    got = {json.loads(line)["id"] for line in f if line.strip()}
            if set(published) <= got:
                break
            time.sleep(0.3)
        self.assertEqual(set(published) - got, set(), "published events never reached the receiver")
        m = scrape(metrics_port)
        self.assertEqual(m['flowlier_sink_backlog_events{sink="hook"}'], 0)
        self.assertEqual(m['flowlier_sink_dropped_total{sink="hook"}'], 0)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=SIGTERM_BOUND_SECONDS)


class KillNineEpisodesTest(DurableCase):
    def test_kill_9_right_after_firing_orphans_and_reopens_nothing(self):
        flows, events_port, metrics_port = free_ports(3)
        file_sink = os.path.join(self.tmp.name, "pages.jsonl")
        config = write_config(os.path.join(self.tmp.name, "run.toml"), flows, events_port, metrics_port, extra=f"""
{EVENTFUL}
[state]
path = "{self.tmp.name}/state.bin"
snapshot_interval_seconds = 2

[service]
scoring_threads = 2

[[sinks]]
type = "file"
path = "{file_sink}"
""")
        chunks, header, newest = sample_chunks()
        # After the five kills right after firing events, two at random points of the rest
        # of the input (each kill loses what came since the last snapshot: kills early on
        # would lose incidents, not test episodes).
        offsets = random.Random(5).sample(range(1, 6), 2)
        random_points = set()
        kills, random_kills, i = 0, 0, 0
        proc = self.start(config, metrics_port)
        sub, push = self.sockets(flows, events_port)
        while i < len(chunks):
            push.send(chunks[i])
            i += 1
            fired = False
            deadline = time.time() + 0.05
            while time.time() < deadline:
                if sub.poll(10):
                    _, payload, _ = sub.recv_multipart()
                    fired = fired or json.loads(payload)["status"] == "firing"
            if (fired and kills < 5) or (i in random_points and i < len(chunks)):
                # Right after a firing event left: most likely after the last snapshot.
                proc.kill()
                proc.communicate()
                if fired and kills < 5:
                    kills += 1
                    if kills == 5:
                        random_points = {i + offsets[0], i + offsets[0] + offsets[1]}
                else:
                    random_kills += 1
                sub.close()
                push.close()
                proc = self.start(config, metrics_port)
                sub, push = self.sockets(flows, events_port)
        self.assertEqual(kills, 5, "the sample should fire at least five times")
        self.assertEqual(random_kills, len(random_points & set(range(len(chunks) + 1))))
        # The end of the input: a record an hour later closes every window.
        push.send(tick(header, newest + 3600))
        received = scrape(metrics_port)["flowlier_records_received_total"]
        deadline = time.time() + 30
        while scrape(metrics_port)["flowlier_records_received_total"] < received + 1 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=SIGTERM_BOUND_SECONDS)
        self.assertEqual(proc.returncode, 0, err)

        events = read_events(file_sink)
        episodes = {}
        for e in events.values():
            ep = episodes.setdefault(e["episode"], {"firing": [], "resolved": None, "entity": e["entity"]["id"],
                                                    "group": group_of(e["detector"])})
            if e["status"] == "firing":
                ep["firing"].append(e)
            else:
                ep["resolved"] = e
        self.assertGreaterEqual(len(episodes), 5)
        orphaned = [k for k, ep in episodes.items() if ep["firing"] and ep["resolved"] is None]
        self.assertEqual(orphaned, [], f"episodes opened and never resolved after {kills} kills")
        # Re-opened: a second episode of the same entity and group that starts while the
        # first is still open (before its resolution).
        spans = {}
        for k, ep in episodes.items():
            if not ep["firing"]:
                continue
            start = min(e["window"]["start"] for e in ep["firing"])
            spans.setdefault((ep["entity"], ep["group"]), []).append((start, ep["resolved"]["time"], k))
        reopened = []
        for key, s in spans.items():
            s.sort()
            for (a_start, a_end, a), (b_start, b_end, b) in zip(s, s[1:]):
                if b_start < a_end:
                    reopened.append((key, a, b))
        self.assertEqual(reopened, [], "an open episode was paged again under another id")


class FollowRestartTest(DurableCase):
    def test_a_followed_file_is_not_read_twice_across_restarts(self):
        flows, events_port, metrics_port = free_ports(3)
        followed = os.path.join(self.tmp.name, "vpc.log")
        config = write_config(os.path.join(self.tmp.name, "run.toml"), flows, events_port, metrics_port, extra=f"""
{EVENTFUL}
[state]
path = "{self.tmp.name}/state.bin"
snapshot_interval_seconds = 1

[service]
scoring_threads = 2
""")
        lines = read_lines(SAMPLE[0])
        header, body = lines[0], lines[1:]
        thirds = [body[:len(body) // 3], body[len(body) // 3:2 * len(body) // 3], body[2 * len(body) // 3:]]

        def run_and_count(expected, stop):
            proc = subprocess.Popen([BINARY, "run", "--config", config, "--idle-seconds", "0", "--follow", followed],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            self.procs.append(proc)
            wait_until_ready(self, metrics_port, proc)
            deadline = time.time() + 30
            while scrape(metrics_port)["flowlier_records_received_total"] < expected and time.time() < deadline:
                time.sleep(0.1)
            time.sleep(1.5)  # a re-read of the whole file would show up by now
            received = scrape(metrics_port)["flowlier_records_received_total"]
            if stop == "kill":
                proc.kill()
                proc.communicate()
            else:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=SIGTERM_BOUND_SECONDS)
            return received

        with open(followed, "w") as f:
            f.write("\n".join([header, *thirds[0]]) + "\n")
        self.assertEqual(run_and_count(len(thirds[0]), "term"), len(thirds[0]))
        self.assertTrue(os.path.exists(os.path.join(self.tmp.name, "state.bin.follow")))
        with open(followed, "a") as f:
            f.write("\n".join(thirds[1]) + "\n")
        # The probe: a restart read the whole file again (the first third twice).
        self.assertEqual(run_and_count(len(thirds[1]), "kill"), len(thirds[1]))
        with open(followed, "a") as f:
            f.write("\n".join(thirds[2]) + "\n")
        self.assertEqual(run_and_count(len(thirds[2]), "term"), len(thirds[2]))


class EntityFloodTest(DurableCase):
    def test_a_flood_of_new_entities_stays_within_max_memory_and_every_refusal_is_counted(self):
        flows, events_port, metrics_port = free_ports(3)
        max_memory = 16 << 20
        # The service's own footprint (code, ZeroMQ, buffers, two engines' fixed tables):
        # documented in README "Guarantees".
        fixed_overhead = 200 << 20
        config = write_config(os.path.join(self.tmp.name, "run.toml"), flows, events_port, metrics_port, extra=f"""
[limits]
max_memory = {max_memory}

[service]
scoring_threads = 2
""")
        proc = self.start(config, metrics_port)
        _, push = self.sockets(flows, events_port)
        header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        rng = random.Random(11)
        t0, records, peak = 1772409600, 200_000, 0
        for start in range(0, records, 5000):
            chunk = [header]
            for i in range(start, start + 5000):
                a, t = rng.getrandbits(24), t0 + i * 600 // records
                chunk.append(f"2 123456789012 eni-{rng.getrandbits(32):08x} 10.{a >> 16}.{(a >> 8) & 255}.{a & 255} "
                             f"203.0.113.9 {40000 + i % 20000} 443 6 3 400 {t} {t + 5} ACCEPT OK")
            push.send(("\n".join(chunk) + "\n").encode())
        deadline = time.time() + 60
        while time.time() < deadline:
            m = scrape(metrics_port)
            peak = max(peak, m["flowlier_process_resident_memory_bytes"])
            if m["flowlier_records_scored_total"] >= records:
                break
            time.sleep(0.2)
        m = scrape(metrics_port)
        peak = max(peak, m["flowlier_process_resident_memory_bytes"])
        refused = m['flowlier_entities_refused_total{reason="max_memory"}']
        print(f"flood: {records} records, {m['flowlier_entities']:.0f} entities (limit "
              f"{m['flowlier_entity_limit']:.0f}), {refused:.0f} refused, peak RSS {peak / 2**20:.0f} MiB",
              file=sys.stderr)
        self.assertEqual(m["flowlier_records_scored_total"], records)
        self.assertGreater(refused, 0)
        self.assertEqual(m['flowlier_entities_refused_total{reason="max_entities"}'], 0)
        self.assertLessEqual(m["flowlier_entities"], m["flowlier_entity_limit"])
        self.assertEqual(m["flowlier_entity_limit_reached"], 1)
        self.assertLess(peak, max_memory + fixed_overhead, "the flood grew past the memory limit")
        with self.assertRaises(urllib.error.HTTPError) as ready:
            urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/readyz", timeout=5)
        self.assertEqual(ready.exception.code, 503)
        self.assertIn("max_memory", ready.exception.read().decode())

        # Late records are counted as records (each names two entities: two observations).
        late_time = t0 - 3600
        push.send((header + f"\n2 123456789012 eni-0late 10.1.1.1 203.0.113.9 40000 443 6 1 40 {late_time} "
                   f"{late_time} ACCEPT OK\n").encode())
        deadline = time.time() + 10
        while time.time() < deadline:
            m = scrape(metrics_port)  # the engines publish their counts after the batch
            if m["flowlier_late_records_total"] >= 1 and m["flowlier_late_observations_total"] >= 2:
                break
            time.sleep(0.1)
        time.sleep(0.3)  # nothing more comes
        m = scrape(metrics_port)
        self.assertEqual(m["flowlier_late_records_total"], 1)
        self.assertEqual(m["flowlier_late_observations_total"], 2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=SIGTERM_BOUND_SECONDS)
        self.assertIn("refused: ", err)
        self.assertIn("(max_memory)", err)
        push.close()

    def test_replay_counts_refusals_by_reason(self):
        flood = os.path.join(self.tmp.name, "flood.log")
        rng = random.Random(3)
        with open(flood, "w") as f:
            f.write("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
                    "action log-status\n")
            for i in range(20000):
                a, t = rng.getrandbits(24), 1772409600 + i // 100
                f.write(f"2 123456789012 eni-{rng.getrandbits(32):08x} 10.{a >> 16}.{(a >> 8) & 255}.{a & 255} "
                        f"203.0.113.9 40000 443 6 3 400 {t} {t + 5} ACCEPT OK\n")
        config = os.path.join(self.tmp.name, "small.toml")
        with open(config, "w") as f:
            f.write("[limits]\nmax_memory = 1048576\n")
        # One engine: with N, each engine gets 1/N of max_memory's entities (the summary adds them up).
        out = subprocess.run([BINARY, "replay", "-q", "--threads", "1", "--config", config, flood],
                             capture_output=True, text=True, check=True)
        m = re.search(r"entities: (\d+) \(limit (\d+), max_memory\).*refused: (\d+) observations of new entities "
                      r"\(max_memory\)", out.stderr)
        self.assertIsNotNone(m, out.stderr)
        entities, limit, refused = map(int, m.groups())
        self.assertEqual(limit, 1048576 // 2304)
        self.assertLessEqual(entities, limit)
        self.assertGreater(refused, 0)


class MetricsDocumentedTest(DurableCase):
    def test_every_exported_metric_is_documented(self):
        """The registry exports every counter the service keeps; the README names each one."""
        flows, events_port, metrics_port = free_ports(3)
        config = write_config(os.path.join(self.tmp.name, "run.toml"), flows, events_port, metrics_port, extra=f"""
[[sinks]]
type = "webhook"
format = "json"
url = "http://127.0.0.1:9/json"
spool_dir = "{self.tmp.name}/spool"
""")
        proc = self.start(config, metrics_port)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        exported = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
        with open(os.path.join(os.environ.get("FLOWLIER_SOURCE_DIR", "."), "README.md")) as f:
            readme = f.read()
        documented = set(re.findall(r"flowlier_[a-z0-9_]+", readme))
        self.assertGreater(len(exported), 40)
        self.assertEqual(sorted(exported - documented), [], "exported but not in the README")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=SIGTERM_BOUND_SECONDS)


if __name__ == "__main__":
    unittest.main()
