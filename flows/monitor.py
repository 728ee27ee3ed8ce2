"""The ``monitor`` flow: drift and conversion of recently scored leads → maybe a retrain.

Wiring only; the logic is in tasks/monitoring. Run locally with
``python -m flows.monitor`` or ``leadops monitor [--window DAYS] [--as-of ISO]``.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from leadops.clock import utc
from tasks.monitoring import publish
from tasks.monitoring.drift_report import EVIDENTLY_SAMPLE_ROWS
from tasks.monitoring.report.step import publish_model_page
from tasks.monitoring.results import MonitorResult
from tasks.monitoring.steps import (
    assess_window,
    compact_logs,
    load_inputs,
    matured_evidence,
    publish_report,
    publish_summary,
    release_retrain,
    request_retrain,
    watch_quarantine,
    watch_value_model,
)
from tasks.training.results import TrainResult


@flow(name="monitor")
def monitor(window_days: int | None = None, as_of: datetime | None = None) -> MonitorResult:
    """Compare recently scored leads with the champion's training reference; retrain on drift,
    a conversion drop or a deal-value shift.

    Args:
        window_days: look at leads scored in the DAYS before as-of; default the latest batch.
        as_of: evaluation time (maturity, cooldown, report name); default now.

    Returns:
        The MonitorResult: psi per feature, drift_detected, conversion, retrain_triggered,
        reason, report link, and the train run's TrainResult when this flow started it.
    """
    moment = utc(as_of)
    inputs = load_inputs(moment, window_days)
    assessment = assess_window(inputs, moment)
    links = publish_report(assessment, moment)
    quarantined = watch_quarantine(moment, inputs.champion.version)
    compacted = compact_logs()
    value = watch_value_model(moment)  # the deal-value champion: a shift may ask for a retrain
    retrain = request_retrain(assessment, moment, inputs.champion, matured_evidence(inputs), value)
    trained = None
    if retrain.route == "subflow":  # no deployment listens for the event: train here
        trained = _train_here(retrain.reason or assessment.decision.reason, moment)
        retrain = retrain if trained is not None else retrain.train_failed()
    context = {
        "as_of": moment,
        "window": inputs.window,
        "model_name": inputs.champion.name,
        "model_version": inputs.champion.version,
        "retrain_triggered": retrain.claimed,
        "retrain": retrain.as_dict(),
        "train": trained.as_dict() if trained is not None else None,  # JSON for the artifact
        "rows": {
            "current": len(inputs.current),
            "reference": len(inputs.reference),
            "evidently_sample": min(len(inputs.current), EVIDENTLY_SAMPLE_ROWS),
            "degraded": inputs.degraded,
        },
        "reference_cached": inputs.reference_cached,
        "serving": inputs.serving.as_dict() if inputs.serving else None,
        "serving_note": inputs.serving.note() if inputs.serving else None,
        "quarantine": quarantined,
        "compacted": compacted,
        **links,
    }
    summary = publish.result_dict(assessment, context)
    summary["value_model"] = value.as_dict()
    publish_summary(summary)
    pages = publish_model_page(moment)  # after a retrain: it shows the gate
    return MonitorResult.from_summary(summary, trained, pages)


def _train_here(reason: str, as_of: datetime) -> TrainResult | None:
    """Run train as a subflow (no deployment listens for the event); None when it failed."""
    from flows.train import train

    try:
        return train(reason=reason, as_of=as_of)
    except Exception as exc:  # noqa: BLE001
        # Any failure: the monitor's findings stand and the cooldown is given back.
        get_run_logger().error("retrain (%s) failed: %s", reason, exc)
        release_retrain(as_of)
        return None


if __name__ == "__main__":
    monitor()
