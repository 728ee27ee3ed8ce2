"""The scoring service's log flushes run in the log writer process, not the service's own
interpreter (a Delta append there held the GIL the requests are answered with: bench_api's
one-lead p99), and still lose no answered row."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from app.api.log_buffer import LogBuffer
from app.api.log_writer import LogWriter
from leadops.logs import prediction_log as plog
from leadops.logs import request_log
from leadops.settings import Settings
from leadops.storage import tables
from leadops.storage.local import open_lake
from leadops.storage.locks import lake_lock

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def answered(ids: list[str]) -> pa.Table:
    """Prediction-log rows as the service logs one served lead each."""
    n = len(ids)
    return plog.log_rows(
        plog.LogContext("online", NOW, "leads"),
        pa.array(ids),
        pa.array([NOW] * n, plog.UTC_TIME),
        "1",
        "champion",
        "production",
        np.array(["champion"] * n),
        np.ones(n, bool),
        np.linspace(0.1, 0.9, n),
    )


def logged_ids(lake) -> list[str]:
    from deltalake import DeltaTable

    rows = DeltaTable(lake.table_uri(tables.PREDICTION_LOG)).to_pyarrow_table()
    return sorted(rows.column(plog.ENTITY_ID).to_pylist())


@pytest.fixture
def service(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    lake, writer = open_lake(settings), LogWriter(settings)
    writer.start()
    yield lake, writer, LogBuffer(lake, 60, 10_000, writer=writer)
    writer.close()


def test_a_flush_appends_in_the_writer_process_never_in_the_service(
    service, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, writer, buffer = service

    def in_the_service(*args, **kwargs):
        raise AssertionError("the service's own interpreter ran a Delta append")

    monkeypatch.setattr("deltalake.write_deltalake", in_the_service)
    buffer.add(answered(["L1", "L2"]))
    buffer.add(answered(["L3"]))
    assert buffer.flush() == 3 and buffer.pending_rows == 0
    assert writer.pid is not None and writer.pid != os.getpid()
    assert logged_ids(lake) == ["L1", "L2", "L3"]
    # The request log goes the same way.
    requests = LogBuffer.for_requests(lake, 60, 10_000, writer)
    requests.add(request_log.request_rows("r1", NOW, 200, 2.5, ["champion"]))
    assert requests.flush() == 1


def test_a_batch_run_holding_the_log_keeps_the_rows_with_the_reason(service) -> None:
    lake, _, buffer = service
    buffer.add(answered(["L1"]))
    with lake_lock(lake, plog.WRITE_LOCK):
        assert buffer.flush(lock_timeout=0.2) == 0
    assert buffer.pending_rows == 1 and "lock" in buffer.last_error
    buffer.close()
    assert logged_ids(lake) == ["L1"] and buffer.last_error is None


def test_a_writer_process_that_died_is_replaced_and_no_row_is_lost(service) -> None:
    lake, writer, buffer = service
    first = writer.pid
    buffer.add(answered(["L1"]))
    assert buffer.flush() == 1
    os.kill(first, signal.SIGKILL)
    writer._process.wait(10)
    buffer.add(answered(["L2"]))
    buffer.close()  # as at SIGTERM: what is buffered is written before the service exits
    assert logged_ids(lake) == ["L1", "L2"]
    assert writer.pid not in (None, first)


def test_the_writer_process_outlives_a_sigterm_to_the_group_until_the_pipe_closes(
    service,
) -> None:
    """systemd and Ctrl-C signal the whole process group: the service's flush at shutdown
    still needs its writer."""
    lake, writer, buffer = service
    buffer.add(answered(["L1"]))
    assert buffer.flush() == 1  # the child is up and serving
    os.kill(writer.pid, signal.SIGTERM)
    os.kill(writer.pid, signal.SIGINT)
    buffer.add(answered(["L2"]))
    pid = writer.pid
    assert buffer.flush() == 1 and writer.pid == pid
    process = writer._process
    writer.close()
    assert process.poll() == 0
    assert logged_ids(lake) == ["L1", "L2"]


def longest_wait_during(flush) -> float:
    """The longest a thread waking every 0.2 ms waited for the interpreter while ``flush``
    ran, in ms: what a request landing during a flush waits on top of its own work."""
    waits: list[float] = []
    done = threading.Event()

    def waker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.0002)
            now = time.perf_counter()
            waits.append(now - last)
            last = now

    thread = threading.Thread(target=waker)
    thread.start()
    time.sleep(0.01)
    waits.clear()
    try:
        flush()
    finally:
        done.set()
        thread.join()
    return 1000 * max(waits)


def test_a_flush_of_many_answers_never_holds_the_interpreter_as_long_as_an_answer(
    service,
) -> None:
    """bench_api's one-lead p99 (within 2x its p50 of ~3 ms): combining and freeing 5,000
    one-request tables in the service held its GIL for tens of ms. Best of three flushes,
    so a host busy with other work does not decide it."""
    lake, _, buffer = service
    longest = []
    for flush in range(3):
        for lead in range(5_000):
            buffer.add(answered([f"F{flush}-{lead}"]))
        longest.append(longest_wait_during(buffer.flush))
        assert buffer.pending_rows == 0
    assert min(longest) < 10, f"a request would have waited {min(longest):.1f} ms"
    assert len(logged_ids(lake)) == 15_000
