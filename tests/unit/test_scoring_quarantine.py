"""Leads ingest quarantined are scored by the "leads not scored yet" run, degraded.

Ingest keeps them out of silver (and training); before, the score run read silver only,
so a lead with one bad value never got a score at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from leadops.logs import prediction_log as plog
from leadops.storage import tables
from tasks.scoring.batch import RunOptions, run_score
from tasks.scoring.scorer import ServingSet
from tests.support.ingest import CONTRACT, lead, write_csv
from tests.support.scoring import serving_model, train_tiny, typed_week, write_crm

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> ServingSet:
    week = typed_week(write_crm(tmp_path_factory.mktemp("crm")), 1)
    return ServingSet(serving_model(*train_tiny(week, seed=0), version="1"))


def _score(lake, serving: ServingSet):
    options = RunOptions(scored_at=AS_OF, reasons_mode="exact")
    return run_score(lake, CONTRACT, serving, options, 1000)


def test_quarantined_leads_are_scored_degraded_once_and_unusable_ones_are_not(
    ingest, lake, champion, tmp_path: Path
) -> None:
    rows = [
        lead("L1"),
        lead("L2", company_size="-5"),  # fails the suite's min: quarantined
        lead("L3", legacy_lead_score="140", page_views="many"),
        lead("L4", created_at="not a date"),  # no usable creation time
        lead("L5", email="not an address"),  # the suite's email format check: scored as sent
    ]
    result = ingest(write_csv(tmp_path / "leads.csv", rows))
    assert result.total("quarantined") == 4
    scored = _score(lake, champion)
    assert (scored.rows, scored.degraded) == (4, 2)
    out = pd.read_parquet(scored.output).set_index("lead_id")
    assert sorted(out.index) == ["L1", "L2", "L3", "L5"]
    assert out["degraded"].to_dict() == {
        "L1": None,
        "L2": "company_size",
        "L3": "page_views, legacy_lead_score",
        "L5": None,
    }
    log = lake.read_table(tables.PREDICTION_LOG).set_index(plog.ENTITY_ID)
    assert log.loc["L3", plog.DEGRADED] == "page_views, legacy_lead_score"
    # Scored once: the next run finds nothing new, quarantined leads included.
    assert _score(lake, champion).skipped is not None


def test_a_quarantined_lead_that_reached_silver_is_scored_from_silver(
    ingest, lake, champion, tmp_path: Path
) -> None:
    ingest(write_csv(tmp_path / "bad.csv", [lead("L7", company_size="-5")]))
    ingest(write_csv(tmp_path / "fixed.csv", [lead("L7", company_size="60")]))
    scored = _score(lake, champion)
    out = pd.read_parquet(scored.output)
    assert out["lead_id"].tolist() == ["L7"] and out["degraded"].isna().all()


def test_a_quarantined_row_without_an_id_does_not_break_the_next_run(
    ingest, lake, champion, tmp_path: Path
) -> None:
    # Once every other quarantined lead has a served score, the only ids left to look
    # up in silver are missing ones: the lookup must not build a null-typed id list.
    ingest(write_csv(tmp_path / "leads.csv", [lead("L0"), lead("L1", company_size="-5"), lead("")]))
    assert _score(lake, champion).rows == 2
    assert _score(lake, champion).skipped is not None
