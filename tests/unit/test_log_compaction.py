"""The prediction and request logs do not grow a file per flush forever."""

from __future__ import annotations

import pyarrow as pa

from leadops.logs.log_compaction import compact_logs
from leadops.storage import tables
from leadops.storage.local import LocalLake


def flushes(lake: LocalLake, name: str, count: int, rows: int = 5) -> pa.Table:
    for i in range(count):
        ids = [f"L{i}-{j}" for j in range(rows)]
        lake.append_table(name, pa.table({"lead_id": ids, "score": [0.1 * j for j in range(rows)]}))
    return lake.read_table(name).sort_values("lead_id").reset_index(drop=True)


def test_many_small_flushes_are_merged_with_every_row_kept(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    before = {
        name: flushes(lake, name, 40) for name in (tables.PREDICTION_LOG, tables.API_REQUESTS)
    }
    done = compact_logs(lake, min_files=32)
    assert set(done) == {tables.PREDICTION_LOG, tables.API_REQUESTS}
    for name, (files_before, files_after) in done.items():
        assert files_before == 40 and files_after == 1
        after = lake.read_table(name).sort_values("lead_id").reset_index(drop=True)
        assert after.equals(before[name])
    # An earlier version stays readable (a batch run's undo restores one).
    from deltalake import DeltaTable

    old = DeltaTable(lake.table_uri(tables.PREDICTION_LOG), version=10).to_pyarrow_table()
    assert old.num_rows == 11 * 5


def test_a_log_with_few_files_is_left_alone(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    flushes(lake, tables.PREDICTION_LOG, 3)
    version = lake.table_version(tables.PREDICTION_LOG)
    assert compact_logs(lake, min_files=32) == {}
    assert lake.table_version(tables.PREDICTION_LOG) == version
