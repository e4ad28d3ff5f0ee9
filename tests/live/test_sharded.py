#!/usr/bin/python3
"""1 ingest / 3 scorers / 1 publisher, each a separate `flowlier run --role ...` process
over tcp on loopback (the ingest routes each record once and sends observations; the
sample is AWS v2, whose local addresses the ingest must learn), publish exactly the
events of a single engine on the same input:
replay's events minus those only its final flush emits (see test_live.py), compared as
sets of (id, score, status)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import (BINARY, CHUNK_LINES, LATENESS, SAMPLE, WINDOW, close_point, free_ports,  # noqa: E402
                       parse_prometheus, read_lines, unix, wait_until_ready)

SHARDS = 3


class ShardedTest(unittest.TestCase):
    def setUp(self):
        if not SAMPLE:
            self.skipTest("examples/sample is missing")
        self.tmp = tempfile.TemporaryDirectory()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.tmp.cleanup()

    def config(self, name, flows, events, metrics, state="", extra=""):
        path = os.path.join(self.tmp.name, name + ".toml")
        with open(path, "w") as f:
            f.write(f"""[window]
seconds = {WINDOW}
allowed_lateness_seconds = {LATENESS}

[state]
path = "{state}"

[endpoints]
flows_in = "tcp://127.0.0.1:{flows}"
events_out = "tcp://127.0.0.1:{events}"
metrics = "127.0.0.1:{metrics}"
{extra}""")
        return path

    def start(self, *args):
        p = subprocess.Popen([BINARY, "run", "--idle-seconds", "0", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def metric(self, port, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return parse_prometheus(r.read().decode())[0][name]

    def wait_ready(self, port, proc):
        wait_until_ready(self, port, proc)

    def keys(self, name):
        """Key files for a stage: (prefix, public, secret) via `flowlier keygen`."""
        prefix = os.path.join(self.tmp.name, name)
        public = subprocess.run([BINARY, "keygen", prefix], capture_output=True, text=True, check=True).stdout.strip()
        with open(prefix + ".key") as f:
            secret = [line.strip() for line in f if line.strip() and not line.startswith("#")][0]
        return prefix, public, secret

    def allow(self, name, *publics):
        path = os.path.join(self.tmp.name, name + ".allow")
        with open(path, "w") as f:
            f.write("".join(p + "\n" for p in publics))
        return path

    def test_one_ingest_three_scorers_one_publisher_equal_one_engine(self):
        self.run_sharded(curve=False)

    def test_the_same_with_curve_on_every_hop(self):
        self.run_sharded(curve=True)

    def run_sharded(self, curve):
        sec = {"publish": [], "score": [], "ingest": []}
        if curve:
            publisher_keys, scorer_keys, ingest_keys = self.keys("pub"), self.keys("score"), self.keys("ingest")
            client_public, client_secret = zmq.curve_keypair()
            sec["publish"] = ["--curve-secret", publisher_keys[0] + ".key",
                              "--curve-allow", self.allow("pub", scorer_keys[1], client_public.decode())]
            sec["score"] = ["--curve-secret", scorer_keys[0] + ".key",
                            "--curve-allow", self.allow("score", ingest_keys[1]),
                            "--curve-peer", publisher_keys[0] + ".pub"]
            sec["ingest"] = ["--curve-secret", ingest_keys[0] + ".key",
                             "--curve-allow", self.allow("ingest", client_public.decode()),
                             "--curve-peer", scorer_keys[0] + ".pub"]
        ports = free_ports(5 + 2 * SHARDS)
        flows, events, publish_listen = ports[0:3]
        shard_ports = ports[3:3 + SHARDS]
        metrics_ports = ports[3 + SHARDS:]
        config = self.config("sharded", flows, events, metrics_ports[0],
                             state=os.path.join(self.tmp.name, "shard.bin"))
        replay_out = os.path.join(self.tmp.name, "replay.jsonl")
        subprocess.run([BINARY, "replay", "-q", "--config", config, "--out", replay_out, *SAMPLE], check=True,
                       stderr=subprocess.DEVNULL)
        with open(replay_out) as f:
            replay = [json.loads(line) for line in f if line.strip()]

        publisher = self.start("--config", config, "--role", "publish", "--listen",
                               f"tcp://127.0.0.1:{publish_listen}", "--metrics", f"127.0.0.1:{metrics_ports[0]}", *sec["publish"])
        self.wait_ready(metrics_ports[0], publisher)
        scorers = []
        for i in range(SHARDS):
            # Each scorer owns its own state file.
            state = os.path.join(self.tmp.name, f"shard{i}.bin")
            listen, publish_to = f"tcp://127.0.0.1:{shard_ports[i]}", f"tcp://127.0.0.1:{publish_listen}"
            if i == SHARDS - 1:
                # The last scorer is set up by its config file alone ([service], [security]).
                extra = (f'[service]\nrole = "score"\nlisten = "{listen}"\npublish_to = "{publish_to}"\n'
                         f'shard_index = {i}\nshard_count = {SHARDS}\nidle_seconds = 0.0\n')
                if curve:
                    extra += (f'[security]\ncurve_secret_key_file = "{sec["score"][1]}"\n'
                              f'curve_allow_file = "{sec["score"][3]}"\ncurve_peer_file = "{sec["score"][5]}"\n')
                shard_config = self.config(f"score{i}", flows, events, metrics_ports[1 + i], state=state, extra=extra)
                scorers.append(self.start("--config", shard_config, "--metrics", f"127.0.0.1:{metrics_ports[1 + i]}"))
            else:
                shard_config = self.config(f"score{i}", flows, events, metrics_ports[1 + i], state=state)
                scorers.append(self.start("--config", shard_config, "--role", "score", "--listen", listen,
                                          "--publish-to", publish_to, "--shard-index", str(i),
                                          "--shard-count", str(SHARDS), "--metrics",
                                          f"127.0.0.1:{metrics_ports[1 + i]}", *sec["score"]))
            self.wait_ready(metrics_ports[1 + i], scorers[-1])
        ingest = self.start("--config", config, "--role", "ingest", "--shards",
                            ",".join(f"tcp://127.0.0.1:{p}" for p in shard_ports), "--metrics",
                            f"127.0.0.1:{metrics_ports[1 + SHARDS]}", *sec["ingest"])
        self.wait_ready(metrics_ports[1 + SHARDS], ingest)

        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        push = ctx.socket(zmq.PUSH)
        if curve:
            for sock, server in ((sub, publisher_keys[1]), (push, ingest_keys[1])):
                sock.curve_publickey, sock.curve_secretkey = client_public, client_secret
                sock.curve_serverkey = server.encode()
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVHWM, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"tcp://127.0.0.1:{events}")
        push.setsockopt(zmq.LINGER, 1000)
        push.connect(f"tcp://127.0.0.1:{flows}")
        time.sleep(0.5)
        sent = 0
        for path in SAMPLE:
            lines = read_lines(path)
            for i in range(1, len(lines), CHUNK_LINES):
                chunk = lines[i:i + CHUNK_LINES]
                push.send(("\n".join([lines[0], *chunk]) + "\n").encode())
                sent += len(chunk)
        deadline = time.time() + 30
        while self.metric(metrics_ports[1 + SHARDS], "flowlier_records_received_total") < sent:
            self.assertLess(time.time(), deadline, "ingest did not receive every record")
            time.sleep(0.1)
        # Done when the scorers have stopped scoring, the publisher has stopped
        # publishing, and everything it published has arrived here.
        received, state, stable_since = [], None, time.time()
        while time.time() - stable_since < 1.0 or len(received) < state[-1]:
            self.assertLess(time.time(), deadline + 30, "the sharded run did not settle")
            while sub.poll(50):
                topic, payload, seq = sub.recv_multipart()
                received.append((topic.decode(), json.loads(payload), int(seq)))
            now = tuple(self.metric(metrics_ports[1 + i], "flowlier_records_scored_total") for i in range(SHARDS)) + \
                (self.metric(metrics_ports[0], "flowlier_published_sequence"),)
            if now != state:
                state, stable_since = now, time.time()

        # Routing happens once, in the ingest: no scorer drops an observation as another shard's.
        for i in range(SHARDS):
            self.assertEqual(self.metric(metrics_ports[1 + i], "flowlier_other_shard_observations_total"), 0)
        if curve:
            for port in metrics_ports:
                self.assertEqual(self.metric(port, "flowlier_auth_failures_total"), 0)
        # Every stage stops cleanly; scorers write their own snapshots.
        for p in [ingest, *scorers, publisher]:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=20)
            self.assertEqual(p.returncode, 0, err)
        for i in range(SHARDS):
            self.assertTrue(os.path.exists(os.path.join(self.tmp.name, f"shard{i}.bin")))
        # Only the ingest routes (scorers get observations): the interfaces it learnt from
        # these AWS v2 records (no flow-direction: the local address is learnt) are its state.
        self.assertTrue(os.path.exists(os.path.join(self.tmp.name, "shard.bin.intake")))
        sub.close()
        push.close()
        ctx.term()

        self.assertEqual([s for _, _, s in received], list(range(1, len(received) + 1)))
        live = {(e["id"], e["score"], e["status"]) for _, e, _ in received}
        self.assertEqual(len(live), len(received))
        cut = close_point(SAMPLE)
        expected = {(e["id"], e["score"], e["status"]) for e in replay if unix(e["window"]["end"]) <= cut}
        self.assertGreater(len(expected), 0)
        self.assertEqual(live, expected)
        print(f"\n  sharded{' (CURVE)' if curve else ''}: {len(received)} events over {SHARDS} scorers "
              "= single engine", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
