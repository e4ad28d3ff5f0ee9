#!/usr/bin/python3
"""The Kafka sink ([[sinks]] type = "kafka") against librdkafka's mock cluster
(tests/kafka/kafka_mock serve), read back by independent clients: kcat and
python3-confluent-kafka (Debian packages; a reader that is missing is skipped, not faked).

- `flowlier replay`'s events reach the topic: every event id once (or duplicates that
  are identical), keyed by episode id, headers flowlier-id and flowlier-episode.
- Brokers down: a live `flowlier run` keeps its events in the sink's spool and counts the
  retries in /metrics; once the brokers return, every event is delivered.
- Brokers down for all of a replay: the undelivered events stay spooled at shutdown and
  the next process delivers them.
- An event larger than the broker takes is dead-lettered; the rest are delivered.
- A topic that may not be written (mock: Produce answered "topic authorization failed")
  is a configuration error: events stay spooled, /readyz of a Kafka consumer names the
  sink, and delivery resumes once the cluster accepts.
- Config errors name the key and line; librdkafka secrets are never printed."""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "live"))
from test_live import (BINARY, LATENESS, SAMPLE, WINDOW, free_ports, read_lines, scrape,  # noqa: E402
                       wait_until_ready, write_config)

MOCK = os.environ.get("KAFKA_MOCK", "build/tests/kafka_mock")
TOPIC = "anomalies"
PARTITIONS = 3
KCAT = shutil.which("kcat")
try:
    import confluent_kafka
except ImportError:  # the test that needs it is skipped
    confluent_kafka = None


def read_with_kcat(bootstrap):
    """[(key, {header: value}, event)] of the whole topic, read by kcat."""
    out = subprocess.run([KCAT, "-C", "-b", bootstrap, "-t", TOPIC, "-e", "-q", "-J"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    messages = []
    for line in out.splitlines():
        m = json.loads(line)
        h = m.get("headers") or []
        headers = dict(zip(h[0::2], h[1::2]))
        messages.append((m["key"], headers, json.loads(m["payload"])))
    return messages


def read_with_confluent(bootstrap):
    """The same, read by python3-confluent-kafka: each partition from the start to its end."""
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "reader",
                                         "enable.auto.commit": False, "enable.partition.eof": True})
    consumer.assign([confluent_kafka.TopicPartition(TOPIC, p, confluent_kafka.OFFSET_BEGINNING)
                     for p in range(PARTITIONS)])
    messages, ended, deadline = [], set(), time.time() + 60
    while len(ended) < PARTITIONS and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == confluent_kafka.KafkaError._PARTITION_EOF:
                ended.add(m.partition())
                continue
            raise RuntimeError(m.error())
        headers = {k: v.decode() for k, v in (m.headers() or [])}
        messages.append((m.key().decode(), headers, json.loads(m.value())))
    consumer.close()
    assert len(ended) == PARTITIONS, "the reader did not reach every partition's end"
    return messages


def reader():
    if KCAT:
        return read_with_kcat
    if confluent_kafka:
        return read_with_confluent
    raise unittest.SkipTest("neither kcat nor python3-confluent-kafka is installed (scripts/install-deps)")


class KafkaSinkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not SAMPLE:
            raise unittest.SkipTest("examples/sample is missing")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.base = os.path.join(cls.tmp.name, "base.toml")
        with open(cls.base, "w") as f:
            f.write(f"[window]\nseconds = {WINDOW}\nallowed_lateness_seconds = {LATENESS}\n")
        out = os.path.join(cls.tmp.name, "replay.jsonl")
        subprocess.run([BINARY, "replay", "-q", "--config", cls.base, "-o", out, *SAMPLE], check=True,
                       capture_output=True)
        with open(out) as f:
            cls.replay = [json.loads(line) for line in f if line.strip()]
        assert cls.replay, "the sample gives no events"

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.cluster = subprocess.Popen([MOCK, "serve", f"{TOPIC}:{PARTITIONS}"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.bootstrap = self.cluster.stdout.readline().strip()
        self.assertTrue(self.bootstrap, "the mock cluster printed no bootstrap servers")
        self.spool = tempfile.mkdtemp(dir=self.tmp.name)

    def tearDown(self):
        self.cluster.stdin.close()
        self.cluster.wait(timeout=10)
        self.cluster.stdout.close()

    def brokers(self, verb, which="all"):
        self.cluster.stdin.write(f"{verb} {which}\n")
        self.cluster.stdin.flush()
        self.assertEqual(self.cluster.stdout.readline().strip(), "ok")

    def sink_toml(self, key="episode", extra=""):
        # A down cluster turns into a spool retry after 1.5 s instead of 30 s.
        return f"""
[[sinks]]
type = "kafka"
id = "k"
brokers = "{self.bootstrap}"
topic = "{TOPIC}"
key = "{key}"
spool_dir = "{self.spool}"
backoff_initial_ms = 200
backoff_max_ms = 1000
auth_retry_ms = 500

[sinks.librdkafka]
"message.timeout.ms" = 1500
{extra}"""

    def replay_with_sink(self, sink_wait, key="episode", extra=""):
        config = os.path.join(self.tmp.name, f"{self.id().split('.')[-1]}.toml")
        with open(self.base) as base, open(config, "w") as f:
            f.write(base.read() + self.sink_toml(key, extra))
        return subprocess.run([BINARY, "replay", "-q", "--config", config, "--sink-wait", str(sink_wait), "-o",
                               os.devnull, *SAMPLE], capture_output=True, text=True, timeout=120)

    def check_topic(self, messages, key="episode"):
        """Every replay event in the topic once, or again identical; keys and headers right."""
        by_id = collections.defaultdict(set)
        for k, headers, event in messages:
            by_id[event["id"]].add(json.dumps(event, sort_keys=True))
            self.assertEqual(k, event["episode"] if key == "episode" else
                             f"{event['entity']['kind']}/{event['entity']['id']}")
            self.assertEqual(headers.get("flowlier-id"), event["id"])
            self.assertEqual(headers.get("flowlier-episode"), event["episode"])
        self.assertEqual({i: v for i, v in by_id.items() if len(v) > 1}, {}, "a duplicate that differs")
        self.assertEqual(set(by_id), {e["id"] for e in self.replay})
        return len(messages) - len(by_id)

    def test_replay_events_reach_the_topic_keyed_by_episode(self):
        r = self.replay_with_sink(30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("undelivered", r.stderr)
        read = reader()
        duplicates = self.check_topic(read(self.bootstrap))
        self.assertEqual(duplicates, 0)
        # Both independent readers see the same topic.
        if KCAT and confluent_kafka:
            self.assertEqual(sorted(json.dumps(m, sort_keys=True) for m in read_with_kcat(self.bootstrap)),
                             sorted(json.dumps(m, sort_keys=True) for m in read_with_confluent(self.bootstrap)))

    def test_keyed_by_entity(self):
        r = self.replay_with_sink(30, key="entity")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_topic(reader()(self.bootstrap), key="entity")

    def test_an_event_larger_than_the_broker_takes_is_dead_lettered_the_rest_delivered(self):
        sizes = sorted(len(json.dumps(e, separators=(",", ":"))) for e in self.replay)
        limit = max(1000, sizes[len(sizes) // 2])  # librdkafka's smallest message.max.bytes is 1000
        r = self.replay_with_sink(30, extra=f'"message.max.bytes" = {limit}\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.spool, "k", "dead-letter.jsonl")) as f:
            dead = [json.loads(line) for line in f]
        self.assertGreater(len(dead), 0)
        self.assertTrue(all(d["sink"] == "k" and "events not stored" in d["reason"] for d in dead), dead[0])
        dead_ids = {d["event"]["id"] for d in dead}
        messages = reader()(self.bootstrap)
        by_id = collections.defaultdict(set)
        for _, _, event in messages:
            by_id[event["id"]].add(json.dumps(event, sort_keys=True))
        # The batch was split down to the refused events: the others were sent again, identical.
        self.assertEqual({i: v for i, v in by_id.items() if len(v) > 1}, {})
        self.assertGreater(len(by_id), 0)
        self.assertEqual(set(by_id) & dead_ids, set())
        self.assertEqual(set(by_id) | dead_ids, {e["id"] for e in self.replay})

    def test_a_topic_that_may_not_be_written_is_a_configuration_error_until_it_may(self):
        # Topic authorization failed (29) for the first Produce requests: the events stay
        # spooled, the sink says so once and retries every auth_retry_ms until it works.
        self.brokers("fail-produce", "29 3")
        r = self.replay_with_sink(30, extra="")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration error (", r.stderr)
        # librdkafka's own reason varies with timing (the authorization failure, or the
        # handle the sink replaced to retry); the sink's advice does not.
        self.assertIn("check the topic, its ACLs", r.stderr)
        self.assertIn("receiver accepts events again", r.stderr)
        self.check_topic(reader()(self.bootstrap))

    def test_a_kafka_consumer_is_not_ready_while_its_sink_is_refused(self):
        # The spool gets the replay's events while every Produce is refused; a `run` on
        # [source.kafka] then resumes that spool and still finds the topic refused.
        self.brokers("fail-produce", "29 100000")
        r = self.replay_with_sink(2)
        self.assertIn("undelivered events stay spooled", r.stderr)
        events, metrics = free_ports(2)
        config = os.path.join(self.tmp.name, "consumer.toml")
        with open(config, "w") as f:
            f.write(f"""[endpoints]
events_out = "tcp://127.0.0.1:{events}"
metrics = "127.0.0.1:{metrics}"

[source.kafka]
brokers = "{self.bootstrap}"
topics = ["flows"]
group_id = "g"
""" + self.sink_toml())
        proc = subprocess.Popen([BINARY, "run", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

        def readyz():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/readyz", timeout=2) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()

        try:
            self.wait_for(lambda: "sink k has a configuration error" in readyz()[1], "/readyz to name the sink")
            self.assertEqual(readyz()[0], 503)
            m = scrape(metrics)
            self.assertEqual(m['flowlier_sink_config_error{sink="k"}'], 1)
            self.assertEqual(m['flowlier_sink_spool_events{sink="k"}'], len(self.replay))
            self.assertGreater(m["flowlier_kafka_assigned_partitions"], 0)  # the topic the mock made
        finally:
            proc.terminate()
            proc.communicate(timeout=30)

    def test_events_spooled_at_shutdown_go_out_with_the_next_process(self):
        read = reader()
        self.brokers("down")
        r = self.replay_with_sink(2)
        self.assertIn("undelivered events stay spooled", r.stderr)
        self.brokers("up")
        # A run with nothing to read: it only has the spool to deliver.
        flows, events, metrics = free_ports(3)
        config = write_config(os.path.join(self.tmp.name, "drain.toml"), flows, events, metrics,
                              extra=self.sink_toml())
        proc = subprocess.Popen([BINARY, "run", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            wait_until_ready(self, metrics, proc)
            self.wait_for(lambda: scrape(metrics)['flowlier_sink_delivered_total{sink="k"}'] >= len(self.replay),
                          "the spooled events to be delivered")
            self.assertEqual(scrape(metrics)['flowlier_sink_spool_events{sink="k"}'], 0)
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
        self.check_topic(read(self.bootstrap))

    def test_down_brokers_return_and_every_event_is_delivered(self):
        read = reader()
        flows, events, metrics = free_ports(3)
        config = write_config(os.path.join(self.tmp.name, "live.toml"), flows, events, metrics,
                              extra=self.sink_toml())
        self.brokers("down")
        proc = subprocess.Popen([BINARY, "run", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        context = zmq.Context()
        try:
            wait_until_ready(self, metrics, proc)
            push = context.socket(zmq.PUSH)
            push.setsockopt(zmq.LINGER, 1000)
            push.connect(f"tcp://127.0.0.1:{flows}")
            for path in SAMPLE:
                lines = read_lines(path)
                for i in range(1, len(lines), 2000):
                    push.send(("\n".join([lines[0], *lines[i:i + 2000]]) + "\n").encode())
            push.close()
            # A live engine never flushes: its events are those of the windows it closed.
            self.wait_for(lambda: scrape(metrics)["flowlier_records_received_total"] >=
                          sum(len(read_lines(p)) - 1 for p in SAMPLE), "every record received")
            sink = 'sink="k"'
            self.wait_for(lambda: scrape(metrics)[f"flowlier_sink_retried_total{{{sink}}}"] >= 2,
                          "the sink to retry against the down cluster")
            down = scrape(metrics)
            self.assertEqual(down[f"flowlier_sink_delivered_total{{{sink}}}"], 0)
            spooled = down[f"flowlier_sink_spool_events{{{sink}}}"]
            self.assertGreater(spooled, 0)
            published = down["flowlier_published_sequence"]
            self.brokers("up")
            self.wait_for(lambda: scrape(metrics)[f"flowlier_sink_spool_events{{{sink}}}"] == 0,
                          "the spool to drain once the brokers are back")
            up = scrape(metrics)
            self.assertGreaterEqual(up[f"flowlier_sink_delivered_total{{{sink}}}"], spooled)
            self.assertEqual(up[f"flowlier_sink_dropped_total{{{sink}}}"], 0)
            self.assertEqual(up[f"flowlier_sink_dead_lettered_total{{{sink}}}"], 0)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
            context.term()
        messages = read(self.bootstrap)
        ids = {m[2]["id"] for m in messages}
        self.assertGreaterEqual(len(ids), published)
        replay_ids = {e["id"] for e in self.replay}
        self.assertEqual(ids - replay_ids, set(), "events replay does not have")
        by_id = collections.defaultdict(set)
        for _, _, event in messages:
            by_id[event["id"]].add(json.dumps(event, sort_keys=True))
        self.assertEqual({i: v for i, v in by_id.items() if len(v) > 1}, {}, "a duplicate that differs")
        print(f"spooled while down: {spooled:g}; in the topic: {len(messages)} messages, {len(ids)} ids",
              file=sys.stderr)

    def wait_for(self, predicate, what, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if predicate():
                    return
            except (OSError, KeyError):
                pass
            time.sleep(0.2)
        self.fail(f"timed out waiting for {what}")


class KafkaSinkConfigTest(unittest.TestCase):
    def check(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write(text)
            f.flush()
            return subprocess.run([BINARY, "config", "--check", f.name], capture_output=True, text=True,
                                  timeout=30)

    def test_bad_keys_are_named_with_their_line(self):
        base = '[[sinks]]\ntype = "kafka"\nbrokers = "127.0.0.1:1"\ntopic = "t"\n'
        r = self.check(base + 'key = "host"\n')
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(":5: 'sinks[0].key' must be \"episode\" or \"entity\"", r.stderr)
        r = self.check('[[sinks]]\ntype = "kafka"\nbrokers = "127.0.0.1:1"\n')
        self.assertIn("'sinks[0].topic' is required", r.stderr)
        r = self.check(base + 'url = "http://x"\n')
        self.assertIn("unknown key 'sinks[0].url' for a kafka sink", r.stderr)
        r = self.check(base + '[sinks.librdkafka]\n"enable.idempotence" = false\n')
        self.assertIn("'enable.idempotence' is set by flowlier", r.stderr)
        r = self.check(base + '[sinks.librdkafka]\n"linger.ms" = 5\n"sasl.password" = "hunter2-secret"\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("hunter2", r.stdout + r.stderr)
        # A property librdkafka refuses is named when the sink starts.
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write(base + '[sinks.librdkafka]\n"no.such.property" = "1"\n"sasl.password" = "hunter2-secret"\n')
            f.flush()
            r = subprocess.run([BINARY, "replay", "-q", "--config", f.name, "-o", os.devnull, *SAMPLE[:1]],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("'sinks.librdkafka.no.such.property'", r.stderr)
        self.assertNotIn("hunter2", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
