"""The ``recalibrate`` flow: the champion's booster, a calibrator refitted on recent leads.

Wiring only; the logic is in tasks/training/recalibration.py. The train flow runs it for
the trigger reason ``miscalibration`` (the monitor found the served probabilities off
while the ranking holds); the new version goes through shadow and canary as any challenger.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.runtime import flow_run

from leadops.decisions.train_reasons import MISCALIBRATION
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.training import recalibration_steps as steps
from tasks.training import tracking
from tasks.training.results import TrainResult
from tasks.training.steps import load_training_set


@flow(name="recalibrate")
def recalibrate(reason: str = MISCALIBRATION, as_of: datetime | None = None) -> TrainResult:
    """Refit the champion's calibrator and gate the recalibrated version against it.

    Returns:
        A TrainResult (outcome "recalibrated"): decision, reason, model_version, metrics,
        the champion it recalibrated and what the calibrator was fitted on.
    """
    settings = get_settings()
    registry.ensure_reachable(settings.tracking_uri)
    contract, lake = load_contract(settings.contract_path), open_lake(settings)
    champion, model = steps.load_champion(settings)
    training = load_training_set(lake, contract, as_of, settings.test_window_days, None)
    tags = tracking.lineage_tags(
        contract,
        reason,
        training.gold_version,
        training.digest,
        flow_run.id,
        {
            "leadops.as_of": training.as_of.isoformat(),
            "leadops.data_end": training.maturity_cutoff.isoformat(),
            "leadops.recalibrated_from": champion,
        },
    )
    with tracking.training_run(settings, reason, tags) as run_id:
        result = steps.refit_calibrator(settings, model, training, contract)
        info = tracking.log_model(
            settings,
            run_id,
            model.booster,
            model.encoder,
            contract,
            training.test[contract.lead_columns].head(5),
            calibrator=result.calibrator,
        )
        tracking.log_values(
            settings,
            run_id,
            params={
                "recalibrated_from": champion,
                "calibrator": result.calibrator.method,
                "test_rows": len(training.test),  # the monitor's ranking baseline reads it
            },
            metrics={
                **{f"test_{k}": v for k, v in result.metrics.items()},
                **{f"champion_test_{k}": v for k, v in result.champion_metrics.items()},
            },
            tags={"leadops.decision_reason": result.gate.reason},
        )
        version = steps.register_recalibrated(settings, lake, info, run_id, result, training.as_of)
    return TrainResult(
        "recalibrated",
        settings.model_name,
        reason,
        str(result.gate.decision),
        result.gate.reason,
        model_version=version,
        run_id=run_id,
        metrics=result.metrics,
        recalibrated_from=champion,
        calibrator=result.calibrator.fitted_on,
    )


if __name__ == "__main__":
    print(recalibrate())
