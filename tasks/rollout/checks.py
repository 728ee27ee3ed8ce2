"""The checks a challenger must pass at each rollout step (pure functions on paired scores).

Every check returns a ``Verdict``: ``pass``, ``fail`` or ``wait`` (too little
evidence yet), a one-line reason, and the metrics it looked at, which end up in
the model version's tags and the Prefect artifact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadops.maturity import LABEL
from leadops.metrics import capacity_rows, precision_at_capacity, rank_auc
from leadops.model_state import CANARY_ARM, CHAMPION_ARM
from leadops.psi import fit_bins, psi_value
from tasks.rollout.evidence import CHALLENGER_SCORE, CHAMPION_SCORE, MATURED, SERVED_SCORE

PASS, FAIL, WAIT = "pass", "fail", "wait"
# A worse conversion among the canary's top leads fails the step only when it is
# beyond the tolerance *and* unlikely to be noise (one-sided 5%): a top decile of
# a few hundred leads holds only tens of conversions.
TOP_RATE_Z = 1.645


@dataclass(frozen=True)
class Verdict:
    outcome: str  # pass | fail | wait
    reason: str
    metrics: dict = field(default_factory=dict)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    value = rank_auc(labels, scores)
    return None if np.isnan(value) else value


def _matured(paired: pd.DataFrame) -> pd.DataFrame:
    return paired[paired[MATURED].astype(bool)]


def shadow_check(paired: pd.DataFrame, min_matured: int) -> Verdict:
    """Challenger vs champion AUC on the same matured shadow-scored leads."""
    matured = _matured(paired)
    labels = matured[LABEL].to_numpy(dtype=int) if len(matured) else np.array([], dtype=int)
    metrics = {"matured_leads": len(matured), "conversions": int(labels.sum())}
    if len(matured) < min_matured or len(np.unique(labels)) < 2:
        return Verdict(WAIT, f"{len(matured)} matured shadow-scored leads with both classes; need {min_matured}", metrics)
    champion, challenger = _auc(labels, matured[CHAMPION_SCORE].to_numpy()), _auc(labels, matured[CHALLENGER_SCORE].to_numpy())
    metrics.update(champion_auc=champion, challenger_auc=challenger)
    text = f"challenger AUC {challenger:.4f} vs champion {champion:.4f} on {len(matured)} matured leads"
    return Verdict(PASS if challenger > champion else FAIL, text, metrics)


def _top_rate(labels: np.ndarray, scores: np.ndarray, capacity: float) -> tuple[float, int]:
    return precision_at_capacity(labels, scores, capacity), capacity_rows(len(labels), capacity)


def _worse_beyond(canary: float, control: float, n_canary: int, n_control: int, tolerance: float) -> bool:
    if canary >= control * (1 - tolerance):
        return False
    pooled = (canary * n_canary + control * n_control) / (n_canary + n_control)
    spread = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n_canary + 1 / n_control))
    return (control - canary) / spread >= TOP_RATE_Z


def _arm_counts(matured: pd.DataFrame, fraction: float) -> dict[str, int]:
    # At 100% every lead is in the canary: there is no control arm left to count.
    needed = (CANARY_ARM,) if fraction >= 1 else (CANARY_ARM, CHAMPION_ARM)
    return {arm: int((matured["arm"] == arm).sum()) for arm in needed}


def _top_rates(matured: pd.DataFrame, fraction: float, capacity: float) -> tuple[float, float, int, int]:
    """Conversion among the top-scored leads: canary arm vs control arm (served scores).

    At 100% there is no control arm, so the challenger's top leads are compared with
    the champion's top leads among the same leads.
    """
    if fraction >= 1:
        labels = matured[LABEL].to_numpy(dtype=int)
        canary, k = _top_rate(labels, matured[CHALLENGER_SCORE].to_numpy(), capacity)
        control, _ = _top_rate(labels, matured[CHAMPION_SCORE].to_numpy(), capacity)
        return canary, control, k, k
    canary_arm, control_arm = (matured[matured["arm"] == arm] for arm in (CANARY_ARM, CHAMPION_ARM))
    canary, k = _top_rate(canary_arm[LABEL].to_numpy(dtype=int),
                          canary_arm[SERVED_SCORE].to_numpy(), capacity)
    control, k_control = _top_rate(control_arm[LABEL].to_numpy(dtype=int),
                                   control_arm[SERVED_SCORE].to_numpy(), capacity)
    return canary, control, k, k_control


def score_psi(paired: pd.DataFrame) -> float | None:
    """PSI of the challenger's scores against the champion's on the same leads (champion's bins)."""
    if len(paired) < 2:
        return None
    bins = fit_bins("score", paired[CHAMPION_SCORE], "numeric")
    return psi_value(bins.shares(paired[CHAMPION_SCORE]), bins.shares(paired[CHALLENGER_SCORE]))


def canary_check(
    paired: pd.DataFrame, fraction: float, min_matured: int, capacity: float, tolerance: float,
    psi_threshold: float, errors: int,
) -> Verdict:
    """Is the canary arm not worse than control at this step? Fails on the first broken check.

    Checks, in order: scoring errors; score distribution (PSI <= ``psi_threshold``);
    enough matured leads per arm (else wait); challenger AUC not below the champion's
    by more than ``tolerance`` (relative, same leads); conversion among top-scored
    leads not worse beyond ``tolerance`` and noise.
    """
    metrics: dict = {"scoring_errors": errors, "leads": len(paired), "score_psi": score_psi(paired)}
    if errors:
        return Verdict(FAIL, f"{errors} challenger scoring error(s) in the canary", metrics)
    if metrics["score_psi"] is not None and metrics["score_psi"] > psi_threshold:
        return Verdict(FAIL, f"challenger score distribution differs: PSI {metrics['score_psi']:.3f} > {psi_threshold:g}", metrics)
    matured = _matured(paired)
    counts = _arm_counts(matured, fraction)
    metrics.update({f"matured_{arm}": n for arm, n in counts.items()})
    labels = matured[LABEL].to_numpy(dtype=int)
    if min(counts.values()) < min_matured or len(np.unique(labels)) < 2:
        return Verdict(WAIT, f"matured leads per arm {counts}; need {min_matured} each, with both classes", metrics)
    champion, challenger = _auc(labels, matured[CHAMPION_SCORE].to_numpy()), _auc(labels, matured[CHALLENGER_SCORE].to_numpy())
    metrics.update(champion_auc=champion, challenger_auc=challenger)
    if challenger < champion * (1 - tolerance):
        return Verdict(FAIL, f"challenger AUC {challenger:.4f} < champion {champion:.4f} beyond tolerance {tolerance:.0%}", metrics)
    canary_rate, control_rate, k, k_control = _top_rates(matured, fraction, capacity)
    metrics.update(canary_top_conversion=canary_rate, control_top_conversion=control_rate)
    if _worse_beyond(canary_rate, control_rate, k, k_control, tolerance):
        return Verdict(FAIL, f"conversion among top-scored leads {canary_rate:.2%} (canary) vs {control_rate:.2%} (control)", metrics)
    return Verdict(
        PASS,
        f"canary not worse than control: AUC {challenger:.4f} vs {champion:.4f}, top-lead conversion "
        f"{canary_rate:.2%} vs {control_rate:.2%}{' (within noise)' if canary_rate < control_rate else ''} "
        f"on {k} vs {k_control} top leads, score PSI {metrics['score_psi'] or 0:.3f}, no scoring errors",
        metrics,
    )
