"""The train flow: matured gold leads → search → model → MLflow → gate.

Wiring only; each step is a task in tasks/training/steps.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from leadops.decisions.train_reasons import MANUAL, MISCALIBRATION, SCHEDULE, TRAIN_REASONS
from leadops.errors import LeadOpsError
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.training import steps, tracking
from tasks.training.history import HistoryMinimums
from tasks.training.report import markdown_report, result_summary
from tasks.training.results import TrainResult
from tasks.training.search import search_config_from


def train_run_name(reason: str, as_of: datetime | str | None, now: datetime | None = None) -> str:
    """ "train-drift-2026-03-02T0600" : the trigger and the as-of (else the start) time, so
    runs tell apart in the Prefect UI."""
    when = datetime.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    when = when or now or datetime.now(UTC)
    return f"train-{reason}-{when:%Y-%m-%dT%H%M}"


def _run_name() -> str:
    parameters = flow_run.parameters
    return train_run_name(parameters.get("reason", MANUAL), parameters.get("as_of"))


@flow(name="train", flow_run_name=_run_name)
def train(
    reason: str = "manual",
    trials: int | None = None,
    timeout_seconds: float | None = None,
    as_of: datetime | None = None,
    workers: int = 1,
    training_window_days: int | None = None,
    min_gain: float | None = None,
) -> TrainResult:
    """Train a challenger on matured leads and gate it against the champion.

    Args:
        reason: what triggered this run: manual, schedule, drift, conversion-drop,
            miscalibration (runs flows/recalibrate.py instead of a search) or ranking-loss.
        trials / timeout_seconds: the search budget (defaults from settings).
        as_of: evaluation time for label maturity (default now).
        workers: parallel search processes sharing one Optuna study (with LEADOPS_TASK_RUNNER=dask:
            Dask workers, at least LEADOPS_DASK_WORKERS on a LocalCluster).
        training_window_days: only leads from this many days before the maturity cutoff.
        min_gain: required relative ROC-AUC gain over the champion (default from settings).
    """
    if reason not in TRAIN_REASONS:
        raise LeadOpsError(f"train reason {reason!r}: choose one of {', '.join(TRAIN_REASONS)}")
    if reason == MISCALIBRATION:  # the ranking holds: a new calibrator, not a new booster
        from flows.recalibrate import recalibrate

        return recalibrate(reason=reason, as_of=as_of)
    settings = get_settings()
    registry.ensure_reachable(settings.tracking_uri)  # before the search, not after it
    contract, lake = load_contract(settings.contract_path), open_lake(settings)
    busy = steps.rollout_in_progress(settings) if reason == SCHEDULE else None
    if busy:  # a weekly model must not restart a rollout that is still collecting evidence
        return TrainResult("skipped", settings.model_name, reason, "skipped", busy)
    config = search_config_from(settings, trials, timeout_seconds, workers)
    training = steps.load_training_set(
        lake,
        contract,
        as_of,
        settings.test_window_days,
        training_window_days,
        HistoryMinimums.from_settings(settings),
    )
    tags = tracking.lineage_tags(
        contract,
        reason,
        training.gold_version,
        training.digest,
        flow_run.id,
        {
            "leadops.optuna_study": config.study_name,
            "leadops.as_of": training.as_of.isoformat(),
            # no rollout evidence from leads it trained or was tested on
            "leadops.data_end": training.maturity_cutoff.isoformat(),
        },
    )
    with tracking.training_run(settings, reason, tags) as run_id:
        outcome = steps.search_hyperparameters(
            training,
            contract,
            config,
            settings.technographics_cap,
            settings.cv_folds,
            settings.missing_mask_share,
        )
        candidate = steps.fit_and_evaluate(
            training, outcome, settings.seed, settings.capacity_fraction
        )
        run_config = {
            "trigger_reason": reason,
            "trials": config.trials,
            "timeout_seconds": config.timeout_seconds,
            "workers": workers,
            "test_window_days": settings.test_window_days,
            "cv_folds": settings.cv_folds,
            "capacity_fraction": settings.capacity_fraction,
            "seed": settings.seed,
            "technographics_cap": settings.technographics_cap,
            "training_window_days": training_window_days,
        }
        model_info = steps.log_to_mlflow(
            settings, run_id, candidate, training, contract, run_config
        )
        gate_min = settings.gate_min_relative_auc_gain if min_gain is None else min_gain
        promotion = steps.register_and_gate(
            settings, lake, model_info, run_id, training, contract, candidate, gate_min
        )
        value = steps.train_value_model(settings, lake, run_id, training, contract, candidate)
    result = result_summary(
        run_id=run_id,
        model_name=settings.model_name,
        trigger=reason,
        training=training,
        candidate=candidate,
        promotion=promotion,
        value=value,
    )
    create_markdown_artifact(
        markdown_report(result.as_dict(), candidate.search.trials.to_dict("records")),
        key="train-report",
        description=f"train: v{result.model_version} {result.decision}",
    )
    return result


if __name__ == "__main__":
    print(train())
