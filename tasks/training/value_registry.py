"""Register a deal-value model version under ``<model name>-value`` and apply its gate.

The first value model must beat the plain baseline (median per segment) to become the
champion; a later one must pass against the value champion on the same won test deals to
become the challenger (stage shadow). The writes are one journaled commit under the
registry lock, as the conversion gate's are; they stay off the rollout history, which is
the conversion model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from leadops.decisions.value_gate import judge_value, value_scores
from leadops.models import registry
from leadops.models.model_state import CHALLENGER, CHAMPION, STAGE_SINCE_TAG, Stage, stage_tags
from leadops.models.transitions import commit, registry_transaction
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.training.value_training import ValueCandidate

ARCHIVED = "archived"


@dataclass(frozen=True)
class ValueOutcome:
    """What a training did about the value model: its version and decision, or why none."""

    decision: str  # champion, challenger, archived, or "not trained"
    reason: str
    version: str | None = None
    objective: str | None = None
    metrics: dict[str, float] | None = None

    def line(self) -> str:
        if self.version is None:
            return self.reason
        return f"value model v{self.version} ({self.objective}) → {self.decision}: {self.reason}"


def register_value(
    settings: Settings,
    lake: Lake,
    model_info: Any,
    run_id: str,
    candidate: ValueCandidate,
    test_deals: pd.DataFrame,
    as_of: datetime,
) -> ValueOutcome:
    """Create the version, judge it on ``test_deals`` (the won test rows), record it."""
    client = registry.registry_client(settings)
    name = registry.value_model_name(settings.model_name)
    with registry_transaction(client, lake):
        champion = registry.get_champion(client, name)
        if champion is None:
            segment = f"median per {candidate.segment}" if candidate.segment else "one median"
            old, versus = candidate.baseline, f"baseline ({segment})"
        else:
            old = value_scores(settings, name, str(champion.version), test_deals)
            versus = f"value champion v{champion.version}"
        verdict = judge_value(
            candidate.test_amounts,
            candidate.predicted,
            old,
            versus,
            settings.value_gini_margin,
            settings.gate_bootstrap_samples,
            settings.seed,
        )
        version = registry.register_version(
            client,
            name,
            model_info.model_uri,
            run_id,
            model_id=getattr(model_info, "model_id", None),
        ).version
        version = str(version)
        decision = ARCHIVED if not verdict.passed else CHAMPION if champion is None else CHALLENGER
        metrics = {**candidate.metrics, "gini_diff_ci_low": verdict.gini.low}
        ops = _decision_ops(client, name, version, decision, verdict.reason, metrics, as_of)
        commit(client, lake, name, ops)
    return ValueOutcome(decision, verdict.reason, version, candidate.objective, candidate.metrics)


def _decision_ops(
    client: Any,
    name: str,
    version: str,
    decision: str,
    reason: str,
    metrics: dict[str, float],
    as_of: datetime,
) -> list[list]:
    stage = {CHAMPION: Stage.PRODUCTION, CHALLENGER: Stage.SHADOW}.get(decision, Stage.ARCHIVED)
    fraction = 1.0 if stage == Stage.PRODUCTION else 0.0
    ops: list[list] = []
    if decision == CHALLENGER:  # one challenger at a time: the one it replaces is archived
        previous = registry.get_challenger(client, name)
        if previous is not None and str(previous.version) != version:
            gone = stage_tags(Stage.ARCHIVED, 0.0, f"superseded by value challenger v{version}")
            ops += [["tag", str(previous.version), k, v] for k, v in gone.items()]
    tags = {**stage_tags(stage, fraction, reason, metrics), STAGE_SINCE_TAG: as_of.isoformat()}
    ops += [["tag", version, key, value] for key, value in tags.items()]
    if decision in (CHAMPION, CHALLENGER):
        ops.append(["alias", decision, version])
    return ops
