"""LeadOps' own Prefect events: what happened to a model, for automations to react to.

Every event is attached to the resource ``leadops.model.<name>`` and carries the same
payload keys, so one notification template serves them all: ``version`` (the model
version the event is about), ``decision``, ``reason`` and ``as_of``, plus a few
event-specific details. Inside a flow run Prefect relates the event to that run, which
is how a notification links to it.

Emitting never fails the caller: without a reachable Prefect API (or with events
disabled) ``emit`` logs and returns None. Payload text is scrubbed of credentials in
URIs (``scheme://user:password@host`` → ``scheme://***@host``), because notifications
leave the system.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.events.schemas.automations import Automation


log = logging.getLogger(__name__)

DRIFT_DETECTED = "leadops.drift.detected"
RETRAIN_REQUESTED = "leadops.retrain.requested"  # the train deployment's trigger listens to it
GATE_DECIDED = "leadops.gate.decided"
ROLLOUT_TRANSITION = "leadops.rollout.transition"
ROLLED_BACK = "leadops.rollout.rolled-back"
PROMOTED = "leadops.model.promoted"
# A check's quarantined share jumped (tasks.monitoring.quarantine): leads go unscored.
QUARANTINE_JUMP = "leadops.quarantine.jump"
# The served probabilities are off in either direction (tasks.monitoring.calibration).
MISCALIBRATED = "leadops.calibration.miscalibrated"
# A persisting shift whose retrains keep losing to the champion: people must look.
RETRAIN_ESCALATED = "leadops.retrain.escalated"
EVENTS = (
    DRIFT_DETECTED,
    RETRAIN_REQUESTED,
    GATE_DECIDED,
    ROLLOUT_TRANSITION,
    ROLLED_BACK,
    PROMOTED,
    QUARANTINE_JUMP,
    MISCALIBRATED,
    RETRAIN_ESCALATED,
)

_URI_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s:@]+(:[^/\s@]*)?@")
_SECRET_QUERY = re.compile(r"(?i)((?:password|secret|token|key|signature)=)[^&\s]+")


def model_resource(model_name: str) -> dict[str, str]:
    """The Prefect resource an event about ``model_name`` is attached to."""
    return {
        "prefect.resource.id": f"leadops.model.{model_name}",
        "prefect.resource.name": model_name,
    }


def scrub(value: Any) -> Any:
    """``value`` with credentials removed from any URI inside it (strings, lists, dicts)."""
    if isinstance(value, str):
        return _SECRET_QUERY.sub(r"\1***", _URI_CREDENTIALS.sub(r"\g<scheme>***@", value))
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def emit(
    event: str,
    model_name: str,
    version: str | None,
    decision: str,
    reason: str,
    as_of: datetime | str | None = None,
    **details: Any,
) -> str | None:
    """Emit one LeadOps event; returns its id, or None when it was not sent (no server, or an
    error: an alert never breaks the flow it reports on).

    Args:
        event: one of ``EVENTS``.
        model_name: the registered model.
        version: the model version the event is about (None when there is none yet).
        decision: what was decided, in a word or two (``retrain``, ``promote``, ``canary``...).
        reason: why, in one sentence a person can act on.
        as_of: the moment the decision was taken for (the flow's as-of clock).
        details: event-specific values (JSON-serialisable).
    """
    payload = scrub(
        {
            "model": model_name,
            "version": None if version is None else str(version),
            "decision": decision,
            "reason": reason,
            "as_of": as_of.isoformat() if isinstance(as_of, datetime) else as_of,
            **details,
        }
    )
    try:
        from prefect.events import emit_event
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            # No server: Prefect would start a temporary API just for this event (tens of
            # seconds) and that API runs no automations, so nobody could receive it.
            log.debug(
                "%s for %s v%s not sent: no Prefect server (PREFECT_API_URL)",
                event,
                model_name,
                version,
            )
            return None
        sent = emit_event(event=event, resource=model_resource(model_name), payload=payload)
    except Exception as exc:  # an alert must never break the flow it reports on
        log.warning("could not emit %s for %s v%s (%s)", event, model_name, version, exc)
        return None
    return str(sent.id) if sent is not None else None


def drift_detected(
    model_name: str,
    version: str | None,
    drifted: dict[str, float],
    threshold: float,
    as_of: datetime | None = None,
) -> str | None:
    """The monitor found features drifted beyond ``threshold`` (PSI per drifted feature)."""
    worst = sorted(drifted.items(), key=lambda item: -item[1])[:5]
    reason = f"{len(drifted)} feature(s) with PSI above {threshold:g}: " + ", ".join(
        f"{name} {psi:.2f}" for name, psi in worst
    )
    return emit(
        DRIFT_DETECTED,
        model_name,
        version,
        "drift",
        reason,
        as_of,
        drifted={name: round(psi, 4) for name, psi in drifted.items()},
        threshold=threshold,
    )


def quarantine_jumped(
    model_name: str,
    version: str | None,
    jumps: dict[str, str],
    rule: str,
    as_of: datetime | None = None,
) -> str | None:
    """The monitor found checks whose quarantined share jumped (check -> its one-line text)."""
    reason = f"{len(jumps)} check(s) quarantine far more leads than before: " + "; ".join(
        jumps.values()
    )
    return emit(
        QUARANTINE_JUMP, model_name, version, "quarantine", reason, as_of, checks=jumps, rule=rule
    )


def miscalibrated(
    model_name: str, version: str | None, reason: str, details: dict, as_of: datetime
) -> str | None:
    """The monitor found the served probabilities off (observed vs predicted, both ways)."""
    return emit(MISCALIBRATED, model_name, version, "miscalibrated", reason, as_of, **details)


def retrain_escalated(
    model_name: str, version: str | None, reason: str, cause: str, as_of: datetime
) -> str | None:
    """Retrains for one persisting cause keep being rejected: said once per incident."""
    return emit(RETRAIN_ESCALATED, model_name, version, "escalate", reason, as_of, cause=cause)


def retrain_requested(
    model_name: str, reason: str, as_of: datetime, version: str | None = None
) -> str | None:
    """The monitor asked for a retrain (the train deployment's trigger reads reason, as_of)."""
    return emit(RETRAIN_REQUESTED, model_name, version, "retrain", reason, as_of)


def gate_decided(
    model_name: str,
    version: str,
    decision: str,
    reason: str,
    as_of: datetime | None = None,
    metrics: dict[str, float] | None = None,
    champion_version: str | None = None,
) -> str | None:
    """The training gate decided whether the new ``version`` may challenge the champion."""
    return emit(
        GATE_DECIDED,
        model_name,
        version,
        decision,
        reason,
        as_of,
        metrics=metrics or {},
        champion_version=champion_version,
    )


def rollout_transition(
    model_name: str,
    version: str,
    stage: str,
    fraction: float,
    reason: str,
    previous_stage: str | None = None,
    previous_fraction: float | None = None,
    as_of: datetime | str | None = None,
    decision: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> str | None:
    """A version moved in the rollout (shadow → canary 10% → ... → production, or archived)."""
    return emit(
        ROLLOUT_TRANSITION,
        model_name,
        version,
        decision or stage,
        reason,
        as_of,
        stage=stage,
        fraction=fraction,
        previous_stage=previous_stage,
        previous_fraction=previous_fraction,
        metrics=metrics or {},
    )


def rollback(
    model_name: str,
    version: str,
    reason: str,
    restored_version: str | None = None,
    as_of: datetime | str | None = None,
    automatic: bool = True,
) -> str | None:
    """``version`` was rolled back (``restored_version`` serves again, when there is one)."""
    return emit(
        ROLLED_BACK,
        model_name,
        version,
        "rollback",
        reason,
        as_of,
        restored_version=restored_version,
        automatic=automatic,
    )


def promoted(
    model_name: str,
    version: str,
    reason: str,
    previous_version: str | None = None,
    as_of: datetime | str | None = None,
) -> str | None:
    """``version`` became the champion (``previous_version`` is kept for a rollback)."""
    return emit(
        PROMOTED, model_name, version, "promote", reason, as_of, previous_version=previous_version
    )


def read_automations(client: SyncPrefectClient, page: int = 100) -> list[Automation]:
    """Every automation on the Prefect server, page by page.

    prefect 3.8's client sends ``limit=null`` by default, which its own server refuses
    (HTTP 422), so the pages are asked for explicitly.
    """
    from prefect.client.schemas.sorting import AutomationSort

    found: list[Automation] = []
    while True:
        batch = client.read_automations(sort=AutomationSort.NAME_ASC, limit=page, offset=len(found))
        found += batch
        if len(batch) < page:
            return found
