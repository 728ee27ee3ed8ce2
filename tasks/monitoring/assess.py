"""The monitor's computation on frames already in memory (what bench_monitor times).

Fixed-bin PSI on every row, the Evidently report on samples, conversion on
matured cohorts, and the retrain decision. No lake, registry or Prefect here.

The retrain decision is made of statistical tests (leadops.decisions.monitor_decisions): a
feature drifts only when its PSI is above the threshold *and* beyond what an
unchanged distribution shows at this batch size (the family of features held to
``drift_alpha`` per run); conversion drops only when the drop is significant.
Each test's ``Decision`` is kept in ``Assessment.decisions``; the retrain trigger's
``RetrainDecision`` (tasks.monitoring.trigger) is built from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from leadops.decisions.monitor_decisions import psi_drift_test
from leadops.decisions.psi import PsiBaseline, fit_baseline, fit_bins, monitored_columns, psi_value
from leadops.decisions.train_reasons import CONVERSION_DROP, DRIFT, MISCALIBRATION, RANKING_LOSS
from leadops.decisions.verdict import Decision, Verdict
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import (
    LABEL,
    MATURED,
    DelayCurve,
    label_matured,
    label_so_far,
    outcome_watermark,
)
from leadops.settings import get_settings
from tasks.monitoring import drift_report
from tasks.monitoring.calibration import CalibrationCheck, calibration_check, calibration_cohorts
from tasks.monitoring.conversion import (
    ConversionCheck,
    conversion_check,
    conversion_window,
    week_of,
    weekly_cohorts,
)
from tasks.monitoring.ranking import RankingBaseline, ranking_check
from tasks.monitoring.trigger import RetrainDecision, trigger_rule

SCORE = "score"
MIN_RANKING_CLASS = 10  # converted and not, below which an AUC says next to nothing


@dataclass(frozen=True)
class Thresholds:
    """The knobs of the decision (from Settings in the flow)."""

    psi: float
    conversion_drop: float
    capacity: float
    seed: int = 42
    sample_rows: int = drift_report.EVIDENTLY_SAMPLE_ROWS
    # The tests' error rates; left out, they come from Settings (LEADOPS_*).
    drift_alpha: float = field(default_factory=lambda: get_settings().drift_family_alpha)
    min_batch_rows: int = field(default_factory=lambda: get_settings().drift_min_batch_rows)
    conversion_alpha: float = field(default_factory=lambda: get_settings().conversion_alpha)
    conversion_power: float = field(default_factory=lambda: get_settings().conversion_power)
    early_outcomes: bool = field(default_factory=lambda: get_settings().conversion_early_outcomes)
    lookback_weeks: int = field(default_factory=lambda: get_settings().conversion_lookback_weeks)
    calibration_miss: float = field(
        default_factory=lambda: get_settings().calibration_miss_threshold
    )
    calibration_alpha: float = field(default_factory=lambda: get_settings().calibration_alpha)


@dataclass
class Assessment:
    """Everything one monitor run found."""

    psi: dict[str, float]
    score_psi: float | None
    conversion: ConversionCheck
    cohorts: pd.DataFrame
    decision: RetrainDecision
    rule: str
    html: str | None = None
    evidently: dict[str, Any] = field(default_factory=dict)
    snapshot: Any = None
    decisions: list[Decision] = field(default_factory=list)
    calibration: CalibrationCheck | None = None


def score_drift(reference: pd.DataFrame, current: pd.DataFrame) -> float | None:
    """Prediction drift: PSI of the served scores, bins fixed from the reference's scores."""
    if SCORE not in reference or SCORE not in current or reference.empty:
        return None
    bins = fit_bins(SCORE, reference[SCORE], "numeric")
    return psi_value(bins.shares(reference[SCORE]), bins.shares(current[SCORE]))


