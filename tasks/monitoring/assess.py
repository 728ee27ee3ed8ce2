"""The monitor's computation on frames already in memory (what bench_monitor times).

Fixed-bin PSI on every row, the Evidently report on samples, conversion on
matured cohorts, and the retrain decision. No lake, registry or Prefect here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from leadops.contract import Contract
from tasks.monitoring import drift_report
from tasks.monitoring.conversion import ConversionCheck, conversion_check, weekly_cohorts
from leadops.psi import fit_baseline, fit_bins, monitored_columns, psi_value
from tasks.monitoring.trigger import Decision, decide, trigger_rule
from leadops.maturity import LABEL, label_matured

SCORE = "score"


@dataclass(frozen=True)
class Thresholds:
    """The knobs of the decision (from Settings in the flow)."""

    psi: float
    conversion_drop: float
    capacity: float
    seed: int = 42
    sample_rows: int = drift_report.EVIDENTLY_SAMPLE_ROWS


@dataclass
class Assessment:
    """Everything one monitor run found."""

    psi: dict[str, float]
    score_psi: float | None
    conversion: ConversionCheck
    cohorts: pd.DataFrame
    decision: Decision
    rule: str
    html: str | None = None
    evidently: dict[str, Any] = field(default_factory=dict)
    snapshot: Any = None


def score_drift(reference: pd.DataFrame, current: pd.DataFrame) -> float | None:
    """Prediction drift: PSI of the served scores, bins fixed from the reference's scores."""
    if SCORE not in reference or SCORE not in current or reference.empty:
        return None
    bins = fit_bins(SCORE, reference[SCORE], "numeric")
    return psi_value(bins.shares(reference[SCORE]), bins.shares(current[SCORE]))


def assess(
    reference: pd.DataFrame, current: pd.DataFrame, matured: pd.DataFrame, contract: Contract,
    as_of: datetime, thresholds: Thresholds, with_report: bool = True,
) -> Assessment:
    """Compare the current window with the reference and decide on a retrain.

    Args:
        reference: the champion's training reference (features, ``_label``, score).
        current: recently scored leads (features + score).
        matured: the champion's scored leads with outcomes (label not yet decided).
        with_report: also run Evidently and render the HTML (the slow, sampled part).
    """
    columns = monitored_columns(contract)
    psi = fit_baseline(reference, columns).psi(current)
    cohorts = weekly_cohorts(label_matured(matured, contract, as_of), contract, as_of, thresholds.capacity)
    baseline = float(reference[LABEL].mean()) if LABEL in reference and len(reference) else None
    conversion = conversion_check(cohorts, baseline, thresholds.conversion_drop)
    decision = decide(psi, conversion, thresholds.psi)
    rule = trigger_rule(thresholds.psi, thresholds.conversion_drop)
    result = Assessment(psi, score_drift(reference, current), conversion, cohorts, decision, rule)
    if with_report:
        snapshot = drift_report.run_evidently(reference, current, columns, thresholds.psi, as_of, thresholds.seed, thresholds.sample_rows)
        facts = drift_report.ReportFacts(
            as_of, rule, psi, thresholds.psi, decision.explanation, len(reference), len(current),
            thresholds.sample_rows, conversion.note,
        )
        result.html = drift_report.report_html(snapshot, facts)
        result.evidently = drift_report.evidently_summary(snapshot)
        result.snapshot = snapshot
    return result
