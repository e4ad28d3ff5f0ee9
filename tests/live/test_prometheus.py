#!/usr/bin/python3
"""flowlier's /metrics with Prometheus' own tools (Debian's `prometheus` package):
`promtool check metrics` accepts the exposition of a live `flowlier run` (with a sink, so
the per-sink families are there too), and a real Prometheus on loopback scrapes it
(interval 1s, temp storage) and answers `up` and flowlier_records_received_total
through its HTTP API after records were pushed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import BINARY, SAMPLE, free_ports, read_lines  # noqa: E402

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


@unittest.skipUnless(PROMTOOL, "promtool is not installed (apt-get install prometheus)")
class PrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        flows, events, cls.metrics_port, cls.prom_port = free_ports(4)
        cls.flows_port = flows
        config = os.path.join(cls.tmp.name, "flowlier.toml")
        with open(config, "w") as f:
            f.write(f"""[endpoints]
flows_in = "tcp://127.0.0.1:{flows}"
events_out = "tcp://127.0.0.1:{events}"
metrics = "127.0.0.1:{cls.metrics_port}"

[[sinks]]
type = "file"
id = "events-file"
path = "{cls.tmp.name}/events.jsonl"
""")
        cls.proc = subprocess.Popen([BINARY, "run", "--config", config, "--idle-seconds", "0"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 15
        while True:
            assert cls.proc.poll() is None, cls.proc.stderr.read()
            try:
                get(f"http://127.0.0.1:{cls.metrics_port}/readyz", 1)
                break
            except OSError:
                assert time.time() < deadline, "flowlier run never became ready"
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.communicate(timeout=20)
        cls.tmp.cleanup()

    def test_promtool_check_metrics(self):
        text = get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        self.assertIn('flowlier_sink_spool_bytes{sink="events-file"}', text)
        self.assertIn("flowlier_skipdata_records_total 0", text)
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # promtool does fail on a broken exposition (so the check above means something).
        bad = subprocess.run([PROMTOOL, "check", "metrics"], input="# TYPE x counter\nx{a=} 1\n",
                             capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)

    @unittest.skipUnless(PROMETHEUS, "prometheus is not installed")
    def test_real_prometheus_scrapes_flowlier(self):
        if not SAMPLE:
            self.skipTest("examples/sample is missing")
        prom_config = os.path.join(self.tmp.name, "prometheus.yml")
        with open(prom_config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: flowlier
    static_configs:
      - targets: ["127.0.0.1:{self.metrics_port}"]
""")
        prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={prom_config}", f"--storage.tsdb.path={self.tmp.name}/tsdb",
             f"--web.listen-address=127.0.0.1:{self.prom_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            # Push the first sample file's records.
            ctx = zmq.Context()
            push = ctx.socket(zmq.PUSH)
            push.setsockopt(zmq.LINGER, 2000)
            push.connect(f"tcp://127.0.0.1:{self.flows_port}")
            lines = read_lines(SAMPLE[0])
            push.send(("\n".join(lines) + "\n").encode())
            push.close()
            ctx.term()
            # What flowlier itself counts once the message is decoded (status lines included).
            deadline = time.time() + 20
            while True:
                own = [l for l in get(f"http://127.0.0.1:{self.metrics_port}/metrics").splitlines()
                       if l.startswith("flowlier_records_received_total ")]
                sent = float(own[0].split()[1])
                if sent > 0:
                    break
                self.assertLess(time.time(), deadline, "flowlier received nothing")
                time.sleep(0.1)
            self.assertGreater(sent, 0.9 * (len(lines) - 1))

            def query(expr):
                url = f"http://127.0.0.1:{self.prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
                body = json.loads(get(url))
                self.assertEqual(body["status"], "success")
                return body["data"]["result"]

            deadline, up, received = time.time() + 40, None, None
            while time.time() < deadline:
                self.assertIsNone(prom.poll(), "prometheus exited")
                try:
                    up = query('up{job="flowlier"}')
                    received = query('flowlier_records_received_total{job="flowlier"}')
                except OSError:
                    time.sleep(0.5)
                    continue
                if up and received and float(received[0]["value"][1]) >= sent:
                    break
                time.sleep(0.5)
            self.assertTrue(up, "Prometheus has no `up` for flowlier")
            self.assertEqual(up[0]["value"][1], "1")
            self.assertTrue(received)
            self.assertEqual(float(received[0]["value"][1]), sent)
        finally:
            prom.terminate()
            prom.communicate(timeout=20)


if __name__ == "__main__":
    unittest.main()
