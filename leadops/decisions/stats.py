"""The numerics behind every automated decision: plain numpy/scipy, vectorised.

- DeLong's paired AUC covariance (Sun & Xu's O(n log n) midrank form);
- a paired bootstrap (>= 1,000 resamples) for AUC, precision at capacity, Brier score
  and log-loss;
- calibration in the large: observed conversions against the sum of predicted ones;
- two-proportion power: the minimum detectable relative drop and the leads needed;
- the chi-square critical value of PSI under "no change".

``leadops.decisions.verdict`` turns these numbers into PASS / FAIL / WAIT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy.stats import chi2, rankdata

from leadops.decisions.metrics import capacity_rows

_STANDARD_NORMAL = NormalDist()


def z_of(alpha: float) -> float:
    """The one-sided normal quantile for error rate ``alpha`` (1.645 for 0.05)."""
    return _STANDARD_NORMAL.inv_cdf(1 - alpha)


def delong_paired(
    labels: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[float, float, float]:
    """AUC of each score vector on the same leads and the variance of their difference.

    Returns:
        (auc_first, auc_second, var(auc_first - auc_second)) by DeLong et al. (1988),
        computed with midranks (Sun & Xu 2014), so O(n log n) for n leads.
    """
    positive = np.asarray(labels).astype(bool)
    scores = np.vstack([np.asarray(first, float), np.asarray(second, float)])
    pos, neg = scores[:, positive], scores[:, ~positive]
    m, n = pos.shape[1], neg.shape[1]
    within_pos, within_neg = rankdata(pos, axis=1), rankdata(neg, axis=1)
    combined = rankdata(np.hstack([pos, neg]), axis=1)
    aucs = (combined[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    v_pos = (combined[:, :m] - within_pos) / n  # each positive's share of negatives below it
    v_neg = 1 - (combined[:, m:] - within_neg) / m  # each negative's share of positives above it
    cov = np.cov(v_pos) / m + np.cov(v_neg) / n
    variance = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    return float(aucs[0]), float(aucs[1]), max(variance, 0.0)


@dataclass(frozen=True)
class Interval:
    """A paired difference (first - second), its percentile interval and the resamples used."""

    estimate: float
    low: float
    high: float
    resamples: int


def _auc_rows(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC of each row of ``scores`` against the matching row of ``labels``."""
    ranks = rankdata(scores, axis=1)
    positives = labels.sum(axis=1)
    negatives = labels.shape[1] - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * labels).sum(axis=1) - positives * (positives + 1) / 2) / (
            positives * negatives
        )


def _precision_rows(labels: np.ndarray, scores: np.ndarray, capacity: float) -> np.ndarray:
    k = capacity_rows(labels.shape[1], capacity)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(labels, top, axis=1).mean(axis=1)


def _statistic(metric: str, labels: np.ndarray, scores: np.ndarray, capacity: float) -> np.ndarray:
    if metric == "auc":
        return _auc_rows(labels, scores)
    if metric == "precision_at_capacity":
        return _precision_rows(labels, scores, capacity)
    if metric == "brier":
        return ((scores - labels) ** 2).mean(axis=1)
    if metric == "log_loss":
        p = np.clip(scores, 1e-7, 1 - 1e-7)  # as metrics clips: one 0 is not infinite
        return -(labels * np.log(p) + (1 - labels) * np.log1p(-p)).mean(axis=1)
    raise ValueError(
        f"unknown metric {metric!r}; use auc, precision_at_capacity, brier or log_loss"
    )


def paired_bootstrap(
    labels: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    metric: str,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    capacity: float = 0.10,
    chunk: int = 250,
) -> Interval:
    """Bootstrap ``metric(first) - metric(second)`` resampling the same leads for both.

    Args:
        metric: ``auc``, ``precision_at_capacity``, ``brier`` or ``log_loss``.
        resamples: at least 1,000, so the 2.5th percentile rests on ~25 resamples.
        level: two-sided level of the percentile interval.
    """
    if resamples < 1000:
        raise ValueError(f"resamples={resamples}: use at least 1,000 for a stable 95% interval")
    labels = np.asarray(labels, float)
    first, second = np.asarray(first, float), np.asarray(second, float)
    rng, diffs = np.random.default_rng(seed), []
    for start in range(0, resamples, chunk):  # chunks bound memory at chunk x n
        idx = rng.integers(0, len(labels), (min(chunk, resamples - start), len(labels)))
        y = labels[idx]
        diffs.append(
            _statistic(metric, y, first[idx], capacity)
            - _statistic(metric, y, second[idx], capacity)
        )
    values = np.concatenate(diffs)
    values = values[np.isfinite(values)]  # a resample with one class says nothing about AUC
    whole = _statistic(metric, labels[None, :], first[None, :], capacity) - _statistic(
        metric, labels[None, :], second[None, :], capacity
    )
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail]) if len(values) else (math.nan, math.nan)
    return Interval(float(whole[0]), float(low), float(high), len(values))


def _shortfall(
    base_rate: float,
    inv_base: float,
    inv_current: float,
    drop: float,
    z_alpha: float,
    z_power: float,
) -> float:
    """Drop minus what the test needs to see it with the power: > 0 means detectable."""
    rate = base_rate * (1 - drop)
    # Under "no drop" both groups share the pooled rate (the baseline's when it is exact).
    pooled = (
        (base_rate * inv_current + rate * inv_base) / (inv_base + inv_current)
        if inv_base + inv_current > 0
        else base_rate
    )
    null_sd = math.sqrt(pooled * (1 - pooled) * (inv_base + inv_current))
    alt_sd = math.sqrt(base_rate * (1 - base_rate) * inv_base + rate * (1 - rate) * inv_current)
    return base_rate - rate - z_alpha * null_sd - z_power * alt_sd


