"""Everything a training run writes to MLflow besides the model: params, metrics,
the trial table, the study summary and the evaluation plots."""

from __future__ import annotations

from typing import Any

import numpy as np

from leadops.settings import Settings
from tasks.features.linear import model_family
from tasks.training import plots, tracking
from tasks.training.dataset import TrainingSet
from tasks.training.model import encoded_contributions
from tasks.training.pipeline import Candidate

SHAP_SAMPLE_ROWS = 2_000  # exact TreeSHAP costs ~1.6 ms per row on 2 cores


def shap_sample(
    candidate: Candidate, training: TrainingSet, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(encoded rows, contributions) for at most SHAP_SAMPLE_ROWS seeded test rows."""
    test = training.test
    if len(test) > SHAP_SAMPLE_ROWS:
        rows = np.sort(
            np.random.default_rng(seed).choice(len(test), SHAP_SAMPLE_ROWS, replace=False)
        )
        test = test.iloc[rows]
    encoded = candidate.encoder.transform(test)
    return encoded, encoded_contributions(candidate.booster, candidate.encoder, encoded)


def figures(candidate: Candidate, training: TrainingSet, settings: Settings) -> dict[str, Any]:
    """Artifact path → Figure for ROC, PR, calibration, lift and the SHAP summary."""
    y, scores = candidate.test_labels, candidate.test_scores
    curves = {
        model_family(candidate.booster): scores,
        "logistic baseline": candidate.baseline_scores,
    }
    encoded, contribs = shap_sample(candidate, training, settings.seed)
    groups = [c.feature for c in candidate.encoder.columns]
    return {
        "plots/roc.png": plots.roc_figure(y, curves),
        "plots/pr.png": plots.pr_figure(y, curves),
        "plots/calibration.png": plots.calibration_figure(y, scores),
        "plots/lift.png": plots.lift_figure(y, scores, settings.capacity_fraction),
        "plots/shap_summary.png": plots.shap_summary_figure(
            contribs, encoded, candidate.encoder.feature_names, groups
        ),
    }


def run_params(
    candidate: Candidate, training: TrainingSet, config: dict[str, Any]
) -> dict[str, Any]:
    search = candidate.search
    return {
        **config,
        **{f"xgb_{k}": v for k, v in search.best_params.items()},
        "xgb_rounds": search.best_rounds,
        "model_family": model_family(candidate.booster),
        "train_rows": len(training.dev),
        "test_rows": len(training.test),
        "encoded_features": len(candidate.encoder.feature_names),
        "as_of": training.as_of.isoformat(),
        "test_start": training.test_start.isoformat(),
    }


def run_metrics(candidate: Candidate) -> dict[str, float]:
    counts = candidate.search.counts
    return {
        **{f"test_{k}": v for k, v in candidate.metrics.items()},
        **{f"baseline_test_{k}": v for k, v in candidate.baseline_metrics.items()},
        "cv_best_auc": candidate.search.best_value,
        **{f"cv_auc_{family}": auc for family, auc in candidate.family.cv_auc.items()},
        "trials_completed": counts["COMPLETE"],
        "trials_pruned": counts["PRUNED"],
        "trials_failed": counts["FAIL"],
    }


def log_candidate(
    settings: Settings,
    run_id: str,
    candidate: Candidate,
    training: TrainingSet,
    config: dict[str, Any],
    storage_uri: str,
) -> None:
    """Params, metrics (one batch), trial table, study summary and plots of one run."""
    tracking.log_values(
        settings,
        run_id,
        params=run_params(candidate, training, config),
        metrics=run_metrics(candidate),
    )
    texts = {
        "optuna/trials.csv": candidate.search.trials.to_csv(index=False),
        "optuna/study.json": tracking.study_summary(candidate.search, storage_uri),
        "model/feature_names.txt": "\n".join(candidate.encoder.feature_names),
    }
    tracking.log_files(settings, run_id, texts, figures(candidate, training, settings))
