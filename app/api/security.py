"""The gate in front of the scoring routes: API key, per-key rate limit, body size.

A pure ASGI middleware, so the checks run in this order before any JSON is read:
401 without a valid key, 429 over the key's rate, 413 for a body over the cap
(by Content-Length, and counted while streaming for chunked bodies), then the body's
own refusals (415 not JSON, 408 stalled, 400 not Unicode: app.api.body).
Health, readiness, metrics and the docs stay open.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.api.body import Refused, check_content_type, check_unicode, read_body, replay
from leadops.errors import LeadOpsError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
KEY_HEADER = "x-api-key"
BODY_METHODS = ("POST", "PUT", "PATCH")
OPEN_PATHS = ("/health", "/ready", "/metrics", "/docs", "/openapi.json", "/redoc")

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


class ExposureError(LeadOpsError):
    """The API would listen beyond loopback without API keys."""


def parse_keys(text: str) -> tuple[str, ...]:
    """``LEADOPS_API_KEYS`` ("k1,k2") as a tuple of keys (blanks dropped)."""
    return tuple(key.strip() for key in text.split(",") if key.strip())


def check_exposure(host: str, keys: tuple[str, ...]) -> None:
    """Refuse to listen beyond loopback without API keys."""
    if host not in LOOPBACK and not keys:
        raise ExposureError(
            f"--host {host}: the scoring API would answer anyone on the network; "
            "set LEADOPS_API_KEYS=key1,key2 first (clients send X-API-Key)"
        )


def matching_key(offered: str | None, keys: tuple[str, ...]) -> str | None:
    """The configured key equal to ``offered``, compared in constant time (every key is tried)."""
    found = None
    for key in keys:
        if hmac.compare_digest((offered or "").encode(), key.encode()):
            found = key
    return found


class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, caller: str, now: float | None = None) -> float:
        """0.0 when the request may pass; otherwise seconds until it may retry."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, since = self._buckets.get(caller, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - since) * rate)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                return (1.0 - tokens) / rate
            self._buckets[caller] = (tokens - 1.0, now)
            return 0.0


class Gate:
    """ASGI middleware applying key, rate and size checks to every non-open HTTP path.

    ``on_reject(path, status)`` is called for every response with an error status.
    """

    def __init__(
        self,
        app: ASGIApp,
        keys: tuple[str, ...],
        limiter: RateLimiter,
        max_body: int,
        on_reject: Callable[[str, int], None] | None = None,
        body_timeout: float = 10.0,
    ) -> None:
        self.app, self.keys, self.limiter, self.max_body = app, keys, limiter, max_body
        self.body_timeout = body_timeout
        self.on_reject = on_reject or (lambda _path, _status: None)

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._counting(scope, send)
        if scope["path"].startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        caller = (scope.get("client") or ("local", 0))[0]
        if self.keys:
            key = matching_key(headers.get(KEY_HEADER), self.keys)
            if key is None:
                return await self._reject(send, 401, "missing or invalid API key (send X-API-Key)")
            caller = "key:" + key  # in memory only; never logged
        wait = self.limiter.allow(caller)
        if wait > 0:
            return await self._reject(
                send,
                429,
                f"rate limit of {self.limiter.per_minute} requests per minute exceeded",
                {"retry-after": str(max(1, round(wait)))},
            )
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return await self._reject(
                send,
                413,
                f"request body of {length} bytes is over the limit of {self.max_body} bytes",
            )
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        # Read here, then replay: the body's type, pace, size and Unicode are refused in
        # one clear line (app.api.body) before FastAPI parses it.
        try:
            check_content_type(headers.get("content-type"))
            body = await read_body(receive, self.max_body, self.body_timeout)
            check_unicode(body)
        except Refused as refused:
            close = {"connection": "close"} if refused.status in (408, 413) else None
            return await self._reject(send, refused.status, refused.detail, close)
        await self.app(scope, replay(body, receive), send)

    def _counting(self, scope: Scope, send: Callable) -> Callable:
        """``send`` that reports every error status (4xx/5xx) with its path."""

        async def counted_send(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                self.on_reject(scope["path"], message["status"])
            await send(message)

        return counted_send

    async def _reject(
        self,
        send: Callable,
        status: int,
        detail: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        await send_json(send, status, {"detail": detail}, headers)


async def send_json(
    send: Callable, status: int, body: dict, headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
