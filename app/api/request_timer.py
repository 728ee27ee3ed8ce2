"""Times every request to the score route and logs it for serving health (leadops.logs.request_log).

A pure ASGI middleware, outermost, so requests the gate rejects (401, 413, 429), bodies
FastAPI rejects (422) and failures (500) are counted as well as answers. The clock stops
when the answer's last byte is sent: shadow scoring, which runs after it, is not the
caller's wait. The route sets ``arms`` (one per lead answered) in the request state.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from leadops.logs import request_log

Scope = dict[str, Any]
ARMS_STATE = "arms"
REQUEST_ID_STATE = "request_id"


class RequestTimer:
    """ASGI middleware: one request-log entry per request to ``path``."""

    def __init__(self, app: Any, path: str, record: Callable[[Any], None]) -> None:
        self.app, self.path, self.record = app, path, record

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        started, received_at = time.perf_counter(), datetime.now(UTC)
        state = scope.setdefault("state", {})
        seen: dict[str, Any] = {"status": 500, "ms": None}

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                seen["ms"] = 1000 * (time.perf_counter() - started)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            ms = seen["ms"] if seen["ms"] is not None else 1000 * (time.perf_counter() - started)
            arms = (state.get(ARMS_STATE) or []) if seen["status"] < 400 else []
            self.record(
                request_log.request_rows(
                    state.get(REQUEST_ID_STATE) or uuid.uuid4().hex,
                    received_at,
                    seen["status"],
                    ms,
                    list(arms),
                )
            )
