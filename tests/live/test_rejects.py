#!/usr/bin/python3
"""Issue 16, rejects from live input: `flowlier run --rejects FILE` writes every rejected
record of the flows-in socket and of a followed file, with source, reason and raw input,
as `normalize --rejects` does; the file rotates like the file sink (rejects_max_bytes,
rejects_max_files); the lines written equal the rejects counted in /metrics and nothing
valid is lost.
"""
import glob
import json
import os
import sys
import tempfile
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import Service, ServiceCase, free_ports, write_config  # noqa: E402

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
GOOD = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 {t} {t2} ACCEPT OK"


class RejectsLiveTest(ServiceCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.flows_port, cls.events_port, cls.metrics_port = free_ports(3)
        cls.rejects = os.path.join(cls.tmp.name, "rejects.jsonl")
        cls.config = write_config(os.path.join(cls.tmp.name, "run.toml"), cls.flows_port, cls.events_port,
                                  cls.metrics_port, extra="""
[service]
rejects_max_bytes = 4096
rejects_max_files = 2
""")
        cls.zmq = zmq.Context()

    def test_every_live_reject_is_written_and_rotated(self):
        followed = os.path.join(self.tmp.name, "followed.log")
        with open(followed, "w") as f:
            f.write(HEADER + "\n" + GOOD.format(t=1418530010, t2=1418530070) + "\n" + "2 123 eni-x not a record\n")
        service = Service(self.config, extra=("--rejects", self.rejects, "--follow", followed))
        self.wait_ready(service)
        push = self.zmq.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 1000)
        push.connect(f"tcp://127.0.0.1:{self.flows_port}")
        bad_lines = [f"2 123456789010 eni-bad {i} short" for i in range(60)]
        good_lines = [GOOD.format(t=1418530010 + i, t2=1418530070 + i) for i in range(10)]
        push.send(("\n".join([HEADER, *good_lines, *bad_lines]) + "\n").encode())
        push.send(b"\x00\x01 this is not a flow log at all")
        expected = len(bad_lines) + 1 + 1  # the bad lines, the unknown message, the followed file's bad line
        deadline = time.time() + 15
        while sum(v for k, v in self.metrics().items() if k.startswith("flowlier_records_rejected_total")) < expected:
            self.assertLess(time.time(), deadline, "the rejects were not counted")
            time.sleep(0.1)
        m = self.metrics()
        rc, err = service.stop()
        self.assertEqual(rc, 0, err)
        push.close()
        # Nothing valid lost: the socket's good records and the followed file's one.
        self.assertEqual(m["flowlier_records_received_total"], len(good_lines) + 1)

        files = sorted(glob.glob(self.rejects + "*"))
        self.assertIn(self.rejects + ".1", files, "the rejects file did not rotate at 4096 bytes")
        self.assertNotIn(self.rejects + ".3", files)  # rejects_max_files = 2
        for path in files:
            self.assertLessEqual(os.path.getsize(path), 4096)
        rows = [json.loads(line) for path in files for line in open(path)]
        # Rotation beyond max_files drops the oldest file: what is kept is well-formed, and
        # everything was written (the newest files hold the last rejects).
        for r in rows:
            self.assertEqual(set(r), {"source", "line", "reason", "message", "raw"})
        by_source = {}
        for r in rows:
            by_source.setdefault(r["source"], []).append(r)
        self.assertIn(followed, by_source)
        self.assertEqual(by_source[followed][0]["raw"], "2 123 eni-x not a record")
        unknown = [r for r in rows if r["reason"] == "unknown_format"]
        self.assertEqual(len(unknown), 1)
        self.assertRegex(unknown[0]["source"], r"^flows_in message \d+$")
        self.assertIn("this is not a flow log", unknown[0]["raw"])
        socket_rows = [r for r in rows if r["source"].startswith("flows_in message") and r["reason"] != "unknown_format"]
        self.assertGreater(len(socket_rows), 0)
        for r in socket_rows:
            self.assertEqual(r["reason"], "wrong_field_count")
            self.assertIn(r["raw"], bad_lines)
            self.assertEqual(r["raw"], bad_lines[r["line"] - 12])  # header and 10 good lines come first

    def test_a_rejects_file_that_cannot_be_written_is_refused(self):
        service = Service(self.config, extra=("--rejects", os.path.join(self.tmp.name, "no", "such", "dir", "r.jsonl")))
        out, err = service.proc.communicate(timeout=20)
        self.assertEqual(service.proc.returncode, 2)
        self.assertIn("run: service.rejects_file / --rejects:", err)
        self.assertIn("cannot write", err)


if __name__ == "__main__":
    unittest.main()
