#!/usr/bin/python3
"""A test receiver for flowlier's sinks: Splunk HEC, Sumo Logic and alert webhooks.

Binds 127.0.0.1 (ephemeral port unless --port), prints "PORT <n>" on stdout, appends
every accepted event to --record as JSON Lines ({"kind": ..., "id": ..., ...}).
Faults on demand: POST /control {"status": [503, 503, ...], "retry_after": 1}
queues answers given to the next requests (before any other check).
Semantics: HEC token check (401 code 2 without, 403 code 4 wrong), an event whose
entity_id is "BAD" makes the whole batch 400 code 6; Sumo gzip bodies; webhook
payloads are validated against the documented fields (400 naming the field).
"""
import argparse
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"queue": [], "retry_after": None, "requests": 0, "next_ack": 0, "polled": set()}


def concatenated(text):
    decoder = json.JSONDecoder()
    pos, out = 0, []
    while pos < len(text):
        while pos < len(text) and text[pos] in " \r\n\t":
            pos += 1
        if pos >= len(text):
            break
        obj, pos = decoder.raw_decode(text, pos)
        out.append(obj)
    return out


def validate_alertmanager(p):
    for k in ["version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
              "commonAnnotations", "externalURL", "alerts"]:
        if k not in p:
            return "missing " + k
    if p["version"] != "4" or p["status"] not in ("firing", "resolved"):
        return "bad version or status"
    for a in p["alerts"]:
        for k in ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"]:
            if k not in a:
                return "alert missing " + k
        if "alertname" not in a["labels"]:
            return "alert without alertname"
    return None


def validate_pagerduty(p):
    for k in ["routing_key", "event_action", "dedup_key"]:
        if k not in p:
            return "missing " + k
    if p["event_action"] not in ("trigger", "acknowledge", "resolve"):
        return "bad event_action"
    if len(p["dedup_key"]) > 255:
        return "dedup_key too long"
    if p["event_action"] == "trigger":
        pl = p.get("payload", {})
        for k in ["summary", "source", "severity"]:
            if k not in pl:
                return "payload missing " + k
        if len(pl["summary"]) > 1024 or pl["severity"] not in ("critical", "error", "warning", "info"):
            return "bad summary or severity"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def record(self, rows):
        with LOCK:
            with open(self.server.record_path, "a") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if self.path == "/control":
            with LOCK:
                c = json.loads(raw)
                STATE["queue"] = list(c.get("status", []))
                STATE["retry_after"] = c.get("retry_after")
            return self.reply(200, {"ok": True})
        with LOCK:
            STATE["requests"] += 1
            forced = STATE["queue"].pop(0) if STATE["queue"] else None
            retry_after = STATE["retry_after"]
        if forced:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None and forced == 429 else {}
            return self.reply(forced, {"text": "forced", "code": 9}, headers)
        if self.headers.get("Content-Encoding") == "gzip":
            try:
                raw = gzip.decompress(raw)
            except OSError:
                return self.reply(400, {"text": "bad gzip"})
        text = raw.decode("utf-8")
        try:
            if self.path.startswith("/services/collector/ack"):
                return self.hec_ack(json.loads(text))
            if self.path.startswith("/services/collector/event"):
                return self.hec(text)
            if self.path.startswith("/receiver/v1/http/"):
                return self.sumo(text)
            if self.path in ("/alertmanager", "/v2/enqueue", "/slack", "/json"):
                return self.webhook(json.loads(text))
        except (ValueError, KeyError, TypeError) as e:
            return self.reply(400, {"text": "invalid: %s" % e, "code": 6})
        return self.reply(404, {"text": "not found"})

    def hec(self, text):
        auth = self.headers.get("Authorization")
        if not auth:
            return self.reply(401, {"text": "Token is required", "code": 2})
        if auth != "Splunk " + self.server.token:
            return self.reply(403, {"text": "Invalid token", "code": 4})
        envelopes = concatenated(text)
        if not envelopes:
            return self.reply(400, {"text": "No data", "code": 5})
        for i, env in enumerate(envelopes):
            if "event" not in env or "time" not in env or not isinstance(env.get("fields", {}), dict):
                return self.reply(400, {"text": "Event field is required", "code": 12, "invalid-event-number": i})
            if env["event"].get("entity_id") == "BAD":
                return self.reply(400, {"text": "Invalid data format", "code": 6, "invalid-event-number": i})
        channel = self.headers.get("X-Splunk-Request-Channel")
        if self.server.ack and not channel:
            return self.reply(400, {"text": "Data channel is missing", "code": 10})
        self.record([{"kind": "hec", "channel": channel, "id": e["event"]["id"], "time": e["time"], "fields": e["fields"],
                      "sourcetype": e.get("sourcetype"), "index": e.get("index")} for e in envelopes])
        if self.server.ack:
            with LOCK:
                ack_id = STATE["next_ack"]
                STATE["next_ack"] += 1
            return self.reply(200, {"text": "Success", "code": 0, "ackId": ack_id})
        return self.reply(200, {"text": "Success", "code": 0})

    def hec_ack(self, body):
        # Each id reads false on its first poll and true afterwards (indexing takes a while).
        if self.headers.get("Authorization") != "Splunk " + self.server.token:
            return self.reply(403, {"text": "Invalid token", "code": 4})
        if not self.server.ack or not self.headers.get("X-Splunk-Request-Channel"):
            return self.reply(400, {"text": "ACK is disabled", "code": 14})
        acks = {}
        with LOCK:
            for i in body["acks"]:
                acks[str(i)] = i in STATE["polled"]
                STATE["polled"].add(i)
        return self.reply(200, {"acks": acks})

    def sumo(self, text):
        rows = []
        for line in text.split("\n"):
            if line:
                event = json.loads(line)
                rows.append({"kind": "sumo", "id": event["id"], "category": self.headers.get("X-Sumo-Category"),
                             "fields": self.headers.get("X-Sumo-Fields"),
                             "gzip": self.headers.get("Content-Encoding") == "gzip"})
        self.record(rows)
        return self.reply(200, {})

    def webhook(self, p):
        if self.path == "/alertmanager":
            error = validate_alertmanager(p)
            rows = [{"kind": "alertmanager", "id": a["annotations"].get("event_id"), "status": a["status"],
                     "fingerprint": a["fingerprint"]} for a in p.get("alerts", [])]
        elif self.path == "/v2/enqueue":
            error = validate_pagerduty(p)
            rows = [{"kind": "pagerduty", "action": p.get("event_action"), "dedup_key": p.get("dedup_key"),
                     "severity": p.get("payload", {}).get("severity"),
                     "id": p.get("payload", {}).get("custom_details", {}).get("id")}]
        elif self.path == "/slack":
            error = None if isinstance(p.get("text"), str) and p["text"] else "missing text"
            rows = [{"kind": "slack", "text": p.get("text")}]
        else:
            error = None if isinstance(p, list) else "expected an array"
            rows = [{"kind": "json", "id": e.get("id")} for e in (p if isinstance(p, list) else [])]
        if error:
            return self.reply(400, {"text": error})
        self.record(rows)
        return self.reply(202 if self.path == "/v2/enqueue" else 200, {"status": "success"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", required=True)
    parser.add_argument("--token", default="good-token")
    parser.add_argument("--ack", action="store_true", help="HEC indexer acknowledgement on")
    args = parser.parse_args()
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.record_path = args.record
    server.token = args.token
    server.ack = args.ack
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
