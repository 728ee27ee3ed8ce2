"""A lake with served scores for the model-page tests (no tests here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from leadops.inputs.contract import load_contract
from leadops.logs import quarantine_log
from leadops.storage.local import open_lake
from leadops.storage.tables import silver
from tests.support.rollout import leads, log_scores, write_outcomes

WEEK0 = datetime(2026, 3, 2, tzinfo=UTC)
# One ingest run of 1,000 rows: 5 quarantined, 3 of them for company_size's range check.
QUARANTINED_FILE = {
    "rows_in": 1000,
    "quarantined": 5,
    "failed_expectations": {"company_size:range": 3, "email:format": 2},
}


def scored_lake(settings) -> tuple[object, object]:
    """Two weekly batches: one whose outcomes matured by the as-of time, one still maturing."""
    lake, contract = open_lake(settings), load_contract(settings.contract_path)
    frames = []
    for week, seed in ((0, 1), (3, 2)):
        frame = leads(600, WEEK0 + timedelta(weeks=week), seed=seed)
        frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True)
        scores = 1 / (1 + np.exp(-(1.5 * frame["propensity"] - 1.7)))
        log_scores(lake, frame, WEEK0 + timedelta(weeks=week + 1), "1", None, scores, None)
        write_outcomes(lake, contract, frame)
        frames.append(frame)
    both = pd.concat(frames)
    lake.overwrite_table(
        silver("leads"),
        pd.DataFrame(
            {contract.entity_id: both["id"].astype(str), contract.event_time: both["event_time"]}
        ),
    )
    rows = QUARANTINED_FILE
    quarantine_log.record_run(
        lake,
        quarantine_log.run_rows(
            "week0",
            "leads",
            WEEK0,
            rows["rows_in"],
            rows["quarantined"],
            rows["failed_expectations"],
        ),
    )
    return lake, contract
