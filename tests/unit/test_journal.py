"""A run that dies between table commits is undone by the next run."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from leadops.settings import get_settings
from leadops.storage.journal import LockTimeout, lake_lock, lake_transaction, recover
from leadops.storage.lake import Lake
from leadops.storage.local import LocalLake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return LocalLake(tmp_path / "lake")


def rows(*ids: str) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": list(ids)})


def test_exception_mid_run_restores_every_table(lake: Lake) -> None:
    lake.append_table("a", rows("1"))
    with pytest.raises(RuntimeError), lake_transaction(lake, "ingest", ["a", "b"]):
        lake.append_table("a", rows("2"))
        lake.append_table("b", rows("x"))
        raise RuntimeError("crash")
    assert list(lake.read_table("a")["lead_id"]) == ["1"]
    assert lake.read_table("b").empty


def test_killed_run_is_undone_by_next_run(lake: Lake) -> None:
    """Simulate kill -9: the journal stays, nothing cleans up in-process."""
    lake.append_table("a", rows("1"))
    transaction = lake_transaction(lake, "ingest", ["a"])
    transaction.__enter__()
    lake.append_table("a", rows("2"))
    lake.delete("_locks/ingest.lock")  # the dead process's lock, released by the OS/takeover
    assert recover(lake, "ingest") == ["a"]
    assert list(lake.read_table("a")["lead_id"]) == ["1"]
    with lake_transaction(lake, "ingest", ["a"]):
        lake.append_table("a", rows("3"))
    assert sorted(lake.read_table("a")["lead_id"]) == ["1", "3"]


def test_lock_is_exclusive(lake: Lake) -> None:
    with (
        lake_lock(lake, "score"),
        pytest.raises(LockTimeout, match="lock score"),
        lake_lock(lake, "score", timeout=0.3),
    ):
        pass
    with lake_lock(lake, "score", timeout=0.3):
        pass


# -- a lock held on another host ------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def any_lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    if request.param == "local":
        return LocalLake(tmp_path / "lake")
    from leadops.storage.s3 import S3Lake

    bucket = request.getfixturevalue("s3_bucket")
    return S3Lake(f"s3://{bucket}/lake", endpoint_url=os.environ["LEADOPS_S3_ENDPOINT_URL"])


def other_host_lock(lake: Lake, name: str) -> None:
    """The lock a process on another machine took and never released (it was killed)."""
    body = {
        "taken": time.time(),
        "host": "worker-7.elsewhere",
        "pid": 4242,
        "token": "x",
        "beat": 3,
    }
    assert lake.try_create(f"_locks/{name}.lock", json.dumps(body).encode())


def test_lock_of_a_dead_process_on_another_host_is_taken_over_after_the_stale_period(
    any_lake: Lake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LEADOPS_LOCK_STALE_SECONDS", "1")
    get_settings.cache_clear()
    other_host_lock(any_lake, "score")
    try:
        with lake_lock(any_lake, "score", timeout=30):  # the configured stale period, not an hour
            body = json.loads(any_lake.read_bytes("_locks/score.lock"))
            assert body["host"] == socket.gethostname()
    finally:
        get_settings.cache_clear()
    assert "taking over a stale lock (held by pid 4242 on worker-7.elsewhere)" in caplog.text
    assert not any_lake.exists("_locks/score.lock")


def test_a_live_holder_keeps_its_lock_past_the_stale_period(any_lake: Lake) -> None:
    """Its heartbeat shows it is alive: a waiter times out instead of taking the lock."""
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with lake_lock(any_lake, "train", stale_after=0.6, heartbeat=0.1):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(30)
        # Waits well past the stale period (0.6 s) while the holder beats.
        with (
            pytest.raises(LockTimeout, match="lock train"),
            lake_lock(any_lake, "train", timeout=2.5, stale_after=0.6, heartbeat=0.1),
        ):
            pass
    finally:
        release.set()
        thread.join()
    with lake_lock(any_lake, "train", timeout=5, stale_after=0.6):  # released normally
        pass
