#!/usr/bin/python3
"""Every door of `flowlier run` checks what comes in, driven from outside as an attacker
or a confused user would: the HTTP endpoint under idle, slow and over-many connections,
a wrong key, bodies that do not decode (answered as Firehose's HTTP endpoint
specification says); a ZeroMQ message over the size limit; CURVE clients without CURVE,
with the wrong server key or an unknown key. Each refusal must show in /metrics."""
import base64
import json
import os
import socket
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

KEY = "d00rs-firehose-key"


class DoorsCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        assert SAMPLE, "examples/sample is missing"
        cls.tmp = tempfile.TemporaryDirectory()
        cls.zmq = zmq.Context()

    @classmethod
    def tearDownClass(cls):
        cls.zmq.destroy(linger=0)
        cls.tmp.cleanup()

    def setUp(self):
        self.flows_port, self.events_port, self.metrics_port, self.http_port = free_ports(4)

    def start(self, *extra, config_extra="", env=None):
        config = write_config(os.path.join(self.tmp.name, f"doors-{self.id().split('.')[-1]}.toml"), self.flows_port,
                              self.events_port, self.metrics_port, config_extra)
        proc = subprocess.Popen([BINARY, "run", "--config", config, "--idle-seconds", "0", *extra],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is not None or (proc.kill(), proc.communicate()))
        wait_until_ready(self, self.metrics_port, proc)
        return proc

    def stop(self, proc):
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, err)
        return err

    def wait_metric(self, name, at_least, timeout=10):
        deadline = time.time() + timeout
        while (value := scrape(self.metrics_port).get(name, 0)) < at_least:
            self.assertLess(time.time(), deadline, f"{name} is {value}, expected at least {at_least}")
            time.sleep(0.1)
        return value


class HttpDoorTest(DoorsCase):
    def post(self, body, headers):
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}/", data=body, method="POST",
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_http_refusals_are_answered_and_counted(self):
        env = dict(os.environ, FLOWLIER_HTTP_ACCESS_KEY=KEY)
        proc = self.start("--http-listen", f"127.0.0.1:{self.http_port}", "--http-max-connections", "6",
                          "--http-header-timeout", "4", env=env)
        lines = read_lines(SAMPLE[0])[1:101]
        delivery = {"requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f", "timestamp": 1578090901599,
                    "records": [{"data": base64.b64encode((line + "\n").encode()).decode()} for line in lines]}
        headers = {"Content-Type": "application/json", "X-Amz-Firehose-Request-Id": delivery["requestId"],
                   "X-Amz-Firehose-Access-Key": KEY}

        # Idle connections (they send nothing) do not hold a valid delivery back.
        idle = [socket.create_connection(("127.0.0.1", self.http_port)) for _ in range(5)]
        started = time.time()
        status, reply = self.post(json.dumps(delivery).encode(), headers)
        self.assertEqual(status, 200, reply)
        self.assertLess(time.time() - started, 1.0)
        # One more fills the bound of 6; the next is answered 503 at once.
        idle.append(socket.create_connection(("127.0.0.1", self.http_port)))
        # On a loaded machine the server may accept the sixth a little later: a probe
        # that is not refused at once is closed and tried again.
        refused = False
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", self.http_port), timeout=1) as c:
                try:
                    refused = c.recv(4096).startswith(b"HTTP/1.1 503 ")
                except socket.timeout:
                    refused = False
            if refused:
                break
            time.sleep(0.2)
        self.assertTrue(refused, "the seventh connection was never answered 503")
        probes_refused = 1
        for s in idle[1:]:
            s.close()
        # One stays silent past its 4 s deadline: dropped and counted as a slow client.
        time.sleep(4.5)
        self.assertEqual(idle[0].recv(4096), b"")
        idle[0].close()

        # A wrong key is refused as soon as its header line arrives, before the head ends.
        with socket.create_connection(("127.0.0.1", self.http_port), timeout=5) as c:
            c.sendall(b"POST / HTTP/1.1\r\nX-Amz-Firehose-Access-Key: wrong\r\n")
            self.assertTrue(c.recv(4096).startswith(b"HTTP/1.1 401 "))

        # Bodies that do not decode: 400 with requestId, timestamp and errorMessage, so
        # Firehose retries them and then keeps them in its error bucket.
        bad_bodies = {
            "invalid JSON": b'{"requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f", "records": [',
            "invalid base64": json.dumps({**delivery, "records": [{"data": "!!not base64!!"}]}).encode(),
            "invalid gzip": json.dumps({**delivery, "records": [
                {"data": base64.b64encode(b"\x1f\x8b\x08\x00broken gzip").decode()}]}).encode(),
        }
        for what, body in bad_bodies.items():
            with self.subTest(what=what):
                status, reply = self.post(body, headers)
                self.assertEqual(status, 400, reply)
                self.assertEqual(reply["requestId"], delivery["requestId"])
                self.assertLess(abs(reply["timestamp"] - time.time() * 1000), 60000)
                self.assertTrue(reply["errorMessage"])
        m = scrape(self.metrics_port)
        self.assertEqual(m['flowlier_http_refused_total{reason="bad_body"}'], 3)
        self.assertEqual(m['flowlier_http_refused_total{reason="wrong_key"}'], 1)
        # The probe's 503, and at most one more: a sixth idle connection the server took
        # only after a probe had filled the bound is refused too.
        too_many = m['flowlier_http_refused_total{reason="too_many_connections"}']
        self.assertGreaterEqual(too_many, probes_refused)
        self.assertLessEqual(too_many, probes_refused + 1)
        self.assertGreaterEqual(m['flowlier_http_refused_total{reason="slow_client"}'], 1)
        self.assertEqual(m['flowlier_source_inputs_total{source="http"}'], 1)
        self.assertEqual(m["flowlier_records_received_total"], 100)  # only the valid delivery
        err = self.stop(proc)
        self.assertNotIn(KEY, err)


