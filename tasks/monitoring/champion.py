"""The champion the monitor compares against: its version, lineage and (lazily) its model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leadops import registry
from leadops.errors import LeadOpsError
from leadops.settings import Settings


class NoChampionError(LeadOpsError):
    """Nothing to monitor against: no model holds the champion alias."""


@dataclass(frozen=True)
class Champion:
    name: str
    version: str
    model_version: Any  # mlflow ModelVersion


def current_champion(client: Any, settings: Settings) -> Champion:
    """The version holding the champion alias.

    Raises:
        NoChampionError: none registered yet.
    """
    version = registry.get_champion(client, settings.model_name)
    if version is None:
        raise NoChampionError(
            f"no champion model registered for {settings.model_name}: run `leadops train` first"
        )
    return Champion(settings.model_name, str(version.version), version)


def predictor(settings: Settings, name: str, version: str) -> Any:
    """rows → probabilities with one registered version (loaded on first call)."""

    def predict(frame: pd.DataFrame) -> np.ndarray:
        import mlflow

        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.tracking_uri)
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
        python_model = model.unwrap_python_model()
        if hasattr(python_model, "predict_proba"):  # skips MLflow's per-row schema checks
            return np.asarray(python_model.predict_proba(frame), dtype="float64")
        return np.asarray(model.predict(frame), dtype="float64")

    return predict
