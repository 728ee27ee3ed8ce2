"""Which model family the data supports: XGBoost or the regularised logistic model.

Both are scored on the same time-ordered CV folds the search used (mean validation
ROC-AUC over the folds). XGBoost's figure is its best trial's, a maximum over trials
and boosting rounds, so it is, if anything, optimistic. The logistic model is the gate's
baseline itself (median-imputed, standardised, L2 with C=1), so when it is chosen the
registered model and the yardstick are one model. It wins ties: it is cheaper to score,
its reasons are exact, and a boosted model that cannot beat it is not worth its cost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from tasks.features.linear import LogisticScorer

log = logging.getLogger(__name__)

BASELINE_C = 1.0  # scikit-learn's default L2 strength: the baseline's, kept as it was


@dataclass(frozen=True)
class FamilyChoice:
    family: str  # "xgboost" or "logistic"
    cv_auc: dict[str, float]  # mean CV ROC-AUC of each family on the same folds


def logistic_cv_auc(
    features: np.ndarray, labels: np.ndarray, folds: list, names: list[str], seed: int, c: float
) -> float:
    """Mean validation ROC-AUC of the logistic model over the time-ordered folds."""
    aucs = []
    for train, valid in folds:
        model = LogisticScorer.fit(features[train], labels[train], names, seed, c)
        aucs.append(roc_auc_score(labels[valid], model.inplace_predict(features[valid])))
    return float(np.mean(aucs))


def choose_family(
    features: np.ndarray,
    labels: np.ndarray,
    folds: list,
    names: list[str],
    xgboost_cv_auc: float,
    seed: int,
) -> FamilyChoice:
    """The family with the higher mean CV AUC (the logistic model on a tie)."""
    logistic = logistic_cv_auc(features, labels, folds, names, seed, BASELINE_C)
    cv_auc = {"xgboost": xgboost_cv_auc, "logistic": logistic}
    family = "logistic" if cv_auc["logistic"] >= xgboost_cv_auc else "xgboost"
    log.info(
        "model family %s: CV AUC xgboost %.4f, logistic %.4f", family, xgboost_cv_auc, logistic
    )
    return FamilyChoice(family, cv_auc)
