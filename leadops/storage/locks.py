"""Exclusive locks on a lake, safe against holders that die or hang.

A lock is a create-only object ``_locks/<name>.lock`` (a local file or an S3 object
written with If-None-Match), whose body names its holder (host, pid, a random token)
and a heartbeat counter. The holder's thread rewrites the body every few seconds. A
waiter takes a lock over when its holder is provably dead (same host, process gone),
or when the body has not changed for LEADOPS_LOCK_STALE_SECONDS on the waiter's own
clock: a holder on another host that was killed, lost its machine or hangs.

A takeover is safe for journaled work (``leadops.storage.journal``): the new holder undoes or
completes what the dead one left before doing anything. A holder that was only frozen
for longer than the stale period finds on its next beat that it lost the lock and says so.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from leadops.errors import LeadOpsError
from leadops.storage.lake import Lake

log = logging.getLogger(__name__)


class LockTimeout(LeadOpsError):
    """Another run holds the lock for longer than we are willing to wait."""


@contextmanager
def lake_lock(
    lake: Lake,
    name: str,
    timeout: float = 600.0,
    stale_after: float | None = None,
    heartbeat: float | None = None,
) -> Iterator[None]:
    """Hold an exclusive lock named ``name`` on this lake.

    While held, a thread rewrites the lock's body every ``heartbeat`` seconds. A waiter
    takes the lock over when its holder is provably dead (same host, process gone) or when
    the body has not changed for ``stale_after`` seconds of the waiter's own clock (a
    holder on another host that died or hangs), so host clocks never need to agree.
    Defaults: LEADOPS_LOCK_STALE_SECONDS and LEADOPS_LOCK_HEARTBEAT_SECONDS.

    Raises:
        LockTimeout: the lock stayed taken for ``timeout`` seconds.
    """
    stale_after, heartbeat = _lock_timing(stale_after, heartbeat)
    key = f"_locks/{name}.lock"
    token = uuid.uuid4().hex
    deadline = time.monotonic() + timeout
    watch = _StaleWatch()
    while not lake.try_create(key, _lock_body(token)):
        seen = _read_raw(lake, key)
        if seen is not None and (_holder_is_dead(seen) or watch.unchanged_for(seen) > stale_after):
            # The holder died without releasing (kill -9, a lost host); its journal makes
            # the takeover safe because recover() runs right after we hold the lock.
            if _read_raw(lake, key) == seen:  # not refreshed nor taken over meanwhile
                log.warning("lock %s: taking over a stale lock (%s)", name, _describe(seen))
                lake.delete(key)
            continue
        if time.monotonic() > deadline:
            raise LockTimeout(f"lock {name}: still held by another run after {timeout:.0f} s")
        time.sleep(0.2)
    beat = _Heartbeat(lake, key, token, heartbeat)
    beat.start()
    try:
        yield
    finally:
        beat.stop()
        if beat.still_ours():
            lake.delete(key)


def _lock_timing(stale_after: float | None, heartbeat: float | None) -> tuple[float, float]:
    if stale_after is None or heartbeat is None:
        from leadops.settings import get_settings

        settings = get_settings()
        stale_after = settings.lock_stale_seconds if stale_after is None else stale_after
        heartbeat = settings.lock_heartbeat_seconds if heartbeat is None else heartbeat
    # At least three beats per stale period, so one slow write never looks like a death.
    return stale_after, min(heartbeat, stale_after / 3)


def _lock_body(token: str, beat: int = 0) -> bytes:
    # Holder's host and pid: a lock left by a killed process on this host is taken over
    # at once; ``beat`` changes on every heartbeat, which is what other hosts watch.
    return json.dumps(
        {
            "taken": time.time(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "token": token,
            "beat": beat,
        }
    ).encode()


def _read_raw(lake: Lake, key: str) -> bytes | None:
    try:
        return lake.read_bytes(key)
    except Exception:  # vanished (released) or unreadable for a moment: look again
        return None


def _body(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except ValueError:  # half-written by an old writer: not provably anything
        return {}
    return body if isinstance(body, dict) else {}


def _describe(raw: bytes) -> str:
    body = _body(raw)
    return f"held by pid {body.get('pid')} on {body.get('host')}"


class _StaleWatch:
    """How long, on this process's monotonic clock, the lock body has stayed the same."""

    def __init__(self) -> None:
        self._seen: bytes | None = None
        self._since = 0.0

    def unchanged_for(self, raw: bytes) -> float:
        if raw != self._seen:
            self._seen, self._since = raw, time.monotonic()
        return time.monotonic() - self._since


class _Heartbeat:
    """Rewrites the held lock's body every ``every`` seconds, from a daemon thread."""

    def __init__(self, lake: Lake, key: str, token: str, every: float) -> None:
        self._lake, self._key, self._token, self._every = lake, key, token, every
        self._stop = threading.Event()
        self._lost = False
        self._thread = threading.Thread(target=self._run, name=f"lock-heartbeat {key}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def still_ours(self) -> bool:
        raw = _read_raw(self._lake, self._key)
        return not self._lost and raw is not None and _body(raw).get("token") == self._token

    def _run(self) -> None:
        beat = 0
        while not self._stop.wait(self._every):
            try:
                if not self.still_ours():
                    # Only after ``stale_after`` without a beat (this process hung that long).
                    log.error("lock %s: taken over by another run while held", self._key)
                    self._lost = True
                    return
                beat += 1
                self._lake.write_bytes(self._key, _lock_body(self._token, beat))
            except Exception as exc:  # a failed beat is retried on the next one
                log.warning("lock %s: heartbeat failed (%s)", self._key, exc)


def _holder_is_dead(raw: bytes) -> bool:
    """True only when the lock's holder ran on this host and its process is gone."""
    body = _body(raw)
    pid = body.get("pid")
    if body.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False  # another machine (or an old lock body): only its heartbeat can tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False
