#!/usr/bin/python3
"""flowlier run with real peers: a pyzmq pusher and subscriber (Debian's python3-zmq)
drive the service as a separate process, and its events are checked against
`flowlier replay` on the same records.

What "the same" means: on SIGTERM the service flushes nothing (open windows stay in
the snapshot), so the events it publishes are replay's events minus those only the
final flush() emits, i.e. replay's events whose decision time is at or before the
last close point the input's own watermark reached. The idle watermark timeout is
disabled (--idle-seconds 0) so wall-clock pauses cannot close windows early.

Run 1 gets the first half of the sample's files and is stopped with SIGTERM; run 2
restores its snapshot and gets the second half: together they must publish exactly
what one replay over all files emits. Run 3 is killed with -9 after a periodic
snapshot and a restart restores it.
"""
import glob
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime
import urllib.error
import urllib.request

import zmq

BINARY = os.environ.get("FLOWLIER_BINARY", "build/flowlier")
SOURCE = os.environ.get("FLOWLIER_SOURCE_DIR", ".")
SAMPLE = sorted(glob.glob(os.path.join(SOURCE, "examples/sample/AWSLogs/**/*.log.gz"), recursive=True))
WINDOW = 60
LATENESS = 120
# Two engines in one process, whatever the machine: the sharded in-process path is
# the one under test (its results must equal one engine's, i.e. replay's).
SCORING_THREADS = 2
CHUNK_LINES = 2000


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def read_lines(path):
    with gzip.open(path, "rt") as f:
        return f.read().splitlines()


def newest_time(paths):
    newest = None
    for p in paths:
        for line in read_lines(p)[1:]:
            fields = line.split()
            if len(fields) == 14 and fields[10].isdigit():
                t = int(fields[10])
                newest = t if newest is None else max(newest, t)
    return newest


def close_point(paths):
    w = newest_time(paths) - LATENESS
    return (w // WINDOW) * WINDOW


def unix(rfc3339):
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())


