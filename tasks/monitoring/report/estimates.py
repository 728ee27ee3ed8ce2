"""Intervals the report states: Wilson for observed rates, and the label-free estimate.

The label-free estimate reads calibrated scores as probabilities: if a lead with score
p converts with probability p, a week's conversions follow a Poisson-binomial law and
its AUC and precision at capacity can be simulated by drawing labels from the scores
(NannyML's CBPE idea). It sees covariate drift (the scores move with the leads) but not
concept drift: when the same lead starts converting less, the scores do not know.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata

from leadops.decisions.metrics import capacity_rows, top_rows

ESTIMATE_DRAWS = 400  # the simulated intervals' ends move by < 0.005 AUC beyond this
INTERVAL_LEVEL = 0.90  # the level the report and bench/bench_estimate.py state


def wilson_interval(conversions: int, leads: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a conversion rate (NaN, NaN without leads)."""
    if leads <= 0:
        return float("nan"), float("nan")
    z = float(norm.ppf(0.5 + level / 2))
    rate = conversions / leads
    centre = (rate + z * z / (2 * leads)) / (1 + z * z / leads)
    half = (
        z * math.sqrt(rate * (1 - rate) / leads + z * z / (4 * leads * leads)) / (1 + z * z / leads)
    )
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_binomial_pmf(probabilities: np.ndarray) -> np.ndarray:
    """P(K = k), k = 0..n, for K the number of successes of independent Bernoulli(p_i)."""
    pmf = np.zeros(len(probabilities) + 1)
    pmf[0] = 1.0
    for i, p in enumerate(np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)):
        # Adding one lead: it either converts (shift by one) or not; exact, O(n^2) in all.
        pmf[1 : i + 2] = pmf[1 : i + 2] * (1 - p) + pmf[: i + 1] * p
        pmf[0] *= 1 - p
    return pmf


def poisson_binomial_interval(
    probabilities: np.ndarray, level: float = INTERVAL_LEVEL
) -> tuple[int, int]:
    """Equal-tailed interval of the number of conversions the scores expect."""
    cdf = np.cumsum(poisson_binomial_pmf(probabilities))
    tail = (1 - level) / 2
    low = int(np.searchsorted(cdf, tail, side="left"))
    high = int(np.searchsorted(cdf, 1 - tail, side="left"))
    return low, min(high, len(probabilities))


@dataclass(frozen=True)
class LabelFreeEstimate:
    """What the scores alone say about leads whose outcomes are not known yet."""

    leads: int
    conversions: float
    conversions_low: int
    conversions_high: int
    auc: float
    auc_low: float
    auc_high: float
    precision: float
    precision_low: float
    precision_high: float
    level: float


def label_free_estimate(
    scores: np.ndarray,
    capacity_fraction: float,
    level: float = INTERVAL_LEVEL,
    draws: int = ESTIMATE_DRAWS,
    seed: int = 0,
) -> LabelFreeEstimate:
    """Expected conversions (exact Poisson-binomial interval), AUC and precision at
    capacity (means and percentile intervals over ``draws`` label sets drawn from the scores)."""
    p = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    top = top_rows(p, capacity_rows(len(p), capacity_fraction))
    ranks = rankdata(p)  # the scores do not change between draws, so rank once
    aucs, precisions = [], []
    for _ in range(draws):
        labels = rng.random(len(p)) < p
        aucs.append(_auc_from_ranks(labels, ranks))
        precisions.append(labels[top].mean())
    aucs_found = np.asarray([a for a in aucs if not math.isnan(a)])
    tail = (1 - level) / 2 * 100
    auc_low, auc_high = (
        np.percentile(aucs_found, [tail, 100 - tail]) if len(aucs_found) else (math.nan,) * 2
    )
    prec_low, prec_high = np.percentile(precisions, [tail, 100 - tail])
    conv_low, conv_high = poisson_binomial_interval(p, level)
    return LabelFreeEstimate(
        leads=len(p),
        conversions=float(p.sum()),
        conversions_low=conv_low,
        conversions_high=conv_high,
        auc=float(aucs_found.mean()) if len(aucs_found) else math.nan,
        auc_low=float(auc_low),
        auc_high=float(auc_high),
        precision=float(p[top].mean()),
        precision_low=float(prec_low),
        precision_high=float(prec_high),
        level=level,
    )


def _auc_from_ranks(labels: np.ndarray, ranks: np.ndarray) -> float:
    """Mann-Whitney AUC given the scores' ranks (as ``leadops.decisions.metrics.rank_auc``)."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))
