#!/usr/bin/python3
"""flowlier run with a subscriber that does not read while events are published: the
events-out publisher never blocks the pipeline, the subscriber misses what its pipe has
no room for (gaps in its sequence), and flowlier_pub_subscriber_overflows_total counts
the times it was found full (each at least one missed event). That other subscribers
still get every event is tested in tests/transport/ZmqPublisherTest.cpp.

The service runs with --hwm 1 (a one-message pipe per subscriber) and the subscriber
with ZMQ_RCVHWM 1 and a small receive buffer. On loopback the kernel's tcp buffers
still absorb megabytes from a subscriber that does not read (measured: ~2.7 MB of 1 KB
messages before the first refusal), far more than the sample's events, so the drops
seen here come from bursts (a window close publishes many events at once) meeting the
one-message pipe before ZeroMQ's I/O thread has moved the previous one out. Their
number varies from run to run. The sample alone gives
44 events, so it is pushed COPIES times, each copy shifted by its 8-hour span.
The subscription is made and given time to reach the service before any record is
pushed, so every event has a matching subscriber.
"""
import os
import sys
import tempfile
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import CHUNK_LINES, SAMPLE, Service, ServiceCase, free_ports, read_lines, write_config  # noqa: E402

COPIES = 4
SPAN = 8 * 3600  # the sample's span (seconds), a multiple of the window


def shifted(line, seconds):
    """An AWS v2 record line with its start and end times moved by `seconds`."""
    fields = line.split()
    if len(fields) == 14 and fields[10].isdigit() and fields[11].isdigit():
        fields[10] = str(int(fields[10]) + seconds)
        fields[11] = str(int(fields[11]) + seconds)
    return " ".join(fields)


class PubDropTest(ServiceCase):
    @classmethod
    def setUpClass(cls):
        if not SAMPLE:
            raise unittest.SkipTest("examples/sample is missing")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.flows_port, cls.events_port, cls.metrics_port = free_ports(3)
        cls.config = write_config(os.path.join(cls.tmp.name, "pubdrop.toml"), cls.flows_port, cls.events_port,
                                  cls.metrics_port)
        cls.zmq = zmq.Context()

    def wait_until_stable(self, name, seconds=1.0, timeout=30):
        """Waits until metric `name` has not changed for `seconds`; returns its value."""
        deadline = time.time() + timeout
        value, since = self.metrics()[name], time.time()
        while time.time() - since < seconds:
            self.assertLess(time.time(), deadline, f"{name} never settled")
            time.sleep(0.1)
            now = self.metrics()[name]
            if now != value:
                value, since = now, time.time()
        return value

    def test_a_subscriber_at_its_high_water_mark_is_counted_and_sees_gaps(self):
        service = Service(self.config, extra=["--hwm", "1"])
        try:
            self.wait_ready(service)
            sub = self.zmq.socket(zmq.SUB)
            sub.setsockopt(zmq.LINGER, 0)
            sub.setsockopt(zmq.RCVHWM, 1)
            sub.setsockopt(zmq.RCVBUF, 4096)
            sub.setsockopt(zmq.SUBSCRIBE, b"")
            sub.connect(f"tcp://127.0.0.1:{self.events_port}")
            time.sleep(0.5)  # let the subscription reach the publisher before events flow
            self.assertEqual(self.metrics()["flowlier_pub_subscriber_overflows_total"], 0)

            push = self.zmq.socket(zmq.PUSH)
            # Close waits until the service has taken every message (a slow build, e.g.
            # under ASan, can take longer than a short linger to drain 20 MB).
            push.setsockopt(zmq.LINGER, 120000)
            push.connect(f"tcp://127.0.0.1:{self.flows_port}")
            sent = 0
            for copy in range(COPIES):
                for path in SAMPLE:
                    lines = read_lines(path)
                    header, body = lines[0], [shifted(line, copy * SPAN) for line in lines[1:]]
                    for i in range(0, len(body), CHUNK_LINES):
                        chunk = body[i:i + CHUNK_LINES]
                        push.send(("\n".join([header, *chunk]) + "\n").encode())
                        sent += len(chunk)
            push.close()
            # The subscriber reads nothing until the service has scored every record and
            # published everything: a subscriber must never hold up the pipeline.
            deadline = time.time() + 60
            while self.metrics()["flowlier_records_scored_total"] < sent:
                self.assertLess(time.time(), deadline, "the service did not score every record")
                time.sleep(0.1)
            last = self.wait_until_stable("flowlier_published_sequence")
            m = self.metrics()
            self.assertEqual(m["flowlier_records_received_total"], sent)
            self.assertEqual(m["flowlier_records_scored_total"], sent)
            overflows = m["flowlier_pub_subscriber_overflows_total"]

            received = []
            while sub.poll(500):
                topic, payload, seq = sub.recv_multipart()
                received.append(int(seq))
            sub.close()
            print(f"\n  {sent} records; events 1..{int(last)} published, {len(received)} received, "
                  f"{int(overflows)} overflows counted", file=sys.stderr)
            self.assertGreater(last, 0, "the sample produced no events")
            self.assertGreater(overflows, 0, "nothing overflowed: the test proves nothing")
            self.assertEqual(received, sorted(set(received)), "sequence numbers not increasing")
            self.assertTrue(all(1 <= s <= last for s in received))
            missing = int(last) - len(received)
            self.assertGreaterEqual(missing, overflows, "an overflow the subscriber did not see as a gap")
        finally:
            rc, err = service.stop()
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
