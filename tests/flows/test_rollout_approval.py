"""Approval gates without a Prefect server: the step holds until `leadops approve` grants it.

The embedded Prefect API cannot resume a paused run (nobody could reach it), so the
rollout holds the step, records a pending approval in the lake and says what to run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.rollout import approval
from tests.support.artifacts import latest_artifact
from tests.support.rollout import NAME, add_version, better_challenger_week

WEEK0 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def gated(settings, registry_db, monkeypatch: pytest.MonkeyPatch):
    """A champion and a shadow challenger whose evidence passes, with before-canary approval."""
    monkeypatch.setenv("LEADOPS_APPROVAL", "before-canary")
    get_settings.cache_clear()
    client, lake = registry.registry_client(settings), open_lake(settings)
    champion = add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "shadow", 0.0, alias="challenger")
    contract = load_contract(settings.contract_path)
    better_challenger_week(lake, contract, WEEK0, champion, challenger, seed=1)
    return client, lake, challenger


def test_step_holds_until_approved_then_moves_with_the_approval_recorded(gated) -> None:
    from flows.rollout import rollout

    client, lake, challenger = gated
    held = rollout(as_of=WEEK0 + timedelta(weeks=2))
    assert held.action == "wait" and held.transition is None
    assert "leadops approve" in held.reason
    assert held.challenger.stage == "shadow"
    assert approval.read_request(lake)["decision"] == approval.PENDING
    assert rollout(as_of=WEEK0 + timedelta(weeks=2)).action == "wait"  # still held

    approval.give(lake, "approve", "ana", "looks good")
    moved = rollout(as_of=WEEK0 + timedelta(weeks=2))
    assert moved.action == "advance" and moved.challenger.stage == "canary"
    tags = client.get_model_version(NAME, challenger).tags
    assert tags["approval"] == "approved before-canary" and tags["approval_by"] == "ana"
    assert tags["approval_comment"] == "looks good"
    assert "approved before-canary by ana: looks good" in latest_artifact("rollout-decision")
    assert approval.read_request(lake) is None  # used once


def test_cli_reject_answers_the_waiting_step_and_still_rejects_directly(gated) -> None:
    from flows.rollout import rollout

    client, lake, challenger = gated
    rollout(as_of=WEEK0 + timedelta(weeks=2))
    done = CliRunner().invoke(app, ["reject", "--reason", "pricing change pending"])
    assert done.exit_code == 0, done.output
    tags = client.get_model_version(NAME, challenger).tags
    assert tags["stage"] == "archived"
    assert tags["reason"] == "rejected before-canary: pricing change pending"
    assert approval.read_request(lake) is None

    nothing = CliRunner().invoke(app, ["approve"])
    assert nothing.exit_code != 0 and "no rollout step is waiting" in nothing.output
    # No step waiting: reject acts on the challenger directly, as before.
    another = add_version(client, "shadow", 0.0, alias="challenger")
    done = CliRunner().invoke(app, ["reject", "--reason", "not now"])
    assert done.exit_code == 0, done.output
    assert client.get_model_version(NAME, another).tags["stage"] == "archived"


def test_before_production_holds_only_the_promotion(settings, registry_db, monkeypatch) -> None:
    # A challenger at canary 100% whose evidence passes: before-production approval holds
    # its promotion (and no earlier step), and the approval moves the champion alias.
    from flows.rollout import rollout

    monkeypatch.setenv("LEADOPS_APPROVAL", "before-production")
    get_settings.cache_clear()
    client, lake = registry.registry_client(settings), open_lake(settings)
    champion = add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "canary", 1.0, alias="challenger")
    contract = load_contract(settings.contract_path)
    better_challenger_week(
        lake, contract, WEEK0, champion, challenger, seed=3, stage="canary", fraction=1.0
    )

    held = rollout(as_of=WEEK0 + timedelta(weeks=2))
    assert held.action == "wait" and "leadops approve" in held.reason
    assert str(registry.get_champion(client, NAME).version) == champion
    assert approval.read_request(lake)["decision"] == approval.PENDING

    when = (WEEK0 + timedelta(weeks=2)).isoformat()
    done = CliRunner().invoke(
        app, ["approve", "--comment", "signed off by sales ops", "--as-of", when]
    )
    assert done.exit_code == 0, done.output
    assert str(registry.get_champion(client, NAME).version) == challenger
    tags = client.get_model_version(NAME, challenger).tags
    assert tags["stage"] == "production" and tags["approval"] == "approved before-production"
    assert tags["approval_comment"] == "signed off by sales ops"
