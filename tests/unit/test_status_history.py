"""`leadops status` history: every event in true order, each at the moment it happened."""

from __future__ import annotations

import json
from dataclasses import asdict

from app.cli.status import decision_history, event_text
from leadops.models.model_state import Stage
from leadops.models.transitions import Transition


def version_row(version: int, created_at: str) -> dict:
    """A ``leadops.models.registry.history`` row of a version whose decision the lake holds."""
    return {
        "version": version,
        "run_id": f"run{version}",
        "aliases": [],
        "stage": None,
        "fraction": None,
        "reason": None,
        "decided_at": None,
        "metrics": None,
        "created_at": created_at,
    }


def history_entry(transition: Transition) -> dict:
    """The transition as the lake's ``rollout/history.json`` holds it."""
    return json.loads(json.dumps(asdict(transition), default=str))


def history_lines(versions: list[dict], transitions: list[Transition]) -> list[str]:
    events = decision_history(versions, [history_entry(t) for t in transitions])
    return [event_text(event) for event in events]


def test_a_gate_is_shown_when_it_was_decided_not_at_the_training_clock() -> None:
    # The training read its clock (as_of) at 10:15:52, trained for five seconds, registered
    # v1 at 10:15:57 and the gate wrote its decision a second later.
    gate = Transition(
        "1",
        Stage.PRODUCTION,
        1.0,
        "first model: there is no champion yet",
        "2026-03-02T10:15:52.402000+00:00",
        recorded_at="2026-03-02T10:15:58.117000+00:00",
    )
    lines = history_lines([version_row(1, "2026-03-02T10:15:57+00:00")], [gate])
    assert lines[0] == "2026-03-02 10:15:57  v1: trained (MLflow run run1)"
    assert lines[1].startswith("2026-03-02 10:15:58  v1: gate → production 100%"), lines
    assert "as of" not in lines[1]  # decided for today: the clock adds nothing
    times = [line[:19] for line in lines]
    assert times == sorted(times), lines


def test_a_decision_made_for_another_day_says_which_and_keeps_its_place() -> None:
    # The demo's weeks (and a backfill) decide for an as-of clock far from the wall clock.
    gate = Transition(
        "1",
        Stage.PRODUCTION,
        1.0,
        "first model",
        "2025-03-09T00:00:00+00:00",
        recorded_at="2026-03-02T10:16:04+00:00",
    )
    step = Transition(
        "2",
        Stage.CANARY,
        0.1,
        "shadow held",
        "2025-03-16T00:00:00+00:00",
        Stage.SHADOW,
        0.0,
        recorded_at="2026-03-02T10:17:30+00:00",
    )
    versions = [
        version_row(2, "2026-03-02T10:17:01+00:00"),
        version_row(1, "2026-03-02T10:16:03+00:00"),
    ]
    lines = history_lines(versions, [gate, step])
    assert [line[:19] for line in lines] == [
        "2026-03-02 10:16:03",
        "2026-03-02 10:16:04",
        "2026-03-02 10:17:01",
        "2026-03-02 10:17:30",
    ], lines
    assert lines[1].endswith("(first model)  [as of 2025-03-09]")
    assert lines[3].endswith("(shadow held)  [as of 2025-03-16]")
