"""The lake's delivery ledger (``delivery/ledger``): what each sink owes and what it took.

Append-only rows, the newest per (sink, batch, part) wins:

- ``owed``  (part -1): the score run registered the batch for the sink, with its output;
- ``acked`` (part k):  the sink acknowledged part k (a webhook's 2xx);
- ``done``  (part -1): every part of the batch is delivered.

A batch is pending for a sink while its newest batch row is ``owed``. A part acked here
is never sent again; one sent but not acked (the process died between the answer and
this row) is sent again with the same idempotency key.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa

from leadops.storage import tables
from leadops.storage.lake import Lake

OWED, ACKED, DONE = "owed", "acked", "done"
BATCH = -1
SCHEMA = pa.schema(
    [
        ("sink", pa.string()),
        ("batch_id", pa.string()),
        ("part", pa.int64()),
        ("status", pa.string()),
        ("output", pa.string()),
        ("rows", pa.int64()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


def record(lake: Lake, entries: list[dict]) -> None:
    """Append entries (sink, batch_id, part, status, output, rows) in one commit."""
    if not entries:
        return
    now = datetime.now(UTC)
    rows = [{**{n: e.get(n) for n in SCHEMA.names}, "recorded_at": now} for e in entries]
    frame = pd.DataFrame(rows)
    lake.append_table(tables.DELIVERY_LEDGER, pa.Table.from_pandas(frame, schema=SCHEMA))


def owe(lake: Lake, sinks: list[str], batch_id: str, output: str, rows: int) -> None:
    """Register a scored batch for every configured sink."""
    entries = [
        {"sink": s, "batch_id": batch_id, "part": BATCH, "status": OWED, "output": output}
        | {"rows": rows}
        for s in sinks
    ]
    record(lake, entries)


def pending(lake: Lake, sink: str) -> list[tuple[str, str]]:
    """(batch_id, output) the sink still owes, oldest first."""
    newest = _newest(lake, sink)
    batches = newest[newest["part"] == BATCH]
    owed = batches[batches["status"] == OWED].sort_values("recorded_at")
    return list(zip(owed["batch_id"], owed["output"], strict=True))


def acked_parts(lake: Lake, sink: str, batch_id: str) -> set[int]:
    newest = _newest(lake, sink)
    mine = newest[(newest["batch_id"] == batch_id) & (newest["status"] == ACKED)]
    return set(mine["part"].astype(int))


def _newest(lake: Lake, sink: str) -> pd.DataFrame:
    if not lake.table_exists(tables.DELIVERY_LEDGER):
        return pd.DataFrame(columns=SCHEMA.names)
    rows = lake.read_table(tables.DELIVERY_LEDGER, filters=[("sink", "==", sink)])
    rows = rows.sort_values("recorded_at", kind="stable")
    return rows.drop_duplicates(["batch_id", "part"], keep="last")