def drift_decisions(
    baseline: PsiBaseline, counts: dict[str, np.ndarray], rows: int, thresholds: Thresholds
) -> list[Decision]:
    """One PSI drift test per monitored feature, the family held to ``thresholds.drift_alpha``."""
    psi = baseline.psi_of_counts(counts)
    return [
        psi_drift_test(
            psi[name],
            baseline.reference_rows,
            rows,
            baseline.occupied_bins(name, c),
            len(counts),
            thresholds.drift_alpha,
            thresholds.psi,
            thresholds.min_batch_rows,
            name,
        )
        for name, c in counts.items()
    ]


def calibration_decision(calibration: CalibrationCheck | None) -> RetrainDecision | None:
    """The retrain a significant miscalibration asks for: recalibrate when the ranking
    holds, retrain when it does not; None when the served probabilities are not off."""
    if calibration is None or not calibration.miscalibrated:
        return None
    ranking = (calibration.ranking or {}).get("note", "ranking not checked")
    reason = MISCALIBRATION if calibration.ranking_holds else RANKING_LOSS
    return RetrainDecision(True, reason, f"{calibration.note}; {ranking}", [])


def retrain_decision(
    drift: list[Decision],
    conversion: ConversionCheck,
    calibration: CalibrationCheck | None = None,
) -> RetrainDecision:
    """The trigger's decision from the tests; drift wins when both fire (earlier, cheaper),
    then a conversion drop, then miscalibration (recalibrate when the ranking holds)."""
    drifted = sorted((d for d in drift if d.verdict is Verdict.FAIL), key=lambda d: -d.estimate)
    names = [d.details["feature"] for d in drifted]
    if drifted:
        text = drifted[0].reason + (f" (also {', '.join(names[1:])})" if len(names) > 1 else "")
        return RetrainDecision(True, DRIFT, text, names)
    if conversion.dropped:
        return RetrainDecision(True, CONVERSION_DROP, conversion.note, [])
    if (miscalibrated := calibration_decision(calibration)) is not None:
        return miscalibrated
    waiting = [d for d in drift if d.verdict is Verdict.WAIT]
    if waiting:
        text = f"drift not tested: {waiting[0].reason.split(': ', 1)[1]}"
    elif drift:
        worst = max(drift, key=lambda d: d.estimate)
        text = (
            f"no feature drifted (max PSI {worst.estimate:.3f}, {worst.details['feature']}, "
            f"fires above {worst.threshold:.3f})"
        )
    else:
        text = "no features monitored"
    calibrated = f"; calibration: {calibration.note}" if calibration is not None else ""
    return RetrainDecision(False, None, f"{text}; conversion: {conversion.note}{calibrated}", [])


def assess_calibration(
    labelled: pd.DataFrame,
    contract: Contract,
    curve: DelayCurve | None,
    thresholds: Thresholds,
    baseline: RankingBaseline | None,
) -> CalibrationCheck:
    """Served probabilities vs outcomes on the conversion window's cohorts, and (only when
    they are off) whether the ranking holds on the matured leads of the cohorts tested."""
    cohorts = calibration_cohorts(labelled, contract, SCORE, curve)
    check = calibration_check(
        cohorts,
        thresholds.calibration_miss,
        thresholds.calibration_alpha,
        thresholds.conversion_power,
    )
    if not check.miscalibrated:
        return check
    matured = labelled[labelled[MATURED].astype(bool)] if MATURED in labelled else labelled
    weeks = set(check.cohorts)
    tested = matured[[str(w) in weeks for w in week_of(matured[contract.event_time])]]
    # The latest cohorts may be all maturing (outcomes seen early): then the ranking is
    # judged on every matured lead of the window.
    labels = tested[LABEL].to_numpy()
    if min(int(labels.sum()), len(labels) - int(labels.sum())) < MIN_RANKING_CLASS:
        tested = matured
    ranking = ranking_check(tested[LABEL].to_numpy(), tested[SCORE].to_numpy(), baseline)
    return replace(check, ranking=ranking.as_dict())


def _window_note(contract: Contract, as_of: datetime, thresholds: Thresholds) -> str:
    """The leads the conversion test looks at, named (a historical export needs the
    --as-of it was scored with)."""
    since, until = conversion_window(
        contract, as_of, thresholds.lookback_weeks, thresholds.early_outcomes
    )
    return (
        f"leads the champion scored by {as_of:%Y-%m-%d %H:%M} and created from "
        f"{since:%Y-%m-%d} to {until:%Y-%m-%d} (the conversion window, "
        f"LEADOPS_CONVERSION_LOOKBACK_WEEKS={thresholds.lookback_weeks}); for a historical "
        "export, pass the --as-of you scored it with"
    )


