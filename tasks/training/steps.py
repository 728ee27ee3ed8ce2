"""The train flow's Prefect tasks: thin wrappers that make each step visible.

Only reading the lake retries (transient I/O). The search, logging and the gate
do not: a retried gate could register a second version for one training.
Caching is off: inputs are DataFrames and models, and a training must re-run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from leadops.errors import retry_if_transient
from leadops.inputs.contract import Contract
from leadops.models import registry
from leadops.models.cutpoints import score_cutpoints
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.training import artifacts, dataset, pipeline, promotion, tracking, value_run
from tasks.training.history import HistoryMinimums
from tasks.training.search import SearchConfig


@task(
    name="load-training-set",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def load_training_set(
    lake: Lake,
    contract: Contract,
    as_of: datetime | None,
    test_window_days: int,
    training_window_days: int | None,
    minimums: HistoryMinimums | None = None,
) -> dataset.TrainingSet:
    training = dataset.build_training_set(
        lake, contract, as_of, test_window_days, training_window_days, minimums
    )
    get_run_logger().info(
        "gold/leads v%s: %d training + %d test matured leads (as of %s)",
        training.gold_version,
        len(training.dev),
        len(training.test),
        training.as_of.isoformat(),
    )
    return training


@task(name="search-hyperparameters", cache_policy=NO_CACHE)
def search_hyperparameters(
    training: dataset.TrainingSet,
    contract: Contract,
    config: SearchConfig,
    technographics_cap: int,
    cv_folds: int,
    missing_share: float = 0.0,
) -> pipeline.SearchOutcome:
    outcome = pipeline.search_candidate(
        training, contract, config, technographics_cap, cv_folds, missing_share
    )
    get_run_logger().info(
        "study %s: best CV AUC %.4f (%s)",
        outcome.search.study_name,
        outcome.search.best_value,
        outcome.search.counts,
    )
    return outcome


@task(name="fit-and-evaluate", cache_policy=NO_CACHE)
def fit_and_evaluate(
    training: dataset.TrainingSet,
    outcome: pipeline.SearchOutcome,
    seed: int,
    capacity_fraction: float,
) -> pipeline.Candidate:
    candidate = pipeline.fit_candidate(training, outcome, seed, capacity_fraction)
    get_run_logger().info(
        "test ROC-AUC %.4f (baseline %.4f)",
        candidate.metrics["roc_auc"],
        candidate.baseline_metrics["roc_auc"],
    )
    return candidate


@task(name="log-to-mlflow", cache_policy=NO_CACHE)
def log_to_mlflow(
    settings: Settings,
    run_id: str,
    candidate: pipeline.Candidate,
    training: dataset.TrainingSet,
    contract: Contract,
    config: dict[str, Any],
) -> Any:
    artifacts.log_candidate(
        settings, run_id, candidate, training, config, settings.optuna_storage_uri
    )
    example = training.test[contract.lead_columns].head(5)
    return tracking.log_model(
        settings,
        run_id,
        candidate.booster,
        candidate.encoder,
        contract,
        example,
        score_cutpoints(candidate.test_scores),
    )


def rollout_in_progress(settings: Settings) -> str | None:
    """Why a scheduled retrain skips: a challenger is still in shadow or canary (else None)."""
    rival = registry.rollout_challenger(registry.registry_client(settings), settings.model_name)
    if rival is None:
        return None
    where = f"{rival.stage} {rival.fraction:.0%}" if rival.stage == "canary" else str(rival.stage)
    return (
        f"scheduled retrain skipped: challenger v{rival.version} is in rollout ({where}); "
        f"a manual retrain must beat it on the same test rows to replace it"
    )


@task(name="register-and-gate", cache_policy=NO_CACHE)
def register_and_gate(
    settings: Settings,
    lake: Lake,
    model_info: Any,
    run_id: str,
    training: dataset.TrainingSet,
    contract: Contract,
    candidate: pipeline.Candidate,
    min_gain: float,
) -> promotion.PromotionOutcome:
    outcome = promotion.register_and_gate(
        settings,
        lake,
        model_info,
        run_id,
        training.test[contract.lead_columns],
        candidate.test_labels,
        candidate.test_scores,
        candidate.metrics,
        min_gain,
        candidate.baseline_metrics,
        training.as_of,
        lead_keys=(contract.entity_id, contract.event_time),
    )
    champion = outcome.champion_metrics
    intervals = promotion.interval_metrics(outcome.intervals)
    tracking.log_values(
        settings,
        run_id,
        metrics={
            **({f"champion_test_{k}": v for k, v in champion.items()} if champion else {}),
            **(
                {
                    "gate_auc_gain_ci_low": outcome.auc_diff_ci["low"],
                    "gate_auc_gain_ci_high": outcome.auc_diff_ci["high"],
                }
                if outcome.auc_diff_ci
                else {}
            ),
            **intervals,
        },
        tags={
            "leadops.model_version": outcome.version,
            "leadops.decision": outcome.gate.decision,
            "leadops.decision_reason": outcome.gate.reason,
        },
    )
    get_run_logger().info(
        "v%s → %s: %s", outcome.version, outcome.gate.decision, outcome.gate.reason
    )
    return outcome


@task(name="train-value-model", cache_policy=NO_CACHE)
def train_value_model(
    settings: Settings,
    lake: Lake,
    run_id: str,
    training: dataset.TrainingSet,
    contract: Contract,
    candidate: pipeline.Candidate,
) -> value_run.ValueOutcome:
    outcome = value_run.train_value_model(settings, lake, run_id, training, contract, candidate)
    get_run_logger().info("%s", outcome.line())
    return outcome
