#!/usr/bin/python3
"""`flowlier run` as members of one Kafka consumer group, against librdkafka's mock
cluster (tests/kafka/kafka_mock serve), fed by an independent producer (kafka_mock
produce). The sample is keyed by interface onto 6 partitions, as the README's
partitioning contract asks. Events are collected from each member's PUB socket.

A member killed with -9 mid-stream: its partitions move, the new owners restore the
partitions' checkpoints and seek there, and the union of published events equals one
single-process `replay` of the same data (id, score, status), nothing lost, every
duplicate an identical re-delivery. Likewise a member that leaves and one that joins.
Replay's events are taken up to the earliest partition's close point: a live engine
never flushes, and each partition's engine closes windows on its own watermark."""
import collections
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
import zlib

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "live"))
from test_live import BINARY, LATENESS, SAMPLE, WINDOW, free_ports, parse_prometheus, unix  # noqa: E402

MOCK = os.environ.get("KAFKA_MOCK", "build/tests/kafka_mock")
PARTITIONS = 6
TOPIC = "flows"


def partition_of(interface):
    return zlib.crc32(interface.encode()) % PARTITIONS


def split_sample(directory):
    """The sample's lines by partition (keyed by interface), each list in file order,
    each file starting with the AWS header; and each partition's close point."""
    header, parts = None, collections.defaultdict(list)
    for path in SAMPLE:
        with gzip.open(path, "rt") as f:
            lines = f.read().splitlines()
        header = lines[0]
        for line in lines[1:]:
            parts[partition_of(line.split()[2])].append(line)
    cuts = {}
    for p, lines in parts.items():
        newest = max(int(l.split()[10]) for l in lines if l.split()[10].isdigit())
        cuts[p] = ((newest - LATENESS) // WINDOW) * WINDOW
    return header, parts, cuts


def write_part(directory, name, header, lines):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(header + "\n" + "".join(l + "\n" for l in lines))
    return path


class Collector(threading.Thread):
    """Every event a member publishes, from its PUB socket, in arrival order."""

    def __init__(self, context, port):
        super().__init__(daemon=True)
        self.sub = context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.setsockopt(zmq.RCVTIMEO, 200)
        self.sub.connect(f"tcp://127.0.0.1:{port}")
        self.events, self.running = [], True

    def run(self):
        while self.running:
            try:
                parts = self.sub.recv_multipart()
            except zmq.Again:
                continue
            self.events.append(json.loads(parts[1]))
        self.sub.close(0)


class KafkaGroupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not SAMPLE:
            raise unittest.SkipTest("examples/sample is missing")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.header, cls.parts, cls.cuts = split_sample(cls.tmp.name)
        out = os.path.join(cls.tmp.name, "replay.jsonl")
        subprocess.run([BINARY, "replay", "-q", "--config", cls.base_config(cls.tmp.name), "-o", out, *SAMPLE],
                       check=True, capture_output=True)
        with open(out) as f:
            cls.replay = [json.loads(l) for l in f if l.strip()]
        cls.zmq = zmq.Context()

    @classmethod
    def tearDownClass(cls):
        cls.zmq.term()
        cls.tmp.cleanup()

    @staticmethod
    def base_config(directory):
        path = os.path.join(directory, "base.toml")
        with open(path, "w") as f:
            f.write(f"[window]\nseconds = {WINDOW}\nallowed_lateness_seconds = {LATENESS}\n")
        return path

    def setUp(self):
        self.procs, self.collectors = [], []
        self.produced = collections.Counter({p: 0 for p in range(PARTITIONS)})
        self.cluster = subprocess.Popen([MOCK, "serve", f"{TOPIC}:{PARTITIONS}", "flowlier-state:1"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.bootstrap = self.cluster.stdout.readline().strip()
        self.assertTrue(self.bootstrap, "the mock cluster printed no bootstrap servers")

    def tearDown(self):
        for c in self.collectors:
            c.running = False
            c.join()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
        self.cluster.stdin.close()
        self.cluster.wait(timeout=10)

    def member(self, name, group="g", interval=0.5, idle=0, lateness=LATENESS):
        """A `run` member. No idle timeout by default: the union checks compare with
        replay, whose windows close on event time only."""
        events, metrics = free_ports(2)
        path = os.path.join(self.tmp.name, f"{self.id().split('.')[-1]}-{name}.toml")
        with open(path, "w") as f:
            f.write(f"""[window]
seconds = {WINDOW}
allowed_lateness_seconds = {lateness}

[service]
idle_seconds = {idle}

[endpoints]
events_out = "tcp://127.0.0.1:{events}"
metrics = "127.0.0.1:{metrics}"

[source.kafka]
brokers = "{self.bootstrap}"
topics = ["{TOPIC}"]
group_id = "{group}"
checkpoint_interval_seconds = {interval}
checkpoint_chunk_bytes = 65536

[source.kafka.librdkafka]
"session.timeout.ms" = 6000
"heartbeat.interval.ms" = 500
""")
        proc = subprocess.Popen([BINARY, "run", "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        self.procs.append(proc)
        collector = Collector(self.zmq, events)
        collector.start()
        self.collectors.append(collector)
        return {"proc": proc, "metrics": metrics, "collector": collector, "name": name}

    def scrape(self, m):
        with urllib.request.urlopen(f"http://127.0.0.1:{m['metrics']}/metrics", timeout=5) as r:
            return parse_prometheus(r.read().decode())[0]

    def describe(self, members):
        """Each member's partition metrics and log, for a failure message."""
        out = []
        for m in members:
            try:
                s = self.scrape(m)
                out.append(m["name"] + ": " + ", ".join(f"{k}={v:g}" for k, v in s.items() if "kafka" in k))
            except OSError as e:
                out.append(f"{m['name']}: {e}")
        return "\n".join(out)

    def wait_for(self, what, predicate, timeout=60, members=()):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if predicate():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.fail(f"timed out waiting for {what}\n{self.describe(members)}")

    def assigned(self, members):
        return sum(self.scrape(m)["flowlier_kafka_assigned_partitions"] for m in members)

    def settled(self, members):
        """Every partition owned and read up to what was produced to it."""
        if self.assigned(members) != PARTITIONS:
            return False
        offsets = {}
        for m in members:
            for k, v in self.scrape(m).items():
                if k.startswith("flowlier_kafka_partition_offset{"):
                    offsets[int(k.split("/")[1].split('"')[0])] = max(0, int(v))
        return offsets == {p: self.produced[p] for p in range(PARTITIONS)}

    def produce(self, part_files):
        for p, path in part_files.items():
            out = subprocess.run([MOCK, "produce", self.bootstrap, TOPIC, str(p), path, "300"], check=True,
                                 capture_output=True, text=True).stdout
            self.produced[p] += int(out.split()[0])

    def thirds(self):
        """Each partition's lines in three consecutive parts, as files to produce."""
        parts = [{}, {}, {}]
        for p, lines in self.parts.items():
            n = len(lines)
            for i, (a, b) in enumerate([(0, n // 3), (n // 3, 2 * n // 3), (2 * n // 3, n)]):
                parts[i][p] = write_part(self.tmp.name, f"{self.id()}-{p}-{i}.log", self.header, lines[a:b])
        return parts

    def check_union(self, members):
        published = [e for m in members for e in m["collector"].events]
        self.assertGreater(len(published), 0)
        by_key = collections.defaultdict(set)
        for e in published:
            by_key[(e["id"], e["status"], e["window"]["end"])].add(json.dumps(e, sort_keys=True))
        # Any duplicate is an identical re-delivery.
        changed = {k: v for k, v in by_key.items() if len(v) > 1}
        self.assertEqual(changed, {})
        live = {(e["id"], e["score"], e["status"]) for e in published}
        replay = {(e["id"], e["score"], e["status"]) for e in self.replay}
        cut = min(self.cuts.values())
        expected = {(e["id"], e["score"], e["status"]) for e in self.replay if unix(e["window"]["end"]) <= cut}
        self.assertGreater(len(expected), 0)
        self.assertEqual(expected - live, set(), "episodes lost")
        self.assertEqual(live - replay, set(), "events replay does not have")
        return len(published) - len(by_key)

    def offsets(self, m, name="offset"):
        return {k.split('"')[1]: v for k, v in self.scrape(m).items()
                if k.startswith(f"flowlier_kafka_partition_{name}{{")}

    def test_member_killed_mid_stream_its_partitions_move_and_nothing_is_lost(self):
        # Checkpoints every 2 s: the kill lands between two, so the new owners re-read
        # what the victim had read after its last one.
        members = [self.member(f"m{i}", interval=2) for i in range(3)]
        self.wait_for("the group to assign all partitions", lambda: self.assigned(members) == PARTITIONS)
        time.sleep(0.5)  # the subscribers' connections
        thirds = self.thirds()
        self.produce(thirds[0])
        victim = max(members, key=lambda m: self.scrape(m)["flowlier_kafka_assigned_partitions"])
        self.wait_for("the victim to checkpoint", lambda: self.scrape(victim)["flowlier_kafka_checkpoints_total"] > 0)
        before = self.offsets(victim)
        self.produce(thirds[1])
        self.wait_for("the victim to read on", lambda: self.offsets(victim) != before)
        read, covered = self.offsets(victim), self.offsets(victim, "checkpoint_offset")
        victim["proc"].send_signal(signal.SIGKILL)
        victim["proc"].wait()
        mid_stream = read != covered
        self.produce(thirds[2])
        survivors = [m for m in members if m is not victim]
        self.wait_for("the survivors to own and drain every partition", lambda: self.settled(survivors), timeout=90,
                      members=survivors)
        time.sleep(1)
        duplicates = self.check_union(members)
        print(f"killed with reads past the checkpoint: {mid_stream}; identical re-deliveries: {duplicates}",
              file=sys.stderr)
        rebalances = sum(self.scrape(m)["flowlier_kafka_rebalances_total"] for m in survivors)
        self.assertGreaterEqual(rebalances, 4)

    def test_member_leaves_and_one_joins_baselines_continue(self):
        members = [self.member("m0"), self.member("m1")]
        self.wait_for("the group to assign all partitions", lambda: self.assigned(members) == PARTITIONS)
        time.sleep(0.5)
        first, second, third = self.thirds()
        self.produce(first)
        self.wait_for("the first half to be read", lambda: self.settled(members), members=members)
        leaver = members[0]
        leaver["proc"].send_signal(signal.SIGTERM)
        _, err = leaver["proc"].communicate(timeout=30)
        self.assertEqual(leaver["proc"].returncode, 0, err)
        self.assertIn("revoked, checkpointed and committed", err)
        members.append(self.member("m2"))
        self.wait_for("the new member to get partitions",
                      lambda: self.scrape(members[2])["flowlier_kafka_assigned_partitions"] > 0)
        self.produce(second)
        self.produce(third)
        self.wait_for("every partition drained", lambda: self.settled(members[1:]), timeout=90, members=members[1:])
        time.sleep(1)
        # The moved partitions continued from their checkpoints (the union check above
        # shows they scored as one engine would: no cold start).
        self.assertGreater(self.scrape(members[2])["flowlier_kafka_partitions_restored_total"], 0)
        self.check_union(members)


    def test_idle_partition_moves_event_time_on(self):
        # No lateness: 60 records of one window never close it by event time; only the
        # idle timeout can. Two groups read the same partition, one with the timeout.
        idle = self.member("idle", group="gi", idle=1, lateness=0)
        still = self.member("still", group="gs", idle=0, lateness=0)
        both = [idle, still]
        self.wait_for("both groups to assign all partitions",
                      lambda: all(self.scrape(m)["flowlier_kafka_assigned_partitions"] == PARTITIONS for m in both))
        t0 = 1772409600  # a window boundary; the last record is one second before the next
        lines = [f"2 123456789012 eni-{i % 3} 10.0.0.{i % 5} 10.0.1.1 {1000 + i} 443 6 1 100 {t0 + i} {t0 + i} "
                 "ACCEPT OK" for i in range(60)]
        self.produce({0: write_part(self.tmp.name, "idle-0.log", self.header, lines)})
        records = 'flowlier_kafka_partition_records_total{partition="flows/0"}'
        closed = 'flowlier_kafka_partition_windows_closed_total{partition="flows/0"}'
        self.wait_for("both to read the records", lambda: all(self.scrape(m)[records] == 60 for m in both),
                      members=both)
        self.wait_for("the idle timeout to close the window", lambda: self.scrape(idle)[closed] > 0, timeout=30,
                      members=both)
        self.assertGreaterEqual(self.scrape(idle)["flowlier_kafka_idle_advances_total"], 1)
        self.assertEqual(self.scrape(still)[closed], 0)
        self.assertEqual(self.scrape(still)["flowlier_kafka_idle_advances_total"], 0)


class KafkaConfigTest(unittest.TestCase):
    def run_config(self, text, *args):
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write(text)
            f.flush()
            return subprocess.run([BINARY, "run", *args, f.name], capture_output=True, text=True, timeout=30)

    def test_unknown_key_and_bad_assignor_are_named_with_their_line(self):
        base = '[source.kafka]\nbrokers = "127.0.0.1:1"\ntopics = ["t"]\ngroup_id = "g"\n'
        r = self.run_config(base + 'brokerz = "x"\n', "--check-config")
        self.assertEqual(r.returncode, 2)
        self.assertIn(":5: unknown key 'source.kafka.brokerz' (did you mean 'source.kafka.brokers'?)", r.stderr)
        r = self.run_config(base + 'assignor = "cooperative-sticky"\n', "--config")
        self.assertEqual(r.returncode, 2)
        self.assertIn("'source.kafka.assignor' must be", r.stderr)
        r = self.run_config(base + 'format = "nope"\n', "--config")
        self.assertEqual(r.returncode, 2)
        self.assertIn("'source.kafka.format' names an unknown format 'nope'", r.stderr)
        r = self.run_config(base + '[source.kafka.librdkafka]\n"no.such.property" = "1"\n', "--config")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no.such.property", r.stderr)
        r = self.run_config(base + '[source.kafka.librdkafka]\n"partition.assignment.strategy" = "cooperative-sticky"\n',
                            "--check-config")
        self.assertEqual(r.returncode, 2)
        self.assertIn("'source.kafka.librdkafka.partition.assignment.strategy' is set by flowlier", r.stderr)
        r = self.run_config(base, "--check-config")
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
