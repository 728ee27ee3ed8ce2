"""Alert configuration from settings, and LeadOps events that carry no credentials."""

from __future__ import annotations

import uuid

import pytest

from deployments import notifications
from leadops.models import events
from leadops.settings import Settings


def test_nothing_is_configured_when_no_channel_is_set(home) -> None:
    assert notifications.blocks(Settings()) == {}
    # E-mail needs Prefect's SendGrid block key too: recipients alone send nothing.
    assert notifications.blocks(Settings(notify_email_to="ops@example.com")) == {}


def test_each_configured_channel_gets_a_prefect_block(home) -> None:
    from prefect.blocks.notifications import (
        CustomWebhookNotificationBlock,
        SendgridEmail,
        SlackWebhook,
    )

    settings = Settings(
        notify_webhook_url="https://alerts.example.com/hook?token=abc",
        notify_slack_webhook_url="https://hooks.slack.com/services/T0/B0/XYZ",
        notify_email_to="ops@example.com, ds@example.com",
        notify_sendgrid_api_key="SG.key",
    )
    found = notifications.blocks(settings)
    assert isinstance(found["leadops-alert-webhook"], CustomWebhookNotificationBlock)
    assert isinstance(found["leadops-alert-slack"], SlackWebhook)
    email = found["leadops-alert-email"]
    assert isinstance(email, SendgridEmail) and email.to_emails == [
        "ops@example.com",
        "ds@example.com",
    ]
    # The webhook URL (a token in its query) is kept as a secret value, not in the plain fields.
    webhook = found["leadops-alert-webhook"]
    assert "token=abc" not in webhook.url and "token=abc" not in str(webhook.json_data)
    assert "abc" not in repr(settings)


def test_every_leadops_event_and_failed_runs_have_an_automation() -> None:
    alerts = {event for alert in notifications.ALERTS for event in alert.expect}
    assert set(events.EVENTS) <= alerts
    assert {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"} <= alerts
    block = uuid.uuid4()
    for alert in notifications.ALERTS:
        automation = notifications.automation(alert, [block])
        assert [a.block_document_id for a in automation.actions] == [block]
        if alert.expect[0].startswith("leadops."):
            for needle in (
                "event.payload.version",
                "event.payload.decision",
                "event.payload.reason",
                "flow_run|ui_url",
            ):
                assert needle in automation.actions[0].body, (alert.name, needle)


@pytest.mark.parametrize(
    "text, secret",
    [
        ("store postgresql://mlflow:s3cret@db.internal/mlflow failed", "s3cret"),
        ("GET https://bucket.s3.amazonaws.com/k?X-Amz-Signature=deadbeef&x=1", "deadbeef"),
        ("webhook https://user@hooks.example.com/x?token=t0k3n", "t0k3n"),
    ],
)
def test_event_payloads_are_scrubbed_of_credentials(text: str, secret: str) -> None:
    scrubbed = events.scrub({"reason": text, "details": [text]})
    assert secret not in str(scrubbed)
    assert "***" in scrubbed["reason"]


def test_emitting_without_a_reachable_api_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.events

    def broken(**kwargs: object) -> None:
        raise ConnectionError("no server")

    monkeypatch.setattr(prefect.events, "emit_event", broken)
    assert events.rollout_transition("m", "3", "canary", 0.1, "because") is None
