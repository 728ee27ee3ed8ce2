"""Does the champion still rank? Its matured AUC against its own test-window AUC.

A miscalibrated champion whose ranking holds is fixed by a new calibrator (cheap, the
same booster); one whose ranking has degraded needs a retrain. "Holds" means the matured
AUC is not significantly below the champion's test-window AUC (the gate measured it on
leads it had not trained on): one-sided at 5%, the two AUCs' standard errors by Hanley &
McNeil (1982), which needs only the AUC and the counts of each class.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from leadops.decisions import stats
from leadops.decisions.metrics import rank_auc

RANKING_ALPHA = 0.05  # a degraded ranking is the safe answer (a full retrain), so 5% one-sided


@dataclass(frozen=True)
class RankingBaseline:
    """The champion's AUC on its gate's test window and the leads behind it."""

    auc: float
    leads: int
    conversions: int


@dataclass(frozen=True)
class RankingCheck:
    holds: bool | None  # None: not checked (no baseline, or one class only)
    auc: float | None
    note: str

    def as_dict(self) -> dict:
        return asdict(self)


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley & McNeil's standard error of an AUC from its class counts."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return math.sqrt(max(variance, 0.0))


def ranking_check(
    labels: np.ndarray, scores: np.ndarray, baseline: RankingBaseline | None
) -> RankingCheck:
    """The matured leads' AUC against the baseline; ``holds`` unless significantly lower."""
    labels = np.asarray(labels, dtype=int)
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if baseline is None or baseline.conversions <= 0 or baseline.leads <= baseline.conversions:
        return RankingCheck(None, None, "ranking not checked: no test-window AUC of the champion")
    if positives == 0 or negatives == 0:
        return RankingCheck(None, None, "ranking not checked: the matured leads hold one class")
    auc = float(rank_auc(labels, np.asarray(scores, dtype="float64")))
    se = math.hypot(
        auc_standard_error(auc, positives, negatives),
        auc_standard_error(
            baseline.auc, baseline.conversions, baseline.leads - baseline.conversions
        ),
    )
    low = baseline.auc - stats.z_of(RANKING_ALPHA) * se
    holds = auc >= low
    verb = "holds" if holds else "degraded"
    return RankingCheck(
        holds,
        auc,
        f"ranking {verb}: matured AUC {auc:.3f} on {len(labels):,} leads vs the champion's "
        f"test-window {baseline.auc:.3f} (not below {low:.3f}, one-sided {RANKING_ALPHA:.0%}, "
        "Hanley-McNeil)",
    )
