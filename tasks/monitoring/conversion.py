"""Conversion monitoring on weekly cohorts, matured and maturing.

A lead's outcome is final ``contract.outcome_window_days`` after it was created; a
younger lead without an outcome may still convert, so counting it as a negative
would show a conversion drop that is only label delay. Leads are grouped into
weekly cohorts by event time; a cohort is complete once its whole week has matured.

With a delay curve (the champion's training data: when its conversions arrived), a
maturing lead counts too, as the share of a conversion the curve expects by its age:
a cohort's *exposure* is its matured leads plus that share summed over its maturing
ones (matured-lead equivalents), and its conversions so far are compared with
baseline x exposure. A drop then shows about a week sooner at 1,000 leads a week
(bench/bench_decisions.py). It assumes conversions reach the outcome exports as they
happen (``LEADOPS_CONVERSION_EARLY_OUTCOMES``); a funnel that only slowed down also
looks like a drop until its leads mature.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from leadops.decisions.metrics import precision_at_capacity, rank_auc
from leadops.decisions.monitor_decisions import pool_sizes, pooled_conversion_test
from leadops.decisions.verdict import Decision, Verdict
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import AGE_DAYS, LABEL, MATURED, DelayCurve

COHORT = "cohort"


def week_of(times: pd.Series) -> pd.Series:
    """The Monday (UTC date) starting each timestamp's week."""
    stamps = pd.to_datetime(times, utc=True)
    return (stamps.dt.floor("D") - pd.to_timedelta(stamps.dt.weekday, unit="D")).dt.date


def conversion_window(
    contract: Contract, as_of: datetime, lookback_weeks: int, early_outcomes: bool
) -> tuple[datetime, datetime]:
    """(after, until): the creation times of the leads the conversion test reads.

    ``lookback_weeks`` of leads before the last matured one, and the maturing ones up
    to ``as_of`` when ``early_outcomes``.
    """
    matured_until = as_of - timedelta(days=contract.outcome_window_days)
    return (
        matured_until - timedelta(weeks=lookback_weeks),
        as_of if early_outcomes else matured_until,
    )


COLUMNS = [
    COHORT,
    "leads",
    "conversions",
    "rate",
    "auc",
    "precision_at_capacity",
    "complete",
    "maturing",
    "maturing_conversions",
    "exposure",
]


def weekly_cohorts(
    labelled: pd.DataFrame,
    contract: Contract,
    as_of: datetime,
    capacity: float,
    score: str = "score",
    curve: DelayCurve | None = None,
) -> pd.DataFrame:
    """One row per week of event time: matured leads, conversions, rate, AUC, precision
    at capacity, and what is known so far of its maturing leads.

    Args:
        labelled: ``label_matured`` (every lead matured) or ``label_so_far`` leads.
        curve: the delay curve maturing leads are counted by; None: they count 0.

    ``complete`` says whether the whole week had matured by ``as_of``; ``exposure`` is
    matured leads plus the curve's expected share of a conversion over maturing ones.
    """
    if labelled.empty:
        return pd.DataFrame(columns=COLUMNS)
    matured_until = (pd.Timestamp(as_of) - pd.Timedelta(days=contract.outcome_window_days)).date()
    done = labelled[MATURED].to_numpy(bool) if MATURED in labelled else np.ones(len(labelled), bool)
    rows = []
    for cohort, index in labelled.groupby(
        week_of(labelled[contract.event_time]), sort=True
    ).indices.items():
        group, young = labelled.iloc[index[done[index]]], labelled.iloc[index[~done[index]]]
        labels = group[LABEL].to_numpy()
        scores = group[score].to_numpy(dtype="float64") if score in group else None
        auc = rank_auc(labels, scores) if scores is not None and len(group) else None
        share = curve.seen_share(young[AGE_DAYS]).sum() if curve is not None and len(young) else 0.0
        rows.append(
            {
                COHORT: cohort,
                "leads": len(group),
                "conversions": int(labels.sum()),
                "rate": float(labels.mean()) if len(group) else None,
                "auc": None if auc is None or np.isnan(auc) else auc,
                "precision_at_capacity": precision_at_capacity(labels, scores, capacity)
                if scores is not None and len(group)
                else None,
                "complete": cohort + timedelta(days=7) <= matured_until,
                "maturing": len(young),
                "maturing_conversions": int(young[LABEL].sum()),
                "exposure": len(group) + float(share),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


@dataclass(frozen=True)
class ConversionCheck:
    """The recent conversion rate against the champion's baseline.

    ``decision`` is the statistical test behind ``dropped`` (leadops.decisions.monitor_decisions):
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
    """Test the most recent cohorts, pooled, against the baseline.

    Complete cohorts only, unless ``cohorts`` has an ``exposure`` column with maturing
    leads counted (``weekly_cohorts`` with a delay curve): then every cohort with
    exposure, its conversions so far against baseline x exposure. Pools of the latest
    1, 2, 4, ... cohorts are tested until one could detect a ``drop_threshold`` drop
    with ``power`` (leadops.decisions.monitor_decisions.pooled_conversion_test); ``dropped``
    needs a drop beyond the threshold that is significant at ``alpha`` per run.

    Args:
        baseline_leads: leads behind ``baseline_rate`` (its own noise); None: taken as exact.
    """
    # Maturing leads count only when a delay curve gave them exposure.
    early = "exposure" in cohorts and bool((cohorts["exposure"] > cohorts["leads"]).any())
    if cohorts.empty:
        used = cohorts
    elif early:
        used = cohorts[cohorts["exposure"] > 0]
    else:
        used = cohorts[cohorts["complete"].astype(bool)]
    if used.empty or not baseline_rate:
        note = "no complete matured cohort yet" if used.empty else "no baseline conversion rate"
        return ConversionCheck(baseline_rate, None, None, [], 0, None, False, note)
    base = baseline_rate * baseline_leads if baseline_leads else baseline_rate
    leads = [float(v) for v in used["exposure"]] if early else [int(v) for v in used["leads"]]
    conversions = [int(v) for v in used["conversions"]]
    if early:
        conversions = [
            c + int(m) for c, m in zip(conversions, used["maturing_conversions"], strict=True)
        ]
    sizes = pool_sizes(len(used))
    decision, taken = pooled_conversion_test(
        leads,
        conversions,
        base,
        baseline_leads,
        drop_threshold,
        alpha,
        power,
        [_described(used.iloc[len(used) - size :]) for size in sizes] if early else None,
    )
    pooled = used.iloc[len(used) - taken :]
    names = [str(c) for c in pooled[COHORT]]
    rate = decision.details.get("current_rate")
    change = rate / baseline_rate - 1.0 if rate is not None else None
    window = f"cohorts {names[0]} to {names[-1]}" if len(names) > 1 else f"cohort {names[0]}"
    note = f"{decision.reason} ({window}, weeks of event time)"
    return ConversionCheck(
        baseline_rate,
        rate,
        change,
        names,
        int(pooled["leads"].sum() + (pooled["maturing"].sum() if early else 0)),
        decision.details.get("z"),
        decision.verdict is Verdict.FAIL,
        note,
        decision,
    )


def _described(pool: pd.DataFrame) -> str:
    """What a pool's leads are when maturing ones count: "N matured + M maturing leads (...)"."""
    matured, maturing = int(pool["leads"].sum()), int(pool["maturing"].sum())
    if not maturing:
        return f"{matured:,} matured leads"
    return (
        f"{matured:,} matured + {maturing:,} maturing leads "
        f"(= {pool['exposure'].sum():,.0f} matured-lead equivalents by the delay curve)"
    )
