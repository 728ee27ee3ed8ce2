"""Gold: silver leads left-joined with their outcome, kept up to date run by run.

Gold does not decide labels: whether a lead without an outcome is a negative
depends on the evaluation time, which only training knows (tables.py).

Each ingest run touches only the ids it wrote to silver (the silver rows that
carry its run id), and streams them in batches: memory stays one batch plus
lookups, however big the file or the lake. A lake without gold (a new one, or
gold dropped by hand) gets it built from all of silver the same way. Row order
in gold carries no meaning: readers sort by event time and id.

Leads new to silver are new to gold too (gold holds silver's ids, both written in
one journal transaction): a leads run hands them to a ``GoldStream`` chunk by
chunk, which writes their gold rows to Parquet files beside the write thread's
other writes; ``update_gold`` commits them at the end in one transaction instead
of reading this run's rows back from silver.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from leadops.errors import one_line
from leadops.inputs.contract import Contract
from leadops.storage import table_stream, tables
from leadops.storage.lake import Lake, StorageError
from leadops.storage.table_stream import append_batches

BATCH_ROWS = 50_000
# Arrow's threaded scanner reads ahead of a slower consumer (the Parquet writer):
# 450-650 MB of decoded silver rows queued, even with readahead set to 1. A serial
# scan holds ~70 MB; the whole gold step took 5 s on 6.85M new leads.
SCAN = {"use_threads": False}


def gold_schema(contract: Contract) -> pa.Schema:
    """Typed lead columns, then label and label time (null until an outcome arrives)."""
    leads, outcomes = contract.arrow_schema("leads"), contract.arrow_schema("outcomes")
    lead_fields = [leads.field(name) for name in contract.lead_columns]
    outcome_fields = [outcomes.field(contract.label), outcomes.field(contract.label_time)]
    return pa.schema(lead_fields + outcome_fields)


def update_gold(
    lake: Lake, contract: Contract, kind: str, run_id: str, stream: GoldStream | None = None
) -> int | None:
    """Bring ``gold/leads`` up to date with what run ``run_id`` wrote to silver ``kind``.

    Leads new to gold are appended with their outcome (if one arrived first);
    changed leads replace their gold row; new or changed outcomes update the
    label columns of their lead. Without a gold table, gold is built from all
    of silver; so it is when the contract gained a column gold lacks and silver now
    has (an export brought it: older leads get it empty).

    Args:
        stream: the run's streamed gold rows of leads new to silver, if it kept one.

    Returns:
        The gold table version, or None when there are no silver leads yet.
    """
    if not lake.table_exists(tables.silver("leads")):
        return None
    gold = _Gold(lake, contract)
    if gold.outgrown():
        gold.rebuild()
    elif stream is not None and stream.actions:
        # Gold's ids before this run's leads are added (a snapshot stays at its version).
        known = (
            _Snapshot(lake, tables.GOLD_LEADS, contract.entity_id)
            if lake.table_exists(tables.GOLD_LEADS)
            else None
        )
        stream.commit()
        if stream.rewritten:
            # An id written twice in this run: its streamed row is the first one; every
            # id of the run takes silver's latest content.
            known = _Snapshot(lake, tables.GOLD_LEADS, contract.entity_id)
        if known is not None and (stream.updated or stream.rewritten):
            gold.merge(gold.leads_joined(run_id, keep=known.contains), columns=None)
    elif not lake.table_exists(tables.GOLD_LEADS):
        gold.append(gold.leads_joined(run_id=None, keep=None))
    elif kind == "leads":
        known = _Snapshot(lake, tables.GOLD_LEADS, contract.entity_id)
        # Two passes over this run's silver rows, so neither side is buffered: new ids
        # (usually nearly all) are appended without reading gold; only changed ones merge.
        gold.append(gold.leads_joined(run_id, keep=lambda ids: pc.invert(known.contains(ids))))
        gold.merge(gold.leads_joined(run_id, keep=known.contains), columns=None)
    else:
        gold.merge(gold.outcomes_of(run_id), columns=[contract.label, contract.label_time])
    return lake.table_version(tables.GOLD_LEADS)


class GoldStream:
    """Gold rows of the leads a run adds to silver, written as they are added.

    Only for a leads run on a lake whose gold holds silver's ids (``usable``): a lake
    whose gold was dropped gets it rebuilt from all of silver instead. Files are put
    into gold's folder but referenced only by :meth:`commit`; a file of leads undone
    (:meth:`drop_since`) deletes its own.
    """

    def __init__(self, lake: Lake, contract: Contract) -> None:
        self.lake, self.gold = lake, _Gold(lake, contract)
        self.actions: list[Any] = []
        self.updated = False  # a lead gold held before the run got new content
        self.rewritten = False  # a lead was written twice in the run
        self._spool = tempfile.TemporaryDirectory(prefix="leadops-gold-")
        self._outcomes = (
            _dataset(lake, tables.silver("outcomes"))
            if lake.table_exists(tables.silver("outcomes"))
            else None
        )

    @staticmethod
    def usable(lake: Lake, kind: str, contract: Contract) -> bool:
        if kind != "leads":
            return False
        if not lake.table_exists(tables.GOLD_LEADS):
            return not lake.table_exists(tables.silver("leads"))
        stored = set(lake.table_columns(tables.GOLD_LEADS))
        return set(gold_schema(contract).names) <= stored  # else gold is rebuilt

    def add(self, rows: pa.Table) -> None:
        """Write the gold rows of ``rows`` (silver rows of leads new to silver)."""
        if not rows.num_rows:
            return
        leads = rows.select(self.gold.contract.lead_columns)
        writer = table_stream.FileWriter(Path(self._spool.name), self.gold.schema)
        writer.write(self.gold._with_outcomes(leads, self._outcomes))
        self.actions.append(writer.put(self.lake, tables.GOLD_LEADS))

    def mark(self) -> int:
        return len(self.actions)

    def drop_since(self, mark: int) -> None:
        for action in self.actions[mark:]:
            self.lake.delete(f"tables/{tables.GOLD_LEADS}/{action.path}")
        del self.actions[mark:]

    def commit(self) -> None:
        table_stream.commit(self.lake, tables.GOLD_LEADS, self.gold.schema, self.actions)
        self.actions = []

    def close(self) -> None:
        self._spool.cleanup()


class _Snapshot:
    """One table's ids at its current version, asked batch by batch (nothing held whole)."""

    def __init__(self, lake: Lake, name: str, id_column: str) -> None:
        self.dataset, self.id_column = _dataset(lake, name), id_column

    def contains(self, ids: pa.Array) -> pa.Array:
        found = self.dataset.to_table(columns=[self.id_column], filter=_id_in(self.id_column, ids))
        return pc.is_in(ids, value_set=found[self.id_column].combine_chunks().cast(pa.string()))


