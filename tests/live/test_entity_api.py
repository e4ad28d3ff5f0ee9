#!/usr/bin/python3
"""Issue 16, a live view of entities and episodes: a running `flowlier run` (two scoring
engines) fed the demo sample answers, over HTTP on its metrics listener,
GET /api/v1/episodes?status=open with exactly the episodes its published events left
open (fired, not resolved), and GET /api/v1/entities/{kind}/{id} with the entity's
baseline per feature and its incident's open episode; unknown kinds and entities are
400 and 404. The engines answer on their own threads (app/EntityApi).
"""
import json
import os
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import SAMPLE, LiveTest, Service, ServiceCase, free_ports, write_config  # noqa: E402


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.headers["Content-Type"], json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], json.loads(e.read())


class EntityApiTest(ServiceCase):
    push_and_collect = LiveTest.push_and_collect  # only the helper, not LiveTest's tests

    @classmethod
    def setUpClass(cls):
        if not SAMPLE:
            raise unittest.SkipTest("examples/sample is missing")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.flows_port, cls.events_port, cls.metrics_port = free_ports(3)
        cls.config = write_config(os.path.join(cls.tmp.name, "run.toml"), cls.flows_port, cls.events_port,
                                  cls.metrics_port, extra="\n[service]\nscoring_threads = 2\n")
        cls.zmq = zmq.Context()

    def test_open_episodes_and_entity_view(self):
        service = Service(self.config)
        self.wait_ready(service)
        try:
            events = [e for _, e, _ in self.push_and_collect(service, SAMPLE)]
            fired = {e["episode"]: e for e in events if e["status"] == "firing"}
            resolved = {e["episode"] for e in events if e["status"] == "resolved"}
            still_open = set(fired) - resolved
            self.assertGreater(len(still_open), 0, "the sample leaves no episode open: nothing to check")

            status, content_type, body = get(self.metrics_port, "/api/v1/episodes?status=open")
            self.assertEqual(status, 200)
            self.assertEqual(content_type, "application/json")
            self.assertEqual({x["episode"] for x in body["episodes"]}, still_open)
            for x in body["episodes"]:
                last = [e for e in events if e["episode"] == x["episode"]][-1]
                self.assertEqual(x["entity"], {"kind": last["entity"]["kind"], "id": last["entity"]["id"]})
                self.assertEqual(x["severity"], last["severity"])
                self.assertEqual(x.get("category", ""), last.get("category", ""))
                self.assertEqual(x["start"], min(e["window"]["start"] for e in events if e["episode"] == x["episode"]))

            episode = sorted(still_open)[0]
            entity = fired[episode]["entity"]
            status, _, view = get(self.metrics_port,
                                  f"/api/v1/entities/{entity['kind']}/{urllib.parse.quote(entity['id'], safe='')}")
            self.assertEqual(status, 200, view)
            self.assertEqual((view["kind"], view["id"]), (entity["kind"], entity["id"]))
            self.assertIn(episode, [x["episode"] for x in view["open_episodes"]])
            self.assertEqual(len(view["baseline"]), 14)
            warm = [f for f, b in view["baseline"].items() if not b["warming_up"]]
            self.assertGreater(len(warm), 0, view)
            for name in warm:
                b = view["baseline"][name]
                self.assertLessEqual(b["lower"], b["expected"])
                if b["upper"] is not None:
                    self.assertLessEqual(b["expected"], b["upper"])

            self.assertEqual(get(self.metrics_port, "/api/v1/entities/interface/eni-not-seen")[0], 404)
            self.assertEqual(get(self.metrics_port, "/api/v1/entities/planet/earth")[0], 400)
            self.assertEqual(get(self.metrics_port, "/api/v1/entities/interface")[0], 400)
        finally:
            rc, err = service.stop()
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
