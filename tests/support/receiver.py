"""A real HTTP receiver on loopback for the webhook sink: records what it is sent and
answers with the statuses a test queues (then 200)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    answers: list[int] = field(default_factory=list)  # statuses to give first, in order
    always: int | None = None  # answer every request with this status
    requests: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)

    def accepted(self) -> list[dict]:
        return [json.loads(body) for _, body, status in self.requests if status == 200]


@contextmanager
def receiver() -> Iterator[tuple[str, Received]]:
    """Yield (URL, Received) while a server answers on a free loopback port."""
    record = Received()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                status = record.always or (record.answers.pop(0) if record.answers else 200)
                record.requests.append((dict(self.headers), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/leadops-token-abc", record
    finally:
        server.shutdown()
        server.server_close()
