"""A run that dies between table commits is undone by the next run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadops.journal import LockTimeout, lake_lock, lake_transaction, recover
from leadops.storage import Lake, LocalLake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return LocalLake(tmp_path / "lake")


def rows(*ids: str) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": list(ids)})


def test_exception_mid_run_restores_every_table(lake: Lake) -> None:
    lake.append_table("a", rows("1"))
    with pytest.raises(RuntimeError):
        with lake_transaction(lake, "ingest", ["a", "b"]):
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
    with lake_lock(lake, "score"):
        with pytest.raises(LockTimeout, match="lock score"):
            with lake_lock(lake, "score", timeout=0.3):
                pass
    with lake_lock(lake, "score", timeout=0.3):
        pass
