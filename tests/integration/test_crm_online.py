"""Online answers reach the CRM sinks too: the service writes each flush of answers to
the lake as a scores file, owes it to the sinks and delivers it off the request path."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.scoring.sinks import ledger
from tests.support import scoring as S
from tests.support.models import register
from tests.support.receiver import receiver

pytestmark = [pytest.mark.integration]


def test_answered_leads_are_delivered_with_the_scores_the_caller_got(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_db
) -> None:
    from app.api.app import create_app

    crm = S.write_crm(tmp_path / "crm")
    week1 = S.typed_week(crm, 1)
    with receiver() as (url, received):
        monkeypatch.setenv("LEADOPS_CRM_WEBHOOK_URL", url)
        get_settings.cache_clear()
        settings = get_settings()
        lake = open_lake(settings)
        S.write_silver(lake, [week1])
        register(settings, *S.train_tiny(week1, seed=0))
        leads = json.loads(
            pd.read_csv(crm / "leads" / "leads_week_02.csv").head(3).to_json(orient="records")
        )
        with TestClient(create_app(settings)) as client:
            answered = client.post("/v1/leads/score", json=leads).json()["leads"]
        # Leaving the client stops the service: its last flush owes and delivers the answers.
        delivered = [s for doc in received.accepted() for s in doc["scores"]]
    assert sorted((s["id"], s["score"], s["tier"]) for s in delivered) == sorted(
        (a["lead_id"], a["score"], a["tier"]) for a in answered
    )
    assert ledger.pending(lake, "webhook") == []
