"""The rollout state machine on a real (tmp, SQLite) MLflow registry and a real prediction log."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.cli.status import registry_status
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.models.model_state import Stage, VersionState
from leadops.models.transitions import read_history
from leadops.storage.local import open_lake
from tasks.rollout.checks import FAIL, PASS, WAIT, StepVerdict
from tasks.rollout.run import advance, step
from tasks.rollout.state_machine import (
    ADVANCE,
    PROMOTE,
    ROLLBACK,
    Position,
    RolloutState,
    next_position,
    plan_step,
)
from tests.support.rollout import NAME, add_version, leads, log_scores, model_scores, write_outcomes

WEEK0 = datetime(2026, 3, 2, tzinfo=UTC)
GOOD, BAD, CHAMPION_NOISE = (
    0.4,
    3.0,
    1.0,
)  # score noise: the challenger is better (0.4) or worse (3.0)


@pytest.fixture
def world(settings, registry_db):
    """A registry with champion v1 and challenger v2 in shadow, and an empty lake."""
    client = registry.registry_client(settings)
    champion = add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "shadow", 0.0, alias="challenger")
    return (
        client,
        open_lake(settings),
        load_contract(settings.contract_path),
        settings,
        champion,
        challenger,
    )


def score_week(
    world, week: int, noise: float, n: int = 1500, stage: str = "shadow", fraction: float = 0.0
) -> datetime:
    """Leads of week ``week`` scored by both models at its end; outcomes recorded.

    Returns that time.
    """
    client, lake, contract, settings, champion, challenger = world
    frame = leads(n, WEEK0 + timedelta(weeks=week), seed=week)
    scored_at = WEEK0 + timedelta(weeks=week + 1)
    salt = (client.get_model_version(NAME, challenger).tags or {}).get("salt", "none")
    log_scores(
        lake,
        frame,
        scored_at,
        champion,
        challenger,
        model_scores(frame, CHAMPION_NOISE, 1000 + week),
        model_scores(frame, noise, 100 + week),
        stage=stage,
        fraction=fraction,
        salt=salt,
    )
    write_outcomes(lake, contract, frame)
    return scored_at


def matured_after(scored_at: datetime, contract) -> datetime:
    return scored_at + timedelta(days=contract.outcome_window_days + 1)


def tags(world, version: str) -> dict:
    return dict(world[0].get_model_version(NAME, version).tags)


def test_the_path_is_shadow_then_each_canary_step_then_production() -> None:
    steps = (0.10, 0.50, 1.00)
    path, where = [], Position("shadow", 0.0)
    while where.stage != "production":
        where = next_position(where, steps)
        path.append((where.stage, where.fraction))
    assert path == [("canary", 0.10), ("canary", 0.50), ("canary", 1.00), ("production", 1.0)]
    assert plan_step("2", Position("canary", 1.0), StepVerdict(PASS, "ok"), steps).action == PROMOTE
    assert (
        plan_step("2", Position("canary", 0.5), StepVerdict(FAIL, "worse"), steps).action
        == ROLLBACK
    )
    assert not plan_step("2", Position("shadow", 0.0), StepVerdict(WAIT, "few"), steps).transition


def test_a_step_reads_evidence_only_for_a_challenger_in_rollout() -> None:
    champion = VersionState("1", Stage.PRODUCTION, 1.0)
    checked: list[str] = []

    def check(state: RolloutState, as_of: datetime) -> StepVerdict:
        checked.append(state.challenger.version)
        return StepVerdict(PASS, "better")

    def decide(state: RolloutState, verdict: StepVerdict, as_of: datetime):
        challenger = state.challenger
        return plan_step(challenger.version, Position.of(challenger), verdict, (0.1, 1.0)), []

    cases = {
        "no challenger": RolloutState(champion, None),
        "paused": RolloutState(champion, VersionState("2", Stage.CANARY, 0.1, paused=True)),
        "archived": RolloutState(champion, VersionState("2", Stage.ARCHIVED, 0.0)),
        "shadow": RolloutState(champion, VersionState("2", Stage.SHADOW, 0.0)),
    }
    actions = {name: step(state, WEEK0, check, decide)[0].action for name, state in cases.items()}
    assert actions == {
        "no challenger": "idle",
        "paused": "hold",
        "archived": "idle",
        "shadow": ADVANCE,
    }
    assert checked == ["2"]  # only the shadow challenger's evidence was read
    assert RolloutState(champion, None).as_dict()["champion"]["stage"] == "production"


def test_too_little_evidence_waits_and_says_so(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    scored = score_week(world, 0, GOOD, n=40)  # a handful of conversions: no test can decide
    plan, done = advance(client, lake, contract, settings, matured_after(scored, contract))
    assert plan.action == "wait" and done == [] and "need 10 of each" in plan.reason
    assert plan.decision["verdict"] == "wait" and 30 < plan.decision["n"] <= 40
    after = tags(world, challenger)
    assert after["stage"] == "shadow"  # the wait and its reason are on the version's tags
    assert after["leadops.decision.verdict"] == "wait"
    assert after["leadops.decision"].startswith("rollout_step wait (n ")


def test_an_equally_good_challenger_waits_then_stops_inconclusive(world) -> None:
    """Old rule: shadow passed iff challenger AUC > champion AUC (a coin flip when equal)."""
    client, lake, contract, settings, champion, challenger = world
    as_of = matured_after(score_week(world, 0, CHAMPION_NOISE, n=300), contract)
    plan, _ = advance(client, lake, contract, settings, as_of)
    assert plan.action == "wait" and "equally good challenger needs" in plan.reason
    decision = plan.decision
    assert (
        decision["ci_low"] < decision["threshold"] < 0 < decision["ci_high"] and decision["mde"] > 0
    )
    patient = settings.model_copy(update={"rollout_max_wait_days": 7})
    plan, done = advance(client, lake, contract, patient, as_of)
    assert plan.action == "inconclusive" and "inconclusive after" in plan.reason
    assert [t.stage for t in done] == ["archived"]
    assert tags(world, challenger)["reason"].startswith("shadow stopped, champion stays")
    assert str(registry.get_champion(client, NAME).version) == champion


def test_a_recalibrated_challenger_only_warns_about_its_score_distribution(world) -> None:
    """Old rule: canary failed on challenger-vs-champion score PSI > 0.25 (same ranking here)."""
    client, lake, contract, settings, champion, challenger = world
    advance(client, lake, contract, settings, matured_after(score_week(world, 0, GOOD), contract))
    frame = leads(2000, WEEK0 + timedelta(weeks=2), seed=2)
    champion_scores = model_scores(frame, CHAMPION_NOISE, 1002)
    salt = tags(world, challenger)["salt"]
    log_scores(
        lake,
        frame,
        WEEK0 + timedelta(weeks=3),
        champion,
        challenger,
        champion_scores,
        champion_scores * 0.45,
        stage="canary",
        fraction=0.10,
        salt=salt,
    )
    write_outcomes(lake, contract, frame)
    plan, done = advance(
        client, lake, contract, settings, matured_after(WEEK0 + timedelta(weeks=3), contract)
    )
    assert plan.metrics["score_psi"] > 0.25 and "warns only" in plan.metrics["warning"]
    assert plan.action == ADVANCE and done[-1].fraction == 0.5


def test_evidence_is_only_leads_created_after_the_training_data_ended(
    settings, registry_db
) -> None:
    """Old rule: every lead scored since the step began, the challenger's own test rows too."""
    client = registry.registry_client(settings)
    champion = add_version(client, "production", 1.0, alias="champion")
    data_end = WEEK0 + timedelta(weeks=1)
    challenger = add_version(
        client, "shadow", 0.0, alias="challenger", tags={"leadops.data_end": data_end.isoformat()}
    )
    lake, contract = open_lake(settings), load_contract(settings.contract_path)
    world = (client, lake, contract, settings, champion, challenger)
    as_of = matured_after(score_week(world, 0, 0.01), contract)  # it trained on these leads
    plan, done = advance(client, lake, contract, settings, as_of)
    assert plan.action == "wait" and done == [] and plan.decision["n"] == 0
    assert plan.metrics["evidence_created_after"] == data_end.isoformat()