class ZmqDoorTest(DoorsCase):
    def test_oversize_message_is_counted(self):
        proc = self.start(config_extra="[input]\nmax_document_bytes = 4096\n")
        push = self.zmq.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 0)
        push.connect(f"tcp://127.0.0.1:{self.flows_port}")
        lines = read_lines(SAMPLE[0])
        push.send(("\n".join(lines[:11]) + "\n").encode())
        self.wait_metric("flowlier_records_received_total", 10)
        self.assertEqual(scrape(self.metrics_port)['flowlier_zmq_disconnects_total{endpoint="endpoints.flows_in"}'], 0)
        push.send(("\n".join(lines[:400]) + "\n").encode())  # over 4096 bytes
        self.wait_metric('flowlier_zmq_disconnects_total{endpoint="endpoints.flows_in"}', 1)
        self.assertEqual(scrape(self.metrics_port)["flowlier_records_received_total"], 10)
        push.close()
        self.stop(proc)


class CurveDoorTest(DoorsCase):
    def test_handshake_failures_are_counted_by_reason(self):
        d = self.tmp.name
        for name in ("server", "client", "stranger"):
            subprocess.run([BINARY, "keygen", "--force", os.path.join(d, name)], check=True, capture_output=True)
        key = {}
        for name in ("server", "client", "stranger"):
            for kind in ("key", "pub"):
                with open(os.path.join(d, f"{name}.{kind}")) as f:
                    key[name, kind] = [line for line in f.read().splitlines() if not line.startswith("#")][0]
        proc = self.start("--curve-secret", os.path.join(d, "server.key"), "--curve-allow", os.path.join(d, "client.pub"))

        def client(own=None, server_key=None):
            s = self.zmq.socket(zmq.PUSH)
            s.setsockopt(zmq.LINGER, 0)
            if own:
                s.curve_publickey = key[own, "pub"].encode()
                s.curve_secretkey = key[own, "key"].encode()
                s.curve_serverkey = server_key.encode()
            s.connect(f"tcp://127.0.0.1:{self.flows_port}")
            return s

        sockets = [client()]
        # Without CURVE: libzmq names the mismatch, unless the client hung up first
        # (both ends see it), which it reports without detail.
        deadline = time.time() + 10
        while True:
            m = scrape(self.metrics_port)
            if (m['flowlier_zmq_handshake_failures_total{reason="mechanism_mismatch"}'] +
                    m['flowlier_zmq_handshake_failures_total{reason="no_detail"}']) >= 1:
                break
            self.assertLess(time.time(), deadline, "the client without CURVE was not counted")
            time.sleep(0.1)
        sockets.append(client("client", key["stranger", "pub"]))
        self.wait_metric('flowlier_zmq_handshake_failures_total{reason="cryptographic"}', 1)
        sockets.append(client("stranger", key["server", "pub"]))
        self.wait_metric('flowlier_zmq_handshake_failures_total{reason="auth_refused"}', 1)
        self.assertGreaterEqual(scrape(self.metrics_port)["flowlier_auth_failures_total"], 1)
        for s in sockets:
            s.close()
        self.stop(proc)


if __name__ == "__main__":
    unittest.main()
