"""Loading a registered model version: the one loader, and the one place MLflow's URIs are set.

The score stage serves what it loads here, the monitor predicts the champion's training
reference with it, and the train stage scores the champion on the new model's test rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from leadops.errors import LeadOpsError, one_line
from leadops.models.registry import ensure_reachable

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.pyfunc import PyFuncModel

    from leadops.settings import Settings


class ModelLoadError(LeadOpsError):
    """A registered version whose artifact is missing, corrupt or not a LeadOps model."""


def use_tracking_store(settings: Settings) -> None:
    """Point MLflow's process-wide tracking and registry URIs at the configured store.

    The pyfunc loader resolves ``models:/`` URIs through these globals; setting them here,
    and only here, means no other store is ever consulted.
    """
    import mlflow

    ensure_reachable(settings.tracking_uri)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)


def load_model(settings: Settings, name: str, version: str) -> PyFuncModel:
    """One registered version's pyfunc model, by number (``models:/<name>/<version>``).

    By number, not by alias: an alias moved meanwhile cannot swap the model under a caller.

    Raises:
        ModelLoadError: one line naming the model, the version and the cause.
    """
    import mlflow.pyfunc

    use_tracking_store(settings)
    try:
        return mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    except Exception as exc:  # missing files, bad JSON, unpickling: all mean "cannot load"
        raise ModelLoadError(
            f"model {name} version {version}: artifact missing or unreadable ({one_line(exc)})"
        ) from exc


def version_scores(settings: Settings, name: str, version: str, frame: pd.DataFrame) -> np.ndarray:
    """One registered version's conversion probabilities for raw lead rows.

    A LeadOps model answers through its own ``predict_proba``, which skips MLflow's
    per-row schema checks; any other pyfunc gets only the columns it was logged with (a
    feature the contract gained since is not its input, and MLflow would warn about it).
    """
    model = load_model(settings, name, version)
    python_model = model.unwrap_python_model()
    if hasattr(python_model, "predict_proba"):
        return np.asarray(python_model.predict_proba(frame), dtype=np.float64).ravel()
    schema = model.metadata.get_input_schema()
    if schema is not None and schema.has_input_names():
        frame = frame[[name for name in schema.input_names() if name in frame.columns]]
    return np.asarray(model.predict(frame), dtype=np.float64).ravel()
