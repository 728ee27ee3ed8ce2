"""The page's tables, from the served-outcomes frame (``served.served_outcomes``).

Observed figures use matured leads only; the label-free estimate uses every served
lead of a week, matured or not, and puts the realised figure beside it once the whole
week has matured. Intervals: Wilson 95% for rates, Hanley-McNeil 95% for an AUC.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from leadops.decisions.metrics import precision_at_capacity, rank_auc
from leadops.inputs.maturity import LABEL, MATURED
from tasks.monitoring.report.estimates import label_free_estimate, wilson_interval
from tasks.monitoring.report.served import DECILE, MONTH, SCORE, TIER, VERSION, WEEK

MIN_CONVERSIONS = 10  # below this an AUC or a rate interval is too wide to read


def rate_rows(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Matured leads, conversions, rate, Wilson 95% interval and lift over the month's rate."""
    matured = frame[frame[MATURED]]
    table = matured.groupby(by)[LABEL].agg(leads="size", conversions="sum").reset_index()
    bounds = [
        wilson_interval(int(c), int(n)) for c, n in zip(table.conversions, table.leads, strict=True)
    ]
    table["rate"] = table.conversions / table.leads
    table["low"] = [b[0] for b in bounds]
    table["high"] = [b[1] for b in bounds]
    base = matured.groupby(MONTH)[LABEL].mean().rename("base_rate")
    table = table.merge(base, left_on=MONTH, right_index=True, how="left")
    table["lift"] = table.rate / table.base_rate.where(table.base_rate > 0)
    return table


def conversion_by_tier(frame: pd.DataFrame) -> pd.DataFrame:
    return rate_rows(frame, [MONTH, TIER])


def conversion_by_decile(frame: pd.DataFrame) -> pd.DataFrame:
    return rate_rows(frame, [MONTH, DECILE])


def auc_interval(auc: float, positives: int, negatives: int) -> tuple[float, float]:
    """Hanley & McNeil (1982) 95% interval of an AUC from its class counts."""
    if math.isnan(auc) or positives == 0 or negatives == 0:
        return math.nan, math.nan
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)
    ) / (positives * negatives)
    half = 1.96 * math.sqrt(max(variance, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def accuracy_row(labels: np.ndarray, scores: np.ndarray, capacity: float) -> dict[str, float]:
    """Served AUC (with interval), precision at capacity and predicted vs observed rate."""
    positives = int(labels.sum())
    auc = rank_auc(labels, scores)
    low, high = auc_interval(auc, positives, len(labels) - positives)
    return {
        "leads": len(labels),
        "conversions": positives,
        "auc": auc,
        "auc_low": low,
        "auc_high": high,
        "precision": precision_at_capacity(labels, scores, capacity) if len(labels) else math.nan,
        "predicted_rate": float(np.mean(scores)) if len(scores) else math.nan,
        "observed_rate": float(np.mean(labels)) if len(labels) else math.nan,
    }


def accuracy_by_month(frame: pd.DataFrame, capacity: float) -> pd.DataFrame:
    """One row per scoring month of matured served leads."""
    matured = frame[frame[MATURED]]
    rows = [
        {
            MONTH: month,
            # the version that served most of the month: whose training figures to compare
            "version": str(g[VERSION].mode().iloc[0]),
            **accuracy_row(g[LABEL].to_numpy(), g[SCORE].to_numpy(), capacity),
        }
        for month, g in matured.groupby(MONTH)
    ]
    return pd.DataFrame(rows)


def weekly_estimates(frame: pd.DataFrame, capacity: float, seed: int = 0) -> pd.DataFrame:
    """Per scoring week: the label-free estimate (90%) and, once every lead of the week has
    matured, the realised conversions, AUC and precision at capacity beside it."""
    rows = []
    for week, group in frame.groupby(WEEK):
        scores, labels = group[SCORE].to_numpy(), group[LABEL].to_numpy()
        estimate = label_free_estimate(scores, capacity, seed=seed)
        matured = bool(group[MATURED].all())
        rows.append(
            {
                WEEK: week,
                "matured": matured,
                **{f"est_{k}": v for k, v in vars(estimate).items()},
                "conversions": int(labels.sum()) if matured else None,
                "auc": rank_auc(labels, scores) if matured else None,
                "precision": precision_at_capacity(labels, scores, capacity) if matured else None,
            }
        )
    return pd.DataFrame(rows)
