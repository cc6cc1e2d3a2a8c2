#!/usr/bin/python3
"""A small zfactor client, written from docs/PROTOCOL.md (section 2) alone.

Uses Debian's python3-zmq and python3-msgpack; run it with /usr/bin/python3.

    from zfactor_client import Client
    with Client("tcp://127.0.0.1:5555") as c:
        answer = c.factor_final(2**128 + 1)
        print(format_factor_line(answer))

As a program it factors the numbers given on its command line and prints lines
in the style of GNU coreutils `factor`:

    /usr/bin/python3 zfactor_client.py [--endpoint EP] [--timeout-ms T] N...
"""

import argparse
import itertools
import os
import sys
import time

import msgpack
import zmq

PROTOCOL_VERSION = 1
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"
# Final lifecycle states of an answer (section 2.2).
FINAL_STATES = ("done", "failed", "cancelled")


class ZfactorError(Exception):
    """An error reply (section 2.5): `code` is the protocol's error code."""

    def __init__(self, code, message, retry_after_ms=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms


class ZfactorTimeout(ZfactorError):
    """No reply arrived within the client's receive timeout."""

    def __init__(self, message):
        super().__init__("timeout", message)


class Client:
    """One DEALER connection to a gateway.

    Requests are sent as a single frame (no delimiter), so replies come back as a
    single frame. Every request carries a fresh integer `id`; a reply whose id
    does not match (a late reply to a request that timed out) is dropped. Events
    (section 2.3) that arrive while waiting for a reply are kept in `events`.
    """

    def __init__(self, endpoint=DEFAULT_ENDPOINT, timeout_ms=10000, context=None):
        self._context = context or zmq.Context.instance()
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.connect(endpoint)
        self._ids = itertools.count(1)
        self.timeout_ms = timeout_ms
        self.events = []

    def close(self):
        self._socket.close(linger=0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- raw exchange ---------------------------------------------------------

    def request(self, op, extra_timeout_ms=0, **fields):
        """Sends {op, id, v, **fields} and returns the reply map (ok == true).

        Raises ZfactorError for an error reply, ZfactorTimeout when no reply
        arrives within timeout_ms + extra_timeout_ms.
        """
        if "id" in fields:
            raise ValueError("the client assigns request ids itself")
        rid = next(self._ids)
        body = {"op": op, "id": rid, "v": PROTOCOL_VERSION}
        body.update({k: v for k, v in fields.items() if v is not None})
        self._socket.send(msgpack.packb(body, use_bin_type=True))
        deadline = time.monotonic() + (self.timeout_ms + extra_timeout_ms) / 1000.0
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0 or not self._socket.poll(left_ms, zmq.POLLIN):
                raise ZfactorTimeout("no reply to %r within %d ms" % (op, self.timeout_ms + extra_timeout_ms))
            msg = msgpack.unpackb(self._socket.recv(), raw=False)
            if not isinstance(msg, dict):
                continue
            if "event" in msg:
                self.events.append(msg)
                continue
            if msg.get("id") != rid:
                continue  # a late reply to an earlier request
            if not msg.get("ok"):
                err = msg.get("error") or {}
                raise ZfactorError(err.get("code", "?"), err.get("message", ""), msg.get("retry_after_ms"))
            return msg

    def next_event(self, timeout_ms):
        """Returns the oldest EVENT received (waiting up to timeout_ms), or None."""
        deadline = time.monotonic() + timeout_ms / 1000.0
        while not self.events:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0 or not self._socket.poll(left_ms, zmq.POLLIN):
                return None
            msg = msgpack.unpackb(self._socket.recv(), raw=False)
            if isinstance(msg, dict) and "event" in msg:
                self.events.append(msg)
        return self.events.pop(0)

    # -- operations (section 2.1) --------------------------------------------

    def ping(self):
        return self.request("ping")["pong"]

    def stats(self):
        return self.request("stats")["stats"]

    def factor(self, n, wait_ms=0, priority=None, notify=None, max_seconds=None):
        """One number -> ANSWER; a list/tuple -> list of ITEMs (section 2.2)."""
        return self._compute("factor", n, wait_ms, priority, notify, max_seconds)

    def isprime(self, n, wait_ms=0, priority=None, notify=None):
        return self._compute("isprime", n, wait_ms, priority, notify, None)

    def get(self, job, progress=False):
        """progress=True: a running job's answer carries "progress" (section 2.2)."""
        return self.request("get", job=job, progress=progress or None)["answer"]

    def wait(self, job, timeout_ms, progress=False):
        return self.request("wait", extra_timeout_ms=timeout_ms, job=job, timeout_ms=timeout_ms,
                            progress=progress or None)["answer"]

    def cancel(self, job):
        return self.request("cancel", job=job)["answer"]

    def _compute(self, op, n, wait_ms, priority, notify, max_seconds):
        fields = dict(wait_ms=wait_ms, priority=priority, notify=notify, max_seconds=max_seconds)
        if isinstance(n, (list, tuple)):
            return self.request(op, extra_timeout_ms=wait_ms, numbers=[_wire_number(x) for x in n],
                                **fields)["answers"]
        return self.request(op, extra_timeout_ms=wait_ms, n=_wire_number(n), **fields)["answer"]

    # -- convenience -----------------------------------------------------------

    def final(self, op, n, timeout_ms=3600 * 1000):
        """Asks `op` for one number, then holds `wait` requests on its job until
        the answer is final or timeout_ms passes. Returns the last ANSWER seen."""
        deadline = time.monotonic() + timeout_ms / 1000.0
        chunk = 60000
        answer = self._compute(op, n, min(chunk, timeout_ms), None, None, None)
        while answer["state"] not in FINAL_STATES:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0:
                break
            answer = self.wait(answer["job"], min(chunk, left))
        return answer

    def factor_final(self, n, timeout_ms=3600 * 1000):
        return self.final("factor", n, timeout_ms)

    def isprime_final(self, n, timeout_ms=3600 * 1000):
        return self.final("isprime", n, timeout_ms)


def _wire_number(n):
    """Numbers travel as canonical decimal strings (section 1)."""
    if isinstance(n, int):
        if n < 0:
            raise ValueError("negative numbers cannot be factored: %d" % n)
        return str(n)
    return str(n)


def format_factor_line(answer):
    """A GNU `factor`-style line for a final factor ANSWER: "n: p p q".

    A composite cofactor is printed as "[C]m" (a "C" result as "n: [C]n") and a
    probable prime as "[PRP]p";
    a job that did not finish prints "n: <state>".
    """
    n = answer["n"]
    if answer.get("state") != "done":
        err = answer.get("error")
        detail = " (%s)" % err["code"] if err else ""
        return "%s: <%s%s>" % (n, answer.get("state", "?"), detail)
    if answer["result"]["status"] == "C" and not answer["result"]["factors"]:
        return "%s: [C]%s" % (n, n)  # composite, no factor known
    parts = []
    for f in answer["result"]["factors"]:
        mark = "" if f["status"] == "P" else "[%s]" % f["status"]
        parts.extend([mark + f["p"]] * int(f["e"]))
    return "%s:%s" % (n, "".join(" " + p for p in parts))


def is_complete(answer):
    """True when the answer is a full factorization (or 0/1/prime) without PRP or C."""
    if answer.get("state") != "done":
        return False
    return answer["result"]["status"] in ("FF", "P", "U", "Zero") and all(
        f["status"] == "P" for f in answer["result"]["factors"])


def main(argv=None):
    parser = argparse.ArgumentParser(description="Factor numbers with a zfactor service.")
    parser.add_argument("numbers", nargs="+", help="non-negative decimal integers")
    parser.add_argument("--endpoint", default=os.environ.get("ZFACTOR_ENDPOINT", DEFAULT_ENDPOINT))
    parser.add_argument("--timeout-ms", type=int, default=3600 * 1000,
                        help="how long to wait for each queued job")
    args = parser.parse_args(argv)
    status = 0
    with Client(args.endpoint) as client:
        for text in args.numbers:
            try:
                answer = client.factor_final(text, args.timeout_ms)
            except ZfactorError as e:
                print("zfactor_client: %s: %s" % (text, e), file=sys.stderr)
                status = 1
                continue
            print(format_factor_line(answer))
            if answer.get("state") != "done" or answer["result"]["status"] in ("CF", "C"):
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
