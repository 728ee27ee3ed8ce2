"""Alerts as data: Prefect notification blocks and the automations that use them.

Prefect's server sends every alert itself (an automation whose action is
``SendNotification`` on a notification block); LeadOps only emits events
(``leadops.models.events``) and registers, from settings:

- blocks, one per configured channel: ``LEADOPS_NOTIFY_WEBHOOK_URL`` (Prefect's
  Custom Webhook block, one JSON object per alert), ``LEADOPS_NOTIFY_SLACK_WEBHOOK_URL``
  (Slack Webhook block), ``LEADOPS_NOTIFY_EMAIL_TO`` with ``LEADOPS_NOTIFY_SENDGRID_API_KEY``
  (Sendgrid Email block: Prefect 3.8 core has no SMTP notification block);
- automations: a LeadOps flow run that fails or crashes, and one per LeadOps event.

With no channel configured nothing is registered, and LeadOps automations left from an
earlier registration are removed, so nothing is sent. Messages are Jinja templates the
server renders: they name the model version, the decision, its reason and link to the
flow run. They never include a flow run's state message, which can quote a URI with a
password; the link leads to the logs behind the UI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from leadops.models import events
from leadops.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "leadops-alert"
LEADOPS_FLOWS = ("ingest", "train", "score", "monitor", "rollout")

RUN_LINK = (
    "{% if flow_run %}Flow run: {{ flow_run.name }} {{ flow_run|ui_url }}"
    "{% else %}Flow run: none (emitted outside a flow run){% endif %}"
)
MODEL_BODY = (
    "Model: {{ event.payload.model }} version {{ event.payload.version }}\n"
    "Decision: {{ event.payload.decision }}\n"
    "Reason: {{ event.payload.reason }}\n"
    "{DETAIL}"
    "{% if event.payload.as_of %}As of: {{ event.payload.as_of }}\n{% endif %}"
    + RUN_LINK
    + "\nEvent: {{ event.event }} {{ event.id }}"
)
FAILED_BODY = (
    "Flow: {{ flow.name }}\nFlow run: {{ flow_run.name }} {{ flow_run|ui_url }}\n"
    "State: {{ flow_run.state.name }}"
    "{% if deployment %}\nDeployment: {{ deployment.name }}{% endif %}\n"
    "Event: {{ event.event }} {{ event.id }}"
)


@dataclass(frozen=True)
class Alert:
    """One automation: which events fire it, and the message it sends."""

    name: str
    expect: tuple[str, ...]
    subject: str
    body: str
    description: str


def _model_alert(slug: str, event: str, subject: str, detail: str, description: str) -> Alert:
    return Alert(
        f"{PREFIX}-{slug}",
        (event,),
        "LeadOps: " + subject,
        MODEL_BODY.replace("{DETAIL}", detail),
        description,
    )


ALERTS: tuple[Alert, ...] = (
    Alert(
        f"{PREFIX}-flow-run-failed",
        ("prefect.flow-run.Failed", "prefect.flow-run.Crashed"),
        "LeadOps: flow run {{ flow_run.name }} ({{ flow.name }}) {{ flow_run.state.name }}",
        FAILED_BODY,
        "A LeadOps flow run failed or crashed.",
    ),
    _model_alert(
        "drift",
        events.DRIFT_DETECTED,
        "drift on {{ event.payload.model }} v{{ event.payload.version }}",
        "Drifted (PSI): {{ event.payload.drifted }}\n",
        "The monitor detected drift.",
    ),
    _model_alert(
        "calibration",
        events.MISCALIBRATED,
        "{{ event.payload.model }} v{{ event.payload.version }} probabilities are miscalibrated",
        "Observed {{ event.payload.observed }} conversions vs {{ event.payload.expected }} "
        "predicted ({{ event.payload.direction }})\n",
        "The monitor found the served probabilities off in either direction.",
    ),
    _model_alert(
        "retrain-escalated",
        events.RETRAIN_ESCALATED,
        "{{ event.payload.cause }} persists for {{ event.payload.model }}: retrains do not help",
        "",
        "Retrains for one persisting cause keep losing to the champion.",
    ),
    _model_alert(
        "retrain",
        events.RETRAIN_REQUESTED,
        "retrain requested for {{ event.resource.name }}",
        "",
        "The monitor requested a retrain.",
    ),
    _model_alert(
        "gate",
        events.GATE_DECIDED,
        "gate {{ event.payload.decision }} for {{ event.payload.model }} "
        "v{{ event.payload.version }}",
        "Champion: {{ event.payload.champion_version }}\nMetrics: {{ event.payload.metrics }}\n",
        "The training gate decided on a new version.",
    ),
    _model_alert(
        "rollout",
        events.ROLLOUT_TRANSITION,
        "{{ event.payload.model }} v{{ event.payload.version }} "
        "{{ event.payload.previous_stage }} -> {{ event.payload.stage }}",
        "Stage: {{ event.payload.previous_stage }} ({{ event.payload.previous_fraction }})"
        " -> {{ event.payload.stage }} ({{ event.payload.fraction }})\n",
        "A version moved in the rollout.",
    ),
    _model_alert(
        "rollback",
        events.ROLLED_BACK,
        "ROLLBACK of {{ event.payload.model }} v{{ event.payload.version }}",
        "Serving again: v{{ event.payload.restored_version }}"
        " (automatic: {{ event.payload.automatic }})\n",
        "A version was rolled back.",
    ),
    _model_alert(
        "promoted",
        events.PROMOTED,
        "{{ event.payload.model }} v{{ event.payload.version }} is the champion",
        "Previous champion: v{{ event.payload.previous_version }}\n",
        "A version became the champion.",
    ),
    _model_alert(
        "quarantine",
        events.QUARANTINE_JUMP,
        "quarantine jump in {{ event.payload.model }}'s leads",
        "Checks: {{ event.payload.checks }}\nRule: {{ event.payload.rule }}\n",
        "A check's quarantined share jumped: leads go unscored.",
    ),
)


def blocks(settings: Settings) -> dict[str, Any]:
    """The notification blocks the settings ask for, by block name (none when unset)."""
    from prefect.blocks.notifications import (
        CustomWebhookNotificationBlock,
        SendgridEmail,
        SlackWebhook,
    )

    found: dict[str, Any] = {}
    if settings.notify_webhook_url:
        # The URL travels as a secret value (it often carries a token), shown masked in the UI.
        found[f"{PREFIX}-webhook"] = CustomWebhookNotificationBlock(
            name="leadops",
            url="{{webhook_url}}",
            secrets={"webhook_url": settings.notify_webhook_url.get_secret_value()},
            json_data={"source": "leadops", "subject": "{{subject}}", "body": "{{body}}"},
        )
    if settings.notify_slack_webhook_url:
        found[f"{PREFIX}-slack"] = SlackWebhook(url=settings.notify_slack_webhook_url)
    recipients = [a.strip() for a in (settings.notify_email_to or "").split(",") if a.strip()]
    if recipients and settings.notify_sendgrid_api_key:
        found[f"{PREFIX}-email"] = SendgridEmail(
            api_key=settings.notify_sendgrid_api_key,
            sender_email=settings.notify_email_from,
            to_emails=recipients,
            notify_type="warning",
        )
    elif recipients:
        log.warning(
            "LEADOPS_NOTIFY_EMAIL_TO is set but LEADOPS_NOTIFY_SENDGRID_API_KEY is not: "
            "no e-mail alerts (Prefect core has no SMTP notification block)"
        )
    return found


def automation(alert: Alert, block_ids: list[Any]) -> Any:
    """The Prefect automation for ``alert``, sending through every block in ``block_ids``."""
    from prefect.automations import AutomationCore, EventTrigger, Posture, SendNotification

    if alert.expect[0].startswith("prefect.flow-run."):
        match = {"prefect.resource.id": "prefect.flow-run.*"}
        related: Any = {
            "prefect.resource.role": "flow",
            "prefect.resource.name": list(LEADOPS_FLOWS),
        }
    else:
        match, related = {"prefect.resource.id": "leadops.model.*"}, {}
    trigger = EventTrigger(
        expect=set(alert.expect),
        match=match,
        match_related=related,
        posture=Posture.Reactive,
        threshold=1,
    )
    actions = [
        SendNotification(block_document_id=block_id, subject=alert.subject, body=alert.body)
        for block_id in block_ids
    ]
    return AutomationCore(
        name=alert.name,
        description=alert.description,
        enabled=True,
        trigger=trigger,
        actions=actions,
    )


def register(settings: Settings) -> list[str]:
    """Save the blocks and (re)create the alert automations; returns the automations' names.

    Idempotent: LeadOps automations from an earlier call are replaced. With no channel
    configured, they are removed and nothing is registered.
    """
    from prefect.client.orchestration import get_client

    configured = blocks(settings)
    with get_client(sync_client=True) as client:
        for existing in events.read_automations(client):
            if existing.name.startswith(PREFIX):
                client.delete_automation(existing.id)
        if not configured:
            return []
        block_ids = [block.save(name, overwrite=True) for name, block in configured.items()]
        for alert in ALERTS:
            client.create_automation(automation(alert, block_ids))
    names = [alert.name for alert in ALERTS]
    log.info("alerts: %d automations through %s", len(names), ", ".join(configured))
    return names
