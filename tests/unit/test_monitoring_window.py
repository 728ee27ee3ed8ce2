"""What the monitor reads: a scored batch whose leads silver does not hold is one clear line."""

from __future__ import annotations

import pandas as pd
import pytest

from leadops import prediction_log as plog
from leadops.app import synthetic
from leadops.contract import load_contract
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage import LocalLake
from leadops.tables import silver
from tasks.monitoring.window import NothingScoredError, with_features
from tests.support.gold import typed_leads

CONTRACT = load_contract(BUNDLED_CONTRACT)


def _log_rows(ids: list[str], events: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            plog.ENTITY_ID: ids,
            plog.EVENT_TIME: list(events),
            plog.BATCH_ID: "file-batch",
            plog.SCORE: 0.5,
            plog.MODEL_VERSION: "1",
        }
    )


def test_a_scored_file_that_was_never_ingested_is_one_line_naming_the_batch(tmp_path) -> None:
    leads = typed_leads(
        synthetic.generate(synthetic.GeneratorConfig(weeks=1, leads_per_week=20))[0], CONTRACT
    )
    lake = LocalLake(tmp_path / "lake")
    lake.append_table(silver("leads"), leads)
    ingested = with_features(
        _log_rows(list(leads[CONTRACT.entity_id][:5]), leads[CONTRACT.event_time][:5]),
        lake,
        CONTRACT,
    )
    assert len(ingested) == 5 and "score" in ingested.columns
    foreign = _log_rows(["X1", "X2"], leads[CONTRACT.event_time][:2])
    with pytest.raises(
        NothingScoredError,
        match=r"^file-batch: none of its 2 scored leads has features in silver/leads or "
        r"scored/file_leads .*`leadops ingest`",
    ):
        with_features(foreign, lake, CONTRACT)
