"""Test-window metrics, the tables behind the plots, and the paired AUC bootstrap.

"Capacity" is the share of leads the sales team can work (settings.capacity_fraction):
precision at capacity is the conversion rate among the top-scored leads that fit,
lift at capacity that rate over the base rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

METRIC_NAMES = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "precision_at_capacity",
    "lift_at_capacity",
)


def capacity_rows(n: int, fraction: float) -> int:
    """How many of ``n`` leads the team can work (at least one)."""
    return max(1, math.ceil(n * fraction))


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores; ties broken by row order, so results are stable."""
    return np.argsort(-np.asarray(scores), kind="stable")[:k]


def precision_at_capacity(labels: np.ndarray, scores: np.ndarray, fraction: float) -> float:
    labels = np.asarray(labels)
    return float(labels[top_rows(scores, capacity_rows(len(labels), fraction))].mean())


def score_metrics(
    labels: np.ndarray, scores: np.ndarray, capacity_fraction: float
) -> dict[str, float]:
    """The six headline metrics plus base rate and expected calibration error."""
    labels, scores = (
        np.asarray(labels).astype(int),
        np.clip(np.asarray(scores, dtype=float), 1e-7, 1 - 1e-7),
    )
    base_rate = float(labels.mean())
    precision = precision_at_capacity(labels, scores, capacity_fraction)
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "log_loss": float(log_loss(labels, scores, labels=[0, 1])),
        "brier": float(brier_score_loss(labels, scores)),
        "precision_at_capacity": precision,
        "lift_at_capacity": precision / base_rate if base_rate > 0 else float("nan"),
        "base_rate": base_rate,
        "calibration_error": expected_calibration_error(labels, scores),
    }


def calibration_table(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed conversion per score-quantile bin."""
    frame = pd.DataFrame(
        {"label": np.asarray(labels, dtype=float), "score": np.asarray(scores, dtype=float)}
    )
    frame["bin"] = pd.qcut(
        frame["score"].rank(method="first"), q=min(bins, len(frame)), labels=False
    )
    return (
        frame.groupby("bin")
        .agg(
            mean_score=("score", "mean"), conversion_rate=("label", "mean"), leads=("label", "size")
        )
        .reset_index()
    )


def expected_calibration_error(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> float:
    table = calibration_table(labels, scores, bins)
    weights = table["leads"] / table["leads"].sum()
    return float((weights * (table["mean_score"] - table["conversion_rate"]).abs()).sum())


def lift_table(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Per score decile (1 = best): conversion rate, lift and cumulative share of conversions."""
    labels = np.asarray(labels, dtype=float)
    order = top_rows(scores, len(labels))
    decile = np.empty(len(labels), dtype=int)
    decile[order] = np.arange(len(labels)) * bins // len(labels) + 1
    frame = pd.DataFrame({"decile": decile, "label": labels})
    table = (
        frame.groupby("decile")
        .agg(
            conversion_rate=("label", "mean"), conversions=("label", "sum"), leads=("label", "size")
        )
        .reset_index()
    )
    base = labels.mean() if labels.mean() > 0 else float("nan")
    table["lift"] = table["conversion_rate"] / base
    table["cumulative_capture"] = table["conversions"].cumsum() / max(labels.sum(), 1.0)
    return table


def rank_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC via the Mann-Whitney rank sum (ties averaged); NaN with one class."""
    labels = np.asarray(labels).astype(bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))
