"""Low volume: a rollout step tests the gate's paired rows with its own few leads.

Before, a step started from nothing: at a few hundred leads a month a challenger that
the gate had compared on ~1,500 rows waited in shadow for months and ended inconclusive.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from leadops.decisions import gate_evidence
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.storage.local import open_lake
from tasks.rollout.run import advance
from tests.support.rollout import NAME, add_version, leads, log_scores, model_scores, write_outcomes

WEEK0 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def world(settings, registry_db):
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


def gate_rows(n: int, noise: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    frame = leads(n, WEEK0 - timedelta(weeks=2), seed=77)
    champion, challenger = model_scores(frame, 1.0, 5), model_scores(frame, noise, 6)
    rows = pd.DataFrame(
        {
            gate_evidence.ENTITY_ID: frame["id"],
            gate_evidence.EVENT_TIME: frame["event_time"],
            gate_evidence.LABEL: frame["converted"].astype(int),
            gate_evidence.CHAMPION_SCORE: champion,
            gate_evidence.CHALLENGER_SCORE: challenger,
        }
    )
    return rows, frame["converted"].to_numpy(dtype=int), challenger, champion


def a_low_volume_week(world) -> datetime:
    client, lake, contract, settings, champion, challenger = world
    frame = leads(40, WEEK0, seed=1)  # a handful of conversions: alone, no test decides
    scored_at = WEEK0 + timedelta(weeks=1)
    log_scores(
        lake,
        frame,
        scored_at,
        champion,
        challenger,
        model_scores(frame, 1.0, 2),
        model_scores(frame, 0.4, 3),
    )
    write_outcomes(lake, contract, frame)
    return scored_at + timedelta(days=contract.outcome_window_days + 1)


def test_the_gates_rows_let_a_low_volume_step_decide(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    as_of = a_low_volume_week(world)
    alone, _ = advance(
        client, lake, contract, settings.model_copy(update={"rollout_gate_rows": False}), as_of
    )
    assert alone.action == "wait" and "need 10 of each" in alone.reason

    rows, *_ = gate_rows(1500, noise=0.4)
    gate_evidence.save(lake, NAME, challenger, champion, rows)
    plan, done = advance(client, lake, contract, settings, as_of)
    assert plan.action == "advance" and [t.stage for t in done] == ["canary"]
    assert "step leads + 1,500 gate rows" in plan.reason
    assert 1500 < plan.decision["n"] <= 1540


def test_rows_compared_with_another_champion_are_no_evidence(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    as_of = a_low_volume_week(world)
    rows, *_ = gate_rows(1500, noise=0.4)
    gate_evidence.save(lake, NAME, challenger, "99", rows)  # the champion changed since the gate
    assert gate_evidence.load(lake, NAME, challenger, champion) is None
    plan, _ = advance(client, lake, contract, settings, as_of)
    assert plan.action == "wait"


def test_a_worse_challenger_on_the_gates_rows_fails_the_step(world) -> None:
    client, lake, contract, settings, champion, challenger = world
    as_of = a_low_volume_week(world)
    rows, *_ = gate_rows(1500, noise=3.0)
    gate_evidence.save(lake, NAME, challenger, champion, rows)
    plan, _ = advance(client, lake, contract, settings, as_of)
    assert plan.action != "advance" and "significantly worse" in plan.reason


def test_the_forecast_says_how_many_leads_and_weeks_a_step_needs() -> None:
    _, labels, new, old = gate_rows(400, noise=1.0)  # an equally good challenger
    small = gate_evidence.rollout_forecast(
        labels, new, old, margin=0.02, alpha=0.05, window_days=28
    )
    _, labels, new, old = gate_rows(4000, noise=1.0)
    large = gate_evidence.rollout_forecast(
        labels, new, old, margin=0.02, alpha=0.05, window_days=28
    )
    # The needed n is a property of the models, not of how many rows the gate had.
    assert small is not None and large is not None
    assert 0.5 < small.needed / large.needed < 2
    assert small.beyond_gate > 0 and small.leads_per_week == pytest.approx(100)
    assert small.weeks == pytest.approx(small.beyond_gate / 100)
    line = small.line(max_wait_days=7)
    assert (
        f"~{small.needed:,} matured leads" in line and "weeks a step at ~100 leads a week" in line
    )
    assert "longer than the 7-day wait limit" in line
    assert "already hold them" in gate_evidence.Forecast(5000, 3000, 100.0).line()
