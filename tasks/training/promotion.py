"""Register the new model version and apply the gate, under the registry lock.

The champion is loaded from the registry and scored on the *same* test rows the
new model was evaluated on, so the comparison is like for like even when the
champion was trained on another window or with another encoder. The intervals are
paired bootstraps (``leadops.decisions.stats.paired_bootstrap``, >= 1,000 resamples). A
challenger already in shadow or canary is replaced only by a model that is
significantly better than it on the same rows too.

The registry writes that follow the decision (aliases, stage tags, the superseded
challenger archived) are one journaled commit (``leadops.models.transitions.commit``): a
train killed between them is finished by whoever next takes the registry lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from leadops.clock import utc
from leadops.decisions import gate_evidence, monitor_state, stats
from leadops.decisions.metrics import score_metrics
from leadops.models import events, registry
from leadops.models.model_loader import version_scores
from leadops.models.model_state import CHALLENGER, CHAMPION, Stage, VersionState
from leadops.models.transitions import Transition, commit, registry_transaction, stage_ops
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.training.gate import GateOutcome, GateResult, GateRules, decide
from tasks.training.gate_checks import PairedIntervals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromotionOutcome:
    version: str  # registry versions as strings, as MLflow's client API takes them
    gate: GateResult
    champion_version: str | None
    champion_metrics: dict[str, float] | None
    auc_diff_ci: dict[str, float] | None
    intervals: PairedIntervals | None = None
    rival_version: str | None = None  # the challenger in rollout it had to beat too
    rule: str | None = None  # the gate's rule and its error rates, for the report


def champion_scores(settings: Settings, version: str, frame: pd.DataFrame) -> np.ndarray:
    """The champion version's probabilities for raw lead rows (the gate's paired rows)."""
    return version_scores(settings, settings.model_name, version, frame)


def paired_intervals(
    labels: np.ndarray, new: np.ndarray, old: np.ndarray, settings: Settings
) -> PairedIntervals:
    """95% paired bootstrap intervals of new - old: ROC-AUC, precision at capacity, Brier,
    log-loss; with the rows' class counts, so every line can say its n."""

    def interval(metric: str) -> dict[str, float]:
        found = stats.paired_bootstrap(
            labels,
            new,
            old,
            metric,
            settings.gate_bootstrap_samples,
            settings.seed,
            capacity=settings.capacity_fraction,
        )
        return {
            "diff": found.estimate,
            "low": found.low,
            "high": found.high,
            "samples": float(found.resamples),
        }

    converted = int(np.asarray(labels).astype(bool).sum())
    return PairedIntervals(
        interval("auc"),
        interval("precision_at_capacity"),
        interval("brier"),
        interval("log_loss"),
        converted,
        len(labels) - converted,
    )


def register_and_gate(
    settings: Settings,
    lake: Lake,
    model_info: Any,
    run_id: str,
    test_frame: pd.DataFrame,
    test_labels: np.ndarray,
    new_scores: np.ndarray,
    new_metrics: dict[str, float],
    min_gain: float,
    baseline_metrics: dict[str, float] | None = None,
    as_of: datetime | None = None,
    lead_keys: tuple[str, str] | None = None,
) -> PromotionOutcome:
    """Create the version, compare with the champion (and baseline), write the decision.

    Args:
        test_frame: raw lead rows of the test window (what the champion scores).
        test_labels / new_scores / new_metrics: the new model on those rows.
        min_gain: required relative ROC-AUC gain over the champion.
        baseline_metrics: the logistic baseline on the same rows (None: not compared).
        as_of: the training's evaluation time, written on the gate's history entry.
        lead_keys: the id and creation-time columns of ``test_frame``; given, a new
            challenger's paired test rows are kept as its rollout's first evidence
            (``leadops.decisions.gate_evidence``) and the gate's reason forecasts the rollout.
    """
    client, name, moment = registry.registry_client(settings), settings.model_name, utc(as_of)
    # registry_transaction: a rollout step or gate killed half-way is completed first.
    with registry_transaction(client, lake):
        champion = registry.get_champion(client, name)
        rules = GateRules.from_settings(settings, min_gain)
        champion_metrics = intervals = calibration = None
        if champion is not None:
            old = champion_scores(settings, str(champion.version), test_frame)
            champion_metrics = score_metrics(test_labels, old, settings.capacity_fraction)
            intervals = paired_intervals(test_labels, new_scores, old, settings)
            calibration = stats.calibration_in_the_large(test_labels, old)
        version = str(
            registry.register_version(
                client,
                name,
                model_info.model_uri,
                run_id,
                model_id=getattr(model_info, "model_id", None),
            ).version
        )
        champion_version = str(champion.version) if champion is not None else None
        gate = decide(
            new_metrics,
            champion_metrics,
            intervals,
            rules,
            champion_version,
            baseline_metrics,
            calibration,
            stats.calibration_in_the_large(test_labels, new_scores),
            monitor_state.persisting_drift(lake, champion_version, rules.drift_stale_rejections),
        )
        rival = (
            registry.rollout_challenger(client, name)
            if gate.decision == GateOutcome.CHALLENGER
            else None
        )
        if rival is not None:
            gate = _against_rival(
                settings, gate, rival.version, test_frame, test_labels, new_scores
            )
        if gate.decision == GateOutcome.CHALLENGER and champion is not None and lead_keys:
            gate = _with_rollout_evidence(
                settings,
                lake,
                version,
                champion_version,
                gate,
                test_frame,
                lead_keys,
                test_labels,
                new_scores,
                old,
            )
        tags = {**new_metrics, **interval_metrics(intervals)}
        commit(client, lake, name, gate_ops(client, name, version, gate, tags, moment))
    log.info("model %s v%s: %s (%s)", name, version, gate.decision, gate.reason)
    events.gate_decided(
        name, version, str(gate.decision), gate.reason, moment, new_metrics, champion_version
    )
    return PromotionOutcome(
        version,
        gate,
        champion_version,
        champion_metrics,
        intervals.auc if intervals else None,
        intervals,
        rival.version if rival else None,
        rules.text() if champion is not None else None,
    )


