"""What a team would run instead of the automatic loop, and how every policy is judged.

The reference policies are plain XGBoost on the project's own feature encoder with
fixed, reasonable parameters; each model learns only from leads whose outcome window
had closed by its retrain time (``leadops.inputs.maturity.label_matured``), so no policy sees
an outcome before it happened. Built on leadops/ and tasks/ only (bench imports
nothing from tests/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LABEL, label_matured
from leadops.inputs.normalise import parse_frame

MONTH_DAYS = 28  # a month is four generator weeks, so every month has the same weekdays
RECENT_MONTHS = 6
# Reasonable for 1k-50k tabular rows; no search, so the reference costs seconds.
XGB_PARAMS = {
    "objective": "binary:logistic",
    "max_depth": 4,
    "eta": 0.08,
    "min_child_weight": 5,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "nthread": 2,
    "seed": 0,
}
XGB_ROUNDS = 200
TECHNOGRAPHICS_CAP = 20


def typed_history(leads: pd.DataFrame, outcomes: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Generator leads typed as silver types them, with their outcome row (gold's shape)."""
    roles = contract.roles("leads")
    typed = parse_frame(leads.astype(str), roles)[list(roles)]
    outcome = outcomes[contract.outcome_columns].copy()
    outcome[contract.label_time] = pd.to_datetime(outcome[contract.label_time], utc=True)
    typed[contract.event_time] = pd.to_datetime(typed[contract.event_time], utc=True)
    joined = typed.merge(outcome, on=contract.entity_id, how="left")
    joined[contract.label] = joined[contract.label].astype("boolean")
    return joined


def final_outcome(history: pd.DataFrame, contract: Contract, as_of: datetime) -> pd.Series:
    """1 when the lead converted within its window (judged after every window closed)."""
    matured = label_matured(history, contract, as_of)
    return matured.set_index(contract.entity_id)[LABEL].astype(int)


@dataclass(frozen=True)
class ReferencePolicy:
    """A retrain schedule: which months retrain, and on how much history."""

    name: str
    retrains_monthly: bool
    window_days: int | None  # None: all history


REFERENCE_POLICIES = (
    ReferencePolicy("cron_all", True, None),
    ReferencePolicy("cron_recent", True, RECENT_MONTHS * MONTH_DAYS),
    ReferencePolicy("frozen", False, None),
)


def fit_scorer(
    history: pd.DataFrame, contract: Contract, as_of: datetime, window_days: int | None
) -> Callable[[pd.DataFrame], np.ndarray]:
    """A model on the leads matured by ``as_of`` (within ``window_days`` of it, when given)."""
    import xgboost as xgb

    from tasks.features.encoder import FeatureEncoder

    train = label_matured(history, contract, as_of, training_window_days=window_days)
    encoder = FeatureEncoder.fit(train, contract, TECHNOGRAPHICS_CAP)
    matrix = xgb.DMatrix(encoder.transform(train), label=train[LABEL].astype(int))
    booster = xgb.train(XGB_PARAMS, matrix, XGB_ROUNDS)
    return lambda frame: booster.predict(xgb.DMatrix(encoder.transform(frame)))


def reference_scores(
    policy: ReferencePolicy,
    history: pd.DataFrame,
    contract: Contract,
    month_of: pd.Series,
    month_end: Callable[[int], datetime],
    first_month: int,
) -> tuple[pd.Series, int]:
    """Each lead's score from the model ``policy`` had in service when the lead came in.

    The first model is trained at the end of ``first_month`` (when the loop trains its
    first champion); a monthly policy retrains at the end of every later month and that
    model scores the next month's leads. Returns (score by entity id, retrains after the
    first model).
    """
    scores, retrains = [], 0
    scorer = fit_scorer(history, contract, month_end(first_month), policy.window_days)
    for month in range(first_month + 1, int(month_of.max()) + 1):
        if policy.retrains_monthly and month > first_month + 1:
            scorer = fit_scorer(history, contract, month_end(month - 1), policy.window_days)
            retrains += 1
        leads = history[month_of.to_numpy() == month]
        scores.append(pd.Series(scorer(leads), index=leads[contract.entity_id].to_numpy()))
    return pd.concat(scores), retrains


@dataclass(frozen=True)
class PolicyResult:
    """How one policy served the evaluated leads."""

    auc: float
    cal_err: float
    scored: float
    retrains: int
    promotions: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "auc": round(self.auc, 4),
            "cal_err": round(self.cal_err, 4),
            "scored": round(self.scored, 4),
            "retrains": self.retrains,
            "promotions": self.promotions,
        }


def served_quality(score: pd.Series, outcome: pd.Series, month: pd.Series) -> tuple[float, float]:
    """(lead-weighted monthly ROC-AUC, mean absolute monthly calibration error).

    All three are indexed by entity id; leads without a score are left out. A month's
    AUC counts by its scored leads (months with one class only have no AUC); the
    calibration error is |mean score - conversion rate| per month, averaged over months.
    """
    frame = pd.DataFrame({"score": score, "y": outcome, "month": month}).dropna()
    return _monthly_quality(frame)


def _monthly_quality(frame: pd.DataFrame) -> tuple[float, float]:
    aucs, weights, errors = [], [], []
    for _, rows in frame.groupby("month"):
        errors.append(abs(rows["score"].mean() - rows["y"].mean()))
        if rows["y"].nunique() == 2:
            aucs.append(roc_auc_score(rows["y"], rows["score"]))
            weights.append(len(rows))
    auc = float(np.average(aucs, weights=weights)) if aucs else float("nan")
    return auc, float(np.mean(errors)) if errors else float("nan")


def auc_gap_interval(
    auto: pd.Series,
    reference: pd.Series,
    outcome: pd.Series,
    month: pd.Series,
    reps: int = 400,
    seed: int = 0,
) -> tuple[float, float, int]:
    """95% paired bootstrap interval of (auto - reference) lead-weighted monthly AUC.

    Leads scored by both are resampled within their month, so each month keeps its
    size; returns (low, high, n leads).
    """
    frame = pd.DataFrame({"a": auto, "b": reference, "y": outcome, "month": month}).dropna()
    rng = np.random.default_rng(seed)
    groups = [rows for _, rows in frame.groupby("month")]
    gaps = []
    for _ in range(reps):
        sample = pd.concat([g.iloc[rng.integers(len(g), size=len(g))] for g in groups])
        auto_auc, _ = _monthly_quality(sample.rename(columns={"a": "score"}))
        reference_auc, _ = _monthly_quality(sample.rename(columns={"b": "score"}))
        gaps.append(auto_auc - reference_auc)
    low, high = np.nanpercentile(gaps, [2.5, 97.5])
    return float(low), float(high), len(frame)
