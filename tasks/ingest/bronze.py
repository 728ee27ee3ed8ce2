"""Bronze and quarantine rows: values exactly as received, plus where they came from.

Both keep every column the file had, unknown ones included, as strings; Delta's
schema merge adds a column the first time a file brings it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa

from leadops.inputs.readers import text_array
from leadops.storage import tables


@dataclass(frozen=True)
class RowStamp:
    """Lineage written on every row of one file in one run."""

    source_file: str
    checksum: str
    run_id: str
    ingested_at: datetime


def bronze_table(raw: pd.DataFrame, stamp: RowStamp) -> pa.Table:
    """A raw chunk (indexed by row number) as a bronze Arrow table."""
    columns = _as_received(raw)
    columns.update(_lineage(raw.index, stamp))
    return pa.table(columns)


def quarantine_table(raw: pd.DataFrame, failures: pd.Series, stamp: RowStamp) -> pa.Table:
    """Rejected rows as received, each with the expectations it failed.

    Args:
        raw: the whole raw chunk.
        failures: failed expectation names per rejected row (index ⊆ raw.index).
    """
    rejected = raw.loc[failures.index]
    columns = _as_received(rejected)
    columns.update(_lineage(rejected.index, stamp))
    columns[tables.FAILED_EXPECTATIONS] = pa.array(list(failures), type=pa.list_(pa.string()))
    return pa.table(columns)


def _as_received(raw: pd.DataFrame) -> dict[str, pa.Array]:
    # An explicit string type: a column that is empty in this chunk would otherwise
    # become Arrow's null type, which Delta cannot merge with the strings of the next.
    return {name: text_array(raw[name]) for name in raw.columns}


def _lineage(index: pd.Index, stamp: RowStamp) -> dict[str, pa.Array]:
    n = len(index)
    return {
        tables.SOURCE_FILE: pa.repeat(pa.scalar(stamp.source_file, pa.string()), n),
        tables.ROW_NUMBER: pa.array(index.to_numpy(dtype="int64"), type=pa.int64()),
        tables.INGESTED_AT: pa.repeat(
            pa.scalar(stamp.ingested_at, pa.timestamp("us", tz="UTC")), n
        ),
        tables.FILE_CHECKSUM: pa.repeat(pa.scalar(stamp.checksum, pa.string()), n),
        tables.RUN_ID: pa.repeat(pa.scalar(stamp.run_id, pa.string()), n),
    }
