"""Refit a calibrator on recent matured leads: the cheap answer to a miscalibrated champion.

When the monitor finds the served probabilities off (tasks.monitoring.calibration) while
the ranking still holds, the booster and encoder are kept and only the map from their
log-odds to a probability is refitted (``leadops.models.calibrator``):

- Platt scaling (a one-feature logistic regression on the log-odds) by default: two
  parameters, stable at a few hundred leads, and it fixes the common miss, a level or
  slope shift of the log-odds (a funnel that converts 10x more than at training time).
- isotonic regression once both classes have ``isotonic_min_each`` leads: it also fixes
  a miss that is not a straight line in log-odds, but with few leads it overfits (its
  steps follow the noise); Niculescu-Mizil & Caruana (2005) found it better than Platt
  only from about a thousand calibration rows, hence a minority-class floor.

Both are monotone, so the ranking (ROC-AUC, precision at capacity) does not change.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from leadops.models.calibrator import ISOTONIC, PLATT, Calibrator


def fit_platt(log_odds: np.ndarray, labels: np.ndarray) -> Calibrator:
    """p = sigmoid(a x log-odds + b) by maximum likelihood (practically unpenalised)."""
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(log_odds, dtype=np.float64).reshape(-1, 1)
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(x, np.asarray(labels, dtype=int))
    return Calibrator(PLATT, float(fitted.coef_[0, 0]), float(fitted.intercept_[0]))


def fit_isotonic(log_odds: np.ndarray, labels: np.ndarray) -> Calibrator:
    """The non-decreasing map of log-odds to the observed conversion rate (pool adjacent
    violators); its knots are kept, and ``Calibrator.apply`` interpolates between them."""
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        np.asarray(log_odds, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    )
    return Calibrator(
        ISOTONIC,
        knots=tuple(float(v) for v in fitted.X_thresholds_),
        values=tuple(float(v) for v in fitted.y_thresholds_),
    )


def fit_calibrator(log_odds: np.ndarray, labels: np.ndarray, isotonic_min_each: int) -> Calibrator:
    """Platt, or isotonic when both classes have ``isotonic_min_each`` leads; says which and why.

    Raises:
        ValueError: one line naming the count when the leads hold a single class.
    """
    labels = np.asarray(labels, dtype=int)
    conversions = int(labels.sum())
    others = len(labels) - conversions
    if conversions == 0 or others == 0:
        raise ValueError(
            f"recalibration: {len(labels):,} matured leads with {conversions:,} conversions: "
            "both outcomes are needed to fit a calibrator"
        )
    isotonic = min(conversions, others) >= isotonic_min_each
    fitted = fit_isotonic(log_odds, labels) if isotonic else fit_platt(log_odds, labels)
    why = (
        f"isotonic: {min(conversions, others):,} leads in the smaller class >= "
        f"{isotonic_min_each:,}"
        if isotonic
        else f"Platt: {min(conversions, others):,} leads in the smaller class < "
        f"{isotonic_min_each:,}, too few for isotonic steps that do not follow the noise"
    )
    return replace(fitted, fitted_on={"leads": len(labels), "conversions": conversions, "why": why})
