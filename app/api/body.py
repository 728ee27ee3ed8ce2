"""Reading a request body before FastAPI does: its type, its size, its pace, its Unicode.

The gate (``security.Gate``) reads the body of every guarded request here, then replays
it to the app, so these refusals are one clear line each instead of a parse error or a
500 further in:

- 415 for a body that is not JSON (text/plain, XML, a form): FastAPI would answer
  "Input should be a valid list", which sends the client looking in the wrong place;
- 408 for a body that does not arrive within the timeout: a client that stalls
  mid-body held a connection open indefinitely (> 90 s measured);
- 413 for a body over the cap when it has no Content-Length (chunked);
- 400 for a lone UTF-16 surrogate escape (``"\\ud800"``): valid JSON syntax, but not
  Unicode (RFC 8259 section 8.2), and no answer or log row can be written with it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

JSON_TYPES = ("application/json",)
# Any escape of a surrogate code point; whether it is paired is decided on the parsed text.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class Refused(Exception):  # noqa: N818 (it is the answer, not a bug)
    """The body is refused with ``status`` and a one-line ``detail``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def check_content_type(value: str | None) -> None:
    """No type (curl -d without -H) is read as JSON, as FastAPI does; another type is 415."""
    if value is None:
        return
    media = value.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES or media.endswith("+json"):
        return
    raise Refused(415, f"content-type {value}: send the leads as JSON (application/json)")


async def read_body(receive: Callable, limit: int, timeout: float) -> bytes:
    """The whole body, or ``Refused`` (413 past ``limit`` bytes, 408 after ``timeout`` s)."""
    try:
        async with asyncio.timeout(timeout):
            return await _read_capped(receive, limit)
    except TimeoutError:
        raise Refused(
            408, f"request body not received within {timeout:g} s; send it whole and at once"
        ) from None


async def _read_capped(receive: Callable, limit: int) -> bytes:
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        parts.append(message.get("body", b""))
        size += len(parts[-1])
        if size > limit:
            raise Refused(413, f"request body is over the limit of {limit} bytes")
        if not message.get("more_body", False):
            return b"".join(parts)


def check_unicode(body: bytes) -> None:
    """400 when a JSON string (key or value) holds an unpaired surrogate escape."""
    if SURROGATE_ESCAPE.search(body) is None:  # the common case: no parse here
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # FastAPI answers the syntax error (422)
    bad = _lone_surrogate(parsed)
    if bad is not None:
        raise Refused(
            400,
            f"request body: the string '{bad}' holds a lone UTF-16 surrogate, which is not "
            "valid Unicode; send the character as a pair of escapes or as UTF-8",
        )


def _lone_surrogate(value: Any) -> str | None:
    texts = (
        [*value.keys(), *value.values()]
        if isinstance(value, dict)
        else value
        if isinstance(value, list)
        else [value]
    )
    for item in texts:
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item.encode("utf-8", "backslashreplace").decode("ascii")[:80]
        elif isinstance(item, (dict, list)):
            found = _lone_surrogate(item)
            if found is not None:
                return found
    return None


def replay(body: bytes, receive: Callable) -> Callable:
    """A ``receive`` that hands the app the body already read, then the real messages."""
    sent = False

    async def replay_receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, when the client goes away

    return replay_receive
