"""Train one candidate: encode, search, choose the family, fit, evaluate, and a baseline.

The candidate is the family that did better on the search's own CV folds (XGBoost or the
regularised logistic model, ``tasks.training.family``); the logistic baseline (C=1) is
always fitted beside it on the same rows as the gate's yardstick.

Plain functions over a ``TrainingSet``; the Prefect tasks in ``steps.py`` call them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from leadops.decisions.metrics import score_metrics
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import KNOWN_AT, LABEL
from tasks.features.encoder import FeatureEncoder
from tasks.features.linear import LogisticScorer
from tasks.training.dataset import TrainingSet, time_series_folds
from tasks.training.family import BASELINE_C, FamilyChoice, choose_family
from tasks.training.missingness import mask_never_missing
from tasks.training.search import SearchConfig, SearchResult, fit_booster, run_search

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchOutcome:
    encoder: FeatureEncoder
    search: SearchResult
    # Share of each never-missing feature blanked while fitting (tasks.training.missingness);
    # kept with the search so the final fit learns "unknown" exactly as the trials did.
    family: FamilyChoice
    missing_share: float = 0.0


@dataclass(frozen=True)
class Candidate:
    """A fitted model and how it did on the test window (plus the baseline's numbers)."""

    encoder: FeatureEncoder
    booster: Any  # the chosen family's scorer: xgb.Booster or LogisticScorer
    search: SearchResult
    test_labels: np.ndarray
    test_scores: np.ndarray
    metrics: dict[str, float]
    baseline_scores: np.ndarray
    baseline_metrics: dict[str, float]
    family: FamilyChoice


def search_candidate(
    training: TrainingSet,
    contract: Contract,
    config: SearchConfig,
    technographics_cap: int,
    cv_folds: int,
    missing_share: float = 0.0,
) -> SearchOutcome:
    """Fit the encoder on the training rows and run the hyperparameter search.

    Args:
        missing_share: share of each never-missing feature blanked in the training
            rows (validation folds included: a trial is judged on what it will serve).
    """
    encoder = FeatureEncoder.fit(training.dev, contract, technographics_cap)
    dev = mask_never_missing(training.dev, encoder.spec, missing_share, config.seed)
    features, labels = encoder.transform(dev), training.dev[LABEL].to_numpy()
    folds = time_series_folds(
        labels, cv_folds, training.dev[contract.event_time], training.dev[KNOWN_AT]
    )
    result = run_search(features, labels, folds, config)
    log.info(
        "search %s: best cv auc %.4f after %d trials (%s)",
        result.study_name,
        result.best_value,
        len(result.trials),
        result.counts,
    )
    family = choose_family(
        features, labels, folds, encoder.feature_names, result.best_value, config.seed
    )
    return SearchOutcome(encoder, result, family, missing_share)


def fit_candidate(
    training: TrainingSet, outcome: SearchOutcome, seed: int, capacity_fraction: float
) -> Candidate:
    """Train the chosen family on all training rows and evaluate it and the baseline."""
    encoder = outcome.encoder
    dev_x, dev_y = encoder.transform(training.dev), training.dev[LABEL].to_numpy()
    test_x, test_y = encoder.transform(training.test), training.test[LABEL].to_numpy()
    # The test window stays as recorded: the gate judges the model on real leads.
    masked = mask_never_missing(training.dev, encoder.spec, outcome.missing_share, seed)
    fit_x = encoder.transform(masked) if masked is not training.dev else dev_x
    if outcome.family.family == "logistic":
        booster = LogisticScorer.fit(fit_x, dev_y, encoder.feature_names, seed, BASELINE_C)
    else:
        booster = fit_booster(
            fit_x,
            dev_y,
            outcome.search.best_params,
            outcome.search.best_rounds,
            seed,
            encoder.feature_names,
        )
    scores = np.asarray(booster.inplace_predict(test_x), dtype=np.float64)
    baseline = baseline_scores(dev_x, dev_y, test_x, seed, encoder.feature_names)
    return Candidate(
        encoder=encoder,
        booster=booster,
        search=outcome.search,
        test_labels=test_y,
        test_scores=scores,
        metrics=score_metrics(test_y, scores, capacity_fraction),
        baseline_scores=baseline,
        baseline_metrics=score_metrics(test_y, baseline, capacity_fraction),
        family=outcome.family,
    )


def baseline_scores(
    dev_x: np.ndarray,
    dev_y: np.ndarray,
    test_x: np.ndarray,
    seed: int,
    names: list[str] | None = None,
) -> np.ndarray:
    """A plain, standardised logistic regression (C=1) on the same encoded features.

    It is the yardstick: a boosted model that cannot beat it is not worth its cost.
    """
    names = names if names is not None else [f"f{i}" for i in range(dev_x.shape[1])]
    return LogisticScorer.fit(dev_x, dev_y, names, seed, BASELINE_C).inplace_predict(test_x)