def assess(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    matured: pd.DataFrame,
    contract: Contract,
    as_of: datetime,
    thresholds: Thresholds,
    with_report: bool = True,
    serving_note: str | None = None,
    ranking_baseline: RankingBaseline | None = None,
) -> Assessment:
    """Compare the current window with the reference and decide on a retrain.

    Args:
        reference: the champion's training reference (features, ``_label``, score).
        current: recently scored leads (features + score).
        matured: the champion's scored leads with outcomes (label not yet decided), the
            maturing ones too when ``thresholds.early_outcomes``.
        with_report: also run Evidently and render the HTML (the slow, sampled part).
        serving_note: the online service's health in the window, stated in the HTML.
        ranking_baseline: the champion's test-window AUC; a miscalibration is answered by
            a recalibration only when the matured AUC is not significantly below it.
    """
    columns = monitored_columns(contract)
    baseline_psi = fit_baseline(reference, columns)
    counts = baseline_psi.counts(current)
    psi = baseline_psi.psi_of_counts(counts)
    drift = drift_decisions(baseline_psi, counts, len(current), thresholds)
    watermark = outcome_watermark(matured, contract)
    if thresholds.early_outcomes:
        labelled = label_so_far(matured, contract, as_of, watermark)
        curve = DelayCurve.fit(reference, contract)
    else:
        labelled, curve = label_matured(matured, contract, as_of, watermark=watermark), None
    cohorts = weekly_cohorts(labelled, contract, as_of, thresholds.capacity, curve=curve)
    baseline = float(reference[LABEL].mean()) if LABEL in reference and len(reference) else None
    conversion = conversion_check(
        cohorts,
        baseline,
        thresholds.conversion_drop,
        len(reference) or None,
        thresholds.conversion_alpha,
        thresholds.conversion_power,
    )
    if cohorts.empty:
        note = f"no {_window_note(contract, as_of, thresholds)}"
        conversion = replace(conversion, note=note)
    elif conversion.decision is None and baseline:
        # Only leads still maturing in the window: say which window it was.
        note = f"{conversion.note} among the {_window_note(contract, as_of, thresholds)}"
        conversion = replace(conversion, note=note)
    calibration = assess_calibration(labelled, contract, curve, thresholds, ranking_baseline)
    decision = retrain_decision(drift, conversion, calibration)
    rule = trigger_rule(thresholds.psi, thresholds.conversion_drop) + (
        f"; a feature counts as drifted only when its PSI is also beyond what an unchanged "
        f"distribution shows at this batch size (all features together: at most "
        f"{thresholds.drift_alpha:.0%} false alarms per run; batches under "
        f"{thresholds.min_batch_rows} rows are pooled)"
    )
    result = Assessment(
        psi,
        score_drift(reference, current),
        conversion,
        cohorts,
        decision,
        rule,
        decisions=[
            *drift,
            *([conversion.decision] if conversion.decision else []),
            calibration.decision,
        ],
        calibration=calibration,
    )
    if with_report:
        snapshot = drift_report.run_evidently(
            reference,
            current,
            columns,
            thresholds.psi,
            as_of,
            thresholds.seed,
            thresholds.sample_rows,
        )
        facts = drift_report.ReportFacts(
            as_of,
            rule,
            psi,
            thresholds.psi,
            decision.explanation,
            len(reference),
            len(current),
            thresholds.sample_rows,
            conversion.note,
            {
                d.details["feature"]: (d.threshold, d.verdict is Verdict.FAIL)
                for d in drift
                if d.verdict is not Verdict.WAIT
            },
            serving_note,
        )
        result.html = drift_report.report_html(snapshot, facts)
        result.evidently = drift_report.evidently_summary(snapshot)
        result.snapshot = snapshot
    return result
