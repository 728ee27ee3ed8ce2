"""The monitor flow end to end: real lake tables, a real registered champion, the real train flow.

One timeline (covariate drift from week 8): a stable week → no retrain; a drifted
week → drift → the monitor starts train itself (no server automation listens) with
the reason; a second run inside the cooldown → no second retrain.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from app.demo import synthetic
from leadops.decisions.monitor_state import read_state
from leadops.inputs.contract import load_contract
from leadops.logs import prediction_log as plog
from leadops.logs.request_log import append_requests, request_rows
from leadops.models import registry
from leadops.storage.local import open_lake
from leadops.storage.tables import GOLD_LEADS, silver
from tasks.monitoring.champion import predictor
from tests.support.gold import gold_frame, typed_leads
from tests.support.rollout import NAME, register_real_model

START = datetime.combine(synthetic.DEFAULT_START, datetime.min.time(), tzinfo=UTC)
CONFIG = synthetic.GeneratorConfig(
    weeks=9, leads_per_week=700, seed=11, scenario="covariate-drift", drift_week=8
)


def week_end(week: int) -> datetime:
    return START + timedelta(weeks=week)


def land_until(
    lake, contract, leads: pd.DataFrame, outcomes: pd.DataFrame, as_of: datetime
) -> None:
    """What ingest would hold at ``as_of``: leads created and outcomes arrived by then."""
    leads = leads[pd.to_datetime(leads[contract.event_time]) < as_of.replace(tzinfo=None)]
    outcomes = outcomes[pd.to_datetime(outcomes[contract.label_time]) <= as_of.replace(tzinfo=None)]
    lake.overwrite_table(silver("leads"), typed_leads(leads, contract))
    gold = gold_frame(leads, outcomes, contract)
    lake.overwrite_table(
        silver("outcomes"), gold.dropna(subset=[contract.label])[contract.outcome_columns]
    )
    lake.overwrite_table(GOLD_LEADS, gold)


def score_week(lake, settings, contract, version: str, week: int) -> None:
    """The champion scores week ``week``'s leads at its end (as the score flow logs them)."""
    leads = lake.read_table(silver("leads"))
    batch = leads[leads[contract.event_time] >= pd.Timestamp(week_end(week - 1))]
    scores = predictor(settings, NAME, version)(batch[contract.lead_columns])
    context = plog.LogContext(f"week-{week}", week_end(week), NAME)
    arms = ["champion"] * len(batch)
    plog.append_log(
        lake,
        plog.log_rows(
            context,
            pa.array(batch[contract.entity_id]),
            pa.array(batch[contract.event_time]),
            version,
            "champion",
            "production",
            arms,
            [True] * len(batch),
            scores,
        ),
    )


@pytest.mark.slow
def test_monitor_triggers_one_retrain_per_incident(settings, registry_db, monkeypatch) -> None:
    # The retrain this test starts is the real train flow, on its smallest budget.
    monkeypatch.setenv("LEADOPS_TRIALS", "1")
    monkeypatch.setenv("LEADOPS_GATE_BOOTSTRAP_SAMPLES", "1000")
    from leadops.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    from flows.monitor import monitor

    lake, contract = open_lake(settings), load_contract(settings.contract_path)
    leads, outcomes = synthetic.generate(CONFIG)
    land_until(lake, contract, leads, outcomes, week_end(6))
    trained_on = lake.read_table(GOLD_LEADS)
    champion = register_real_model(
        settings, contract, trained_on, week_end(6), lake.table_version(GOLD_LEADS)
    )

    land_until(lake, contract, leads, outcomes, week_end(7))
    score_week(lake, settings, contract, champion, 7)
    online = week_end(7) - timedelta(days=1)  # the scoring service answered 40 requests
    for i in range(40):
        status, arms = (500, []) if i == 0 else (200, ["champion"] * 2)
        append_requests(lake, request_rows(f"r{i}", online, status, 5.0 + i, arms))
    stable = monitor(as_of=week_end(7))
    assert not stable.drift_detected and not stable.retrain_triggered
    assert stable.window == "batch week-7" and stable.rows["current"] == 700
    assert stable.conversion["baseline_rate"] > 0  # from the reference
    # Week 7 is a day old: no cohort has matured; its maturing leads are counted by the
    # delay curve, far too few to claim anything.
    assert not stable.conversion["dropped"]
    assert "not enough matured leads to detect a 10% drop" in stable.conversion["note"]
    assert "0 matured + 700 maturing leads" in stable.conversion["note"]
    report = Path(stable.report.removeprefix("file://"))
    assert report.exists() and "PSI (fixed bins)" in report.read_text()
    serving = stable.details["serving"]  # beside drift: the online service's health in the window
    assert (serving["requests"], serving["server_errors"]) == (40, 1)
    assert serving["arms"][0]["arm"] == "champion" and serving["arms"][0]["leads"] == 78
    assert "2.50% server errors" in stable.serving_note
    assert stable.serving_note in report.read_text().replace("&#x27;", "'")
    assert "last_trigger" not in read_state(lake)  # only the evaluation was recorded

    land_until(lake, contract, leads, outcomes, week_end(8))
    score_week(lake, settings, contract, champion, 8)
    drifted = monitor(as_of=week_end(8))
    assert drifted.drift_detected and drifted.retrain_triggered and drifted.reason == "drift"
    # Week 7 matured, up to the outcome watermark: a lead whose window closes after the last
    # outcome ingested is still maturing (a late export never turns converters into negatives).
    # Week 8 is all maturing: counted as the share of conversions the delay curve expects.
    assert drifted.conversion["rate"] is not None
    week7, week8 = drifted.conversion["cohorts_detail"][-2:]
    assert 600 < week7["leads"] < 700 and week7["leads"] + week7["maturing"] == 700
    assert week8["leads"] == 0 and 0 < week8["exposure"] < week8["maturing"] <= 700
    assert drifted.retrain["route"] == "subflow"  # no server: the monitor ran train itself
    assert drifted.details["reference_cached"] and drifted.train.trigger == "drift"
    run = registry.registry_client(settings).get_run(drifted.train.run_id)
    assert run.data.tags["leadops.trigger_reason"] == "drift"

    again = monitor(as_of=week_end(8) + timedelta(days=2))
    assert again.drift_detected and not again.retrain_triggered
    # One incident, one retrain: a challenger in rollout answers it; otherwise the cooldown does.
    expected = (
        "challenger v2 is in shadow" if drifted.train.decision == "challenger" else "cooldown"
    )
    assert expected in again.retrain["why"] and again.train is None
    assert read_state(lake)["last_trigger"] == week_end(8).isoformat()

    workspace = Path(settings.home) / "evidently"
    projects = [json.loads(p.read_text()) for p in workspace.glob("*/metadata.json")]
    assert [p["name"] for p in projects] == ["leadops"]
    assert (
        len(list(workspace.glob("*/snapshots/*.json"))) == 6
    )  # 3 runs x (drift report + trigger PSI)
