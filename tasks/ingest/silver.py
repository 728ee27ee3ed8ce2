"""Silver: typed rows, one per entity id, latest wins, written by Delta append or merge.

Counting rule (the accounting every run checks): a valid row either adds to
silver (a new id, or new content for a known id) or is a duplicate (an earlier
row of the same run for that id, or identical to what silver already holds).
A content hash stored with each row makes "identical" a cheap comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from leadops import tables
from leadops.contract import Contract
from leadops.errors import one_line
from leadops.storage import Lake, StorageError
from tasks.ingest.bronze import RowStamp

CONTENT_HASH = "_content_hash"
LINEAGE = [
    (tables.SOURCE_FILE, pa.string()),
    (tables.ROW_NUMBER, pa.int64()),
    (tables.INGESTED_AT, pa.timestamp("us", tz="UTC")),
    (tables.RUN_ID, pa.string()),
]


def silver_schema(contract: Contract, kind: str) -> pa.Schema:
    """Contract columns typed by role, then the content hash and lineage columns."""
    typed = contract.arrow_schema(kind)
    return pa.schema([*typed, pa.field(CONTENT_HASH, pa.int64()), *LINEAGE])


def content_hash(typed: pd.DataFrame, roles: dict[str, str]) -> pd.Series:
    """A stable 64-bit hash per row of the contract columns (as int64: Delta has no uint64)."""
    hashable = typed[list(roles)].copy()
    for name, role in roles.items():
        if role == "multi_valued":
            # Lists are unhashable; the unit separator cannot occur in CSV text.
            hashable[name] = typed[name].map(lambda v: "\x1f".join(v), na_action="ignore")
    values = pd.util.hash_pandas_object(hashable, index=False).to_numpy()
    return pd.Series(values.view("int64"), index=typed.index)


def silver_table(
    typed: pd.DataFrame, schema: pa.Schema, roles: dict[str, str], stamp: RowStamp
) -> pa.Table:
    """Valid typed rows (indexed by row number) as an Arrow table in ``schema`` (silver's)."""
    frame = typed[list(roles)].assign(
        **{
            CONTENT_HASH: content_hash(typed, roles),
            tables.SOURCE_FILE: stamp.source_file,
            tables.ROW_NUMBER: typed.index.to_numpy(dtype="int64"),
            tables.INGESTED_AT: pd.Timestamp(stamp.ingested_at),
            tables.RUN_ID: stamp.run_id,
        }
    )
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


@dataclass
class SilverWriter:
    """Upserts one kind's silver table chunk by chunk and counts what each row did.

    What this run wrote earlier is read back from silver (rows carrying its run id),
    not remembered: memory stays one chunk however many rows a file has, and a file
    undone after a failure is forgotten with its rows.
    """

    lake: Lake
    name: str
    id_column: str
    run_id: str
    rows_written: int = 0

    def upsert(self, rows: pa.Table) -> tuple[int, int, int]:
        """Write valid rows; returns (added to silver, duplicates, updated).

        ``updated``: of those added, the rows that replaced another run's row for the same
        id (new content for a known lead; the rest are new leads).
        """
        frame = rows.select([self.id_column, CONTENT_HASH]).to_pandas()
        last = ~frame[self.id_column].duplicated(keep="last")
        duplicates = int((~last).sum())
        frame = frame[last]
        stored = (
            self._stored(frame[self.id_column]).reindex(frame[self.id_column]).set_axis(frame.index)
        )
        prior = stored[CONTENT_HASH]
        changed = ~prior.eq(frame[CONTENT_HASH]).fillna(False).to_numpy(dtype=bool)
        earlier_in_run = stored[tables.RUN_ID].eq(self.run_id).to_numpy(dtype=bool)
        # An id already written by this run: the earlier row becomes the duplicate
        # and this one takes its silver slot, so the silver count stays put.
        added = int((changed & ~earlier_in_run).sum())
        updated = int((changed & ~earlier_in_run & prior.notna().to_numpy(dtype=bool)).sum())
        duplicates += len(frame) - added
        if changed.any():
            positions = frame.index[changed]
            self._write(rows.take(pa.array(positions)), updates=bool(prior[changed].notna().any()))
            self.rows_written += int(changed.sum())
        return added, duplicates, updated

    def _stored(self, ids: pd.Series) -> pd.DataFrame:
        """Content hash and writing run of the stored rows for ``ids`` (indexed by id).

        The hash is nullable Int64: an id not stored yet would otherwise turn the
        column into float64, which rounds 64-bit hashes.
        """
        columns = [self.id_column, CONTENT_HASH, tables.RUN_ID]
        stored = pd.DataFrame(columns=columns)
        if not ids.empty and self.lake.table_exists(self.name):
            stored = self.lake.read_table(
                self.name, columns=columns, filters=[(self.id_column, "in", list(ids))]
            )
        return stored.astype({CONTENT_HASH: "Int64"}).set_index(self.id_column)

    def _write(self, rows: pa.Table, updates: bool) -> None:
        if not updates or not self.lake.table_exists(self.name):
            self.lake.append_table(self.name, rows)  # new ids only: a plain append is cheaper
            return
        from deltalake import DeltaTable

        column = f'"{self.id_column}"'
        table = DeltaTable(
            self.lake.table_uri(self.name), storage_options=self.lake.storage_options
        )
        try:
            (
                table.merge(
                    rows, predicate=f"t.{column} = s.{column}", source_alias="s", target_alias="t"
                )
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
        except Exception as exc:  # deltalake raises several unrelated types
            raise StorageError(f"table {self.name}: merge failed ({one_line(exc)})") from exc
