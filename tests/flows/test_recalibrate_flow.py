"""train for miscalibration: the champion's booster, a refitted calibrator, a shadow challenger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from leadops import registry
from leadops.app import synthetic
from leadops.contract import load_contract
from leadops.model_loader import load_model
from leadops.model_state import Stage, VersionState
from leadops.storage import open_lake
from leadops.tables import GOLD_LEADS
from leadops.transitions import read_history
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

    assert result["decision"] == "challenger", result["reason"]
    assert result["recalibrated_from"] == champion and "better calibrated" in result["reason"]
    client = registry.registry_client(settings)
    state = VersionState.from_version(registry.get_challenger(client, NAME))
    assert (state.version, state.stage) == (result["model_version"], Stage.SHADOW)
    old = load_model(settings, NAME, champion).unwrap_python_model()
    new = load_model(settings, NAME, result["model_version"]).unwrap_python_model()
    assert new.calibrator is not None and old.calibrator is None
    recent = gold[pd.to_datetime(gold[contract.event_time], utc=True) >= START + timedelta(weeks=9)]
    before, after = old.predict_proba(recent), new.predict_proba(recent)
    actual = recent[contract.label].astype("boolean").fillna(False).astype(float).mean()
    assert abs(after.mean() - actual) < abs(before.mean() - actual) / 2
    assert (np.argsort(after, kind="stable") == np.argsort(before, kind="stable")).mean() > 0.99
    # The gate's history entry carries the as-of the monitor claimed the retrain at.
    [entry] = [e for e in read_history(lake) if e["version"] == result["model_version"]]
    assert entry["as_of"] == as_of.isoformat() and entry["stage"] == "shadow"
