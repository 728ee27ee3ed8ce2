"""Register the new model version and apply the gate, under the registry lock.

The champion is loaded from the registry and scored on the *same* test rows the
new model was evaluated on, so the comparison is like for like even when the
champion was trained on another window or with another encoder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from leadops import registry
from leadops.metrics import paired_bootstrap_auc_diff, score_metrics
from leadops.model_loader import load_model
from leadops.model_state import CHALLENGER, CHAMPION, Stage, VersionState
from leadops.settings import Settings
from leadops.storage import Lake
from leadops.transitions import Transition, record, registry_transaction
from tasks.training.gate import Decision, GateResult, decide

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromotionOutcome:
    version: str  # registry versions as strings, as MLflow's client API takes them
    gate: GateResult
    champion_version: str | None
    champion_metrics: dict[str, float] | None
    auc_diff_ci: dict[str, float] | None


def champion_scores(settings: Settings, version: str, frame: pd.DataFrame) -> np.ndarray:
    """The champion version's probabilities for raw lead rows, through its pyfunc interface."""
    model = load_model(settings, settings.model_name, version)
    return np.asarray(model.predict(frame), dtype=np.float64).ravel()


def register_and_gate(settings: Settings, lake: Lake, model_info: Any, run_id: str,
                      test_frame: pd.DataFrame, test_labels: np.ndarray, new_scores: np.ndarray,
                      new_metrics: dict[str, float], min_gain: float,
                      as_of: datetime | None = None) -> PromotionOutcome:
    """Create the version, compare with the champion, set aliases and stage tags.

    Args:
        test_frame: raw lead rows of the test window (what the champion scores).
        test_labels / new_scores / new_metrics: the new model on those rows.
        min_gain: required relative ROC-AUC gain over the champion.
        as_of: the training's evaluation time, written on the gate's history entry.
    """
    client = registry.registry_client(settings)
    name = settings.model_name
    # registry_transaction: a rollout step killed half-way is completed before we decide.
    with registry_transaction(client, lake, name):
        champion = registry.get_champion(client, name)
        champion_metrics = ci = None
        if champion is not None:
            old = champion_scores(settings, str(champion.version), test_frame)
            champion_metrics = score_metrics(test_labels, old, settings.capacity_fraction)
            ci = paired_bootstrap_auc_diff(test_labels, new_scores, old,
                                           settings.gate_bootstrap_samples, settings.seed)
        version = registry.register_version(client, name, model_info.model_uri, run_id,
                                            model_id=getattr(model_info, "model_id", None)).version
        champion_version = str(champion.version) if champion is not None else None
        gate = decide(new_metrics, champion_metrics, ci, min_gain, champion_version)
        when = (as_of or datetime.now(UTC)).isoformat()
        _apply(client, lake, name, str(version), gate, new_metrics, when)
    log.info("model %s v%s: %s (%s)", name, version, gate.decision, gate.reason)
    return PromotionOutcome(str(version), gate, champion_version, champion_metrics, ci)


def _apply(client: Any, lake: Lake, name: str, version: str, gate: GateResult,
           metrics: dict[str, float], as_of: str) -> None:
    """Aliases, then the gate's decision on the version's tags and in the rollout history
    (``leadops status`` lists it); no new evidence window (``new_step=False``), as before."""
    if gate.decision == Decision.CHAMPION:
        registry.move_alias(client, name, CHAMPION, version)
    elif gate.decision == Decision.CHALLENGER:
        previous = registry.get_challenger(client, name)
        if previous is not None and str(previous.version) != version:
            was = VersionState.from_version(previous)
            old = Transition(str(previous.version), Stage.ARCHIVED, 0.0,
                             f"superseded by challenger v{version}", as_of, was.stage, was.fraction)
            record(client, lake, name, old, new_step=False)
        registry.move_alias(client, name, CHALLENGER, version)
    decided = Transition(version, gate.stage, gate.fraction, gate.reason, as_of,
                         metrics=metrics)
    record(client, lake, name, decided, new_step=False)