def test_immature_leads_are_no_evidence(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    scored = score_week(world, 0, GOOD)
    plan, _ = advance(client, lake, contract, settings, scored)  # labels not yet known
    assert plan.action == "wait" and tags(world, challenger)["stage"] == "shadow"


def test_shadow_pass_enters_canary_with_a_fresh_salt(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    as_of = matured_after(score_week(world, 0, GOOD), contract)
    plan, done = advance(client, lake, contract, settings, as_of)
    assert plan.action == ADVANCE and [t.stage for t in done] == ["canary"], plan
    after = tags(world, challenger)
    assert after["stage"] == "canary" and float(after["fraction"]) == 0.10
    assert after["salt"].startswith(f"v{challenger}-") and after["stage_since"] == as_of.isoformat()
    metrics = json.loads(after["metrics"])
    assert metrics["challenger_auc"] > metrics["champion_auc"] and metrics["matured_leads"] == 1500
    assert read_history(lake)[-1]["reason"].startswith("non-inferior: AUC")
    assert after["leadops.decision.verdict"] == "pass"
    step, *parts = after["leadops.decision"].split("; ")
    assert any(part.startswith("paired_auc pass (") for part in parts), parts
    ci_low = float(re.search(r"CI \[([-0-9.e]+),", step).group(1))
    assert ci_low > -0.02 * metrics["champion_auc"]


def test_shadow_fail_archives_the_challenger(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    advance(client, lake, contract, settings, matured_after(score_week(world, 0, BAD), contract))
    after = tags(world, challenger)
    assert after["stage"] == "archived" and float(after["fraction"]) == 0.0
    assert after["reason"].startswith("shadow evaluation failed: challenger significantly worse")
    assert registry.get_challenger(client, NAME) is None
    assert str(registry.get_champion(client, NAME).version) == champion


def test_canary_passes_every_step_to_production(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    as_of = matured_after(score_week(world, 0, GOOD), contract)
    advance(client, lake, contract, settings, as_of)  # → canary 10%
    seen = []
    for week, fraction in ((2, 0.10), (4, 0.50), (6, 1.00)):
        plan, _ = advance(
            client, lake, contract, settings, as_of
        )  # the old evidence does not count again
        assert plan.action == "wait"
        as_of = matured_after(
            score_week(world, week, GOOD, n=4000, stage="canary", fraction=fraction), contract
        )
        plan, done = advance(client, lake, contract, settings, as_of)
        seen.append((plan.action, done[-1].stage, done[-1].fraction))
    assert seen == [
        ("advance", "canary", 0.5),
        ("advance", "canary", 1.0),
        ("promote", "production", 1.0),
    ]
    assert str(registry.get_champion(client, NAME).version) == challenger
    assert registry.get_challenger(client, NAME) is None
    old = tags(world, champion)
    assert old["stage"] == "archived" and old["reason"] == f"replaced by v{challenger}"
    assert tags(world, challenger)["previous_champion"] == champion
    status = registry_status(settings)
    assert (
        status["champion"]["version"] == challenger
        and status["transitions"][0]["stage"] == "production"
    )


def test_canary_fail_rolls_back_automatically(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    advance(client, lake, contract, settings, matured_after(score_week(world, 0, GOOD), contract))
    as_of = matured_after(
        score_week(world, 2, BAD, n=4000, stage="canary", fraction=0.10), contract
    )
    plan, done = advance(client, lake, contract, settings, as_of)
    assert plan.action == ROLLBACK
    after = tags(world, challenger)
    assert after["stage"] == "archived" and float(after["fraction"]) == 0.0
    assert after["reason"].startswith("canary at 10% failed")
    assert registry.get_challenger(client, NAME) is None
    assert str(registry.get_champion(client, NAME).version) == champion
