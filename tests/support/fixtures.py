"""Fixtures every test layer may ask for by name (loaded by tests/conftest.py).

``home`` and ``settings`` (an isolated LEADOPS_HOME) and the loopback S3 endpoint live in
tests/conftest.py itself; these build on them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from leadops.settings import Settings
from leadops.storage.lake import Lake
from leadops.storage.local import open_lake
from tests.support.ingest import AS_OF, CONTRACT


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated MLflow SQLite database: creating one costs 5-15 s, copying it ~0."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_registered_models()
    return path


@pytest.fixture
def registry_db(settings: Settings, mlflow_template: Path) -> Path:
    """The settings' tracking database, started from the migrated template."""
    target = Path(settings.home) / "mlflow.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(mlflow_template, target)
    return target


@pytest.fixture
def lake(settings: Settings) -> Lake:
    """The settings' lake (a folder under the test's LEADOPS_HOME)."""
    return open_lake(settings)


@pytest.fixture
def ingest(settings: Settings, lake: Lake) -> Callable[..., Any]:
    """Ingest files into ``lake`` with the plain ingest function; checks rows add up."""
    from tasks.ingest import IngestResult, ingest_files

    def run(
        *paths: Path | str, kind: str = "leads", as_of: datetime = AS_OF, **kwargs: Any
    ) -> IngestResult:
        result = ingest_files(
            settings, lake, CONTRACT, list(paths), kind=kind, as_of=as_of, **kwargs
        )
        assert result.total("rows_in") == (
            result.total("silver") + result.total("quarantined") + result.total("duplicates")
        )
        return result

    return run


@pytest.fixture(scope="session")
def search_data() -> tuple[np.ndarray, np.ndarray, list]:
    """Seeded features and labels with a learnable signal, and their time-series folds."""
    from tasks.training.dataset import time_series_folds

    rng = np.random.default_rng(0)
    features = rng.normal(size=(1500, 8)).astype(np.float32)
    logit = 1.5 * features[:, 0] - features[:, 1] + 0.8 * features[:, 2] * features[:, 3] - 2.0
    labels = (rng.random(1500) < 1 / (1 + np.exp(-logit))).astype(int)
    return features, labels, time_series_folds(labels, 3)