def _against_rival(
    settings: Settings,
    gate: GateResult,
    rival: str,
    frame: pd.DataFrame,
    labels: np.ndarray,
    new_scores: np.ndarray,
) -> GateResult:
    """A challenger already in rollout is replaced only by a significantly better model."""
    found = stats.paired_bootstrap(
        labels,
        new_scores,
        champion_scores(settings, rival, frame),
        "auc",
        settings.gate_bootstrap_samples,
        settings.seed,
    )
    converted = int(np.asarray(labels).astype(bool).sum())
    line = (
        f"ROC-AUC vs challenger v{rival} in rollout, paired bootstrap on n={len(labels):,} "
        f"({converted:,} converted / {len(labels) - converted:,} not): {found.estimate:+.4f}, "
        f"95% CI [{found.low:+.4f}, {found.high:+.4f}]"
    )
    if found.low > 0:
        return replace(
            gate, reason=f"{gate.reason}; also beats it: {line}", checks=(*gate.checks, line)
        )
    return replace(
        gate,
        decision=GateOutcome.REJECTED,
        reason=f"does not beat challenger v{rival} already in rollout on the same test rows: "
        f"{line} does not exclude no gain ({gate.reason})",
        route=None,
        checks=(*gate.checks, line),
    )


def _with_rollout_evidence(
    settings: Settings,
    lake: Lake,
    version: str,
    champion_version: str,
    gate: GateResult,
    frame: pd.DataFrame,
    lead_keys: tuple[str, str],
    labels: np.ndarray,
    new_scores: np.ndarray,
    old_scores: np.ndarray,
) -> GateResult:
    """Keep the gate's paired rows for the rollout and add its forecast to the reason."""
    entity_id, event_time = lead_keys
    created = pd.to_datetime(frame[event_time], utc=True)
    rows = pd.DataFrame(
        {
            gate_evidence.ENTITY_ID: frame[entity_id].to_numpy(),
            gate_evidence.EVENT_TIME: created.to_numpy(),
            gate_evidence.LABEL: np.asarray(labels).astype(int),
            gate_evidence.CHAMPION_SCORE: old_scores,
            gate_evidence.CHALLENGER_SCORE: new_scores,
        }
    )
    gate_evidence.save(lake, settings.model_name, version, champion_version, rows)
    span_days = (created.max() - created.min()).total_seconds() / 86_400 + 1
    forecast = gate_evidence.rollout_forecast(
        labels,
        new_scores,
        old_scores,
        margin=settings.rollout_noninferiority_margin,
        alpha=settings.decision_alpha,
        window_days=span_days,
    )
    if forecast is None:
        return gate
    line = forecast.line(settings.rollout_max_wait_days)
    return replace(gate, reason=f"{gate.reason}; {line}", checks=(*gate.checks, line))


def interval_metrics(intervals: PairedIntervals | None) -> dict[str, float]:
    if intervals is None:
        return {}
    return {
        f"gate_{metric}_diff_ci_{end}": ci[end]
        for metric, ci in (
            ("auc", intervals.auc),
            ("precision", intervals.precision),
            ("brier", intervals.brier),
            ("log_loss", intervals.log_loss),
        )
        if ci
        for end in ("low", "high")
    }


def gate_ops(
    client: Any,
    name: str,
    version: str,
    gate: GateResult,
    metrics: dict[str, float],
    as_of: datetime,
) -> list[list]:
    """The registry writes of a gate decision, in the order they must happen."""
    when = as_of.isoformat()
    ops: list[list] = []
    if gate.decision == GateOutcome.CHAMPION:
        ops.append(["alias", CHAMPION, version])
    elif gate.decision == GateOutcome.CHALLENGER:
        previous = registry.get_challenger(client, name)
        if previous is not None and str(previous.version) != version:
            state = VersionState.from_version(previous)
            ops += stage_ops(
                Transition(
                    state.version,
                    Stage.ARCHIVED,
                    0.0,
                    f"superseded by challenger v{version}",
                    when,
                    state.stage,
                    state.fraction,
                )
            )
        ops.append(["alias", CHALLENGER, version])
    ops += stage_ops(
        Transition(version, gate.stage, gate.fraction, gate.reason, when, metrics=metrics)
    )
    return ops
