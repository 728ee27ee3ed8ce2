"""train for miscalibration: the champion's booster, a refitted calibrator, a shadow challenger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from app.demo import synthetic
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.models.model_loader import load_model
from leadops.models.model_state import Stage, VersionState
from leadops.models.transitions import read_history
from leadops.storage.local import open_lake
from leadops.storage.tables import GOLD_LEADS
from tests.support.gold import gold_frame
from tests.support.rollout import NAME, register_real_model

START = datetime.combine(synthetic.DEFAULT_START, datetime.min.time(), tzinfo=UTC)


@pytest.mark.slow
def test_train_for_miscalibration_registers_the_champion_recalibrated_in_shadow(
    settings, registry_db, monkeypatch
) -> None:
    monkeypatch.setenv("LEADOPS_GATE_BOOTSTRAP_SAMPLES", "1000")
    from leadops.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    from flows.train import train

    lake, contract = open_lake(settings), load_contract(settings.contract_path)
    # The market halves conversion from week 4: the champion (weeks 1-3) over-predicts.
    config = synthetic.GeneratorConfig(
        weeks=12, leads_per_week=500, seed=3, scenario="conversion-drop", drift_week=4
    )
    gold = gold_frame(*synthetic.generate(config), contract)
    lake.overwrite_table(GOLD_LEADS, gold)
    early = gold[pd.to_datetime(gold[contract.event_time], utc=True) < START + timedelta(weeks=3)]
    champion = register_real_model(
        settings, contract, early, START + timedelta(weeks=4), lake.table_version(GOLD_LEADS)
    )
    as_of = START + timedelta(weeks=12, days=8)

    result = train(reason="miscalibration", as_of=as_of)

    assert result.decision == "challenger", result.reason
    assert result.recalibrated_from == champion and "better calibrated" in result.reason
    client = registry.registry_client(settings)
    state = VersionState.from_version(registry.get_challenger(client, NAME))
    assert (state.version, state.stage) == (result.model_version, Stage.SHADOW)
    old = load_model(settings, NAME, champion).unwrap_python_model()
    new = load_model(settings, NAME, result.model_version).unwrap_python_model()
    assert new.calibrator is not None and old.calibrator is None
    recent = gold[pd.to_datetime(gold[contract.event_time], utc=True) >= START + timedelta(weeks=9)]
    before, after = old.predict_proba(recent), new.predict_proba(recent)
    actual = recent[contract.label].astype("boolean").fillna(False).astype(float).mean()
    assert abs(after.mean() - actual) < abs(before.mean() - actual) / 2
    assert (np.argsort(after, kind="stable") == np.argsort(before, kind="stable")).mean() > 0.99
    # The gate's history entry carries the as-of the monitor claimed the retrain at.
    [entry] = [e for e in read_history(lake) if e["version"] == result.model_version]
    assert entry["as_of"] == as_of.isoformat() and entry["stage"] == "shadow"


@pytest.mark.slow
def test_a_rise_in_conversion_is_found_and_answered_by_a_recalibration(
    settings, registry_db, monkeypatch
) -> None:
    # The real history: the market converts several times more than the champion says;
    # the conversion monitor (drops only) sees nothing, the calibration watch does.
    from tests.flows.test_monitor_flow import land_until, score_week, week_end

    monkeypatch.setenv("LEADOPS_TRIALS", "1")
    monkeypatch.setenv("LEADOPS_GATE_BOOTSTRAP_SAMPLES", "1000")
    monkeypatch.setenv("LEADOPS_RECALIBRATION_WINDOW_DAYS", "21")  # the post-shift weeks
    from leadops.decisions.metrics import rank_auc
    from leadops.inputs.maturity import LABEL, label_matured
    from leadops.settings import get_settings
    from tasks.monitoring.champion import predictor
    from tasks.training import tracking

    get_settings.cache_clear()
    settings = get_settings()
    from flows.monitor import monitor

    lake, contract = open_lake(settings), load_contract(settings.contract_path)
    config = synthetic.GeneratorConfig(weeks=12, leads_per_week=500, seed=5)
    leads, outcomes = synthetic.generate(config)
    land_until(lake, contract, leads, outcomes, week_end(6))
    gold = lake.read_table(GOLD_LEADS)
    first = gold[gold[contract.event_time] < pd.Timestamp(week_end(4))]
    champion = register_real_model(
        settings, contract, first, week_end(6), lake.table_version(GOLD_LEADS)
    )
    # Its run carries the AUC on the weeks after its training data (the ranking baseline).
    test = label_matured(gold, contract, week_end(6))
    test = test[test[contract.event_time] >= pd.Timestamp(week_end(4))]
    scorer = predictor(settings, NAME, champion)
    auc = rank_auc(test[LABEL], scorer(test[contract.lead_columns]))
    client = registry.registry_client(settings)
    tracking.log_values(
        settings,
        client.get_model_version(NAME, champion).run_id,
        params={"test_rows": len(test)},
        metrics={"test_roc_auc": auc, "test_base_rate": float(test[LABEL].mean())},
    )
    # From week 7 the same kinds of leads convert several times more: a non-converter turns
    # converter with 3x the champion's probability (the ranking holds, the level does not).
    later = leads[pd.to_datetime(leads[contract.event_time]) >= week_end(6).replace(tzinfo=None)]
    odds = pd.Series(scorer(later[contract.lead_columns]), index=later[contract.entity_id])
    created = later.set_index(contract.entity_id)[contract.event_time]
    chance = outcomes[contract.entity_id].map(odds)
    flip = (
        chance.notna()
        & ~outcomes[contract.label].astype(bool)
        & (np.random.default_rng(0).random(len(outcomes)) < 3 * chance.fillna(0))
    )
    outcomes.loc[flip, contract.label] = True
    outcomes.loc[flip, contract.label_time] = pd.to_datetime(
        outcomes.loc[flip, contract.entity_id].map(created)
    ) + timedelta(days=1)
    land_until(lake, contract, leads, outcomes, week_end(12))
    for week in range(7, 13):
        score_week(lake, settings, contract, champion, week)

    found = monitor(as_of=week_end(12))

    assert found.reason == "miscalibration", found.details["decision"]
    calibration = found.calibration
    assert calibration["miscalibrated"] and calibration["ranking"]["holds"]
    assert calibration["decision"]["details"]["direction"] == "under-predicting"
    assert not found.conversion["dropped"]
    assert found.train.recalibrated_from == champion, found.train
    assert found.train.decision == "challenger", found.train.reason
