"""Conversion monitoring on matured cohorts only.

A lead's outcome is final ``contract.outcome_window_days`` after it was created; a
younger lead without an outcome may still convert, so counting it as a negative
would show a conversion drop that is only label delay. Leads are grouped into
weekly cohorts by event time, and a cohort counts once its whole week has matured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from leadops.contract import Contract
from leadops.decisions import Decision, Verdict
from leadops.maturity import LABEL
from leadops.metrics import precision_at_capacity, rank_auc
from leadops.monitor_decisions import pooled_conversion_test

COHORT = "cohort"


def week_of(times: pd.Series) -> pd.Series:
    """The Monday (UTC date) starting each timestamp's week."""
    stamps = pd.to_datetime(times, utc=True)
    return (stamps.dt.floor("D") - pd.to_timedelta(stamps.dt.weekday, unit="D")).dt.date


def weekly_cohorts(
    matured: pd.DataFrame,
    contract: Contract,
    as_of: datetime,
    capacity: float,
    score: str = "score",
) -> pd.DataFrame:
    """One row per week of event time: leads, conversions, rate, AUC and precision at capacity.

    ``complete`` says whether the whole week had matured by ``as_of`` (only complete
    cohorts are compared with the baseline).
    """
    if matured.empty:
        return pd.DataFrame(
            columns=[
                COHORT,
                "leads",
                "conversions",
                "rate",
                "auc",
                "precision_at_capacity",
                "complete",
            ]
        )
    matured_until = (pd.Timestamp(as_of) - pd.Timedelta(days=contract.outcome_window_days)).date()
    rows = []
    for cohort, group in matured.groupby(week_of(matured[contract.event_time]), sort=True):
        labels = group[LABEL].to_numpy()
        scores = group[score].to_numpy(dtype="float64") if score in group else None
        auc = rank_auc(labels, scores) if scores is not None else None
        rows.append(
            {
                COHORT: cohort,
                "leads": len(group),
                "conversions": int(labels.sum()),
                "rate": float(labels.mean()),
                "auc": None if auc is None or np.isnan(auc) else auc,
                "precision_at_capacity": precision_at_capacity(labels, scores, capacity)
                if scores is not None
                else None,
                "complete": cohort + timedelta(days=7) <= matured_until,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ConversionCheck:
    """The recent matured conversion rate against the champion's baseline.

    ``decision`` is the statistical test behind ``dropped`` (leadops.monitor_decisions):
    FAIL = a drop, PASS = no drop it could have missed, WAIT = too few matured leads.
    """

    baseline_rate: float | None
    current_rate: float | None
    relative_change: float | None
    cohorts: list[str]
    leads: int
    z: float | None
    dropped: bool
    note: str
    decision: Decision | None = None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["decision"] = self.decision.as_dict() if self.decision is not None else None
        return out


def conversion_check(
    cohorts: pd.DataFrame,
    baseline_rate: float | None,
    drop_threshold: float,
    baseline_leads: int | None = None,
    alpha: float = 0.005,
    power: float = 0.8,
) -> ConversionCheck:
    """Test the most recent complete cohorts, pooled, against the baseline.

    Pools of the latest 1, 2, 4, ... complete cohorts are tested until one could detect
    a ``drop_threshold`` drop with ``power`` (leadops.monitor_decisions.pooled_conversion_test);
    ``dropped`` needs a drop beyond the threshold that is significant at ``alpha``.

    Args:
        baseline_leads: leads behind ``baseline_rate`` (its own noise); None: taken as exact.
    """
    complete = cohorts[cohorts["complete"].astype(bool)] if not cohorts.empty else cohorts
    if complete.empty or not baseline_rate:
        note = "no complete matured cohort yet" if complete.empty else "no baseline conversion rate"
        return ConversionCheck(baseline_rate, None, None, [], 0, None, False, note)
    base = baseline_rate * baseline_leads if baseline_leads else baseline_rate
    decision, used = pooled_conversion_test(
        [int(v) for v in complete["leads"]],
        [int(v) for v in complete["conversions"]],
        base,
        baseline_leads,
        drop_threshold,
        alpha,
        power,
    )
    pooled = complete.iloc[len(complete) - used :]
    names = [str(c) for c in pooled[COHORT]]
    leads, rate = int(pooled["leads"].sum()), decision.details.get("current_rate")
    change = rate / baseline_rate - 1.0 if rate is not None else None
    window = f"cohorts {names[0]} to {names[-1]}" if len(names) > 1 else f"cohort {names[0]}"
    note = f"{decision.reason} ({window}, weeks of event time)"
    return ConversionCheck(
        baseline_rate,
        rate,
        change,
        names,
        leads,
        decision.details.get("z"),
        decision.verdict is Verdict.FAIL,
        note,
        decision,
    )
