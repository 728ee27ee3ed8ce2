"""Table writes on one background thread, in order, while the next chunk is read,
parsed and validated.

Delta writes (Parquet encoding, compression, the commit) run in Rust without
Python's lock, so on a 2-core machine they cost almost nothing when they overlap
the chunk work that holds it. At most ``depth`` writes wait at a time, so memory
stays a few chunks. A write's error is raised where the loader next waits: before
it reads a table it writes, and at the end of each file.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class WriteQueue:
    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[Any]] = deque()

    def submit(self, write: Callable[..., Any], *args: Any) -> None:
        """Queue ``write(*args)`` behind the writes already queued."""
        while len(self._pending) >= self.depth:
            self._pending.popleft().result()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-write")
        self._pending.append(self._pool.submit(write, *args))

    def wait(self) -> None:
        """Until every queued write is done; the first failed one raises its error."""
        while self._pending:
            self._pending.popleft().result()

    def settle(self) -> None:
        """Until every queued write is done, errors logged not raised (another error is
        already on its way, and the file's writes are undone after this)."""
        while self._pending:
            try:
                self._pending.popleft().result()
            except Exception as exc:  # the caller's error is the one reported
                log.debug("ingest: a queued write failed too: %s", exc)

    def close(self) -> None:
        self.settle()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
