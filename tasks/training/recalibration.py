"""The recalibration path: the champion's booster and encoder, a new calibrator, a new version.

When the monitor's trigger is ``miscalibration`` (the served probabilities are off and the
ranking holds), the train flow refits only the calibrator (``tasks.training.calibrate``)
on the recent matured leads before the test window and judges it on the test window, on
leads it has not seen. The ranking gate (ROC-AUC gain with an interval above 0) cannot
judge it: a monotone map leaves the ranking as it was, so the gain is exactly 0. Its own
gate asks what a recalibration is for, on the same paired-bootstrap intervals:

- CHALLENGER: the Brier score is significantly lower (95% paired interval of
  new - champion below 0) and the ROC-AUC not significantly lower (isotonic ties can
  merge a few ranks); then it enters shadow and the usual rollout like any challenger;
- REJECTED otherwise, with the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from leadops.decisions import stats
from leadops.decisions.metrics import score_metrics
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LABEL
from leadops.models.calibrator import Calibrator, probabilities
from tasks.training.calibrate import fit_calibrator
from tasks.training.dataset import TrainingSet
from tasks.training.gate import GateOutcome, GateResult


@dataclass(frozen=True)
class Recalibration:
    """A refitted calibrator and how it did against the champion on the test window."""

    calibrator: Calibrator
    fit_start: pd.Timestamp
    test_labels: np.ndarray
    test_scores: np.ndarray  # the recalibrated champion's
    champion_scores: np.ndarray  # what the champion serves today
    metrics: dict[str, float]
    champion_metrics: dict[str, float]
    gate: GateResult


def recent_matured(training: TrainingSet, contract: Contract, window_days: int) -> pd.DataFrame:
    """The leads created in the ``window_days`` before the test window whose whole outcome
    window had passed by its start.

    The training side also holds leads decided early (a quick win or an explicit lost row);
    among the newest of them wins are over-represented (28% vs 12% measured), which a
    calibrator would learn as a higher conversion rate. Here every lead had its full window.
    """
    end = pd.Timestamp(training.test_start) - timedelta(days=contract.outcome_window_days)
    start = pd.Timestamp(training.test_start) - timedelta(days=window_days)
    created = pd.to_datetime(training.dev[contract.event_time], utc=True)
    return training.dev[(created >= start) & (created <= end)]


def recalibrate(
    booster: object,
    encoder: object,
    served_calibrator: Calibrator | None,
    training: TrainingSet,
    contract: Contract,
    settings: object,
) -> Recalibration:
    """Refit the calibrator on recent matured leads, judge it on the test window.

    Raises:
        ValueError: one line naming the window when it holds too few leads or one class.
    """
    recent = recent_matured(training, contract, settings.recalibration_window_days)
    if recent.empty or training.test.empty:
        raise ValueError(
            f"recalibration: {len(recent):,} matured leads in the "
            f"{settings.recalibration_window_days} days before {training.test_start:%Y-%m-%d} "
            f"and {len(training.test):,} in the test window; both are needed"
        )
    fit_x, test_x = encoder.transform(recent), encoder.transform(training.test)
    calibrator = fit_calibrator(
        booster.inplace_predict(fit_x, predict_type="margin"),
        recent[LABEL].to_numpy(),
        settings.recalibration_isotonic_min_each,
    )
    labels = training.test[LABEL].to_numpy()
    new = probabilities(booster, test_x, calibrator)
    old = probabilities(booster, test_x, served_calibrator)
    capacity = settings.capacity_fraction
    metrics, champion = score_metrics(labels, new, capacity), score_metrics(labels, old, capacity)
    gate = recalibration_gate(labels, new, old, metrics, champion, settings)
    return Recalibration(
        calibrator, recent[contract.event_time].min(), labels, new, old, metrics, champion, gate
    )


def recalibration_gate(
    labels: np.ndarray,
    new: np.ndarray,
    old: np.ndarray,
    metrics: dict[str, float],
    champion: dict[str, float],
    settings: object,
) -> GateResult:
    """CHALLENGER when the Brier score is significantly lower and the AUC not significantly
    lower (paired bootstrap, 95%, ``gate_bootstrap_samples``); else REJECTED."""

    def interval(metric: str) -> stats.Interval:
        return stats.paired_bootstrap(
            labels, new, old, metric, settings.gate_bootstrap_samples, settings.seed
        )

    brier, auc = interval("brier"), interval("auc")
    text = (
        f"recalibrated ({metrics['base_rate']:.1%} converted on the test window): Brier "
        f"{metrics['brier']:.4f} vs {champion['brier']:.4f} (CI of the change "
        f"[{brier.low:+.4f}, {brier.high:+.4f}]), ROC-AUC {metrics['roc_auc']:.4f} vs "
        f"{champion['roc_auc']:.4f} (CI [{auc.low:+.4f}, {auc.high:+.4f}]), calibration "
        f"error {metrics['calibration_error']:.3f} vs {champion['calibration_error']:.3f}"
    )
    gain = (metrics["roc_auc"] - champion["roc_auc"]) / champion["roc_auc"]
    if brier.high < 0 and auc.high >= 0:
        return GateResult(GateOutcome.CHALLENGER, f"better calibrated: {text}", gain)
    why = "Brier not significantly lower" if brier.high >= 0 else "ROC-AUC significantly lower"
    return GateResult(GateOutcome.REJECTED, f"{why}: {text}", gain)
