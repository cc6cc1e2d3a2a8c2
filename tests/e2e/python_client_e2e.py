#!/usr/bin/python3
"""The Python client (client/python) against a running service: every
operation of PROTOCOL.md section 2 and its error codes.

usage: /usr/bin/python3 python_client_e2e.py ENDPOINT
Exits 0 when every check passes; prints the failures otherwise."""

import os
import sys
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "client", "python"))
import zfactor_client as zc  # noqa: E402

ENDPOINT = None
N_2_128_1 = "340282366920938463463374607431768211457"
SEMIPRIMES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "semiprimes.txt")


def semiprime(name):
    """(n, p, q) from tests/data/semiprimes.txt."""
    with open(SEMIPRIMES) as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] == name:
                return fields[2], fields[3], fields[4]
    raise KeyError(name)


def factors_of(answer):
    return [(f["p"], f["e"]) for f in answer["result"]["factors"]]


class ServiceTest(unittest.TestCase):
    def setUp(self):
        self.c = zc.Client(ENDPOINT, timeout_ms=10000)
        self.addCleanup(self.c.close)

    def test_ping_and_stats(self):
        self.assertIs(self.c.ping(), True)
        stats = self.c.stats()
        for key in ("queue_depth", "jobs_running", "workers", "jobs_submitted", "jobs_done", "jobs_failed",
                    "jobs_cancelled", "cache_entries", "cache_hits", "cache_misses", "inline_answers",
                    "uptime_s"):
            self.assertIn(key, stats)
        self.assertGreaterEqual(stats["workers"], 1)

    def test_isprime(self):
        a = self.c.isprime(97)
        self.assertEqual((a["state"], a["source"], a["result"]["status"]), ("done", "inline", "P"))
        self.assertEqual(a["result"]["factors"], [])
        items = self.c.isprime(["0", "1", "91"])
        self.assertEqual([i["result"]["status"] for i in items], ["Zero", "U", "C"])
        self.assertTrue(all(i["ok"] for i in items))

    def test_factor_then_cache(self):
        a = self.c.factor_final(N_2_128_1, timeout_ms=120000)
        self.assertEqual(a["state"], "done")
        self.assertEqual(a["result"]["status"], "FF")
        self.assertEqual(factors_of(a), [("59649589127497217", 1), ("5704689200685129054721", 1)])
        again = self.c.factor(N_2_128_1)
        self.assertEqual((again["state"], again["source"]), ("done", "cache"))
        self.assertEqual(factors_of(again), factors_of(a))
        self.assertEqual(zc.format_factor_line(self.c.factor(12)), "12: 2 2 3")

    def test_job_wait_get_and_notify(self):
        n, p, q = semiprime("C40_2")
        self.assertEqual(int(p) * int(q), int(n))
        first = self.c.factor(n, notify=True)
        if first["state"] == "done":
            self.skipTest("already cached by an earlier run")
        self.assertEqual(first["source"], "job")
        job = first["job"]
        answer = first
        while answer["state"] not in zc.FINAL_STATES:
            answer = self.c.wait(job, 60000)
        self.assertEqual(answer["state"], "done")
        self.assertEqual(factors_of(answer), [(p, 1), (q, 1)])
        got = self.c.get(job)
        self.assertEqual((got["job"], got["state"]), (job, "done"))
        event = self.c.next_event(10000)
        self.assertIsNotNone(event, "no EVENT after notify")
        self.assertEqual(event["event"], "done")
        self.assertEqual(event["answer"]["job"], job)

    def test_error_codes(self):
        cases = [
            (lambda: self.c.factor("-5"), "negative"),
            (lambda: self.c.factor("abc"), "bad_number"),
            (lambda: self.c.factor("007"), "bad_number"),
            (lambda: self.c.request("frobnicate"), "bad_request"),
            (lambda: self.c.request("factor", n="12", colour="red"), "unknown_field"),
            (lambda: self.c.request("ping", v=2), "unsupported_version"),
            (lambda: self.c.request("factor"), "bad_request"),
            (lambda: self.c.get("j-no-such-job"), "unknown_job"),
            (lambda: self.c.factor("1" * 20000), "too_large"),
        ]
        for call, code in cases:
            with self.assertRaises(zc.ZfactorError) as ctx:
                call()
            self.assertEqual(ctx.exception.code, code)
        items = self.c.factor(["12", "-5"])
        self.assertTrue(items[0]["ok"])
        self.assertEqual((items[1]["ok"], items[1]["index"], items[1]["error"]["code"]), (False, 1, "negative"))

    def test_malformed_frames(self):
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(ENDPOINT)
        try:
            for body in (b"\xc1", msgpack.packb([1, 2])):
                s.send(body)
                self.assertTrue(s.poll(10000), "no reply to a malformed body")
                reply = msgpack.unpackb(s.recv(), raw=False)
                self.assertEqual((reply["v"], reply["ok"], reply["error"]["code"]), (1, False, "malformed"))
            # REQ-style framing: an empty delimiter comes back with the reply.
            s.send_multipart([b"", msgpack.packb({"op": "ping", "id": "x"})])
            self.assertTrue(s.poll(10000))
            frames = s.recv_multipart()
            self.assertEqual(frames[0], b"")
            self.assertEqual(msgpack.unpackb(frames[1], raw=False)["id"], "x")
        finally:
            s.close(linger=0)


if __name__ == "__main__":
    ENDPOINT = sys.argv.pop(1)
    unittest.main(verbosity=1)
