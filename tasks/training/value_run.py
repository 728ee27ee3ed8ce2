"""One training's deal-value step: select won deals, fit, log, register and gate.

Runs after the conversion model, on its split and encoder; without a value column or
with too few won deals it trains nothing and says why in one line.
"""

from __future__ import annotations

from leadops.inputs.contract import Contract
from leadops.models.cutpoints import score_cutpoints
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.training import tracking
from tasks.training.dataset import TrainingSet
from tasks.training.pipeline import Candidate
from tasks.training.value_model import log_value_model
from tasks.training.value_registry import ValueOutcome, register_value
from tasks.training.value_training import deal_amounts, fit_value_candidate, select_won_deals


def train_value_model(
    settings: Settings,
    lake: Lake,
    run_id: str,
    training: TrainingSet,
    contract: Contract,
    conversion: Candidate,
) -> ValueOutcome:
    """The value model of this training (logged in its run ``run_id``), or why none."""
    amounts = deal_amounts(lake, contract) if contract.value else None
    deals, why = select_won_deals(training, amounts, contract, settings.value_min_won_deals)
    if deals is None:
        return ValueOutcome("not trained", why)
    value = fit_value_candidate(
        deals, conversion.encoder, contract, settings.value_trials, settings.seed
    )
    # Value tiers cut P x E[value | won] of every test lead, won or not, as scoring sees them.
    expected = conversion.test_scores * value.model.predict_value(training.test)
    tracking.configure_mlflow(settings)
    test_rows = deals.test[contract.lead_columns]
    info = log_value_model(
        run_id, value.model, contract, test_rows.head(5), score_cutpoints(expected)
    )
    tracking.log_values(
        settings,
        run_id,
        params={"value_objective": value.objective, "value_baseline_segment": value.segment},
        metrics={
            "value_won_deals_train": len(deals.dev),
            "value_won_deals_test": len(deals.test),
            **{f"value_test_{k}": v for k, v in value.metrics.items()},
            **{f"value_baseline_test_{k}": v for k, v in value.baseline_metrics.items()},
        },
    )
    tracking.log_files(
        settings,
        run_id,
        {"value/calibration_by_decile.csv": value.calibration.to_csv(index=False)},
        {},
    )
    outcome = register_value(settings, lake, info, run_id, value, test_rows, training.as_of)
    tracking.log_values(
        settings,
        run_id,
        tags={
            "leadops.value_model_version": outcome.version,
            "leadops.value_decision": outcome.decision,
            "leadops.value_decision_reason": outcome.reason,
        },
    )
    return outcome
