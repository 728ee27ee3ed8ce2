"""The Dask path on a LocalCluster of 2 workers: same search, same scores as the local runner."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import optuna
import pandas as pd
import pytest

from leadops.logs import prediction_log as plog
from leadops.runners import DaskError, dask_client, task_runner, worker_count
from leadops.settings import Settings
from leadops.storage import tables
from leadops.storage.local import LocalLake
from tasks.scoring.batch import RunOptions, run_score
from tasks.scoring.scorer import ServingSet
from tasks.training import search as S
from tests.support.scoring import (
    contract,
    serving_model,
    train_tiny,
    typed_week,
    write_crm,
    write_silver,
)

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)
C = contract()


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of 2 worker processes for the module (starting one costs seconds)."""
    with dask_client(None, workers=2) as client:
        assert worker_count(client) == 2
        yield client


def _config(tmp_path: Path, name: str, **kwargs: object) -> S.SearchConfig:
    defaults = {"trials": 4, "max_rounds": 60, "seed": 7}
    return S.SearchConfig(
        study_name=name,
        storage_uri=f"journal:{tmp_path / 'optuna' / 'journal.log'}",
        **{**defaults, **kwargs},
    )


def test_two_dask_workers_share_one_study_and_record_every_trial_once(
    tmp_path, search_data, cluster
) -> None:
    config = _config(
        tmp_path,
        "on-dask",
        trials=6,
        workers=2,
        runner="dask",
        dask_address=cluster.scheduler.address,
    )
    result = S.run_search(*search_data, config)
    assert sorted(result.trials["number"]) == list(range(6)) and sum(result.counts.values()) == 6
    stored = optuna.load_study(study_name="on-dask", storage=S.open_storage(config.storage_uri))
    assert len(stored.trials) == 6 and len({t.number for t in stored.trials}) == 6


def test_one_share_on_dask_is_the_same_search_as_in_process(tmp_path, search_data, cluster) -> None:
    local = S.run_search(*search_data, _config(tmp_path, "local"))
    remote = S.run_search(
        *search_data,
        _config(tmp_path, "remote", runner="dask", dask_address=cluster.scheduler.address),
    )
    assert remote.best_params == local.best_params and remote.best_value == local.best_value
    assert remote.trials["state"].tolist() == local.trials["state"].tolist()


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory):
    folder = write_crm(tmp_path_factory.mktemp("crm"))
    week1 = typed_week(folder, 1)
    champion = train_tiny(week1, rounds=15, depth=3, seed=0)
    challenger = train_tiny(week1, rounds=25, depth=4, seed=1)
    serving = ServingSet(
        serving_model(*champion, version="1"),
        serving_model(*challenger, version="2", role="challenger", stage="canary", fraction=0.3),
    )
    return week1, serving


def _score(tmp_path: Path, crm, name: str, client=None, fmt: str = "parquet"):
    lake = LocalLake(tmp_path / name)
    write_silver(lake, [crm[0]])
    options = RunOptions(scored_at=AS_OF, reasons_mode="exact", output_format=fmt)
    # 400-lead partitions: a few per worker, the last one short
    return lake, run_score(lake, C, crm[1], options, 1000 if client is None else 400, client=client)


def _sorted(frame: pd.DataFrame, *keys: str) -> pd.DataFrame:
    return frame.sort_values(list(keys)).reset_index(drop=True)


def test_dask_scoring_gives_the_same_rows_scores_and_log(tmp_path, crm, cluster) -> None:
    local_lake, local = _score(tmp_path, crm, "local")
    dask_lake, remote = _score(tmp_path, crm, "dask", cluster)
    assert (remote.rows, remote.log_rows, remote.arms) == (local.rows, local.log_rows, local.arms)
    parts = sorted(p.name for p in Path(remote.output).iterdir())
    assert parts == [f"part-{i:05d}.parquet" for i in range(len(parts))] and len(parts) > 2
    expected = _sorted(pd.read_parquet(local.output), C.entity_id)
    got = _sorted(pd.read_parquet(remote.output), C.entity_id)
    pd.testing.assert_frame_equal(got, expected)  # same scores, deciles, tiers, reasons
    keys = (plog.ENTITY_ID, plog.MODEL_VERSION)
    pd.testing.assert_frame_equal(
        _sorted(dask_lake.read_table(tables.PREDICTION_LOG), *keys),
        _sorted(local_lake.read_table(tables.PREDICTION_LOG), *keys),
    )
    assert not list(Path(remote.output).parent.glob(".tmp-scores-*"))  # no staging left behind
    rerun = run_score(
        dask_lake, C, crm[1], RunOptions(scored_at=AS_OF, reasons_mode="exact"), 400, client=cluster
    )
    assert rerun.rows == 0 and rerun.skipped


def test_csv_partitions_on_dask(tmp_path, crm, cluster) -> None:
    _, remote = _score(tmp_path, crm, "csv", cluster, fmt="csv")
    frame = pd.concat(pd.read_csv(p) for p in sorted(Path(remote.output).glob("part-*.csv")))
    assert len(frame) == remote.rows == crm[0].num_rows and frame[C.entity_id].is_unique


def test_an_unreachable_scheduler_is_one_clear_line(tmp_path) -> None:
    from app.servers.servers import free_port

    with (
        pytest.raises(
            DaskError, match=r"dask scheduler tcp://127.0.0.1:\d+: cannot connect"
        ) as info,
        dask_client(f"tcp://127.0.0.1:{free_port()}", timeout=2),
    ):
        pass
    assert "\n" not in str(info.value)


def test_the_setting_selects_the_prefect_task_runner(tmp_path) -> None:
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    base = Settings(home=tmp_path)
    assert isinstance(task_runner(base), ThreadPoolTaskRunner)
    local = task_runner(base.model_copy(update={"task_runner": "dask", "dask_workers": 3}))
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 3
    remote = task_runner(
        base.model_copy(update={"task_runner": "dask", "dask_address": "tcp://10.0.0.5:8786"})
    )
    assert remote.address == "tcp://10.0.0.5:8786"
