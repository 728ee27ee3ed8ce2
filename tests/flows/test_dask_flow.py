"""The score flow on a DaskTaskRunner (LEADOPS_TASK_RUNNER=dask):
the same leads and scores as locally."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from leadops.settings import get_settings
from leadops.storage import tables
from leadops.storage.local import open_lake
from tests.support.models import register
from tests.support.scoring import train_tiny, typed_week, write_crm, write_silver

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)


def _score_in(home: Path, monkeypatch, crm_folder: Path, runner: str) -> tuple[dict, pd.DataFrame]:
    from flows.score import score
    from leadops.runners import with_task_runner

    monkeypatch.setenv("LEADOPS_HOME", str(home))
    monkeypatch.setenv("LEADOPS_TASK_RUNNER", runner)
    monkeypatch.setenv("LEADOPS_DASK_WORKERS", "2")
    get_settings.cache_clear()
    settings = get_settings()
    week = typed_week(crm_folder, 1)
    write_silver(open_lake(settings), [week])
    register(settings, *train_tiny(week, rounds=10, seed=0))
    flow = with_task_runner(score, settings)
    if runner == "dask":
        assert type(flow.task_runner).__name__ == "DaskTaskRunner"
    result = flow(as_of=AS_OF)
    log = open_lake(settings).read_table(tables.PREDICTION_LOG)
    return result, log.sort_values("entity_id").reset_index(drop=True)


@pytest.mark.slow
def test_score_flow_on_a_dask_task_runner_matches_the_local_runner(tmp_path, monkeypatch) -> None:
    crm_folder = write_crm(tmp_path / "crm")
    local, local_log = _score_in(tmp_path / "local", monkeypatch, crm_folder, "thread")
    dask, dask_log = _score_in(tmp_path / "dask", monkeypatch, crm_folder, "dask")
    assert dask.rows == local.rows > 0 and dask.arms == local.arms
    assert dask_log["entity_id"].tolist() == local_log["entity_id"].tolist()
    pd.testing.assert_series_equal(dask_log["score"], local_log["score"])
    out = pd.read_parquet(dask.output).sort_values("lead_id").reset_index(drop=True)
    assert len(out) == local.rows and set(out.columns) >= {
        "lead_id",
        "score",
        "decile",
        "reason_1",
    }
    get_settings.cache_clear()
