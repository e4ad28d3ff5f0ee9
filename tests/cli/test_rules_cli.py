"""Issue 16 end to end with the binary: [[rules]] in replay (events conform to the repo's
schema 1.1 with its `rule` property) and `flowlier rules test`, whose per-rule episodes
must agree with two independent replays, one with the rules and one without."""
import json
import os
import pathlib
import subprocess
import tempfile
import unittest

BINARY = os.environ.get("FLOWLIER_BINARY", "build/flowlier")
SOURCE = pathlib.Path(os.environ.get("FLOWLIER_SOURCE_DIR", "."))
SAMPLE = SOURCE / "examples" / "sample" / "AWSLogs"
SCHEMA = SOURCE / "tests" / "data" / "contracts" / "anomaly-event.schema.json"

RULES = """
[[rules]]
name = "over"
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
name = "monitoring"
reason = "the monitoring agent checks in on 8443"
action = "downgrade"
severity = "info"
port = "tcp/8443"

[[rules]]
name = "scanner"
reason = "the vulnerability scanner"
action = "tag"
category = ["port-scan", "sweep"]
"""


def flowlier(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=120)


def episodes(events):
    out = {}
    for e in events:
        s = out.setdefault(e["episode"], {"severity": e["severity"], "rule": e.get("rule")})
        order = ["info", "low", "medium", "high", "critical"]
        if order.index(e["severity"]) > order.index(s["severity"]):
            s["severity"] = e["severity"]
    return out



def in_backup_subnet(event):
    """The offsite-backup rule's scope: the event's host has an address in 10.0.2.0/24."""
    ids = [event["entity"]["id"]] + [r["id"] for r in event.get("related", [])]
    return any(i.startswith("10.0.2.") for i in ids)

class RulesCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        tmp = pathlib.Path(cls.dir.name)
        cls.config = tmp / "rules.toml"
        cls.config.write_text(RULES)
        for name, args in (("plain", []), ("ruled", ["-c", str(cls.config)])):
            out = tmp / f"{name}.jsonl"
            r = flowlier("replay", "-q", *args, "-o", str(out), str(SAMPLE))
            assert r.returncode == 0, r.stderr
            setattr(cls, name, [json.loads(line) for line in out.read_text().splitlines()])

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_replay_applies_rules_and_events_conform_to_schema_1_1(self):
        import jsonschema
        schema = json.loads(SCHEMA.read_text())
        self.assertEqual(schema["version"], "1.1")
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        for e in self.ruled:
            self.assertEqual(sorted(validator.iter_errors(e), key=str), [], e)
        # The schema does reject a malformed rule (so the check above means something).
        bad = dict(self.ruled[0], rule={"name": "x", "action": "suppress", "reason": "y"})
        self.assertNotEqual(list(validator.iter_errors(bad)), [])
        plain, ruled = episodes(self.plain), episodes(self.ruled)
        # Suppressed where the rule applies (10.0.2.0/24), kept elsewhere.
        self.assertIn("exfiltration", {e.get("category") for e in self.plain if in_backup_subnet(e)})
        self.assertNotIn("exfiltration", {e.get("category") for e in self.ruled if in_backup_subnet(e)})
        self.assertEqual({e["rule"]["name"] for e in self.ruled if "rule" in e}, {"monitoring", "scanner"})
        for e in self.ruled:
            if e.get("rule", {}).get("name") == "monitoring":
                self.assertEqual(e["severity"], "info")
        self.assertLess(len(ruled), len(plain))

    def test_rules_test_agrees_with_two_replays(self):
        r = flowlier("rules", "test", "--json", "-c", str(self.config), str(SAMPLE))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(r.stderr.count("rule 'over' expired at 2000-01-01T00:00:00Z"), 1, r.stderr)
        self.assertNotIn("over", {x["rule"] for x in lines})
        plain, ruled = episodes(self.plain), episodes(self.ruled)
        by_rule = {}
        for x in lines:
            by_rule.setdefault(x["rule"], []).append(x)
            self.assertIn(x["episode"], plain)
            self.assertEqual(x["severity"], plain[x["episode"]]["severity"])
        self.assertEqual({x["effect"] for x in by_rule["offsite-backup"]}, {"suppressed"})
        for x in by_rule["offsite-backup"]:
            self.assertNotIn(x["episode"], ruled)
            self.assertEqual(x["category"], "exfiltration")
        for x in by_rule["monitoring"]:
            self.assertEqual(ruled[x["episode"]]["severity"], "info")
            self.assertEqual(x["severity_after"], "info")
        for x in by_rule["scanner"]:
            self.assertEqual(x["effect"], "tagged")
            self.assertEqual(ruled[x["episode"]]["rule"]["name"], "scanner")
        # Every episode the rules changed is listed under its rule.
        changed = {ep for ep in plain if ep not in ruled or ruled[ep]["rule"] is not None}
        self.assertEqual(changed, {x["episode"] for x in lines})
        # The text report names the counts of both runs.
        text = flowlier("rules", "test", "-c", str(self.config), str(SAMPLE)).stdout
        self.assertIn(f"{len(plain)} episodes without the rules, {len(ruled)} with them", text)
        self.assertIn("rule offsite-backup (suppress): 1 episode", text)

    def test_bad_rules_are_refused_with_file_and_line(self):
        bad = pathlib.Path(self.dir.name) / "bad.toml"
        bad.write_text('[[rules]]\nname = "x"\naction = "suppress"\nentity = "10.0.0.0/40"\nreason = "r"\n')
        for args in (["config", "--check", str(bad)], ["replay", "-q", "-c", str(bad), str(SAMPLE)],
                     ["rules", "test", "-c", str(bad), str(SAMPLE)]):
            r = flowlier(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(f"{bad}:4: 'entity' holds '10.0.0.0/40', which is not a CIDR", r.stderr)


if __name__ == "__main__":
    unittest.main()
