"""Monitor and rollout read online answers like batch rows: canary evidence gathered by
the scoring service alone moves the challenger one rollout step."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from leadops.models import registry
from leadops.settings import Settings
from leadops.storage import tables
from leadops.storage.local import open_lake
from tests.support import scoring as S
from tests.support.models import register

pytestmark = [pytest.mark.integration]


def test_canary_evidence_from_online_traffic_moves_a_rollout_step(tmp_path: Path) -> None:
    from app.api.app import create_app
    from app.demo.synthetic import generate_week
    from tasks.rollout.run import advance

    settings = Settings(home=tmp_path / "home", api_log_flush_seconds=60)
    contract, lake = S.contract(), open_lake(settings)
    crm = S.write_crm(tmp_path / "crm")
    week = S.typed_week(crm, 1)
    S.write_silver(lake, [week])  # these tiny test models carry no cut-points: cut from silver
    booster, encoder = S.train_tiny(week)
    register(settings, booster, encoder)
    register(
        settings, booster, encoder, alias="challenger", stage="canary", fraction=0.5, salt="online"
    )
    leads = json.loads(pd.read_csv(crm / "leads" / "leads_week_01.csv").to_json(orient="records"))
    with TestClient(create_app(settings)) as client:
        for start in range(0, len(leads), 500):
            assert (
                client.post(
                    "/v1/leads/score", json=leads[start : start + 500], params={"reasons": "false"}
                ).status_code
                == 200
            )
    # The buffer was flushed at shutdown (its 60 s interval never came).
    _, outcomes = generate_week(S.CONFIG, 1)
    outcomes[contract.entity_id] = outcomes[contract.entity_id].astype(str)
    outcomes[contract.label] = outcomes[contract.label].astype(bool)
    outcomes[contract.label_time] = pd.to_datetime(outcomes[contract.label_time], utc=True)
    lake.overwrite_table(tables.silver("outcomes"), outcomes[contract.outcome_columns])
    plan, done = advance(
        registry.registry_client(settings),
        lake,
        contract,
        settings,
        datetime.now(UTC) + timedelta(minutes=1),
    )
    assert plan.transition, plan.reason
    assert [(t.stage, t.fraction) for t in done] == [("canary", 1.0)]


def test_a_shadow_challenger_is_scored_after_the_answer_logged_and_never_returned(
    tmp_path: Path,
) -> None:
    from app.api.app import create_app
    from leadops.logs import prediction_log as plog

    settings = Settings(home=tmp_path / "home", api_log_flush_seconds=60)
    lake = open_lake(settings)
    crm = S.write_crm(tmp_path / "crm")
    week = S.typed_week(crm, 1)
    S.write_silver(lake, [week])
    champion = register(settings, *S.train_tiny(week, seed=0))
    shadow = register(
        settings,
        *S.train_tiny(week, rounds=12, depth=4, seed=1),
        alias="challenger",
        stage="shadow",
    )
    leads = json.loads(
        pd.read_csv(crm / "leads" / "leads_week_01.csv").head(40).to_json(orient="records")
    )
    with TestClient(create_app(settings)) as client:
        answers = [client.post("/v1/leads/score", json=lead).json()["leads"][0] for lead in leads]
    assert {(a["model_version"], a["arm"]) for a in answers} == {(champion, "champion")}
    assert all("challenger" not in json.dumps(a) for a in answers)

    log = lake.read_table(tables.PREDICTION_LOG)  # flushed at shutdown
    by_version = {v: rows for v, rows in log.groupby(plog.MODEL_VERSION)}
    assert set(by_version) == {champion, shadow}
    assert len(by_version[shadow]) == len(by_version[champion]) == len(leads)
    assert by_version[champion][plog.SERVED].all() and not by_version[shadow][plog.SERVED].any()
    assert set(by_version[shadow][plog.STAGE]) == {"shadow"}
