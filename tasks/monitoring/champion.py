"""The champion the monitor compares against: its version, lineage and (lazily) its model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from leadops.models import registry
from leadops.models.model_loader import version_scores
from leadops.settings import Settings
from tasks.monitoring.ranking import RankingBaseline


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
    version = registry.require_champion(client, settings.model_name)
    return Champion(settings.model_name, str(version.version), version)


def predictor(settings: Settings, name: str, version: str) -> Callable[[pd.DataFrame], np.ndarray]:
    """rows → probabilities with one registered version (loaded when called)."""
    return partial(version_scores, settings, name, version)


def ranking_baseline(client: Any, model_version: Any) -> RankingBaseline | None:
    """The champion's test-window AUC and its leads, as its training run logged them
    (metrics test_roc_auc, test_base_rate; param test_rows); None when not recorded."""
    if not getattr(model_version, "run_id", None):
        return None
    try:
        run = client.get_run(model_version.run_id)
        metrics, params = run.data.metrics, run.data.params
        leads = int(params["test_rows"])
        auc, rate = float(metrics["test_roc_auc"]), float(metrics["test_base_rate"])
    except (KeyError, ValueError, TypeError):
        return None
    return RankingBaseline(auc, leads, round(rate * leads))
