#!/usr/bin/python3
"""The alertmanager sink against a real Prometheus Alertmanager (Debian's
prometheus-alertmanager), started here on loopback with clustering off. Its only
receiver is a webhook to an HTTP server of this test.

An event enters `flowlier run --role publish` the way a scorer sends it ([B][topic][json]
over ZeroMQ); the sink posts it to /api/v2/alerts of two Alertmanager URLs (the second is
dead: an HA pair with one member down still delivers); Alertmanager routes it to the
webhook as firing; re-sent every second, it outlives its 3 s resend horizon; the
episode's resolution arrives as resolved; after a silence is
created through Alertmanager's API, a new episode on that entity never reaches the webhook.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from datetime import datetime, timezone

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import BINARY, free_ports  # noqa: E402

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def now_rfc3339(offset=0):
    return datetime.fromtimestamp(int(time.time()) + offset, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(n, entity, status="firing", episode=None):
    return {
        "schema": "flowlier.anomaly.v1", "id": f"evt-{n}", "episode": episode or f"ep-{entity}",
        "status": status, "severity": "high", "detector": "ewma", "feature": "bytes_out",
        "category": "exfiltration", "explanation": f"bytes out of {entity} 40x the usual",
        "window": {"start": now_rfc3339(-60), "end": now_rfc3339()},
        "entity": {"kind": "interface", "id": entity},
        "value": 1250000, "expected": 31000,
        "contributors": [{"key": "203.0.113.9:443", "value": 900000, "share": 0.72}],
    }


class Webhook(http.server.BaseHTTPRequestHandler):
    received = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Webhook.lock:
            Webhook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@unittest.skipUnless(ALERTMANAGER, "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)")
class AlertmanagerSinkTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        am_port, hook_port, dead_port, self.listen, events_port, self.metrics_port = free_ports(6)
        self.am = f"http://127.0.0.1:{am_port}"
        self.hook = http.server.ThreadingHTTPServer(("127.0.0.1", hook_port), Webhook)
        threading.Thread(target=self.hook.serve_forever, daemon=True).start()
        Webhook.received = []
        am_config = os.path.join(self.tmp.name, "alertmanager.yml")
        with open(am_config, "w") as f:
            f.write(f"""route:
  receiver: test
  group_by: [alertname, entity]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: http://127.0.0.1:{hook_port}/hook
        send_resolved: true
""")
        self.am_proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={am_config}", f"--storage.path={self.tmp.name}/am",
             f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.wait_http(f"{self.am}/-/ready", self.am_proc)
        config = os.path.join(self.tmp.name, "flowlier.toml")
        with open(config, "w") as f:
            f.write(f"""[endpoints]
events_out = "tcp://127.0.0.1:{events_port}"
metrics = "127.0.0.1:{self.metrics_port}"

