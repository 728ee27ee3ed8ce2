"""The lake behaves the same on a local folder and on a real S3 HTTP endpoint."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from leadops.settings import Settings
from leadops.storage.lake import Lake, StorageError
from leadops.storage.local import LocalLake, open_lake
from leadops.storage.table_stream import append_batches


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    if request.param == "local":
        return LocalLake(tmp_path / "lake")
    bucket = request.getfixturevalue("s3_bucket")
    settings = Settings(home=tmp_path, lake_root=f"s3://{bucket}/lake")
    return open_lake(settings)


def test_files_round_trip_and_list(lake: Lake) -> None:
    lake.write_bytes("landing/a.csv", b"id\n1\n")
    lake.write_bytes("landing/sub/b.csv", b"id\n2\n")
    lake.write_bytes("reports/r.html", b"<html/>")
    assert lake.exists("landing/a.csv")
    assert not lake.exists("landing/missing.csv")
    assert lake.list("landing") == ["landing/a.csv", "landing/sub/b.csv"]
    assert lake.read_bytes("landing/sub/b.csv") == b"id\n2\n"
    with lake.open_read("landing/a.csv") as stream:
        assert stream.read() == b"id\n1\n"


def test_missing_file_is_one_clear_error(lake: Lake) -> None:
    with pytest.raises(StorageError, match="nope.csv"):
        lake.read_bytes("nope.csv")


@pytest.mark.parametrize("key", ["../escape.csv", "/etc/passwd", "a/../../b"])
def test_keys_cannot_leave_the_lake(lake: Lake, key: str) -> None:
    with pytest.raises(StorageError, match="inside the lake"):
        lake.write_bytes(key, b"x")


def test_tables_append_atomically_with_versions(lake: Lake) -> None:
    assert lake.table_version("silver/leads") is None
    assert lake.read_table("silver/leads").empty
    v0 = lake.append_table("silver/leads", pd.DataFrame({"lead_id": ["a", "b"], "x": [1, 2]}))
    v1 = lake.append_table("silver/leads", pd.DataFrame({"lead_id": ["c"], "x": [3]}))
    assert (v0, v1) == (0, 1)
    frame = lake.read_table("silver/leads")
    assert sorted(frame["lead_id"]) == ["a", "b", "c"]
    picked = lake.read_table("silver/leads", columns=["lead_id"], filters=[("x", ">=", 2)])
    assert sorted(picked["lead_id"]) == ["b", "c"]


def test_a_stream_of_batches_is_appended_in_one_commit_of_bounded_files(lake: Lake) -> None:
    schema = pa.schema([("lead_id", pa.string()), ("x", pa.int64())])

    def batches(start: int, count: int):
        for first in range(start, start + count, 3):
            ids = range(first, min(first + 3, start + count))
            yield pa.record_batch(
                [pa.array([f"L{i}" for i in ids]), pa.array(list(ids))], schema=schema
            )

    assert append_batches(lake, "gold/leads", schema, iter([])) is None
    assert not lake.table_exists("gold/leads")  # nothing to add: no table, no commit
    assert append_batches(lake, "gold/leads", schema, batches(0, 10), rows_per_file=4) == 0
    assert append_batches(lake, "gold/leads", schema, batches(10, 5), rows_per_file=4) == 1
    table = DeltaTable(lake.table_uri("gold/leads"), storage_options=lake.storage_options)
    assert len(table.file_uris()) == 3  # a file closes once it holds 4 rows or more: 6 + 4, then 5
    assert sorted(lake.read_table("gold/leads")["x"]) == list(range(15))
    assert table.history(1)[0]["operation"] == "WRITE"


def test_local_write_is_atomic_under_concurrent_reads(tmp_path: Path) -> None:
    """A reader only ever sees a whole old or a whole new file, never a part."""
    lake = LocalLake(tmp_path)
    old, new = b"a" * 2_000_000, b"b" * 3_000_000
    lake.write_bytes("big.bin", old)
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(len(lake.read_bytes("big.bin")))

    thread = threading.Thread(target=reader)
    thread.start()
    for _ in range(20):
        lake.write_bytes("big.bin", new)
        lake.write_bytes("big.bin", old)
    stop.set()
    thread.join()
    assert seen <= {len(old), len(new)}
    assert lake.list() == ["big.bin"]  # no temp files left behind


def test_failed_local_write_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = LocalLake(tmp_path)
    lake.write_bytes("m.json", b"old")

    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        lake.write_bytes("m.json", b"new")
    assert lake.read_bytes("m.json") == b"old"
    assert lake.list() == ["m.json"]


def test_try_create_is_exclusive(lake: Lake) -> None:
    assert lake.try_create("_locks/x.lock", b"1")
    assert not lake.try_create("_locks/x.lock", b"2")
    assert lake.read_bytes("_locks/x.lock") == b"1"
    lake.delete("_locks/x.lock")
    assert lake.try_create("_locks/x.lock", b"3")