def detectable_drop(
    base_rate: float, baseline_n: float | None, current_n: float, alpha: float, power: float
) -> float:
    """Smallest relative drop of a conversion rate a one-sided test detects with ``power``.

    Two-proportion z-test with the baseline estimated on ``baseline_n`` leads (None: the
    baseline is known exactly). Solved by bisection on the drop; ``inf`` when no drop
    (not even to zero) is detectable.
    """
    if current_n <= 0 or not 0 < base_rate < 1:
        return math.inf
    terms = (base_rate, 1 / baseline_n if baseline_n else 0.0, 1 / current_n)
    za, zb = z_of(alpha), z_of(1 - power)
    if _shortfall(*terms, 1.0, za, zb) < 0:
        return math.inf
    low, high = 0.0, 1.0
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if _shortfall(*terms, mid, za, zb) < 0 else (low, mid)
    return high


def leads_needed(
    base_rate: float, baseline_n: float | None, drop: float, alpha: float, power: float
) -> float:
    """Current leads needed to detect a relative ``drop`` (inf: the baseline is too small)."""
    if not 0 < base_rate < 1:
        return math.inf
    inv_base, za, zb = 1 / baseline_n if baseline_n else 0.0, z_of(alpha), z_of(1 - power)
    if _shortfall(base_rate, inv_base, 0.0, drop, za, zb) <= 0:
        return math.inf
    low, high = 0.0, 1.0  # 1 / current leads: the shortfall falls as it grows
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (
            (mid, high) if _shortfall(base_rate, inv_base, mid, drop, za, zb) > 0 else (low, mid)
        )
    return math.ceil(1 / low) if low > 0 else math.inf


def psi_critical_value(n_reference: float, n_current: float, bins: int, alpha: float) -> float:
    """PSI that "no change" exceeds with probability ``alpha``.

    Under no change PSI ~ (1/n + 1/m) * chi-square(bins - 1) (PSI is the symmetric
    Kullback-Leibler divergence, whose second-order term is the chi-square statistic).
    """
    return float((1 / n_current + 1 / n_reference) * chi2.ppf(1 - alpha, max(bins - 1, 1)))


@dataclass(frozen=True)
class PairedPrecision:
    """Precision at capacity of two models on the same leads, and the variance of the difference."""

    first: float
    second: float
    variance: float
    capacity_leads: int
    discordant: int  # leads in one model's top set but not the other's (per side)


def paired_precision(
    labels: np.ndarray, first: np.ndarray, second: np.ndarray, capacity: float
) -> PairedPrecision:
    """McNemar-like comparison of the two top-k sets (k = the leads sales can work).

    Leads both models put in their top k cancel out, so the difference is carried by the
    ``d`` leads only one model picks: (a - b) / k, with a, b their conversions. Its
    variance treats a and b as binomial on d leads with rates smoothed by +1/+2
    (Agresti-Caffo), so a handful of discordant leads never gives a zero variance.
    """
    labels = np.asarray(labels, float)
    k = capacity_rows(len(labels), capacity)
    top_first = np.zeros(len(labels), bool)
    top_second = np.zeros(len(labels), bool)
    top_first[np.argsort(-np.asarray(first, float), kind="stable")[:k]] = True
    top_second[np.argsort(-np.asarray(second, float), kind="stable")[:k]] = True
    only_first, only_second = top_first & ~top_second, top_second & ~top_first
    d = int(only_first.sum())
    a, b = labels[only_first].sum(), labels[only_second].sum()
    rate_a, rate_b = (a + 1) / (d + 2), (b + 1) / (d + 2)
    variance = d * (rate_a * (1 - rate_a) + rate_b * (1 - rate_b)) / k**2
    return PairedPrecision(
        float(labels[top_first].mean()), float(labels[top_second].mean()), float(variance), k, d
    )


def normal_cdf(z: float) -> float:
    """P(Z <= z) for a standard normal Z."""
    return _STANDARD_NORMAL.cdf(z)


@dataclass(frozen=True)
class CalibrationCheck:
    """Observed conversions against the sum of the predicted probabilities on the same leads.

    Under "the probabilities are right" the count of conversions is Poisson-binomial with
    mean sum(p) and variance sum(p (1 - p)); with tens of conversions its normal
    approximation is close, so ``z`` and the two-sided ``p_value`` come from it.
    """

    leads: int
    converted: int
    expected: float
    z: float
    p_value: float

    @property
    def ratio(self) -> float:
        """Observed / predicted conversions (1 = calibrated in the large; 10 = served 10x low)."""
        return self.converted / self.expected if self.expected > 0 else math.inf


def calibration_in_the_large(labels: np.ndarray, scores: np.ndarray) -> CalibrationCheck:
    """Test the probabilities' total against the conversions (Poisson-binomial, normal approx.)."""
    labels = np.asarray(labels, float)
    p = np.clip(np.asarray(scores, float), 1e-7, 1 - 1e-7)
    expected, variance = float(p.sum()), float((p * (1 - p)).sum())
    observed = int(labels.sum())
    z = (observed - expected) / math.sqrt(variance) if variance > 0 else 0.0
    return CalibrationCheck(len(labels), observed, expected, z, 2 * (1 - normal_cdf(abs(z))))