[[sinks]]
type = "alertmanager"
id = "am"
urls = ["{self.am}", "http://127.0.0.1:{dead_port}"]
generator_url = "http://flowlier.test/events"
resend_horizon_seconds = 3
resend_interval_seconds = 1
batch_timeout_ms = 100
timeout_ms = 2000
spool_dir = "{self.tmp.name}/spool"
""")
        self.config = config
        self.start_flowlier()
        self.zmq = zmq.Context()
        self.push = self.zmq.socket(zmq.PUSH)
        self.push.setsockopt(zmq.LINGER, 1000)
        self.push.connect(f"tcp://127.0.0.1:{self.listen}")

    def start_flowlier(self):
        self.flowlier = subprocess.Popen(
            [BINARY, "run", "--config", self.config, "--role", "publish", "--listen", f"tcp://127.0.0.1:{self.listen}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.wait_http(f"http://127.0.0.1:{self.metrics_port}/readyz", self.flowlier)

    def restart_flowlier(self):
        self.flowlier.terminate()
        self.flowlier.communicate(timeout=20)
        self.start_flowlier()
        time.sleep(0.5)  # the pusher reconnects

    def tearDown(self):
        self.push.close()
        self.zmq.term()
        for p in (self.flowlier, self.am_proc):
            p.terminate()
            try:
                p.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
        self.hook.shutdown()
        self.hook.server_close()
        self.tmp.cleanup()

    def wait_http(self, url, proc, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if proc.poll() is not None:
                self.fail(f"{proc.args[0]} exited: {proc.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.fail(f"{url} never became ready")

    def send(self, ev):
        topic = f"{'resolved' if ev['status'] == 'resolved' else 'anomaly'}.{ev['severity']}.{ev['entity']['kind']}"
        self.push.send_multipart([b"B", topic.encode(), json.dumps(ev).encode()])

    def wait_webhook(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with Webhook.lock:
                for body in Webhook.received:
                    for alert in body["alerts"]:
                        if predicate(body, alert):
                            return body, alert
            time.sleep(0.1)
        return None

    def am_alerts(self):
        with urllib.request.urlopen(f"{self.am}/api/v2/alerts", timeout=5) as r:
            return json.loads(r.read())

    def test_firing_resolved_and_silenced(self):
        self.send(event(1, "eni-0aaa"))
        got = self.wait_webhook(lambda b, a: a["status"] == "firing" and a["labels"]["entity"] == "eni-0aaa")
        self.assertIsNotNone(got, "the firing alert never reached the webhook through Alertmanager")
        body, alert = got
        # The labels are fixed at the episode's first firing.
        self.assertEqual(alert["labels"], {"alertname": "FlowlierAnomaly", "severity": "high",
                                           "category": "exfiltration", "entity_kind": "interface",
                                           "entity": "eni-0aaa", "episode": "ep-eni-0aaa"})
        self.assertEqual(alert["annotations"]["severity"], "high")
        self.assertEqual(alert["annotations"]["category"], "exfiltration")
        self.assertTrue(alert["annotations"]["summary"].startswith("[high] interface eni-0aaa: bytes out"))
        self.assertIn("value 1.25e+06 vs expected 31000", alert["annotations"]["description"])
        self.assertIn("203.0.113.9:443 900000 (72%)", alert["annotations"]["description"])
        self.assertEqual(alert["generatorURL"], "http://flowlier.test/events")
        self.assertEqual(body["receiver"], "test")

        # Re-sent while firing: with a 3 s horizon the alert would have ended by now
        # without the sink's re-sends every second.
        time.sleep(6)
        active = [a for a in self.am_alerts() if a["labels"].get("entity") == "eni-0aaa"]
        self.assertEqual(len(active), 1, "the firing alert timed out in Alertmanager")
        self.assertEqual(active[0]["status"]["state"], "active")
        self.assertIsNone(self.wait_webhook(lambda b, a: a["status"] == "resolved", timeout=0.2))

        self.send(event(2, "eni-0aaa", status="resolved"))
        got = self.wait_webhook(lambda b, a: a["status"] == "resolved" and a["labels"]["entity"] == "eni-0aaa")
        self.assertIsNotNone(got, "the resolution never reached the webhook")

        # A silence on entity eni-0bbb: its episode reaches Alertmanager but not the webhook.
        silence = {"matchers": [{"name": "entity", "value": "eni-0bbb", "isRegex": False, "isEqual": True}],
                   "startsAt": now_rfc3339(-5), "endsAt": now_rfc3339(3600), "createdBy": "test",
                   "comment": "maintenance"}
        req = urllib.request.Request(f"{self.am}/api/v2/silences", data=json.dumps(silence).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            self.assertIn("silenceID", json.loads(r.read()))
        self.send(event(3, "eni-0bbb"))
        self.send(event(4, "eni-0ccc"))  # not silenced: proves delivery kept flowing
        self.assertIsNotNone(self.wait_webhook(lambda b, a: a["labels"]["entity"] == "eni-0ccc"))
        deadline = time.time() + 10
        while time.time() < deadline:
            silenced = [a for a in self.am_alerts() if a["labels"].get("entity") == "eni-0bbb"]
            if silenced:
                break
            time.sleep(0.2)
        self.assertTrue(silenced, "the silenced alert never reached Alertmanager")
        self.assertEqual(silenced[0]["status"]["state"], "suppressed")
        time.sleep(3)  # several group_intervals: a notification would have gone out by now
        self.assertIsNone(self.wait_webhook(lambda b, a: a["labels"]["entity"] == "eni-0bbb", timeout=0.5),
                          "a silenced alert reached the webhook")

        # The sink counts the deliveries; the dead second URL did not hold anything back.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        self.assertIn('flowlier_sink_delivered_total{sink="am"} 4', text)
        # The resolved episode is no longer re-sent: it stays resolved.
        self.assertEqual([a for a in self.am_alerts() if a["labels"].get("entity") == "eni-0aaa"], [])
        self.assertIn('flowlier_sink_spool_events{sink="am"} 0', text)

    def test_an_episode_that_escalates_and_changes_category_is_one_alert(self):
        # The probe: an episode fires as exfiltration/high, escalates to critical, and its
        # resolution says brute-force. Alertmanager identifies alerts by label set: had
        # severity or category been labels, three alerts would exist and two would stay
        # active after the episode resolved, paging twice on the escalation.
        first = event(11, "eni-0ddd")
        escalation = dict(event(12, "eni-0ddd"), severity="critical")
        resolution = dict(event(13, "eni-0ddd", status="resolved"), category="brute-force", severity="critical")
        # The sink's record of first firings outlives a restart: stop the publisher
        # between the escalation and the resolution.
        self.send(first)
        self.assertIsNotNone(self.wait_webhook(lambda b, a: a["labels"]["entity"] == "eni-0ddd"))
        self.send(escalation)
        deadline = time.time() + 10
        while time.time() < deadline:
            alerts = [a for a in self.am_alerts() if a["labels"].get("entity") == "eni-0ddd"]
            if alerts and alerts[0]["annotations"].get("severity") == "critical":
                break
            time.sleep(0.2)
        self.assertEqual(len(alerts), 1, f"the escalation made a second alert: {alerts}")
        self.assertEqual(alerts[0]["annotations"]["severity"], "critical")
        self.assertEqual(alerts[0]["labels"]["severity"], "high")  # routes as it first fired
        self.restart_flowlier()
        self.send(resolution)
        self.assertIsNotNone(self.wait_webhook(
            lambda b, a: a["status"] == "resolved" and a["labels"]["entity"] == "eni-0ddd"))
        time.sleep(2)  # two re-send rounds: a stale alert would be re-posted now
        active = [a for a in self.am_alerts()
                  if a["labels"].get("entity") == "eni-0ddd" and a["status"]["state"] == "active"]
        self.assertEqual(active, [], "an alert stays active for a resolved episode")


if __name__ == "__main__":
    unittest.main()
