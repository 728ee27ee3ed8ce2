"""The rollout flow: an evidence-driven step, a manual override, and their artifacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.storage.local import open_lake
from tests.support.artifacts import latest_artifact
from tests.support.rollout import add_version, better_challenger_week

WEEK0 = datetime(2026, 3, 2, tzinfo=UTC)


def test_rollout_flow_moves_on_evidence_and_obeys_overrides(settings, registry_db) -> None:
    from flows.rollout import rollout

    client, lake, contract = (
        registry.registry_client(settings),
        open_lake(settings),
        load_contract(settings.contract_path),
    )
    champion = add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "shadow", 0.0, alias="challenger")

    waiting = rollout(as_of=WEEK0)
    assert waiting.action == "wait" and waiting.transition is None

    better_challenger_week(lake, contract, WEEK0, champion, challenger, seed=1)
    moved = rollout(as_of=WEEK0 + timedelta(weeks=2))
    assert moved.action == "advance" and moved.transition.startswith(
        f"v{challenger}: shadow → canary 10%"
    )
    assert moved.challenger.stage == "canary" and moved.challenger.fraction == 0.1
    assert "challenger_auc" in latest_artifact("rollout-decision")

    rolled = rollout(
        as_of=WEEK0 + timedelta(weeks=2), action="promote", reason="sales wants it now"
    )
    assert rolled.champion.version == challenger and rolled.challenger is None
    back = rollout(as_of=WEEK0 + timedelta(weeks=3), action="rollback", reason="complaints")
    assert back.champion.version == champion
    assert back.champion.reason == f"complaints: restored in place of v{challenger}"
    assert "| v" in latest_artifact("rollout-decision")
