#!/usr/bin/python3
"""flowlier run's built-in sources, driven as a separate process: followed files
(appends, a rotation, a partial last line), a .gz dropped into a followed directory,
standard input, and the HTTP endpoint (Firehose deliveries with the right and a wrong
access key, a gzip'd CloudWatch Logs subscription payload). Events from a followed
file must equal the events of pushing the same lines over ZeroMQ."""
import base64
import gzip
import json
import os
import shutil
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

KEY = "s3cr3t-firehose-key"


class SourcesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not SAMPLE:
            raise unittest.SkipTest("examples/sample is missing")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.flows_port, cls.events_port, cls.metrics_port, cls.http_port = free_ports(4)
        cls.config = write_config(os.path.join(cls.tmp.name, "sources.toml"), cls.flows_port, cls.events_port,
                                  cls.metrics_port)
        cls.zmq = zmq.Context()

    @classmethod
    def tearDownClass(cls):
        cls.zmq.destroy(linger=0)
        cls.tmp.cleanup()

    def start(self, *extra, stdin=None):
        proc = subprocess.Popen([BINARY, "run", "--config", self.config, "--idle-seconds", "0", *extra],
                                stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until_ready(self, self.metrics_port, proc)
        return proc

    def stop(self, proc):
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, err)
        return err

    def metrics(self):
        return scrape(self.metrics_port)

    def wait_records(self, n, timeout=20):
        deadline = time.time() + timeout
        while (got := self.metrics()["flowlier_records_received_total"]) < n:
            self.assertLess(time.time(), deadline, f"only {got} of {n} records arrived")
            time.sleep(0.1)
        time.sleep(0.3)
        self.assertEqual(self.metrics()["flowlier_records_received_total"], n, "more records than sent")

    def subscriber(self):
        sub = self.zmq.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVHWM, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"tcp://127.0.0.1:{self.events_port}")
        time.sleep(0.5)  # let the subscription reach the PUB socket
        return sub

    def drain(self, sub):
        events, quiet_since = [], time.time()
        while time.time() - quiet_since < 1.0:
            if sub.poll(100):
                _, payload, _ = sub.recv_multipart()
                e = json.loads(payload)
                events.append((e["id"], e["score"], e["status"]))
                quiet_since = time.time()
            elif self.metrics()["flowlier_published_sequence"] > len(events):
                quiet_since = time.time()
        sub.close()
        return events

    def test_followed_file_with_rotation_equals_pushing(self):
        # Baselines need hours of history before anything fires: the whole sample, as two
        # bursts of files (a header line starts each file's lines).
        half = len(SAMPLE) // 2
        per_file = [read_lines(p) for p in SAMPLE]
        lines = [sum(per_file[:half], []), sum(per_file[half:], [])]
        total = sum(len(ls) - 1 for ls in per_file)
        # Pushed over ZeroMQ, one message per file.
        proc = self.start()
        sub = self.subscriber()
        push = self.zmq.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 1000)
        push.connect(f"tcp://127.0.0.1:{self.flows_port}")
        for ls in per_file:
            push.send(("\n".join(ls) + "\n").encode())
        push.close()
        self.wait_records(total)
        pushed = self.drain(sub)
        self.stop(proc)
        self.assertGreater(len(pushed), 0)

        # Followed: the first file's lines, a rotation, the second file's lines written in
        # two pieces that split a line.
        log = os.path.join(self.tmp.name, "follow", "flows.log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        proc = self.start("--follow", log)  # the file does not exist yet
        sub = self.subscriber()
        with open(log, "w") as f:
            f.write("\n".join(lines[0]) + "\n")
        self.wait_records(sum(len(ls) - 1 for ls in per_file[:half]))
        os.rename(log, log + ".1")
        text = "\n".join(lines[1]) + "\n"
        cut = len(text) // 2 + 7
        with open(log, "w") as f:
            f.write(text[:cut])
            f.flush()
            time.sleep(0.6)  # at least two polls see the partial last line
            f.write(text[cut:])
        self.wait_records(total)
        followed = self.drain(sub)
        m = self.metrics()
        self.assertGreaterEqual(m["flowlier_file_rotations_total"], 1)
        self.assertGreater(m['flowlier_source_inputs_total{source="file"}'], 1)
        self.assertEqual(m['flowlier_records_rejected_total{reason="wrong_field_count"}'], 0)
        self.assertEqual(m['flowlier_queue_depth{stage="scoring"}'], 0)
        self.assertEqual(m['flowlier_queue_depth{stage="publish"}'], 0)
        self.stop(proc)
        print(f"\n  {len(pushed)} events pushed, {len(followed)} followed", file=sys.stderr)
        self.assertEqual(sorted(followed), sorted(pushed))

    def test_gzip_dropped_into_a_followed_directory(self):
        directory = os.path.join(self.tmp.name, "drop")
        os.makedirs(directory, exist_ok=True)
        proc = self.start("--follow", directory)
        shutil.copy(SAMPLE[0], os.path.join(directory, "a.log.gz"))
        self.wait_records(len(read_lines(SAMPLE[0])) - 1)
        m = self.metrics()
        self.assertEqual(m["flowlier_gzip_files_total"], 1)
        self.assertEqual(m['flowlier_records_rejected_total{reason="wrong_field_count"}'], 0)
        time.sleep(1.5)  # never read twice
        self.assertEqual(self.metrics()["flowlier_records_received_total"], len(read_lines(SAMPLE[0])) - 1)
        self.stop(proc)

    def test_stdin(self):
        proc = self.start("--stdin", stdin=subprocess.PIPE)
        lines = read_lines(SAMPLE[0])
        proc.stdin.write("\n".join(lines[:1000]) + "\n")
        proc.stdin.flush()
        self.wait_records(999)
        proc.stdin.write("\n".join(lines[1000:]))  # no final newline: EOF ends the last line
        proc.stdin.close()
        self.wait_records(len(lines) - 1)
        self.assertEqual(self.metrics()['flowlier_records_rejected_total{reason="wrong_field_count"}'], 0)
        # End of input ended the source, not the service.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/readyz", timeout=5) as r:
            self.assertEqual(r.status, 200)
        proc.stdin = None
        err = self.stop(proc)
        self.assertIn("stdin: end of input", err)

    def post(self, body, headers):
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}/", data=body, method="POST",
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_http_firehose_and_cloudwatch(self):
        env = dict(os.environ, FLOWLIER_HTTP_ACCESS_KEY=KEY)
        proc = subprocess.Popen([BINARY, "run", "--config", self.config, "--idle-seconds", "0",
                                 "--http-listen", f"127.0.0.1:{self.http_port}"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 15
        while True:
            try:
                self.metrics()
                break
            except OSError:
                self.assertLess(time.time(), deadline)
                time.sleep(0.1)
        lines = read_lines(SAMPLE[0])[1:101]
        delivery = {"requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f", "timestamp": 1578090901599,
                    "records": [{"data": base64.b64encode((line + "\n").encode()).decode()} for line in lines]}
        body = json.dumps(delivery).encode()
        headers = {"Content-Type": "application/json", "X-Amz-Firehose-Request-Id": delivery["requestId"]}
        status, reply = self.post(body, {**headers, "X-Amz-Firehose-Access-Key": "wrong"})
        self.assertEqual(status, 401)
        self.assertEqual(reply["requestId"], delivery["requestId"])
        status, reply = self.post(body, headers)  # no key at all
        self.assertEqual(status, 401)
        self.assertEqual(self.metrics()["flowlier_http_auth_failures_total"], 2)
        self.assertEqual(self.metrics()["flowlier_records_received_total"], 0)

        status, reply = self.post(body, {**headers, "X-Amz-Firehose-Access-Key": KEY})
        self.assertEqual(status, 200)
        self.assertEqual(reply["requestId"], delivery["requestId"])
        self.assertLess(abs(reply["timestamp"] - time.time() * 1000), 60000)
        self.wait_records(100)

        cloudwatch = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "vpc-flow-logs",
                      "logStream": "eni-1-all", "subscriptionFilters": ["all"],
                      "logEvents": [{"id": str(i), "timestamp": 1772409600000, "message": line}
                                    for i, line in enumerate(read_lines(SAMPLE[1])[1:51])]}
        status, _ = self.post(gzip.compress(json.dumps(cloudwatch).encode()),
                              {"Content-Encoding": "gzip", "Content-Type": "application/json",
                               "X-Amz-Firehose-Access-Key": KEY})
        self.assertEqual(status, 200)
        self.wait_records(150)
        # Over the 64 MiB bound: 413 before the body is read.
        with socket.create_connection(("127.0.0.1", self.http_port), timeout=5) as c:
            c.sendall(b"POST / HTTP/1.1\r\nContent-Length: 100000000\r\nX-Amz-Firehose-Access-Key: " +
                      KEY.encode() + b"\r\n\r\n")
            self.assertTrue(c.recv(4096).startswith(b"HTTP/1.1 413 "))
        m = self.metrics()
        self.assertEqual(m['flowlier_source_inputs_total{source="http"}'], 2)
        self.assertEqual(m["flowlier_http_auth_failures_total"], 2)
        err = self.stop(proc)
        self.assertNotIn(KEY, err)


if __name__ == "__main__":
    unittest.main()
