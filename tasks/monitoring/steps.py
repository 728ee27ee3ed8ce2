"""The @task entry points of the monitor flow: thin wrappers over the plain functions.

Reading inputs and publishing retry (lake and registry I/O can fail transiently);
the assessment and the retrain decision never do: the same data gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from leadops.decisions.train_reasons import MISCALIBRATION, VALUE_SHIFT
from leadops.errors import retry_if_transient
from leadops.inputs.contract import load_contract
from leadops.logs import log_compaction, quarantine_log
from leadops.models import events, registry
from leadops.models.registry import registry_client
from leadops.settings import Settings, get_settings
from leadops.storage.journal import lake_lock
from leadops.storage.lake import Lake
from leadops.storage.local import open_lake
from tasks.monitoring import (
    persistence,
    publish,
    quarantine,
    retrain,
    trigger,
    value_watch,
    workspace,
)
from tasks.monitoring.assess import Assessment, Thresholds, assess, calibration_decision
from tasks.monitoring.champion import Champion, current_champion, predictor, ranking_baseline
from tasks.monitoring.ranking import RankingBaseline
from tasks.monitoring.reference import lineage_of, load_reference
from tasks.monitoring.serving_health import ServingHealth, read_serving_health
from tasks.monitoring.window import (
    degraded_leads,
    matured_scored,
    served_window,
    with_features,
)


@dataclass
class MonitorInputs:
    champion: Champion
    reference: pd.DataFrame
    current: pd.DataFrame
    matured: pd.DataFrame
    window: str
    reference_cached: bool
    serving: ServingHealth | None = None  # the online service's requests, when it ran
    degraded: int = 0  # leads of the window scored with failing features as unknown
    ranking: RankingBaseline | None = None  # the champion's test-window AUC (calibration)


# Serving health looks at the window's days, or at this many before as-of for the
# default window (the latest batch says nothing about when online requests came).
SERVING_HEALTH_DAYS = 7


@task(
    name="load-monitor-inputs",
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def load_inputs(as_of: datetime, window_days: int | None) -> MonitorInputs:
    """The champion's training reference, the current window's leads and matured scored leads."""
    settings, logger = get_settings(), get_run_logger()
    lake, contract, client = (
        open_lake(settings),
        load_contract(settings.contract_path),
        registry_client(settings),
    )
    champion = current_champion(client, settings)
    rows, window = served_window(lake, as_of, window_days)
    current = with_features(rows, lake, contract)
    reference, cached = load_reference(
        lake,
        contract,
        champion.name,
        champion.version,
        lambda: lineage_of(client, champion.model_version),
        predictor(settings, champion.name, champion.version),
    )
    matured = matured_scored(lake, contract, as_of, champion.version)
    logger.info(
        "monitor: %s (%d leads) vs v%s reference (%d rows, %s)",
        window,
        len(current),
        champion.version,
        len(reference),
        "cached" if cached else "built now",
    )
    days = window_days or SERVING_HEALTH_DAYS
    serving = read_serving_health(lake, as_of - timedelta(days=days), as_of)
    baseline = ranking_baseline(client, champion.model_version)
    return MonitorInputs(
        champion,
        reference,
        current,
        matured,
        window,
        cached,
        serving,
        degraded_leads(rows),
        baseline,
    )


@task(name="assess-drift-and-conversion", cache_policy=NO_CACHE)
def assess_window(inputs: MonitorInputs, as_of: datetime) -> Assessment:
    """Fixed-bin PSI, Evidently report, conversion on matured cohorts, the decision."""
    settings = get_settings()
    thresholds = Thresholds(
        settings.psi_threshold,
        settings.conversion_drop_threshold,
        settings.capacity_fraction,
        settings.seed,
    )
    result = assess(
        inputs.reference,
        inputs.current,
        inputs.matured,
        load_contract(settings.contract_path),
        as_of,
        thresholds,
        serving_note=inputs.serving.note() if inputs.serving else None,
        ranking_baseline=inputs.ranking,
    )
    get_run_logger().info("monitor decision: %s", result.decision.explanation)
    calibration = result.calibration
    if calibration is not None and calibration.miscalibrated:  # an alert in either direction
        details = calibration.decision.details
        events.miscalibrated(
            settings.model_name,
            inputs.champion.version,
            calibration.note,
            {
                "observed": round(details["observed"], 1),
                "expected": round(details["expected"], 1),
                "direction": details["direction"],
                "ranking": calibration.ranking,
            },
            as_of,
        )
    if result.decision.drifted_features:  # the alert; the retrain request is its own event
        drifted = {name: result.psi[name] for name in result.decision.drifted_features}
        events.drift_detected(
            settings.model_name, inputs.champion.version, drifted, settings.psi_threshold, as_of
        )
    return result


@task(name="watch-quarantine", cache_policy=NO_CACHE)
def watch_quarantine(as_of: datetime, champion_version: str | None) -> dict[str, Any]:
    """The latest ingest run's quarantined share per check; a jump is an alert."""
    settings = get_settings()
    watch = quarantine.watch_quarantine(
        quarantine_log.read_log(open_lake(settings), "leads"),
        "leads",
        settings.quarantine_jump_share,
        settings.quarantine_baseline_share,
    )
    get_run_logger().info("monitor quarantine: %s", watch.note())
    if watch.jumps:
        jumps = {c.check: c.text() for c in watch.jumps}
        events.quarantine_jumped(settings.model_name, champion_version, jumps, watch.rule, as_of)
    return watch.as_dict()


