"""The watch after promotion: a promoted model worse on later data is rolled back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadops.decisions.verdict import Verdict
from leadops.inputs.contract import load_contract
from leadops.models import registry, transitions
from leadops.storage.local import open_lake
from tasks.rollout import manual
from tasks.rollout.watch import check_watch
from tests.support.rollout import NAME, add_version, leads, log_scores, model_scores, write_outcomes

PROMOTED = datetime(2026, 4, 6, tzinfo=UTC)
CHECKED = PROMOTED + timedelta(days=10)  # within the 14-day watch; every lead has matured


def promoted_world(settings, new_noise: float, old_noise: float):
    """v1 champion replaced by v2 at PROMOTED; then both score a week of leads."""
    client, lake = registry.registry_client(settings), open_lake(settings)
    contract = load_contract(settings.contract_path)
    old = add_version(client, "production", 1.0, alias="champion")
    new = add_version(client, "canary", 0.5, alias="challenger")
    manual.promote(client, lake, NAME, PROMOTED)
    frame = leads(2000, PROMOTED - timedelta(weeks=1), seed=5)
    # The previous champion scores in shadow beside the new one during the watch.
    log_scores(
        lake,
        frame,
        PROMOTED + timedelta(days=1),
        new,
        old,
        model_scores(frame, new_noise, 51),
        model_scores(frame, old_noise, 52),
    )
    write_outcomes(lake, contract, frame)
    return client, lake, contract, old, new


def test_a_worse_new_champion_is_rolled_back_in_one_transition(settings, registry_db) -> None:
    client, lake, contract, old, new = promoted_world(settings, new_noise=2.0, old_noise=0.3)
    before = len(transitions.read_history(lake))
    decision, done = check_watch(client, lake, contract, settings, CHECKED)
    assert decision.verdict is Verdict.FAIL
    assert str(registry.get_champion(client, NAME).version) == old
    tags = client.get_model_version(NAME, new).tags
    assert tags["stage"] == "archived" and "watch after promotion" in tags["reason"]
    assert [t.version for t in done] == [new, old]
    assert len(transitions.read_history(lake)) == before + 2  # one journaled rollback
    assert transitions.pending(lake) is None


def test_a_better_new_champion_stays_and_the_watch_ends(settings, registry_db) -> None:
    client, lake, contract, _, new = promoted_world(settings, new_noise=0.3, old_noise=2.0)
    decision, done = check_watch(client, lake, contract, settings, CHECKED)
    assert decision.verdict is not Verdict.FAIL and done == []
    assert str(registry.get_champion(client, NAME).version) == new
    later = PROMOTED + timedelta(days=settings.watch_days + 1)
    assert check_watch(client, lake, contract, settings, later) == (None, [])


def test_a_clock_before_the_promotion_is_outside_the_watch(settings, registry_db) -> None:
    # A replayed week (the demo run again on its home) sees today's champion at an earlier
    # clock: it was not serving yet, so neither the check nor a rollback may run.
    client, lake, contract, _, new = promoted_world(settings, new_noise=2.0, old_noise=0.3)
    assert check_watch(client, lake, contract, settings, PROMOTED - timedelta(weeks=3)) == (
        None,
        [],
    )
    assert str(registry.get_champion(client, NAME).version) == new


def test_a_champion_restored_by_a_rollback_is_not_watched_anew(settings, registry_db) -> None:
    # v1 → v2 (promoted on day 0) → v3 (day 20), rolled back on day 22: v2 serves again.
    # Its watch ended on day 14; a rollback must not start one against v1 (an old model
    # that would then be scored beside it, and could be rolled back to).
    from tasks.rollout.watch import watched

    client, lake = registry.registry_client(settings), open_lake(settings)
    add_version(client, "production", 1.0, alias="champion")
    second = add_version(client, "canary", 1.0, alias="challenger")
    manual.promote(client, lake, NAME, PROMOTED)
    third = add_version(client, "canary", 1.0, alias="challenger")
    manual.promote(client, lake, NAME, PROMOTED + timedelta(days=20))
    assert (
        watched(client, NAME, PROMOTED + timedelta(days=21), settings.watch_days).version == third
    )
    manual.rollback(client, lake, NAME, PROMOTED + timedelta(days=22))
    assert str(registry.get_champion(client, NAME).version) == second
    assert watched(client, NAME, PROMOTED + timedelta(days=23), settings.watch_days) is None
