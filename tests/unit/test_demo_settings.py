"""The demo runs every flow with a settings copy; the process environment is left untouched."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from app.demo import demo
from leadops.settings import Settings, get_settings


def test_demo_settings_carry_the_plan_search_budget_unless_the_user_set_it(
    home: Path, monkeypatch
) -> None:
    plan = demo.DemoPlan.fast()
    copy = demo.demo_settings(get_settings(), plan)
    assert copy.trials == plan.trials
    assert copy.home == get_settings().home

    monkeypatch.setenv("LEADOPS_TRIALS", "9")
    assert demo.demo_settings(Settings(), plan).trials == 9  # the user's value wins


def test_the_flows_see_the_demo_settings_and_os_environ_is_untouched(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = demo.DemoPlan.fast()
    before = dict(os.environ)
    seen: list[Settings] = []

    def weeks(plan_: demo.DemoPlan, settings: Settings, echo) -> list[demo.WeekRecord]:
        seen.append(get_settings())  # what each flow and task reads while the demo runs
        return []

    monkeypatch.setattr(demo, "_run_weeks", weeks)
    demo.run_demo(plan, get_settings(), echo=lambda line: None)
    assert seen[0].trials == plan.trials
    assert dict(os.environ) == before
    assert get_settings() == Settings()  # after the demo: the environment's settings again


def test_the_demo_names_the_deal_value_model_of_each_training() -> None:
    from tasks.training.results import TrainResult

    run = TrainResult("trained", "m", "drift", "challenger", "better", model_version="3")
    trained = replace(run, value_model={"version": "2", "decision": "challenger", "line": "..."})
    skipped = replace(
        run,
        value_model={
            "version": None,
            "decision": "not trained",
            "line": "only 140 won deals with a deal_amount, need 200",
        },
    )
    assert trained.brief() == "v3 challenger (value model v2: challenger)"
    assert skipped.value_note() == (
        " (value model: only 140 won deals with a deal_amount, need 200)"
    )
    assert run.value_note() == ""


def test_the_demo_week_records_the_monitor_and_the_retrain_it_started() -> None:
    from datetime import UTC, datetime

    from tasks.monitoring.results import MonitorResult
    from tasks.training.results import TrainResult

    trained = TrainResult("trained", "m", "drift", "challenger", "better", model_version="3")
    found = MonitorResult(
        "m", "2", "batch week-9", {"industry": 0.41, "employees": 0.2}, True, True, "drift",
        {"rate": 0.08, "baseline_rate": 0.1}, {"route": "subflow"}, {"current": 700},
        report="file:///h/r.html", train=trained,
    )  # fmt: skip
    record = demo.WeekRecord(9, datetime(2026, 3, 9, tzinfo=UTC))
    demo._score_and_monitor(lambda **_: None, lambda **_: found, record)
    assert (record.max_psi, record.conversion_rate, record.baseline_rate) == (0.41, 0.08, 0.1)
    assert record.report == "file:///h/r.html"
    assert record.events == ["retrain (drift): v3 challenger"]


def test_an_archived_deal_value_model_says_why_the_gate_kept_the_champion() -> None:
    import numpy as np

    from leadops.decisions.value_gate import judge_value
    from tasks.training.results import TrainResult
    from tasks.training.value_registry import ValueOutcome

    amounts = np.exp(np.random.default_rng(3).normal(9, 0.9, 120))
    same = amounts * np.exp(np.random.default_rng(4).normal(0, 0.5, 120))
    verdict = judge_value(amounts, same, same, "value champion v1", 0.02, 1000, 0)
    outcome = ValueOutcome("archived", verdict.reason, "3", "reg:gamma", {})
    run = TrainResult(
        "trained",
        "m",
        "drift",
        "archived",
        "no better",
        model_version="4",
        value_model={"version": "3", "decision": "archived", "line": outcome.line()},
    )
    assert run.value_note() == (
        " (value model v3 archived: ranks no better and does not size deals better: "
        "MAE interval reaches 0 on 120 won deals)"
    )
