"""Conversion monitoring on matured cohorts only.

A lead's outcome is final ``contract.outcome_window_days`` after it was created; a
younger lead without an outcome may still convert, so counting it as a negative
would show a conversion drop that is only label delay. Leads are grouped into
weekly cohorts by event time, and a cohort counts once its whole week has matured.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from leadops.contract import Contract
from leadops.metrics import precision_at_capacity, rank_auc
from leadops.maturity import LABEL

COHORT = "cohort"
# One-sided z for "the drop is not noise" (1%): with ~2,000 leads a week at a 7%
# rate a 10% relative drop is only ~1.3 standard errors, so without it a stable
# funnel would trigger retraining every few weeks.
DROP_Z = 2.33


def week_of(times: pd.Series) -> pd.Series:
    """The Monday (UTC date) starting each timestamp's week."""
    stamps = pd.to_datetime(times, utc=True)
    return (stamps.dt.floor("D") - pd.to_timedelta(stamps.dt.weekday, unit="D")).dt.date


def weekly_cohorts(
    matured: pd.DataFrame, contract: Contract, as_of: datetime, capacity: float, score: str = "score"
) -> pd.DataFrame:
    """One row per week of event time: leads, conversions, rate, AUC and precision at capacity.

    ``complete`` says whether the whole week had matured by ``as_of`` (only complete
    cohorts are compared with the baseline).
    """
    if matured.empty:
        return pd.DataFrame(columns=[COHORT, "leads", "conversions", "rate", "auc", "precision_at_capacity", "complete"])
    matured_until = (pd.Timestamp(as_of) - pd.Timedelta(days=contract.outcome_window_days)).date()
    rows = []
    for cohort, group in matured.groupby(week_of(matured[contract.event_time]), sort=True):
        labels = group[LABEL].to_numpy()
        scores = group[score].to_numpy(dtype="float64") if score in group else None
        auc = rank_auc(labels, scores) if scores is not None else None
        rows.append({
            COHORT: cohort,
            "leads": len(group),
            "conversions": int(labels.sum()),
            "rate": float(labels.mean()),
            "auc": None if auc is None or np.isnan(auc) else auc,
            "precision_at_capacity": precision_at_capacity(labels, scores, capacity) if scores is not None else None,
            "complete": cohort + timedelta(days=7) <= matured_until,
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ConversionCheck:
    """The recent matured conversion rate against the champion's baseline."""

    baseline_rate: float | None
    current_rate: float | None
    relative_change: float | None
    cohorts: list[str]
    leads: int
    z: float | None
    dropped: bool
    note: str

    def as_dict(self) -> dict:
        return asdict(self)


def conversion_check(
    cohorts: pd.DataFrame, baseline_rate: float | None, drop_threshold: float, min_leads: int = 500
) -> ConversionCheck:
    """Compare the most recent complete cohorts (pooled back until ``min_leads``) with the baseline.

    ``dropped`` needs both a relative drop beyond ``drop_threshold`` and a drop that
    is not sampling noise (one-sided z >= DROP_Z against the baseline rate).
    """
    complete = cohorts[cohorts["complete"].astype(bool)] if not cohorts.empty else cohorts
    if complete.empty or not baseline_rate:
        note = "no complete matured cohort yet" if complete.empty else "no baseline conversion rate"
        return ConversionCheck(baseline_rate, None, None, [], 0, None, False, note)
    recent = complete.iloc[::-1]
    take = int(np.searchsorted(recent["leads"].cumsum().to_numpy(), min_leads) + 1)
    pooled = recent.iloc[:take]
    leads, conversions = int(pooled["leads"].sum()), int(pooled["conversions"].sum())
    rate = conversions / leads
    change = rate / baseline_rate - 1.0
    z = (baseline_rate - rate) / math.sqrt(baseline_rate * (1 - baseline_rate) / leads) if baseline_rate < 1 else 0.0
    dropped = change < -drop_threshold and z >= DROP_Z
    names = [str(c) for c in pooled[COHORT].iloc[::-1]]
    note = f"{rate:.2%} vs baseline {baseline_rate:.2%} ({change:+.1%}, z={z:.2f}) on {leads} matured leads"
    return ConversionCheck(baseline_rate, rate, change, names, leads, z, dropped, note)
