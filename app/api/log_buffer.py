"""Log rows buffered in memory and appended to a Delta table in batches.

Two buffers run in the service: prediction-log rows (``LogBuffer``) and request rows
for serving health (``LogBuffer.for_requests``).


One Delta commit per answered request would cost a commit per lead and thousands
of small files; rows are flushed every ``api_log_flush_seconds``, or sooner when
``api_log_flush_rows`` are waiting, and on shutdown (SIGTERM). What a kill -9 loses
is the unflushed buffer: at most one flush interval of answers, or longer while a
batch score run holds the prediction log's lock (the flush waits for it, keeping rows).
In the service a flush hands its rows to the log writer process (``log_writer``), so the
Delta append never holds the interpreter the requests are answered in; the rows wait
here as Arrow IPC bytes, so a flush neither combines nor frees Arrow tables either.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from app.api.log_writer import (
    APPENDS,
    PREDICTION_LOG,
    REQUEST_LOG,
    LogWriter,
    serialised,
)
from leadops.errors import one_line
from leadops.storage.lake import Lake

log = logging.getLogger(__name__)


class LogBuffer:
    """Thread-safe buffer with a background flusher (``start``/``close``)."""

    def __init__(
        self,
        lake: Lake,
        flush_seconds: float,
        flush_rows: int,
        append: Callable[[Lake, pa.Table], Any] | None = None,
        what: str = PREDICTION_LOG,
        writer: LogWriter | None = None,
    ) -> None:
        """``append``: how a flush writes; default the log named ``what`` (APPENDS), in
        ``writer``'s process when given, else in this one."""
        self.lake, self.flush_seconds, self.flush_rows = lake, flush_seconds, flush_rows
        self._append, self.what, self.writer = append, what, writer
        self._parts: list[pa.Table] = []
        self._rows = 0
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.flushed_rows = 0
        self.last_error: str | None = None

    @classmethod
    def for_requests(
        cls, lake: Lake, flush_seconds: float, flush_rows: int, writer: LogWriter | None = None
    ) -> LogBuffer:
        """The request log's buffer."""
        return cls(lake, flush_seconds, flush_rows, what=REQUEST_LOG, writer=writer)

    @property
    def pending_rows(self) -> int:
        return self._rows

    def add(self, rows: pa.Table) -> None:
        # For the writer process, bytes: a flush never builds or frees Arrow tables here.
        part = rows if self._append is not None or self.writer is None else serialised(rows)
        with self._lock:
            self._parts.append(part)
            self._rows += rows.num_rows
            if self._rows >= self.flush_rows:
                self._wake.set()

    def flush(self, lock_timeout: float = 1.0) -> int:
        """Append everything buffered in one commit; rows stay buffered if it fails."""
        with self._flushing:
            with self._lock:
                parts, self._parts = self._parts, []
                count, self._rows = self._rows, 0
            if not parts:
                return 0
            try:
                if self._append is not None:
                    self._append(self.lake, pa.concat_tables(parts))
                elif self.writer is not None:
                    self.writer.write(self.what, parts, lock_timeout)
                else:
                    APPENDS[self.what](self.lake, pa.concat_tables(parts), lock_timeout)
            except Exception as exc:  # noqa: BLE001 (lock held by a batch run, storage down: retry)
                with self._lock:
                    self._parts[:0] = parts
                    self._rows += count
                self.last_error = one_line(exc)
                log.warning(
                    "%s: %d rows kept for the next flush (%s)", self.what, count, self.last_error
                )
                return 0
            self.flushed_rows += count
            self.last_error = None
            return count

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="leadops-api-log", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()

    def close(self, timeout: float = 60.0) -> None:
        """Stop the flusher and flush what is left (waiting up to ``timeout`` for the lock)."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        self.flush(lock_timeout=timeout)
        if self._rows:
            log.error(
                "%s: %d rows could not be written at shutdown (%s)",
                self.what,
                self._rows,
                self.last_error,
            )
