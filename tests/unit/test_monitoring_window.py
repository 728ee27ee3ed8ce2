"""What the monitor reads: a scored batch whose leads silver does not hold is one clear line."""

from __future__ import annotations

import pandas as pd
import pytest

from app.demo import synthetic
from leadops.inputs.contract import load_contract
from leadops.logs import prediction_log as plog
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage.local import LocalLake
from leadops.storage.tables import silver
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


def test_the_window_counts_the_leads_served_a_degraded_score(tmp_path) -> None:
    from datetime import UTC, datetime

    import numpy as np
    import pyarrow as pa

    from tasks.monitoring.publish import monitor_line
    from tasks.monitoring.window import degraded_leads, served_window

    lake = LocalLake(tmp_path / "lake")
    now = datetime(2026, 2, 1, tzinfo=UTC)
    context = plog.LogContext("b1", now, "m")
    ids = pa.array([f"L{i}" for i in range(4)])
    times = pa.array([now] * 4, pa.timestamp("us", "UTC"))
    degraded = pa.array([None, "company_size", None, "lead_source, page_views"], pa.string())
    arms = np.array(["champion"] * 4, dtype=object)
    served = np.ones(4, dtype=bool)
    rows = plog.log_rows(
        context, ids, times, "1", "champion", "production", arms, served, np.full(4, 0.3), degraded
    )
    plog.append_log(lake, rows)
    window, _ = served_window(lake, now, None, min_rows=1)
    assert degraded_leads(window) == 2
    line = monitor_line(
        {
            "model_version": "1",
            "window": "batch b1",
            "psi": {},
            "conversion": {"note": "no matured cohort yet"},
            "report": "file:///r.html",
            "rows": {"degraded": 2},
        }
    )
    assert "2 leads degraded (failing features scored as unknown)" in line
