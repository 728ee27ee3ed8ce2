"""The log buffers' Delta appends, run in a child process instead of the service's own.

A flush in the service's interpreter held its GIL for ~13 ms of a ~45 ms Delta append, in
pieces of up to ~9 ms (deltalake's Python side and the Arrow stream it reads), plus ~2 ms
to open the table after it (measured beside a spinning thread on 2 busy cores). A
request answered meanwhile waited for it: that was bench_api's one-lead p99. Here the
flusher thread only serialises the rows (Arrow IPC) and waits on a pipe, which releases
the GIL; one child per service process does the append, under the same lock as before.
The rows are buffered already serialised (``serialised``, ~10-15 us a request) and sent in
chunks with a pause after each: combining a 2 s flush's ~700 one-row tables at once held
the GIL ~3 ms and freeing them another ~4-9 ms, longer than a one-lead answer.

The child is ``python -m app.api.log_writer`` (not multiprocessing's spawn, which
re-runs the service's main script in the child). It ignores SIGINT and SIGTERM: the service
flushes its buffers through it after uvicorn's shutdown, and it exits when the service
closes its stdin (or dies).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from leadops.errors import LeadOpsError, one_line
from leadops.logs import prediction_log as plog
from leadops.logs import request_log
from leadops.settings import Settings
from leadops.storage.journal import lake_lock, recover
from leadops.storage.lake import Lake
from leadops.storage.local import open_lake

log = logging.getLogger(__name__)
PREDICTION_LOG = "prediction log"
REQUEST_LOG = "request log"
# The messages to the child: a chunk of rows for a log, then "append what was sent".
ROWS, APPEND = "rows", "append"
# Buffered parts (one request's rows each) pickled per pipe write: ~100 x ~1.8 kB, ~0.05 ms
# of GIL; a flush's whole ~700 at once would be one longer step.
CHUNK_PARTS = 100
# The flusher's pause after each chunk (GIL released); 1 ms x ~7 chunks a flush is nothing
# against api_log_flush_seconds.
HANDOVER_SECONDS = 0.001


class LogWriteError(LeadOpsError):
    """A flush the writer process could not make (its reason), or the process ended."""


def append_prediction_rows(lake: Lake, rows: pa.Table, lock_timeout: float) -> None:
    """Append to the prediction log under the batch score run's lock: its undo of a failed
    run restores the log to the version before it, which must not drop online rows."""
    with lake_lock(lake, plog.WRITE_LOCK, timeout=lock_timeout):
        recover(lake, plog.WRITE_LOCK)
        plog.append_log(lake, rows)


def append_request_rows(
    lake: Lake,
    rows: pa.Table,
    lock_timeout: float,  # noqa: ARG001 (one signature for both logs)
) -> None:
    """Append to the request log (no batch run writes it: no lock)."""
    request_log.append_requests(lake, rows)


APPENDS = {PREDICTION_LOG: append_prediction_rows, REQUEST_LOG: append_request_rows}


class LogWriter:
    """The child process and the pipe to it; ``write`` is safe from several flusher threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the child now, so its imports (~1 s) overlap the model's load."""
        with self._lock:
            self._spawn()

    def write(self, what: str, parts: list[bytes], lock_timeout: float) -> None:
        """Append the rows of ``parts`` (each ``serialised``) to the log named ``what`` in one
        commit; raises LogWriteError when not written (the caller keeps them)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._spawn()
            try:
                for start in range(0, len(parts), CHUNK_PARTS):
                    send(self._process.stdin, (ROWS, what, parts[start : start + CHUNK_PARTS]))
                    # Asleep, this thread holds no GIL: a request waiting for it gets it now,
                    # not after the interpreter's 5 ms switch interval.
                    time.sleep(HANDOVER_SECONDS)
                send(self._process.stdin, (APPEND, what, lock_timeout))
                failure = receive(self._process.stdout)
            except (EOFError, OSError) as exc:
                self._stop()  # the next write starts a new one
                raise LogWriteError(f"the log writer process ended ({one_line(exc)})") from exc
        if failure is not None:
            raise LogWriteError(failure)

    def close(self, timeout: float = 10.0) -> None:
        """Close the pipe (the child exits on it) and wait for the child."""
        with self._lock:
            self._stop(timeout)

    def _spawn(self) -> None:
        # The package's own root first: a service started from a script that put it on
        # sys.path (not installed) still has a child that finds it.
        root = str(Path(__file__).resolve().parents[3])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        send(self._process.stdin, self.settings)

    def _stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for pipe in (process.stdin, process.stdout):
            with suppress(OSError):  # a child that died leaves a broken pipe: nothing to flush
                pipe.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("log writer process %d did not exit; killing it", process.pid)
            process.kill()
            process.wait()


def send(pipe: IO[bytes], message: Any) -> None:
    """One message: its pickled length, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(struct.pack("!Q", len(data)) + data)
    pipe.flush()


def receive(pipe: IO[bytes]) -> Any:
    """The next message; EOFError when the other side closed the pipe."""
    size = pipe.read(8)
    if len(size) < 8:
        raise EOFError("pipe closed")
    data = pipe.read(struct.unpack("!Q", size)[0])
    return pickle.loads(data)


def serialised(rows: pa.Table) -> bytes:
    """The rows as an Arrow IPC stream of one batch, as the service buffers them for the
    child: freeing a buffered Arrow table costs ~6 us of GIL, a flush's 700 of them at once
    ~4-9 ms (measured), as long as a one-lead answer; bytes free in nanoseconds."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as stream:
        stream.write_table(rows.combine_chunks())
    return sink.getvalue().to_pybytes()


def serve() -> None:
    """The child: keep each log's chunks of rows until told to append them, then append them
    in one commit and answer None or the one-line reason it failed (the service keeps those
    rows and sends them again at its next flush)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # On a busy host the scheduler gives a core to the requests first; a flush can wait
    # (~45 ms of CPU every api_log_flush_seconds; the buffer keeps rows meanwhile).
    os.nice(10)
    # The replies go on the real stdout; anything a library prints goes to stderr instead.
    requests, replies = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        lake = open_lake(receive(requests))
    except EOFError:
        return
    pending: dict[str, list[pa.Table]] = {}
    while True:
        try:
            kind, what, detail = receive(requests)
        except EOFError:
            return  # the service closed the pipe or died
        if kind == ROWS:
            tables = [pa.ipc.open_stream(part).read_all() for part in detail]
            pending.setdefault(what, []).extend(tables)
            continue
        try:
            rows = pa.concat_tables(pending.pop(what, [])).combine_chunks()
            APPENDS[what](lake, rows, detail)
        except Exception as exc:  # noqa: BLE001 (reported to the service, which keeps the rows)
            send(replies, one_line(exc))
        else:
            send(replies, None)


if __name__ == "__main__":
    serve()
