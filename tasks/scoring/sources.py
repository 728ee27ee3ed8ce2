"""The leads a score run reads: unscored silver leads, or a batch file typed like silver.

Both hand out the batch as Arrow tables of at most ``chunk_rows`` leads, and can
do so more than once (a run reads the batch twice: once to rank it, once to
score it), so memory depends on the chunk size, not on the batch size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from leadops.errors import LeadOpsError
from leadops.inputs.contract import Contract
from leadops.storage import tables
from leadops.storage.lake import Lake

log = logging.getLogger(__name__)


class BatchError(LeadOpsError):
    """A batch that cannot be scored; the message names the batch and the columns."""


# A stored column may hold another width of its role's type (an int column where the
# contract types float64, a large_string): same family, read as is.
_FAMILIES = (
    (pa.types.is_floating, (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)),
    (pa.types.is_string, (pa.types.is_string, pa.types.is_large_string)),
    (pa.types.is_list, (pa.types.is_list, pa.types.is_large_list)),
    (pa.types.is_timestamp, (pa.types.is_timestamp,)),
    (pa.types.is_boolean, (pa.types.is_boolean,)),
)


def _fits(stored: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a stored column can stand for the contract's type ``expected``."""
    return pa.types.is_null(stored) or any(
        any(check(stored) for check in accepted)
        for is_family, accepted in _FAMILIES
        if is_family(expected)
    )


def schema_problems(schema: pa.Schema, contract: Contract) -> list[str]:
    """Contract lead columns the schema lacks or holds with the wrong type."""
    roles, expected = contract.roles("leads"), contract.arrow_schema("leads")
    missing = [name for name in roles if name not in schema.names]
    wrong = [
        f"{name} ({schema.field(name).type}, expected {role})"
        for name, role in roles.items()
        if name in schema.names and not _fits(schema.field(name).type, expected.field(name).type)
    ]
    problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
    return problems + ([f"wrong type(s) {', '.join(wrong)}"] if wrong else [])


def rechunk(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Regroup record batches of any size into tables of ``rows`` (the last may be shorter)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = batch.slice(0, rows - count)
            pending.append(take)
            count += take.num_rows
            batch = batch.slice(take.num_rows)
            if count == rows:
                yield pa.Table.from_batches(pending)
                pending, count = [], 0
    if count:
        yield pa.Table.from_batches(pending)


@dataclass(frozen=True)
class SilverBatch:
    """Silver leads created by ``as_of`` that have no served score yet, at one table version,
    then the quarantined leads not in silver (``tasks.scoring.quarantine``), degraded."""

    lake: Lake
    contract: Contract
    version: int
    as_of: datetime
    exclude: pa.Array
    chunk_rows: int
    quarantine_version: int | None = None  # None: no quarantine table yet

    @property
    def batch_id(self) -> str:
        return f"{self.as_of:%Y%m%dT%H%M%SZ}-silver-v{self.version}"

    def chunks(self) -> Iterator[pa.Table]:
        from deltalake import DeltaTable

        delta = DeltaTable(
            self.lake.table_uri(tables.silver("leads")),
            version=self.version,
            storage_options=self.lake.storage_options,
        )
        dataset = delta.to_pyarrow_dataset()
        problems = schema_problems(dataset.schema, self.contract)
        if problems:
            raise BatchError(f"table {tables.silver('leads')}: " + "; ".join(problems))
        expression = pc.field(self.contract.event_time) <= pa.scalar(
            self.as_of, pa.timestamp("us", "UTC")
        )
        if len(self.exclude):
            expression = expression & ~pc.field(self.contract.entity_id).isin(self.exclude)
        # Read-ahead kept to one file and two batches: pyarrow's defaults (4 files,
        # 16 batches) would hold far more than a chunk as the table grows.
        scanner = dataset.scanner(
            columns=self.contract.lead_columns,
            filter=expression,
            batch_size=self.chunk_rows,
            batch_readahead=2,
            fragment_readahead=1,
        )
        yield from rechunk(scanner.to_batches(), self.chunk_rows)
        if self.quarantine_version is not None:
            yield from self._quarantined(dataset)

    def _quarantined(self, silver: Any) -> Iterator[pa.Table]:
        from tasks.scoring.quarantine import quarantined_leads

        def in_silver(ids: list[str]) -> set[str]:
            # Only the quarantined ids are looked up: silver may hold millions.
            if not ids:
                return set()
            column = pc.field(self.contract.entity_id)
            # Typed like silver's id: a list of one missing id would otherwise be null-typed.
            wanted = pa.array(ids, silver.schema.field(self.contract.entity_id).type)
            found = silver.to_table(columns=[self.contract.entity_id], filter=column.isin(wanted))
            return set(found.column(0).to_pylist())

        leads = quarantined_leads(
            self.lake,
            self.contract,
            self.quarantine_version,
            self.as_of,
            self.exclude,
            in_silver,
        )
        yield from rechunk(leads.to_batches(), self.chunk_rows)


@dataclass(frozen=True)
class FileBatch:
    """A batch file's leads, typed like silver (last row wins per id), minus already-scored ids."""

    name: str
    checksum: str
    table: pa.Table
    chunk_rows: int
    exclude: pa.Array | None = None
    # Unscorable rows (no usable id or creation time) as received, with _row and
    # _rejected_because; None: none.
    rejected: pa.Table | None = None

    @property
    def batch_id(self) -> str:
        # Content-addressed: the same file is the same batch, so a rerun logs nothing twice.
        stem = data_stem(self.name).replace(" ", "_")[:40]
        return f"{stem}-{self.checksum[:12]}"

    def chunks(self) -> Iterator[pa.Table]:
        table = self.table
        if self.exclude is not None and len(self.exclude):
            id_column = table.schema.names[0]
            table = table.filter(
                pc.invert(pc.is_in(table.column(id_column), value_set=self.exclude))
            )
        yield from rechunk(table.to_batches(), self.chunk_rows)


def data_stem(name: str) -> str:
    """ "new-leads.csv.gz" -> "new-leads": the name without its format and compression."""
    from leadops.inputs.sources import FORMATS, GZIP

    stem = name.removesuffix(GZIP)
    path = PurePosixPath(stem)
    return path.stem if path.suffix.lower() in FORMATS else stem