def parse_prometheus(text):
    """Checks the exposition's shape and returns {sample name with labels: value}."""
    samples, typed = {}, {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (\S+)$')
    helped = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert name in helped, f"TYPE before HELP for {name}"
            assert kind in ("counter", "gauge", "histogram"), kind
            typed[name] = kind
            continue
        m = line_re.match(line)
        assert m, f"not a sample line: {line!r}"
        name = m.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        assert family in typed, f"sample {name} without # TYPE"
        if typed[family] == "counter":
            assert name.endswith("_total"), name
        samples[name + (m.group(2) or "")] = float(m.group(4))
    return samples, typed


def write_config(path, flows_port, events_port, metrics_port, extra=""):
    """A run config on loopback ports with the tests' window; `extra` is appended TOML."""
    with open(path, "w") as f:
        f.write(f"""[window]
seconds = {WINDOW}
allowed_lateness_seconds = {LATENESS}

[endpoints]
flows_in = "tcp://127.0.0.1:{flows_port}"
events_out = "tcp://127.0.0.1:{events_port}"
metrics = "127.0.0.1:{metrics_port}"
{extra}""")
    return path


def scrape(metrics_port):
    """The service's metrics as {sample name with labels: value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
        assert "version=0.0.4" in r.headers["Content-Type"]
        return parse_prometheus(r.read().decode())[0]


def wait_until_ready(case, metrics_port, proc, timeout=15):
    """Waits for /readyz to answer 200; fails `case` if `proc` exits first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            case.fail("flowlier run exited early: " + (proc.stderr.read() if proc.stderr else ""))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    case.fail("flowlier run never became ready")


class Service:
    def __init__(self, config, idle_seconds=0, extra=()):
        self.proc = subprocess.Popen([BINARY, "run", "--config", config, "--idle-seconds", str(idle_seconds), *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err


class ServiceCase(unittest.TestCase):
    """Tests of one `flowlier run` on cls.metrics_port; setUpClass makes cls.tmp and cls.zmq."""

    @classmethod
    def tearDownClass(cls):
        cls.zmq.destroy(linger=0)
        cls.tmp.cleanup()

    def metrics(self):
        return scrape(self.metrics_port)

    def wait_ready(self, service):
        wait_until_ready(self, self.metrics_port, service.proc)


class LiveTest(ServiceCase):
    @classmethod
    def setUpClass(cls):
        if not SAMPLE:
            raise unittest.SkipTest("examples/sample is missing")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.flows_port, cls.events_port, cls.metrics_port = free_ports(3)
        cls.state = os.path.join(cls.tmp.name, "state.bin")
        cls.config = write_config(os.path.join(cls.tmp.name, "live.toml"), cls.flows_port, cls.events_port,
                                  cls.metrics_port, extra=f"""
[state]
path = "{cls.state}"
snapshot_interval_seconds = 1

[service]
scoring_threads = {SCORING_THREADS}
""")
        # The live service also hands every event to a file sink, as it would to Splunk.
        cls.sink_file = os.path.join(cls.tmp.name, "sink.jsonl")
        cls.live_config = os.path.join(cls.tmp.name, "live-sinks.toml")
        with open(cls.config) as base, open(cls.live_config, "w") as f:
            f.write(base.read() + f'\n[[sinks]]\ntype = "file"\npath = "{cls.sink_file}"\n')
        out = os.path.join(cls.tmp.name, "replay.jsonl")
        subprocess.run([BINARY, "replay", "-q", "--config", cls.config, "--out", out, *SAMPLE], check=True,
                       stderr=subprocess.DEVNULL)
        with open(out) as f:
            cls.replay = [json.loads(line) for line in f if line.strip()]
        cls.zmq = zmq.Context()

    def push_and_collect(self, service, paths):
        """Pushes the files' records, returns [(topic, event, sequence)] published."""
        sub = self.zmq.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVHWM, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"tcp://127.0.0.1:{self.events_port}")
        push = self.zmq.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 1000)
        push.connect(f"tcp://127.0.0.1:{self.flows_port}")
        time.sleep(0.5)  # let the subscription reach the PUB socket before events flow
        before = self.metrics()["flowlier_records_received_total"]
        sent = 0
        for path in paths:
            lines = read_lines(path)
            header, body = lines[0], lines[1:]
            for i in range(0, len(body), CHUNK_LINES):
                chunk = body[i:i + CHUNK_LINES]
                # Each message is an input of its own: the header names the fields.
                push.send(("\n".join([header, *chunk]) + "\n").encode())
                sent += len(chunk)
        deadline = time.time() + 30
        while self.metrics()["flowlier_records_received_total"] - before < sent:
            self.assertLess(time.time(), deadline, "the service did not receive every record")
            time.sleep(0.1)
        events, quiet_since = [], time.time()
        while time.time() - quiet_since < 1.0:
            if sub.poll(100):
                topic, payload, seq = sub.recv_multipart()
                events.append((topic.decode(), json.loads(payload), int(seq)))
                quiet_since = time.time()
            elif self.metrics()["flowlier_published_sequence"] > (events[-1][2] if events else 0):
                quiet_since = time.time()  # published but not yet here
        push.close()
        sub.close()
        return events

    def state_files(self):
        # One snapshot per scoring engine (and the intake's router beside them).
        return [f"{self.state}.shard-{k}-of-{SCORING_THREADS}" for k in range(SCORING_THREADS)]

    def clear_state(self):
        for path in self.state_files() + [self.state + ".intake"]:
            if os.path.exists(path):
                os.remove(path)

    def state_written(self):
        return all(os.path.exists(path) for path in self.state_files() + [self.state + ".intake"])

    def check_topics_and_sequence(self, events, first_sequence=1):
        self.assertEqual([s for _, _, s in events], list(range(first_sequence, first_sequence + len(events))),
                         "sequence numbers have gaps")
        for topic, e, _ in events:
            if e["status"] == "resolved":
                self.assertEqual(topic, f"resolved.{e['entity']['kind']}")
            else:
                self.assertEqual(topic, f"anomaly.{e['severity']}.{e['entity']['kind']}")

    def test_live_equals_replay_across_a_restart(self):
        half = len(SAMPLE) // 2
        self.clear_state()
        if os.path.exists(self.sink_file):
            os.remove(self.sink_file)
        service = Service(self.live_config)
        self.wait_ready(service)
        first = self.push_and_collect(service, SAMPLE[:half])
        m = self.metrics()
        self.assertEqual(m['flowlier_records_rejected_total{reason="wrong_field_count"}'], 0)
        self.assertGreater(m["flowlier_windows_closed_total"], 0)
        self.assertGreater(m["flowlier_entities"], 0)
        self.assertGreater(m["flowlier_process_resident_memory_bytes"], 1 << 20)
        self.assertEqual(m['flowlier_stage_latency_seconds_bucket{stage="publish",le="+Inf"}'], len(first))
        rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.state_written(), "SIGTERM wrote no snapshot")
        self.check_topics_and_sequence(first)

        service = Service(self.live_config)
        self.wait_ready(service)
        self.assertGreater(self.metrics()["flowlier_entities"], 0, "the snapshot was not restored")
        second = self.push_and_collect(service, SAMPLE[half:])
        rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        self.assertIn("restored state", err)
        self.check_topics_and_sequence(second)

        live = {(e["id"], e["score"], e["status"]) for _, e, _ in first + second}
        self.assertEqual(len(live), len(first) + len(second), "an event was published twice")
        cut = close_point(SAMPLE)
        expected = {(e["id"], e["score"], e["status"]) for e in self.replay if unix(e["window"]["end"]) <= cut}
        self.assertGreater(len(expected), 0)
        print(f"\n  replay: {len(self.replay)} events, {len(expected)} before its final flush; "
              f"live: {len(first)} + {len(second)} across the restart", file=sys.stderr)
        self.assertEqual(live, expected)
        # The sink got exactly what was published, across the restart.
        with open(self.sink_file) as f:
            sunk = [json.loads(line) for line in f if line.strip()]
        self.assertEqual(sorted(e["id"] for e in sunk), sorted(e["id"] for _, e, _ in first + second))

    def test_kill_9_restarts_from_the_periodic_snapshot(self):
        self.clear_state()
        service = Service(self.config)
        self.wait_ready(service)
        self.push_and_collect(service, SAMPLE[:1])
        # A periodic snapshot written after every record was scored.
        written = self.metrics()["flowlier_snapshots_written_total"]
        deadline = time.time() + 10
        while self.metrics()["flowlier_snapshots_written_total"] < written + 1:
            self.assertLess(time.time(), deadline, "no periodic snapshot")
            time.sleep(0.2)
        entities = self.metrics()["flowlier_entities"]
        service.proc.kill()
        service.proc.communicate(timeout=10)
        self.assertTrue(self.state_written())
        service = Service(self.config)
        self.wait_ready(service)
        self.assertEqual(self.metrics()["flowlier_entities"], entities)
        rc, err = service.stop(signal.SIGINT)
        self.assertEqual(rc, 0, err)
        self.assertIn("restored state", err)

    def test_endpoints_and_bad_input(self):
        self.clear_state()
        service = Service(self.config)
        self.wait_ready(service)
        for path, status in (("/healthz", 200), ("/readyz", 200)):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}{path}", timeout=5) as r:
                self.assertEqual(r.status, status)
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/nope", timeout=5)
        self.assertEqual(e.exception.code, 404)
        push = self.zmq.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 1000)
        push.connect(f"tcp://127.0.0.1:{self.flows_port}")
        push.send(b"this is not a flow log\n")
        push.send(b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 x 1772409600 1772409601 ACCEPT OK\n")
        push.close()
        deadline = time.time() + 10
        while True:
            m = self.metrics()
            if m['flowlier_records_rejected_total{reason="unknown_format"}'] >= 1 and \
               m['flowlier_records_rejected_total{reason="bad_number"}'] >= 1:
                break
            self.assertLess(time.time(), deadline, f"rejects not counted: {m}")
            time.sleep(0.1)
        self.assertEqual(m["flowlier_records_received_total"], 0)
        rc, err = service.stop()
        self.assertEqual(rc, 0, err)

    def test_idle_timeout_closes_windows_with_the_wall_clock(self):
        config = os.path.join(self.tmp.name, "idle.toml")
        with open(self.config) as f:
            text = f.read()
        with open(config, "w") as f:
            f.write(text.replace(f"allowed_lateness_seconds = {LATENESS}", "allowed_lateness_seconds = 0")
                        .replace(f'path = "{self.state}"', 'path = ""'))
        service = Service(config, idle_seconds=1)
        self.wait_ready(service)
        t0 = 1772409600  # a window boundary; the last record is one second before the next
        lines = [f"2 123456789012 eni-{i % 3} 10.0.0.{i % 5} 10.0.1.1 {1000 + i} 443 6 1 100 {t0 + i} {t0 + i} ACCEPT OK"
                 for i in range(60)]
        push = self.zmq.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 1000)
        push.connect(f"tcp://127.0.0.1:{self.flows_port}")
        push.send(("\n".join(lines) + "\n").encode())
        push.close()
        deadline = time.time() + 15
        while self.metrics()["flowlier_records_received_total"] < 60:
            self.assertLess(time.time(), deadline)
            time.sleep(0.1)
        # Event time alone never reaches t0 + 60: only the idle timeout can close the window.
        self.assertEqual(self.metrics()["flowlier_windows_closed_total"], 0)
        while self.metrics()["flowlier_windows_closed_total"] == 0:
            self.assertLess(time.time(), deadline, "the idle timeout closed nothing")
            time.sleep(0.2)
        self.assertGreaterEqual(self.metrics()["flowlier_idle_advances_total"], 1)
        rc, err = service.stop()
        self.assertEqual(rc, 0, err)

    def keygen(self, name):
        prefix = os.path.join(self.tmp.name, name)
        out = subprocess.run([BINARY, "keygen", "--force", prefix], capture_output=True, text=True, check=True)
        public = out.stdout.strip()
        with open(prefix + ".key") as f:
            secret = [line.strip() for line in f if line.strip() and not line.startswith("#")][0]
        self.assertEqual(os.stat(prefix + ".key").st_mode & 0o777, 0o600)
        self.assertNotIn(secret, out.stdout + out.stderr)
        return prefix, public.encode(), secret.encode()

    def curve_socket(self, kind, keys, server_public):
        s = self.zmq.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        s.curve_publickey, s.curve_secretkey = keys[1], keys[2]
        s.curve_serverkey = server_public
        return s

    def test_curve_admits_allowed_keys_only(self):
        self.clear_state()
        server = self.keygen("server")
        client = self.keygen("client")
        intruder = self.keygen("intruder")
        service = Service(self.config, extra=["--curve-secret", server[0] + ".key",
                                              "--curve-allow", client[0] + ".pub"])
        self.wait_ready(service)
        # The intruder knows the server's public key but is not on the allow-list.
        bad = self.curve_socket(zmq.PUSH, intruder, server[1])
        bad.connect(f"tcp://127.0.0.1:{self.flows_port}")
        bad.send(b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 10 1772409600 1772409601 ACCEPT OK\n",
                 flags=zmq.NOBLOCK)
        # A client without CURVE at all cannot talk to it either.
        plain = self.zmq.socket(zmq.PUSH)
        plain.setsockopt(zmq.LINGER, 0)
        plain.connect(f"tcp://127.0.0.1:{self.flows_port}")
        plain.send(b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 10 1772409600 1772409601 ACCEPT OK\n",
                   flags=zmq.NOBLOCK)
        deadline = time.time() + 10
        while self.metrics()["flowlier_auth_failures_total"] < 1:
            self.assertLess(time.time(), deadline, "the wrong key was not refused")
            time.sleep(0.1)
        good = self.curve_socket(zmq.PUSH, client, server[1])
        good.connect(f"tcp://127.0.0.1:{self.flows_port}")
        good.send(b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 10 1772409600 1772409601 ACCEPT OK\n")
        while self.metrics()["flowlier_records_received_total"] < 1:
            self.assertLess(time.time(), deadline, "the allowed key's record did not arrive")
            time.sleep(0.1)
        time.sleep(0.3)
        self.assertEqual(self.metrics()["flowlier_records_received_total"], 1)
        for s in (bad, plain, good):
            s.close()
        rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        self.assertNotIn(server[2].decode(), err)

    def test_readyz_names_a_sink_refused_for_its_token(self):
        receiver_script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "transport", "receiver.py")
        record = os.path.join(self.tmp.name, "received.jsonl")
        receiver = subprocess.Popen(["/usr/bin/python3", receiver_script, "--record", record, "--token", "right"],
                                    stdout=subprocess.PIPE, text=True)
        try:
            port = int(receiver.stdout.readline().split()[1])
            config = os.path.join(self.tmp.name, "wrong-token.toml")
            spool = os.path.join(self.tmp.name, "spool-wrong-token")
            with open(self.config) as base, open(config, "w") as f:
                f.write(base.read().replace(self.state, self.state + ".wrong-token") +
                        f'\n[[sinks]]\nid = "splunk"\ntype = "splunk_hec"\nurl = "http://127.0.0.1:{port}"\n'
                        f'token = "wrong"\nspool_dir = "{spool}"\nbatch_timeout_ms = 100\n')
            service = Service(config)
            self.wait_ready(service)
            self.push_and_collect(service, SAMPLE)
            deadline = time.time() + 15
            status, body = 200, ""
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/readyz", timeout=2) as r:
                        status, body = r.status, r.read().decode()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read().decode()
                if status == 503:
                    break
                time.sleep(0.2)
            self.assertEqual(status, 503)
            self.assertIn("sink splunk has a configuration error", body)
            self.assertEqual(self.metrics()['flowlier_sink_config_error{sink="splunk"}'], 1)
            rc, err = service.stop()
            self.assertEqual(rc, 0, err)
            self.assertNotIn("wrong", err.replace("wrong-token", ""), "the token leaked into the log")
        finally:
            receiver.terminate()
            receiver.wait(10)
            receiver.stdout.close()

    def test_check_config(self):
        ok = subprocess.run([BINARY, "run", "--check-config", self.config], capture_output=True, text=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = os.path.join(self.tmp.name, "bad.toml")
        with open(bad, "w") as f:
            f.write("[endpoints]\nflows_inn = \"tcp://127.0.0.1:1\"\n")
        result = subprocess.run([BINARY, "run", "--check-config", bad], capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("flows_inn", result.stderr)
        # A role without what it needs, from the config or from the command line.
        stage = os.path.join(self.tmp.name, "stage.toml")
        with open(stage, "w") as f:
            f.write('[service]\nrole = "score"\nlisten = "tcp://127.0.0.1:1"\n')
        result = subprocess.run([BINARY, "run", "--check-config", stage], capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("role score needs listen, publish_to", result.stderr)
        result = subprocess.run([BINARY, "run", "--check-config", stage, "--publish-to", "tcp://127.0.0.1:2"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = subprocess.run([BINARY, "run", "--check-config", stage, "--role", "ingest"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("role ingest needs service.shards", result.stderr)
        result = subprocess.run([BINARY, "run", "--check-config", self.config, "--hwm", "0"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--hwm must be between 1 and 1000000", result.stderr)

    def test_state_of_another_engine_count_is_refused_and_automatic_follows_it(self):
        self.clear_state()
        service = Service(self.config)
        self.wait_ready(service)
        self.push_and_collect(service, SAMPLE[:1])
        rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.state_written())
        # The entities are split by hash among the engines: 3 cannot take 2's states.
        result = subprocess.run([BINARY, "run", "--config", self.config, "--scoring-threads", "3"],
                                capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"written by {SCORING_THREADS} engines, this run has 3", result.stderr)
        self.assertIn(f"service.scoring_threads = {SCORING_THREADS}", result.stderr)
        # Automatic (0) follows the snapshots: the 3-core default would not restore them.
        service = Service(self.config, extra=["--scoring-threads", "0"])
        self.wait_ready(service)
        self.assertEqual(self.metrics()["flowlier_scoring_engines"], SCORING_THREADS)
        self.assertGreater(self.metrics()["flowlier_entities"], 0, "the snapshots were not restored")
        rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        self.assertIn("restored state", err)


if __name__ == "__main__":
    unittest.main()
