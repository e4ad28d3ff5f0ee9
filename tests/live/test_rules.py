#!/usr/bin/python3
"""Issue 16, operator rules in `flowlier run` (two scoring engines): the events published
for the demo sample equal `replay`'s with the same rules (suppressed exfiltration gone,
port scans tagged, an expired rule ignored and reported once); /metrics counts matches
per rule; SIGHUP with a broken rule file keeps the rules in force and says where the
file is wrong; SIGHUP with a good one replaces them without losing any entity state.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import (BINARY, SAMPLE, LiveTest, Service, ServiceCase, close_point, free_ports,  # noqa: E402
                       unix, write_config)

RULES = """
[[rules]]
name = "everything-once"
reason = "a maintenance window that is over"
action = "suppress"
expires = "2000-01-01T00:00:00Z"

[[rules]]
name = "offsite-backup"
reason = "the 10.0.2.0/24 hosts copy backups offsite"
action = "suppress"
entity = "10.0.2.0/24"
category = "exfiltration"

[[rules]]
name = "scanner"
reason = "the vulnerability scanner's sweeps"
action = "tag"
category = ["port-scan", "sweep"]
"""



def in_backup_subnet(event):
    """The offsite-backup rule's scope: the event's host has an address in 10.0.2.0/24."""
    ids = [event["entity"]["id"]] + [r["id"] for r in event.get("related", [])]
    return any(i.startswith("10.0.2.") for i in ids)

class RulesLiveTest(ServiceCase):
    push_and_collect = LiveTest.push_and_collect  # only the helper, not LiveTest's tests

    @classmethod
    def setUpClass(cls):
        if not SAMPLE:
            raise unittest.SkipTest("examples/sample is missing")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.flows_port, cls.events_port, cls.metrics_port = free_ports(3)
        cls.config = write_config(os.path.join(cls.tmp.name, "rules.toml"), cls.flows_port, cls.events_port,
                                  cls.metrics_port, extra="\n[service]\nscoring_threads = 2\n" + RULES)
        out = os.path.join(cls.tmp.name, "replay.jsonl")
        subprocess.run([BINARY, "replay", "-q", "--config", cls.config, "--out", out, *SAMPLE], check=True,
                       stderr=subprocess.DEVNULL)
        with open(out) as f:
            cls.replay = [json.loads(line) for line in f if line.strip()]
        plain = os.path.join(cls.tmp.name, "plain.jsonl")
        subprocess.run([BINARY, "replay", "-q", "--out", plain, *SAMPLE], check=True, stderr=subprocess.DEVNULL)
        with open(plain) as f:
            cls.plain = [json.loads(line) for line in f if line.strip()]
        cls.zmq = zmq.Context()

    def test_rules_live_equal_replay_and_reload_on_sighup(self):
        # The rules do something on this sample, and replay applies them too.
        # Suppressed where the rule applies (10.0.2.0/24), kept elsewhere.
        self.assertIn("exfiltration", {e.get("category") for e in self.plain if in_backup_subnet(e)})
        self.assertNotIn("exfiltration", {e.get("category") for e in self.replay if in_backup_subnet(e)})
        self.assertLess(len(self.replay), len(self.plain))
        tagged = [e for e in self.replay if e.get("category") in ("port-scan", "sweep")]
        self.assertGreater(len(tagged), 0)
        for e in tagged:
            self.assertEqual(e["rule"], {"name": "scanner", "action": "tag",
                                         "reason": "the vulnerability scanner's sweeps"})

        service = Service(self.config)
        self.wait_ready(service)
        events = self.push_and_collect(service, SAMPLE)
        cut = close_point(SAMPLE)
        expected = {(e["id"], e["score"], e["status"], json.dumps(e.get("rule"))) for e in self.replay
                    if unix(e["window"]["end"]) <= cut}
        live = {(e["id"], e["score"], e["status"], json.dumps(e.get("rule"))) for _, e, _ in events}
        self.assertGreater(len(expected), 0)
        self.assertEqual(live, expected)

        m = self.metrics()
        self.assertEqual(m["flowlier_rules_loaded"], 3)
        self.assertGreater(m['flowlier_rule_matches_total{rule="offsite-backup"}'], 0)
        self.assertGreater(m['flowlier_rule_matches_total{rule="scanner"}'], 0)
        self.assertEqual(m['flowlier_rule_matches_total{rule="everything-once"}'], 0)
        self.assertEqual(m['flowlier_rule_expired{rule="everything-once"}'], 1)
        entities = m["flowlier_entities"]
        self.assertGreater(entities, 0)

        # A broken rule file: the rules in force stay, the reason names file and line.
        with open(self.config) as f:
            good = f.read()
        with open(self.config, "w") as f:
            f.write(good + '\n[[rules]]\nname = "broken"\nreason = "typo"\naction = "mute"\n')
        service.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertIsNone(service.proc.poll(), "SIGHUP stopped the service")
        self.assertEqual(self.metrics()["flowlier_rules_loaded"], 3)

        # A good one without the suppression: replaced; entities and counts kept.
        with open(self.config, "w") as f:
            f.write(good.split("[[rules]]\nname = \"offsite-backup\"")[0] +
                    '[[rules]]\nname = "scanner"\nreason = "the scanner"\naction = "downgrade"\nseverity = "info"\n')
        service.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while self.metrics()["flowlier_rules_loaded"] != 2:
            self.assertLess(time.time(), deadline, "SIGHUP did not reload the rules")
            time.sleep(0.1)
        m = self.metrics()
        self.assertEqual(m["flowlier_entities"], entities)
        self.assertGreater(m['flowlier_rule_matches_total{rule="offsite-backup"}'], 0)  # counted before the reload

        rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        broken_line = good.count("\n") + 5  # the action line of the appended rule
        self.assertIn(f"run: SIGHUP: rules not reloaded, keeping the 3 rule(s) in force: {self.config}:{broken_line}: "
                      "rule 'broken': 'action' must be", err)
        self.assertIn("run: SIGHUP: reloaded 2 rule(s)", err)
        self.assertEqual(err.count("rule 'everything-once' expired at 2000-01-01T00:00:00Z"), 1, err)


if __name__ == "__main__":
    unittest.main()
