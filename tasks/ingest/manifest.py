"""The checksum manifest (``ingest/manifest``): which file content was ingested when.

A file is skipped when a file with the same checksum and kind was accepted
before, whatever its name or location: renaming or re-uploading an export does
not ingest it twice. Failed files are recorded too, for the history, but do not
block a retry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
import pyarrow as pa

from leadops.storage import tables
from leadops.storage.lake import Lake

ACCEPTED, FAILED, SKIPPED = "accepted", "failed", "skipped"
SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("checksum", pa.string()),
        ("size_bytes", pa.int64()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("rows_in", pa.int64()),
        ("silver", pa.int64()),
        ("quarantined", pa.int64()),
        ("duplicates", pa.int64()),
        ("run_id", pa.string()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)


def accepted_checksums(lake: Lake, kind: str) -> dict[str, datetime]:
    """Checksum → first time content with that checksum was accepted for ``kind``."""
    if not lake.table_exists(tables.MANIFEST):
        return {}
    rows = lake.read_table(
        tables.MANIFEST,
        columns=["checksum", "ingested_at"],
        filters=[("kind", "==", kind), ("status", "==", ACCEPTED)],
    )
    if rows.empty:
        return {}
    first = rows.groupby("checksum")["ingested_at"].min()
    return {checksum: when.to_pydatetime() for checksum, when in first.items()}


def record_files(lake: Lake, entries: Iterable[dict]) -> int | None:
    """Append one row per accepted or failed file in a single commit."""
    rows = [{name: entry.get(name) for name in SCHEMA.names} for entry in entries]
    if not rows:
        return None
    table = pa.Table.from_pandas(pd.DataFrame(rows), schema=SCHEMA, preserve_index=False)
    return lake.append_table(tables.MANIFEST, table)
