"""A fault-injecting HTTP reverse proxy for S3 tests.

``FaultProxy(target)`` starts the proxy in its own process on a free loopback port
(deltalake keeps the GIL while it waits on the network, so a proxy thread in the
test process would never answer it). Every request is forwarded to ``target``
(the moto server) unless a fault is armed:

* ``fail_next(n, status)``: the next ``n`` matching requests get an S3 error reply
  (503 SlowDown, 500 InternalError, 403 AccessDenied) without being forwarded;
* ``fail_every(k, total, status)``: every ``k``-th matching request fails, ``total`` in
  all, so faults land throughout a long run and never twice on one retry chain;
* ``refuse_after(n, seconds)``: once ``n`` (>= 1) more requests have been answered the
  proxy stops listening (connects get ECONNREFUSED, keep-alive connections are
  closed) for ``seconds``, then listens again on the same port;
* ``fail_always(status)``: every matching request fails until ``clear()``.

A faulted request is never forwarded, so the server never sees an operation whose
reply the client lost: the tests exercise the clients' retrying, not the separate
question of non-idempotent requests. ``methods`` / ``path_contains`` restrict a
fault to some requests. ``stats()`` says what was injected and forwarded, so a
test can assert the faults really happened. The proxy is controlled through
``/__faults__/...`` URLs on its own port, which are never forwarded.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CONTROL = "/__faults__/"
_REASONS = {
    403: ("AccessDenied", "Access Denied"),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
}
_OWN = {"server", "date"}  # send_response writes its own


# -- the test side -------------------------------------------------------------------
class FaultProxy:
    """Starts and steers the proxy process; a context manager. ``url`` is the endpoint."""

    def __init__(self, target: str) -> None:
        self.target = target
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> FaultProxy:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__)), self.target, str(self.port)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.stats(wait=0)
                return self
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError("fault proxy did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None

    def _call(self, verb: str, wait: float = 30, **params: Any) -> dict[str, Any]:
        """One control request; waits out a refusal window in progress."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(
                    f"{self.url}{CONTROL}{verb}?{query}", timeout=10
                ) as reply:
                    return json.loads(reply.read())
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def fail_next(
        self,
        n: int,
        status: int = 503,
        methods: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        self._call(
            "fault",
            remaining=n,
            every=1,
            status=status,
            methods=methods,
            path_contains=path_contains,
        )

    def fail_every(
        self,
        k: int,
        total: int,
        status: int = 503,
        methods: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        self._call(
            "fault",
            remaining=total,
            every=k,
            status=status,
            methods=methods,
            path_contains=path_contains,
        )

    def fail_always(
        self, status: int = 503, methods: str | None = None, path_contains: str | None = None
    ) -> None:
        self._call(
            "fault",
            remaining=-1,
            every=1,
            status=status,
            methods=methods,
            path_contains=path_contains,
        )

    def refuse_after(self, n: int, seconds: float) -> None:
        self._call("refuse", after=n, seconds=seconds)

    def clear(self) -> None:
        """Disarm every fault."""
        self._call("clear")

    def stats(self, wait: float = 30) -> dict[str, Any]:
        """{"injected": {"503": n, "refused_window": n, ...}, "forwarded": n}"""
        return self._call("stats", wait=wait)


# -- the proxy process ------------------------------------------------------------------
class _Fault:
    def __init__(
        self,
        status: int,
        remaining: int,
        every: int,
        methods: str | None,
        path_contains: str | None,
    ) -> None:
        self.status, self.every = status, every
        self.remaining = None if remaining < 0 else remaining
        self.methods = {m.upper() for m in methods.split(",")} if methods else None
        self.path_contains = path_contains
        self.code = _REASONS.get(status, ("InternalError", ""))[0]
        self.seen = 0

    def fires(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        if self.path_contains and self.path_contains not in urllib.parse.unquote(path):
            return False
        self.seen += 1
        if self.seen % self.every:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


class _State:
    def __init__(self, target: str, port: int) -> None:
        parts = urllib.parse.urlsplit(target)
        self.target_host, self.target_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.port = port
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self.faults: list[_Fault] = []
        self.refuse: tuple[int, float] | None = None
        self.refusing = False
        self.idle: set[socket.socket] = set()
        self.server: ThreadingHTTPServer | None = None

    def listen(self) -> None:
        state = self

        class Handler(_Handler):
            owner = state

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        with self.lock:
            self.server, self.refusing = server, False

    def close_idle(self) -> None:
        with self.lock:
            idle, self.idle = list(self.idle), set()
        for sock in idle:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def start_refusing(self, seconds: float) -> None:
        """Stop listening, drop idle keep-alive connections, listen again after ``seconds``."""
        with self.lock:
            server, self.server, self.refusing = self.server, None, True
            self.injected["refused_window"] += 1
        if server is not None:
            threading.Thread(target=server.shutdown, daemon=True).start()
            server.socket.close()
        self.close_idle()

        def reopen() -> None:
            time.sleep(seconds)
            self.listen()

        threading.Thread(target=reopen, daemon=True).start()

    def decide(self, method: str, path: str) -> _Fault | str | None:
        """A fault to answer with, "drop" (close, no reply), or None (forward).

        The request that opens a refusal window is itself forwarded and answered
        (with Connection: close); only the requests after it meet the refusal."""
        with self.lock:
            if self.refusing:
                return "drop"
            refuse_for = None
            if self.refuse is not None:
                left, seconds = self.refuse
                if left <= 1:
                    self.refuse, refuse_for = None, seconds
                else:
                    self.refuse = (left - 1, seconds)
            if refuse_for is None:
                for fault in self.faults:
                    if fault.fires(method, path):
                        self.injected[str(fault.status)] += 1
                        return fault
            self.forwarded += 1
        if refuse_for is not None:
            self.start_refusing(refuse_for)
        return None

    def control(self, verb: str, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            if verb == "fault":
                self.faults.append(
                    _Fault(
                        int(query["status"]),
                        int(query["remaining"]),
                        int(query["every"]),
                        query.get("methods"),
                        query.get("path_contains"),
                    )
                )
            elif verb == "refuse":
                self.refuse = (int(query["after"]), float(query["seconds"]))
            elif verb == "clear":
                self.faults.clear()
                self.refuse = None
            return {"injected": dict(self.injected), "forwarded": self.forwarded}


class _Handler(BaseHTTPRequestHandler):
    owner: _State
    protocol_version = "HTTP/1.1"  # keep-alive, as S3 clients expect

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def handle_one_request(self) -> None:
        with self.owner.lock:
            self.owner.idle.add(self.connection)
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:
            self.raw_requestline = b""
        with self.owner.lock:
            self.owner.idle.discard(self.connection)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        try:
            self._handle()
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        if self.owner.refusing:  # a window opened meanwhile: this connection goes too
            self.close_connection = True

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        body = self._body()
        if self.path.startswith(CONTROL):
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            answer = self.owner.control(parts.path[len(CONTROL) :], query)
            self._reply(200, json.dumps(answer).encode(), "application/json")
            return
        decision = self.owner.decide(self.command, self.path)
        if decision == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(decision, _Fault):
            message = _REASONS.get(decision.status, ("", "injected fault"))[1]
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{decision.code}</Code>'
                f"<Message>{message}</Message><RequestId>fault</RequestId></Error>"
            )
            self._reply(decision.status, xml.encode(), "application/xml")
            return
        self._forward(body)

    def _forward(self, body: bytes) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection(
            self.owner.target_host, self.owner.target_port, timeout=60
        )
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            reply = upstream.getresponse()
            data = reply.read()
        finally:
            upstream.close()
        self.send_response(reply.status, reply.reason)
        for key, value in reply.getheaders():
            lowered = key.lower()
            if lowered in _HOP_BY_HOP | _OWN or (
                lowered == "content-length" and self.command != "HEAD"
            ):
                continue
            self.send_header(key, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        if self.owner.refusing:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def main(target: str, port: int) -> None:
    state = _State(target, port)
    state.listen()
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
