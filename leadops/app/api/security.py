"""The gate in front of the scoring routes: API key, per-key rate limit, body size.

A pure ASGI middleware, so the checks run in this order before any JSON is read:
401 without a valid key, 429 over the key's rate, 413 for a body over the cap
(by Content-Length, and counted while streaming for chunked bodies).
Health, readiness, metrics and the docs stay open.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from leadops.errors import LeadOpsError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
KEY_HEADER = "x-api-key"
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
    ) -> None:
        self.app, self.keys, self.limiter, self.max_body = app, keys, limiter, max_body
        self.on_reject = on_reject or (lambda path, status: None)

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
                return await self._reject(
                    scope, send, 401, "missing or invalid API key (send X-API-Key)"
                )
            caller = "key:" + key  # in memory only; never logged
        wait = self.limiter.allow(caller)
        if wait > 0:
            return await self._reject(
                scope,
                send,
                429,
                f"rate limit of {self.limiter.per_minute} requests per minute exceeded",
                {"retry-after": str(max(1, round(wait)))},
            )
        length = headers.get("content-length")
        if length is not None:
            if length.isdigit() and int(length) > self.max_body:
                return await self._reject(
                    scope,
                    send,
                    413,
                    f"request body of {length} bytes is over the limit of {self.max_body} bytes",
                )
            await self.app(scope, receive, send)
            return
        # A chunked body has no length up front: read it up to the cap, then replay it.
        body = await _read_capped(receive, self.max_body)
        if body is None:
            return await self._reject(
                scope, send, 413, f"request body is over the limit of {self.max_body} bytes"
            )
        await self.app(scope, _replay(body, receive), send)

    def _counting(self, scope: Scope, send: Callable) -> Callable:
        """``send`` that reports every error status (4xx/5xx) with its path."""

        async def counted_send(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                self.on_reject(scope["path"], message["status"])
            await send(message)

        return counted_send

    async def _reject(
        self,
        scope: Scope,
        send: Callable,
        status: int,
        detail: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        await send_json(send, status, {"detail": detail}, headers)


async def _read_capped(receive: Callable, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past ``limit`` bytes."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        parts.append(message.get("body", b""))
        size += len(parts[-1])
        if size > limit:
            return None
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Callable) -> Callable:
    sent = False

    async def replay_receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, when the client goes away

    return replay_receive


async def send_json(
    send: Callable, status: int, body: dict, headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
