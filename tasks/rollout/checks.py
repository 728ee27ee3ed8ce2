"""The check a challenger must pass at each rollout step (pure functions on paired scores).

Shadow and every canary step run the same statistical test,
``leadops.decisions.verdict.rollout_step_test``: a paired comparison of challenger and
champion on the same matured leads since the step began (both models score every
lead). PASS when the challenger is non-inferior, FAIL when it is significantly worse,
WAIT while the evidence cannot decide, INCONCLUSIVE when the maximum wait ran out.
Its error rates are measured by ``bench/bench_decisions.py``.

A score-distribution difference (PSI of the two models' scores) is only a warning:
a well recalibrated challenger has other scores and the same ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadops.decisions.psi import fit_bins, psi_value
from leadops.decisions.verdict import Decision, Verdict, rollout_step_test
from leadops.inputs.maturity import LABEL
from tasks.rollout.evidence import CHALLENGER_SCORE, CHAMPION_SCORE, MATURED

PASS, FAIL, WAIT, INCONCLUSIVE = Verdict.PASS, Verdict.FAIL, Verdict.WAIT, Verdict.INCONCLUSIVE
# Fewer leads than this give no meaningful score PSI (the warning is skipped).
MIN_PSI_LEADS = 100


@dataclass(frozen=True)
class StepVerdict:
    """What one rollout step's check found: the core's verdict, why, and the figures."""

    outcome: Verdict
    reason: str
    metrics: dict = field(default_factory=dict)
    decision: dict | None = None  # leadops.decisions.verdict.Decision.as_dict()


@dataclass(frozen=True)
class StepRule:
    """The settings one rollout step is decided with."""

    capacity: float
    margin: float
    precision_margin: float | None
    alpha: float
    fail_alpha: float
    max_wait_days: float
    psi_threshold: float

    @classmethod
    def from_settings(cls, settings: Any) -> StepRule:
        return cls(
            settings.capacity_fraction,
            settings.rollout_noninferiority_margin,
            settings.rollout_precision_margin,
            settings.decision_alpha,
            settings.decision_fail_alpha,
            settings.rollout_max_wait_days,
            settings.psi_threshold,
        )


def score_psi(paired: pd.DataFrame) -> float | None:
    """PSI of the challenger's scores against the champion's on the same leads (champion's bins)."""
    if len(paired) < MIN_PSI_LEADS:
        return None
    bins = fit_bins("score", paired[CHAMPION_SCORE], "numeric")
    return psi_value(bins.shares(paired[CHAMPION_SCORE]), bins.shares(paired[CHALLENGER_SCORE]))


def step_check(
    paired: pd.DataFrame, rule: StepRule, errors: int = 0, elapsed_days: float | None = None
) -> StepVerdict:
    """Is the challenger non-inferior to the champion on the step's matured leads?

    Args:
        paired: ``evidence.paired_scores`` of the step (leads scored by both models).
        errors: challenger scoring errors (a canary that fails to score fails the step).
        elapsed_days: days since the step began, for the maximum wait.
    """
    metrics: dict = {"leads": len(paired), "scoring_errors": errors, "score_psi": score_psi(paired)}
    warning = _psi_warning(metrics["score_psi"], rule.psi_threshold)
    if warning:
        metrics["warning"] = warning
    if errors:
        return StepVerdict(FAIL, f"{errors} challenger scoring error(s)", metrics)
    matured = paired[paired[MATURED].astype(bool)]
    labels = matured[LABEL].to_numpy(dtype=int)
    decision = rollout_step_test(
        labels,
        matured[CHALLENGER_SCORE].to_numpy(dtype=float),
        matured[CHAMPION_SCORE].to_numpy(dtype=float),
        capacity=rule.capacity,
        margin=rule.margin,
        precision_margin=rule.precision_margin,
        alpha=rule.alpha,
        fail_alpha=rule.fail_alpha,
        elapsed_days=elapsed_days,
        max_wait_days=rule.max_wait_days,
    )
    metrics.update(decision_metrics(decision, elapsed_days))
    reason = decision.reason + (f" (warning: {warning})" if warning else "")
    return StepVerdict(decision.verdict, reason, metrics, decision.as_dict())


def _psi_warning(psi: float | None, threshold: float) -> str | None:
    if psi is None or psi <= threshold:
        return None
    return (
        f"challenger score distribution differs from the champion's: PSI {psi:.3f} > "
        f"{threshold:g} (warns only; the decision is on ranking and precision)"
    )


def decision_metrics(decision: Decision, elapsed_days: float | None) -> dict[str, Any]:
    """The decision's numbers, flat, for the metrics tag and the artifact table."""
    details = decision.details
    parts = {p["test"]: p for p in details.get("parts", [])}
    precision = parts.get("paired_precision", {}).get("details", {})
    values = {
        "test": decision.test,
        "verdict": decision.verdict.value,
        "matured_leads": decision.n,
        "conversions": decision.n_by_arm.get("converted"),
        "challenger_auc": details.get("challenger_auc"),
        "champion_auc": details.get("champion_auc"),
        "auc_diff": decision.estimate,
        "ci_low": decision.ci_low,
        "ci_high": decision.ci_high,
        "threshold": decision.threshold,
        "mde": decision.mde,
        "alpha": decision.alpha,
        "challenger_precision": precision.get("challenger_precision"),
        "champion_precision": precision.get("champion_precision"),
        "elapsed_days": elapsed_days,
    }
    return {k: _plain(v) for k, v in values.items() if v is not None}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
