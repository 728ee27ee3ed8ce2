"""The quarantine log: per ingest run, how many rows each check sent to quarantine.

Ingest writes it (one row per run and check, plus one ``ANY_CHECK`` row per run with
rows, so a clean run is on record too); the monitor and ``leadops status`` read it. It
is in the core because two stages share it: the table name and schema live here once.

A row can fail several checks, so per-check shares of one run may add up to more than
the run's ``ANY_CHECK`` share.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd
import pyarrow as pa

from leadops.storage import tables
from leadops.storage.lake import Lake

ANY_CHECK = "(any check)"
RUN_ID, KIND, INGESTED_AT, ROWS_IN, CHECK, QUARANTINED = (
    "run_id",
    "kind",
    "ingested_at",
    "rows_in",
    "check",
    "quarantined",
)
SCHEMA = pa.schema(
    [
        pa.field(RUN_ID, pa.string()),
        pa.field(KIND, pa.string()),
        pa.field(INGESTED_AT, pa.timestamp("us", tz="UTC")),
        pa.field(ROWS_IN, pa.int64()),
        pa.field(CHECK, pa.string()),
        pa.field(QUARANTINED, pa.int64()),
    ]
)


def run_rows(
    run_id: str,
    kind: str,
    ingested_at: datetime,
    rows_in: int,
    quarantined: int,
    by_check: Mapping[str, int],
) -> pa.Table:
    """The log rows of one run: its total, then each check that quarantined a row."""
    checks = {ANY_CHECK: quarantined, **{c: n for c, n in by_check.items() if n}}
    n = len(checks)
    return pa.table(
        {
            RUN_ID: [run_id] * n,
            KIND: [kind] * n,
            INGESTED_AT: [pd.Timestamp(ingested_at)] * n,
            ROWS_IN: [rows_in] * n,
            CHECK: list(checks),
            QUARANTINED: list(checks.values()),
        },
        schema=SCHEMA,
    )


def record_run(lake: Lake, rows: pa.Table) -> None:
    """Append one run's rows (a run with no rows in leaves nothing: no share to state)."""
    if rows.num_rows and rows.column(ROWS_IN)[0].as_py() > 0:
        lake.append_table(tables.QUARANTINE_LOG, rows)


def read_log(lake: Lake, kind: str = "leads") -> pd.DataFrame:
    """Every logged run of ``kind``, oldest first (an empty frame before the first run)."""
    frame = lake.read_table(tables.QUARANTINE_LOG, filters=[(KIND, "==", kind)])
    if frame.empty:
        return pd.DataFrame(columns=SCHEMA.names)
    return frame.sort_values([INGESTED_AT, RUN_ID], kind="stable").reset_index(drop=True)