class _Gold:
    def __init__(self, lake: Lake, contract: Contract) -> None:
        self.lake, self.contract, self.schema = lake, contract, gold_schema(contract)
        self.id = contract.entity_id

    def leads_joined(self, run_id: str | None, keep: Any) -> Iterator[pa.RecordBatch]:
        """Silver leads written by ``run_id`` (all when None), ``keep`` ones, with their outcome."""
        leads = _dataset(self.lake, tables.silver("leads"))
        written = None if run_id is None else pc.field(tables.RUN_ID).cast(pa.string()) == run_id
        outcomes = (
            _dataset(self.lake, tables.silver("outcomes"))
            if self.lake.table_exists(tables.silver("outcomes"))
            else None
        )
        for batch in leads.to_batches(
            columns=self.contract.lead_columns, filter=written, batch_size=BATCH_ROWS, **SCAN
        ):
            if keep is not None and batch.num_rows:
                batch = batch.filter(keep(batch.column(self.id).cast(pa.string())))
            if batch.num_rows:
                yield self._with_outcomes(pa.Table.from_batches([batch]), outcomes)

    def _with_outcomes(self, leads: pa.Table, outcomes: Any) -> pa.RecordBatch:
        label, label_time = self.contract.label, self.contract.label_time
        ids = leads[self.id].combine_chunks().cast(pa.string())
        if outcomes is None:
            found = self.schema.empty_table().select([self.id, label, label_time])
        else:
            found = outcomes.to_table(
                columns=[self.id, label, label_time], filter=_id_in(self.id, ids)
            )
        position = pc.index_in(ids, value_set=found[self.id].combine_chunks().cast(pa.string()))
        for name in (label, label_time):  # null position: no outcome yet
            leads = leads.append_column(name, found[name].take(position))
        return leads.cast(self.schema).combine_chunks().to_batches()[0]

    def outcomes_of(self, run_id: str) -> Iterator[pa.RecordBatch]:
        columns = [self.id, self.contract.label, self.contract.label_time]
        schema = self.schema_of(columns)
        written = pc.field(tables.RUN_ID).cast(pa.string()) == run_id
        for batch in _dataset(self.lake, tables.silver("outcomes")).to_batches(
            columns=columns, filter=written, batch_size=BATCH_ROWS, **SCAN
        ):
            if batch.num_rows:
                yield pa.Table.from_batches([batch]).cast(schema).to_batches()[0]

    def append(self, batches: Iterator[pa.RecordBatch]) -> None:
        append_batches(self.lake, tables.GOLD_LEADS, self.schema, batches)

    def outgrown(self) -> bool:
        """Gold lacks a column of the contract that silver has (the contract gained it)."""
        if not self.lake.table_exists(tables.GOLD_LEADS):
            return False
        stored = set(self.lake.table_columns(tables.GOLD_LEADS))
        silver = set(self.lake.table_columns(tables.silver("leads")))
        wanted = set(self.contract.lead_columns)
        return not wanted <= stored and wanted <= silver

    def rebuild(self) -> None:
        """Gold again from all of silver, in one commit that replaces the old table."""
        batches = self.leads_joined(run_id=None, keep=None)
        reader = _stream(self.schema, batches) or self.schema.empty_table().to_reader()
        self.lake.overwrite_table(tables.GOLD_LEADS, reader)

    def merge(self, batches: Iterator[pa.RecordBatch], columns: list[str] | None) -> None:
        """Update the gold rows whose id the batches carry (only ``columns``; all when None)."""
        schema = self.schema if columns is None else self.schema_of([self.id, *columns])
        if (stream := _stream(schema, batches)) is None:
            return
        from deltalake import DeltaTable

        on = f'"{self.id}"'
        target = DeltaTable(
            self.lake.table_uri(tables.GOLD_LEADS), storage_options=self.lake.storage_options
        )
        merger = target.merge(
            stream, predicate=f"t.{on} = s.{on}", source_alias="s", target_alias="t"
        )
        try:
            if columns is None:
                merger.when_matched_update_all().execute()
            else:
                merger.when_matched_update({f'"{c}"': f's."{c}"' for c in columns}).execute()
        except Exception as exc:  # deltalake raises several unrelated types
            raise StorageError(
                f"table {tables.GOLD_LEADS}: merge failed ({one_line(exc)})"
            ) from exc

    def schema_of(self, columns: list[str]) -> pa.Schema:
        return pa.schema([self.schema.field(name) for name in columns])


def _stream(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> pa.RecordBatchReader | None:
    """The batches as one stream for a single Delta commit; None when there are none."""
    first = next(batches, None)
    return (
        None if first is None else pa.RecordBatchReader.from_batches(schema, _chain(first, batches))
    )


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _dataset(lake: Lake, name: str) -> Any:
    from deltalake import DeltaTable

    return DeltaTable(
        lake.table_uri(name), storage_options=lake.storage_options
    ).to_pyarrow_dataset()


def _id_in(column: str, ids: pa.Array) -> Any:
    # Cast: after a Delta merge ids may be string_view, which has no kernel against string.
    return pc.field(column).cast(pa.string()).isin(ids)
