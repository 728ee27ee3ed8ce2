"""The log buffers' Delta appends, run in a child process instead of the service's own.

A flush in the service's interpreter held its GIL for ~13 ms of a ~45 ms Delta append, in
pieces of up to ~9 ms (deltalake's Python side and the Arrow stream it reads), plus ~2 ms
to open the table after it (measured beside a spinning thread on 2 busy cores). A
request answered meanwhile waited for it: that was bench_api's one-lead p99. Here the
flusher thread only serialises the rows (Arrow IPC) and waits on a pipe, which releases
the GIL; one child per service process does the append, under the same lock as before.

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


class LogWriteError(LeadOpsError):
    """A flush the writer process could not make (its reason), or the process ended."""


def append_prediction_rows(lake: Lake, rows: pa.Table, lock_timeout: float) -> None:
    """Append to the prediction log under the batch score run's lock: its undo of a failed
    run restores the log to the version before it, which must not drop online rows."""
    with lake_lock(lake, plog.WRITE_LOCK, timeout=lock_timeout):
        recover(lake, plog.WRITE_LOCK)
        plog.append_log(lake, rows)


def append_request_rows(lake: Lake, rows: pa.Table, lock_timeout: float) -> None:
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

    def write(self, what: str, rows: pa.Table, lock_timeout: float) -> None:
        """Append ``rows`` to the log named ``what``; raises LogWriteError when not written."""
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, rows.schema) as stream:
            # One batch, not one per answered request: a tenth of the bytes, and the
            # child's Parquet writer gets one row group.
            stream.write_table(rows.combine_chunks())
        payload = sink.getvalue().to_pybytes()
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._spawn()
            try:
                send(self._process.stdin, (what, lock_timeout, payload))
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
            try:
                pipe.close()
            except OSError:
                pass  # a child that died leaves a broken pipe: nothing to flush
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


def serve() -> None:
    """The child: append each (log, lock timeout, Arrow IPC rows) it is sent; answer None or
    the one-line reason it failed, so the service keeps those rows for its next flush."""
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
    while True:
        try:
            what, lock_timeout, payload = receive(requests)
        except EOFError:
            return  # the service closed the pipe or died
        try:
            rows = pa.ipc.open_stream(payload).read_all()
            APPENDS[what](lake, rows, lock_timeout)
        except Exception as exc:  # noqa: BLE001 (reported to the service, which keeps the rows)
            send(replies, one_line(exc))
        else:
            send(replies, None)


if __name__ == "__main__":
    serve()