@task(
    name="compact-logs",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def compact_logs() -> dict[str, list[int]]:
    """Merge the prediction and request logs' small files (each flush and run adds one)."""
    done = log_compaction.compact_logs(open_lake(get_settings()))
    for name, (before, after) in done.items():
        get_run_logger().info("%s: compacted %d files into %d", name, before, after)
    return {name: list(files) for name, files in done.items()}


@task(
    name="publish-drift-report",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def publish_report(result: Assessment, as_of: datetime) -> dict[str, str]:
    """HTML to the artifact store, both snapshots to the Evidently workspace, a link artifact."""
    settings = get_settings()
    lake = open_lake(settings)
    link = publish.save_report(lake, result.html or "", as_of)
    publish.prune_reports(lake, settings.drift_reports_keep)
    home = settings.home / "evidently"
    with lake_lock(lake, "evidently-workspace"):  # two runs must not both create the project
        workspace.add_to_workspace(
            home,
            [result.snapshot, workspace.trigger_psi_snapshot(result.psi, as_of)],
            list(result.psi),
        )
    create_link_artifact(
        key="drift-report",
        link=link,
        link_text=f"Drift report as of {as_of:%Y-%m-%d %H:%M}",
        description="Evidently drift / data quality report with the trigger's fixed-bin PSI on top",
    )
    return {"report": link, "workspace": str(home.resolve())}


@task(name="request-retrain", cache_policy=NO_CACHE)
def request_retrain(
    result: Assessment,
    as_of: datetime,
    champion: Champion,
    evidence: persistence.MaturedEvidence | None = None,
    value: value_watch.ValueWatch | None = None,
) -> trigger.RetrainRequest:
    """Take the retrain decision (trigger.request_retrain), then emit the event and say
    whether this flow must start train itself (no deployment listens for the event).

    With ``evidence`` (the champion's matured leads), a cause whose last retrain the gate
    rejected waits for new evidence, and escalates once (tasks.monitoring.persistence).
    With ``value`` (the value watch), a deal-value shift asks for a retrain when the
    conversion rule does not; it waits for a value challenger in shadow, and its hold is
    kept per value champion.
    """
    settings, logger = get_settings(), get_run_logger()
    lake = open_lake(settings)
    decision = value_watch.with_value_shift(result.decision, value)
    on_value = decision.reason == VALUE_SHIFT
    judged = value.version if on_value and value else champion.version
    in_rollout = None
    if decision.retrain:
        name = registry.value_model_name(settings.model_name) if on_value else None
        in_rollout = challenger_in_rollout(settings, name)
    review = persistence.Review()
    if decision.retrain and evidence is not None and not in_rollout:
        review = persistence.review(lake, decision.reason, as_of, evidence, judged)
        if review.hold and not on_value:
            decision, review = recalibrate_instead(
                result, decision, review, lake, as_of, evidence, champion.version
            )
    if review.escalation:
        logger.warning("escalation: %s", review.escalation)
        events.retrain_escalated(
            settings.model_name, champion.version, review.escalation, decision.reason, as_of
        )
    request = trigger.request_retrain(
        lake,
        decision,
        as_of,
        in_rollout,
        settings.retrain_cooldown_days,
        champion.version,
        review.hold,
    )
    request = replace(request, escalation=review.escalation, reason=decision.reason)
    if not request.claimed:
        if decision.retrain:
            logger.info(request.why)
        return request
    if evidence is not None:
        persistence.record_claim(lake, decision.reason, as_of, evidence, judged)
    return _routed(request, settings, decision, as_of, champion)


def _routed(
    request: trigger.RetrainRequest,
    settings: Settings,
    decision: trigger.RetrainDecision,
    as_of: datetime,
    champion: Champion,
) -> trigger.RetrainRequest:
    """Emit the retrain event; route "subflow" when nothing will start train from it."""
    event_id = retrain.emit_retrain_requested(
        settings.model_name, decision.reason, as_of, champion.version
    )
    # An event that was not sent starts nothing: then this flow starts train itself.
    route = "event" if event_id is not None and retrain.event_listener_exists() else "subflow"
    get_run_logger().info(
        "%s; %s",
        request.why,
        "a deployment trigger will start train" if route == "event" else "starting train here",
    )
    return request.routed(route, event_id)


def recalibrate_instead(
    result: Assessment,
    decision: trigger.RetrainDecision,
    review: persistence.Review,
    lake: Lake,
    as_of: datetime,
    evidence: persistence.MaturedEvidence,
    champion_version: str | None,
) -> tuple[trigger.RetrainDecision, persistence.Review]:
    """A held retrain (drift or a conversion drop whose retrains the gate kept rejecting)
    gives way to a recalibration when the served probabilities are significantly off and
    the ranking holds.

    Drift wins the trigger when both fire, and a persisting drift then holds its next
    retrain for new evidence: at a few hundred leads a month that held the champion's
    probabilities months behind a rising conversion (a real-history run served 0.12 for
    leads converting at 0.23) while the cheap fix, a new calibrator judged on the same
    gate, never got its turn. The escalation of the held cause is kept.
    """
    fallback = calibration_decision(result.calibration)
    if fallback is None or fallback.reason != MISCALIBRATION:
        return decision, review
    own = persistence.review(lake, fallback.reason, as_of, evidence, champion_version)
    if own.hold:
        return decision, review
    explanation = f"{fallback.explanation} (instead of the held {decision.reason} retrain)"
    return replace(fallback, explanation=explanation), replace(
        own, escalation=review.escalation or own.escalation
    )


def challenger_in_rollout(settings: Any, name: str | None = None) -> str | None:
    """Why not to retrain now: a challenger already in shadow or canary answers this incident
    (``name``: the registered model, default the conversion model).

    A new retrain would supersede it and throw its accumulated evidence away; its rollout
    ends in promotion (the reference moves, the drift clears) or rejection (the next
    monitor run may retrain again).
    """
    state = registry.rollout_challenger(registry_client(settings), name or settings.model_name)
    if state is not None:
        kind = "value challenger" if name else "challenger"
        return (
            f"no retrain: {kind} v{state.version} is in {state.stage}; "
            "its rollout evidence decides first"
        )
    return None


@task(
    name="publish-monitor-summary",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def publish_summary(summary: dict[str, Any]) -> None:
    """The markdown artifact: decision, PSI per feature, conversion per cohort."""
    create_markdown_artifact(
        key="drift-summary",
        markdown=publish.summary_markdown(summary, get_settings().psi_threshold)
        + ("\n" + quarantine.markdown(summary["quarantine"]) if summary.get("quarantine") else ""),
        description=(
            "Drift monitor: PSI per feature, conversion on matured cohorts, retrain decision"
        ),
    )


def release_retrain(as_of: datetime) -> None:
    """Give the cooldown back when the train run this monitor started failed."""
    trigger.release_retrain(open_lake(get_settings()), as_of)


def matured_evidence(inputs: MonitorInputs) -> persistence.MaturedEvidence:
    """The champion's matured scored leads, for holding a retrain that would repeat the last."""
    settings = get_settings()
    contract = load_contract(settings.contract_path)
    created = pd.to_datetime(inputs.matured[contract.event_time], utc=True)
    return persistence.MaturedEvidence(
        created, contract.outcome_window_days, settings.test_window_days
    )


@task(
    name="watch-value-model",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def watch_value_model(as_of: datetime) -> value_watch.ValueWatch:
    """The deal-value champion's calibration and predicted-value drift (a shift asks for a
    retrain through request_retrain)."""
    settings = get_settings()
    contract = load_contract(settings.contract_path)
    watch = value_watch.watch_value(settings, open_lake(settings), contract, as_of)
    get_run_logger().info("monitor deal value: %s", watch.line)
    return watch
