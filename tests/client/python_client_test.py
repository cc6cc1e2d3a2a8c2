#!/usr/bin/python3
"""Unit tests of client/python/zfactor_client.py against a fake gateway (a ROUTER
in a thread, bound to an OS-picked loopback port). Run: /usr/bin/python3 this_file."""

import os
import sys
import threading
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "client", "python"))
import zfactor_client as zc  # noqa: E402


class FakeGateway:
    """Answers each request with handler(request) -> list of reply maps (sent in order)."""

    def __init__(self, handler):
        self.handler = handler
        self.requests = []
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind("tcp://127.0.0.1:*")
        self.endpoint = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            if not self.socket.poll(20, zmq.POLLIN):
                continue
            frames = self.socket.recv_multipart()
            identity, body = frames[0], frames[-1]
            assert len(frames) == 2, "DEALER client must send the body alone"
            request = msgpack.unpackb(body, raw=False)
            self.requests.append(request)
            for reply in self.handler(request):
                self.socket.send_multipart([identity, msgpack.packb(reply, use_bin_type=True)])

    def close(self):
        self.stop.set()
        self.thread.join()
        self.socket.close(linger=0)
        self.context.term()


def ok(request, **fields):
    reply = {"v": 1, "id": request["id"], "ok": True}
    reply.update(fields)
    return reply


DONE_2_128_1 = {
    "n": "340282366920938463463374607431768211457", "kind": "factor", "state": "done",
    "source": "job", "job": "j-1",
    "result": {"status": "FF", "effort": "ecm", "ms": 3.0, "factors": [
        {"p": "59649589127497217", "e": 1, "status": "P"},
        {"p": "5704689200685129054721", "e": 1, "status": "P"}]}}


class ClientTest(unittest.TestCase):
    def serve(self, handler, timeout_ms=2000):
        self.gateway = FakeGateway(handler)
        self.addCleanup(self.gateway.close)
        self.client = zc.Client(self.gateway.endpoint, timeout_ms=timeout_ms)
        self.addCleanup(self.client.close)
        return self.client

    def test_ping_sends_op_id_and_version(self):
        c = self.serve(lambda r: [ok(r, pong=True)])
        self.assertTrue(c.ping())
        req = self.gateway.requests[0]
        self.assertEqual(req["op"], "ping")
        self.assertEqual(req["v"], 1)
        self.assertIsInstance(req["id"], int)
        self.assertEqual(set(req), {"op", "id", "v"})

    def test_progress_is_asked_for_only_when_wanted(self):
        running = {"n": "77", "kind": "factor", "state": "running", "source": "job", "job": "j-5",
                   "progress": {"stage": "ecm", "fraction": 0.5, "factors": ["7"], "age_ms": 10}}
        c = self.serve(lambda r: [ok(r, answer=running)])
        self.assertEqual(c.get("j-5", progress=True)["progress"]["factors"], ["7"])
        c.wait("j-5", 10, progress=True)
        c.get("j-5")
        sent = self.gateway.requests
        self.assertIs(sent[0]["progress"], True)
        self.assertIs(sent[1]["progress"], True)
        self.assertNotIn("progress", sent[2])

    def test_numbers_travel_as_decimal_strings(self):
        c = self.serve(lambda r: [ok(r, answer=DONE_2_128_1)])
        c.factor(2**128 + 1, wait_ms=5)
        req = self.gateway.requests[0]
        self.assertEqual(req["n"], "340282366920938463463374607431768211457")
        self.assertEqual(req["wait_ms"], 5)
        self.assertNotIn("priority", req)  # optional keys are left out, not sent as nil
        with self.assertRaises(ValueError):
            c.factor(-5)

    def test_batch_uses_numbers(self):
        c = self.serve(lambda r: [ok(r, answers=[{"ok": True, "n": x} for x in r["numbers"]])])
        items = c.isprime(["7", 9])
        self.assertEqual([i["n"] for i in items], ["7", "9"])
        self.assertEqual(self.gateway.requests[0]["numbers"], ["7", "9"])

    def test_error_reply_raises_with_code(self):
        c = self.serve(lambda r: [{"v": 1, "id": r["id"], "ok": False, "retry_after_ms": 50,
                                   "error": {"code": "busy", "message": "queue full"}}])
        with self.assertRaises(zc.ZfactorError) as ctx:
            c.factor("12")
        self.assertEqual(ctx.exception.code, "busy")
        self.assertEqual(ctx.exception.retry_after_ms, 50)

    def test_timeout_when_no_reply(self):
        c = self.serve(lambda r: [], timeout_ms=100)
        with self.assertRaises(zc.ZfactorTimeout) as ctx:
            c.ping()
        self.assertEqual(ctx.exception.code, "timeout")

    def test_stale_replies_dropped_and_events_kept(self):
        def handler(r):
            event = {"v": 1, "event": "done", "id": 99, "answer": DONE_2_128_1}
            return [ok(r, pong="stale") | {"id": r["id"] + 1000}, event, ok(r, pong=True)]
        c = self.serve(handler)
        self.assertIs(c.ping(), True)
        self.assertEqual(len(c.events), 1)
        self.assertEqual(c.events[0]["answer"]["job"], "j-1")

    def test_factor_final_waits_on_queued_job(self):
        queued = dict(DONE_2_128_1, state="queued")
        del queued["result"]

        def handler(r):
            if r["op"] == "factor":
                return [ok(r, answer=queued)]
            self.assertEqual(r["op"], "wait")
            self.assertEqual(r["job"], "j-1")
            return [ok(r, answer=DONE_2_128_1)]
        c = self.serve(handler)
        answer = c.factor_final("340282366920938463463374607431768211457", timeout_ms=5000)
        self.assertEqual(answer["state"], "done")
        self.assertEqual([r["op"] for r in self.gateway.requests], ["factor", "wait"])
        self.assertLessEqual(self.gateway.requests[1]["timeout_ms"], 5000)


class FormatTest(unittest.TestCase):
    def test_coreutils_lines(self):
        self.assertEqual(zc.format_factor_line(DONE_2_128_1),
                         "340282366920938463463374607431768211457: 59649589127497217 5704689200685129054721")
        twelve = {"n": "12", "state": "done", "result": {"status": "FF", "factors": [
            {"p": "2", "e": 2, "status": "P"}, {"p": "3", "e": 1, "status": "P"}]}}
        self.assertEqual(zc.format_factor_line(twelve), "12: 2 2 3")
        one = {"n": "1", "state": "done", "result": {"status": "U", "factors": []}}
        self.assertEqual(zc.format_factor_line(one), "1:")
        self.assertTrue(zc.is_complete(twelve))

    def test_marks_prp_and_composite(self):
        cf = {"n": "45", "state": "done", "result": {"status": "CF", "factors": [
            {"p": "3", "e": 1, "status": "PRP"}, {"p": "15", "e": 1, "status": "C"}]}}
        self.assertEqual(zc.format_factor_line(cf), "45: [PRP]3 [C]15")
        self.assertFalse(zc.is_complete(cf))
        c = {"n": "15", "state": "done", "result": {"status": "C", "factors": []}}
        self.assertEqual(zc.format_factor_line(c), "15: [C]15")
        failed = {"n": "45", "state": "failed", "error": {"code": "worker_lost", "message": ""}}
        self.assertEqual(zc.format_factor_line(failed), "45: <failed (worker_lost)>")


if __name__ == "__main__":
    unittest.main()
