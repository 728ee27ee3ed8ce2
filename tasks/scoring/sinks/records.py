"""A scored batch as the records sinks deliver, in parts that are the same on every try.

Rows are sorted by lead id and cut every ``part_rows``: part k of a batch is always the
same leads, so "part k was delivered" means the same thing to a run killed half-way and
to the run that resumes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from leadops.errors import LeadOpsError, one_line
from leadops.inputs.contract import Contract
from tasks.scoring.table import (
    EXPECTED_VALUE,
    MODEL_VERSION,
    PREDICTED_VALUE,
    REASONS,
    SCORE,
    SCORED_AT,
    TIER,
    VALUE_MODEL_VERSION,
    VALUE_TIER,
)

REASON_SEPARATOR = " | "
# Written back beside the score when a deal-value champion sized the batch (the file has
# them); a batch without one sends none of them.
VALUE_FIELDS = {
    EXPECTED_VALUE: pa.float64(),
    PREDICTED_VALUE: pa.float64(),
    VALUE_TIER: pa.string(),
    VALUE_MODEL_VERSION: pa.string(),
}


@dataclass(frozen=True)
class Part:
    batch_id: str
    number: int  # 0-based
    rows: pa.Table  # id, score, tier, reasons, model_version, scored_at (+ VALUE_FIELDS)

    @property
    def key(self) -> str:
        """The part's idempotency key (webhook header, CRM ledger)."""
        return f"{self.batch_id}:{self.number}"


def read_scores(output: str, contract: Contract, endpoint_url: str | None = None) -> pa.Table:
    """A batch's scores file (Parquet or CSV, a file or a folder of parts, local or s3://)
    as delivery records sorted by id.

    Raises:
        LeadOpsError: the scores are gone or unreadable (one line naming them).
    """
    import pyarrow.dataset as ds

    fmt = "csv" if output.rstrip("/").endswith(".csv") else "parquet"
    try:
        filesystem = None
        if output.startswith("s3://"):
            from pyarrow import fs

            filesystem = fs.S3FileSystem(endpoint_override=endpoint_url)
            output = output.removeprefix("s3://")
        table = ds.dataset(output, format=fmt, filesystem=filesystem).to_table()
    except (OSError, ValueError) as exc:
        raise LeadOpsError(f"scores {output}: cannot be read ({one_line(exc)})") from exc
    return _records(table, contract)


def _records(table: pa.Table, contract: Contract) -> pa.Table:
    reasons = [
        table.column(name).cast(pa.string()) for name in REASONS if name in table.schema.names
    ]
    joined = _joined(reasons, table.num_rows)
    records = pa.table(
        {
            "id": table.column(contract.entity_id).cast(pa.string()),
            "score": table.column(SCORE).cast(pa.float64()),
            "tier": table.column(TIER).cast(pa.string()),
            "reasons": joined,
            "model_version": table.column(MODEL_VERSION).cast(pa.string()),
            "scored_at": table.column(SCORED_AT).cast(pa.timestamp("us", tz="UTC")),
        }
    )
    if EXPECTED_VALUE in table.schema.names:
        for name, type_ in VALUE_FIELDS.items():
            records = records.append_column(name, table.column(name).cast(type_))
    return records.sort_by([("id", "ascending"), ("model_version", "ascending")])


def _joined(reasons: list, rows: int) -> pa.Array:
    if not reasons:
        return pa.nulls(rows, pa.string())
    # A missing reason (fewer than three features moved the score) leaves no empty slot.
    parts = [pc.fill_null(column, "") for column in reasons]
    joined = pc.binary_join_element_wise(*parts, REASON_SEPARATOR)
    return pc.utf8_trim(pc.replace_substring_regex(joined, r"( \| )+$", ""), " ")


def parts(batch_id: str, records: pa.Table, part_rows: int) -> Iterator[Part]:
    for number, start in enumerate(range(0, max(records.num_rows, 1), part_rows)):
        if records.num_rows:
            yield Part(batch_id, number, records.slice(start, part_rows))
