"""Manual overrides: promote, reject, rollback, pause; and what `leadops status` shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.cli.status import registry_status, status_text
from leadops.inputs.contract import load_contract
from leadops.models import registry, transitions
from leadops.storage.local import open_lake
from tasks.rollout import manual
from tasks.rollout.run import advance
from tests.support.rollout import NAME, add_version

AS_OF = datetime(2026, 4, 6, tzinfo=UTC)


@pytest.fixture
def world(settings, registry_db):
    client = registry.registry_client(settings)
    champion = add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "canary", 0.5, alias="challenger")
    return client, open_lake(settings), settings, champion, challenger


def stage_of(client, version: str) -> tuple[str, float, str]:
    tags = client.get_model_version(NAME, version).tags
    return tags["stage"], float(tags["fraction"]), tags["reason"]


def champion_of(client) -> str:
    return str(registry.get_champion(client, NAME).version)


def test_manual_rollback_restores_the_previous_champion(world) -> None:
    client, lake, settings, v1, v2 = world
    manual.promote(client, lake, NAME, AS_OF)
    assert champion_of(client) == v2 and stage_of(client, v1)[0] == "archived"
    manual.rollback(client, lake, NAME, AS_OF + timedelta(days=1), reason="conversions fell")
    assert champion_of(client) == v1
    assert stage_of(client, v1) == (
        "production",
        1.0,
        f"conversions fell: restored in place of v{v2}",
    )
    assert stage_of(client, v2) == ("archived", 0.0, f"conversions fell: replaced by v{v1}")
    status = registry_status(settings)
    assert status["champion"]["version"] == v1 and status["challenger"] is None
    assert [t["stage"] for t in status["transitions"][:2]] == [
        "production",
        "archived",
    ]  # newest first


def test_reject_archives_the_challenger_and_keeps_the_champion(world) -> None:
    client, lake, settings, v1, v2 = world
    manual.reject(client, lake, NAME, AS_OF, reason="looks wrong")
    assert stage_of(client, v2) == ("archived", 0.0, "looks wrong")
    assert registry.get_challenger(client, NAME) is None and champion_of(client) == v1


def test_nothing_to_act_on_is_one_clear_line(world) -> None:
    client, lake, settings, v1, v2 = world
    with pytest.raises(
        manual.NothingToDoError, match=f"champion v{v1} replaced no earlier champion"
    ):
        manual.rollback(client, lake, NAME, AS_OF)
    manual.reject(client, lake, NAME, AS_OF)
    with pytest.raises(manual.NothingToDoError, match=f"model {NAME}: no challenger to promote"):
        manual.promote(client, lake, NAME, AS_OF)


def test_pause_holds_the_rollout_until_resumed(world) -> None:
    client, lake, settings, v1, v2 = world
    contract = load_contract(settings.contract_path)
    manual.set_paused(client, lake, NAME, AS_OF, paused=True)
    plan, done = advance(client, lake, contract, settings, AS_OF)
    assert plan.action == "hold" and done == []
    assert stage_of(client, v2)[:2] == ("canary", 0.5)  # paused where it stood
    manual.set_paused(client, lake, NAME, AS_OF, paused=False)
    plan, _ = advance(client, lake, contract, settings, AS_OF)
    assert plan.action == "wait"  # back in rollout, waiting for canary evidence


def test_resume_of_a_rollout_never_paused_is_one_line_and_records_nothing(world) -> None:
    client, lake, settings, v1, v2 = world
    before = transitions.read_history(lake)
    with pytest.raises(
        manual.NothingToDoError, match=f"model {NAME}: challenger v{v2} is not paused"
    ):
        manual.override(client, lake, NAME, "resume", AS_OF)
    assert transitions.read_history(lake) == before
    assert stage_of(client, v2) == ("canary", 0.5, "test: canary")


def test_a_second_pause_says_already_paused_and_records_one_entry(world) -> None:
    client, lake, settings, v1, v2 = world
    before = len(transitions.read_history(lake))
    manual.override(client, lake, NAME, "pause", AS_OF, reason="testing")
    with pytest.raises(manual.NothingToDoError, match=f"challenger v{v2} is already paused"):
        manual.override(client, lake, NAME, "pause", AS_OF + timedelta(hours=1))
    history = transitions.read_history(lake)
    assert len(history) == before + 1
    assert history[-1]["reason"] == "rollout paused manually: testing"
    assert stage_of(client, v2) == ("canary", 0.5, "rollout paused manually: testing")
    manual.override(client, lake, NAME, "resume", AS_OF + timedelta(hours=2))
    assert transitions.read_history(lake)[-1]["reason"] == "rollout resumed manually"


def test_status_text_names_roles_stages_and_reasons(world) -> None:
    client, lake, settings, v1, v2 = world
    manual.promote(client, lake, NAME, AS_OF, reason="sales asked")
    text = status_text(registry_status(settings))
    assert f"champion: v{v2} production 100% - sales asked" in text
    assert "challenger: none" in text
    assert f"v{v1}: production → archived 0%  (replaced by v{v2})" in text


def test_status_history_shows_manual_overrides_in_order(world) -> None:
    client, lake, settings, v1, v2 = world
    manual.promote(client, lake, NAME, AS_OF, reason="sales asked")
    manual.rollback(client, lake, NAME, AS_OF + timedelta(days=1), reason="conversions fell")
    state = registry_status(settings, limit=100)
    lines = status_text(state).splitlines()
    history = lines[lines.index("  history (oldest first):") + 1 :]
    wanted = [
        f"v{v1}: trained",
        f"v{v2}: trained",
        f"v{v2}: canary → production 100%  (sales asked)",
        f"v{v1}: archived → production 100%  (conversions fell: restored in place of v{v2})",
    ]
    positions = [next(i for i, line in enumerate(history) if w in line) for w in wanted]
    assert positions == sorted(positions), history
    assert state["home"] == str(settings.home.resolve())
