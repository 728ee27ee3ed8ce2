"""The score flow hands every scored batch to the configured CRM sinks (here a webhook on
loopback); with ``deliver=False`` the batch stays owed for ``leadops deliver``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.scoring.sinks import ledger
from tests.support.models import register
from tests.support.receiver import receiver
from tests.support.scoring import train_tiny, typed_week, write_crm, write_silver

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def week1_and_model(tmp_path_factory: pytest.TempPathFactory):
    week1 = typed_week(write_crm(tmp_path_factory.mktemp("crm")), 1)
    return week1, train_tiny(week1, rounds=10, seed=0)


@pytest.mark.parametrize("send", [True, False])
def test_a_score_run_delivers_its_scores_or_leaves_them_owed(
    home, monkeypatch: pytest.MonkeyPatch, week1_and_model, send: bool
) -> None:
    from flows.score import score

    week1, champion = week1_and_model
    with receiver() as (url, received):
        monkeypatch.setenv("LEADOPS_CRM_WEBHOOK_URL", url)
        get_settings.cache_clear()
        settings = get_settings()
        lake = open_lake(settings)
        write_silver(lake, [week1])
        version = register(settings, *champion)
        result = score(as_of=AS_OF, deliver=send)
        delivered = [s for doc in received.accepted() for s in doc["scores"]]
    owed = [batch for batch, _ in ledger.pending(lake, "webhook")]
    if send:
        assert len(delivered) == week1.num_rows == result.rows
        assert {s["model_version"] for s in delivered} == {version} and owed == []
    else:
        assert delivered == [] and owed == [result.batch_id]
