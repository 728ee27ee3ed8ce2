"""PostgreSQL behind every shared store: the MLflow backend, the Optuna study (with its
trials on 2 Dask workers) and the Prefect server, on one loopback cluster started here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.postgres import Unavailable, postgres
from tests.support.prefect_api import post

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def databases():
    try:
        with postgres(("mlflow", "optuna", "prefect")) as urls:
            yield urls
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")


def test_optuna_study_on_postgres_shared_by_two_dask_workers(tmp_path: Path, databases) -> None:
    import optuna

    from tasks.training import search as S
    from tasks.training.dataset import time_series_folds

    rng = np.random.default_rng(0)
    features = rng.normal(size=(1200, 6)).astype(np.float32)
    labels = (rng.random(1200) < 1 / (1 + np.exp(-(2 * features[:, 0] - 1.5)))).astype(int)
    storage = databases["optuna"]  # a plain postgresql:// URL, as the README writes it
    config = S.SearchConfig(
        study_name="pg-study",
        storage_uri=storage,
        seed=3,
        trials=6,
        max_rounds=40,
        workers=2,
        runner="dask",
    )
    result = S.run_search(features, labels, time_series_folds(labels, 3), config)
    stored = optuna.load_study(study_name="pg-study", storage=storage)
    assert (
        sorted(t.number for t in stored.trials) == list(range(6)) == sorted(result.trials["number"])
    )


def test_mlflow_server_on_postgres(tmp_path: Path, databases) -> None:
    from mlflow import MlflowClient

    from app.servers.servers import mlflow_server

    # A plain postgresql:// URL, as the README writes it: SQLAlchemy 2.1 picks psycopg 3 (locked)
    backend = databases["mlflow"]
    with mlflow_server(backend, str(tmp_path / "artifacts"), tmp_path / "mlflow.log") as url:
        client = MlflowClient(tracking_uri=url)
        experiment = client.create_experiment("pg-check")
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "roc_auc", 0.81)
        client.set_terminated(run.info.run_id)
        assert client.get_run(run.info.run_id).data.metrics == {"roc_auc": 0.81}
    import psycopg2

    with psycopg2.connect(databases["mlflow"]) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT value FROM metrics WHERE key = 'roc_auc'")
        assert cursor.fetchall() == [(0.81,)]


def test_prefect_server_on_postgres_records_a_flow_run(settings, databases) -> None:
    from app.servers.servers import prefect_server

    env_url = databases["prefect"].replace("postgresql://", "postgresql+asyncpg://")
    os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = env_url
    try:
        with prefect_server(settings) as api:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
            env.update(PREFECT_API_URL=api, PREFECT_HOME=str(settings.home / "prefect-client"))
            code = (
                "from prefect import flow\n@flow(name='pg-probe')\n"
                "def probe():\n    return 1\nprobe()\n"
            )
            subprocess.run(
                [sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=120
            )
            runs = post(api, "/flow_runs/filter", {"limit": 10, "offset": 0})
            assert [(r["name"] is not None, r["state_type"]) for r in runs] == [(True, "COMPLETED")]
    finally:
        del os.environ["PREFECT_API_DATABASE_CONNECTION_URL"]
    import psycopg2

    with psycopg2.connect(databases["prefect"]) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM flow_run")
        assert cursor.fetchone() == (1,)
