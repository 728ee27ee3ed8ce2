"""Replaying the quarantine: rows rejected by a contract since widened go to silver and gold.

Every quarantined row (as received) is typed and validated again with the current
contract and suite. A row that now passes leaves the quarantine and goes to silver,
unless silver already holds its lead from an export ingested at the same time or later
(the later row wins, as in ingest); of several passing rows of one lead, the latest
goes. Rows that still fail stay, with the checks they fail now; malformed lines stay as
they are. A second replay finds only rows that still fail: it adds nothing.

Accounting, checked: rows read = to silver + already in silver + still quarantined.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from leadops.inputs.contract import Contract
from leadops.inputs.normalise import parse_frame
from leadops.storage import tables
from leadops.storage.journal import lake_transaction
from leadops.storage.lake import Lake
from tasks.ingest import outcome_dates
from tasks.ingest.bronze import RowStamp
from tasks.ingest.conform import conform_tables
from tasks.ingest.gold import update_gold
from tasks.ingest.loader import RAW_LINE
from tasks.ingest.results import AccountingError
from tasks.ingest.silver import SilverWriter, silver_schema, silver_table
from tasks.ingest.validation import SuiteValidator
from tasks.ingest.writes import WriteQueue


@dataclass
class ReplayResult:
    """What one replay did with every row it read from the quarantine."""

    run_id: str
    kind: str
    read: int = 0
    to_silver: int = 0
    updated: int = 0  # of to_silver: replaced an older row of the same lead
    already_in_silver: int = 0
    still_quarantined: int = 0
    still_failing: Counter[str] = field(default_factory=Counter)
    report: str = ""

    def check_accounting(self) -> None:
        if self.read != self.to_silver + self.already_in_silver + self.still_quarantined:
            raise AccountingError(f"replay {self.run_id}: counts do not add up {asdict(self)}")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "still_failing": dict(self.still_failing.most_common())}

    def line(self) -> str:
        top = "; ".join(f"{c} ({n})" for c, n in self.still_failing.most_common(3))
        return (
            f"replayed {self.read:,} quarantined {self.kind}: {self.to_silver:,} to silver "
            f"({self.updated:,} updated), {self.already_in_silver:,} already in silver, "
            f"{self.still_quarantined:,} still quarantined" + (f" ({top})" if top else "")
        )


def replay_quarantine(
    lake: Lake, contract: Contract, suite: dict, kind: str = "leads", as_of: datetime | None = None
) -> ReplayResult:
    """Re-validate ``kind``'s quarantine against ``contract`` / ``suite`` (module docstring)."""
    result = ReplayResult(uuid.uuid4().hex, kind)
    as_of = as_of or datetime.now(UTC)
    written = [tables.silver(kind), tables.quarantine(kind), tables.GOLD_LEADS]
    with lake_transaction(lake, "ingest", written):
        held = _quarantined(lake, kind)
        result.read = held.num_rows
        if result.read:
            _replay(lake, contract, suite, kind, as_of, held, result)
        result.check_accounting()
    key = f"{tables.INGEST_REPORTS}/{result.run_id}-replay.json"
    result.report = lake.uri(key).removeprefix("file://")  # a path people can open
    lake.write_bytes(key, json.dumps(result.as_dict(), indent=2).encode())
    return result


def _replay(
    lake: Lake,
    contract: Contract,
    suite: dict,
    kind: str,
    as_of: datetime,
    held: pa.Table,
    result: ReplayResult,
) -> None:
    """Validate the held rows again; move the passing ones, keep the rest (in the transaction)."""
    frame = held.to_pandas()  # positions 0..n-1: the index that maps failures back to rows
    lines = (
        frame[RAW_LINE].notna()
        if RAW_LINE in frame.columns
        else pd.Series(False, index=frame.index)
    )
    roles = contract.roles(kind)
    raw = frame.loc[~lines, [c for c in roles if c in frame.columns]]
    typed = parse_frame(raw, roles, **contract.parse_options(kind), arrow_strings=True)
    failures = SuiteValidator(suite, as_of).row_failures(typed)
    if kind == "outcomes":
        early = outcome_dates.dated_before_creation(lake, contract, typed)
        name = outcome_dates.before_creation_name(contract)
        failures = outcome_dates.with_failures(failures, early, name, typed.index)
    passing = typed.index.difference(failures.index)
    result.still_quarantined = result.read - len(passing)
    result.still_failing.update(n for names in failures for n in names)
    malformed = frame.loc[lines, tables.FAILED_EXPECTATIONS]
    result.still_failing.update(n for names in malformed for n in names)
    if len(passing):
        conform_tables(lake, contract, kind)
        _to_silver(lake, contract, kind, typed.loc[passing], frame, result)
        _keep_failing(lake, kind, held, failures, lines.to_numpy())
        update_gold(lake, contract, kind, result.run_id)


def _quarantined(lake: Lake, kind: str) -> pa.Table:
    if not lake.table_exists(tables.quarantine(kind)):
        return pa.table({tables.FAILED_EXPECTATIONS: pa.array([], pa.list_(pa.string()))})
    from deltalake import DeltaTable

    name = tables.quarantine(kind)
    return DeltaTable(lake.table_uri(name), storage_options=lake.storage_options).to_pyarrow_table()


def _to_silver(
    lake: Lake,
    contract: Contract,
    kind: str,
    typed: pd.DataFrame,
    frame: pd.DataFrame,
    result: ReplayResult,
) -> None:
    """Upsert the passing rows, latest per lead, skipping leads silver has from later."""
    keys = [tables.SOURCE_FILE, tables.ROW_NUMBER, tables.INGESTED_AT]
    lineage = frame.loc[typed.index, keys].sort_values([tables.INGESTED_AT, tables.ROW_NUMBER])
    typed = typed.loc[lineage.index]
    ids = typed[contract.entity_id].astype(str)
    name, id_column = tables.silver(kind), contract.entity_id
    stored = lake.read_table(
        name, columns=[id_column, tables.INGESTED_AT], filters=[(id_column, "in", ids.unique())]
    )
    # Silver's row of the same lead, when it was received; NaT for a lead silver lacks.
    seen = pd.to_datetime(ids.map(stored.set_index(id_column)[tables.INGESTED_AT]), utc=True)
    later = (seen >= lineage[tables.INGESTED_AT]).to_numpy(dtype=bool)
    result.already_in_silver += int(later.sum())
    typed, lineage = typed[~later].reset_index(drop=True), lineage[~later]
    stamp = RowStamp("", "", result.run_id, datetime.now(UTC))
    rows = silver_table(typed, silver_schema(contract, kind), contract.roles(kind), stamp)
    for key in keys:  # each row keeps where and when it was received
        at = rows.schema.get_field_index(key)
        values = pa.array(lineage[key].to_numpy(), type=rows.schema.field(key).type)
        rows = rows.set_column(at, rows.schema.field(key), values)
    writer = SilverWriter(lake, name, id_column, result.run_id, WriteQueue())
    added, duplicates, updated = writer.upsert(rows)
    writer.writes.wait()
    writer.writes.close()
    result.to_silver, result.updated = added, updated
    result.already_in_silver += duplicates


def _keep_failing(
    lake: Lake, kind: str, held: pa.Table, failures: pd.Series, lines: np.ndarray
) -> None:
    """Rewrite the quarantine with the rows that still fail, each with today's failures."""
    now = dict(zip(failures.index, failures, strict=True))
    keep = sorted(set(np.flatnonzero(lines)) | set(now))
    remaining = held.take(pa.array(keep, pa.int64()))
    column = held.schema.get_field_index(tables.FAILED_EXPECTATIONS)
    before = remaining.column(column).to_pylist()
    failed = [list(now[p]) if p in now else old for p, old in zip(keep, before, strict=True)]
    kind_of = held.schema.field(column)
    remaining = remaining.set_column(column, kind_of, pa.array(failed, type=kind_of.type))
    lake.overwrite_table(tables.quarantine(kind), remaining)


def replay_configured(settings: Any, kind: str, as_of: datetime | None = None) -> ReplayResult:
    """``replay_quarantine`` with the configured lake, contract and suite (as ingest picks)."""
    from leadops.inputs.contract import load_contract
    from leadops.storage.local import open_lake
    from tasks.ingest.suites import contract_suite, suites_dir_for

    contract = load_contract(settings.contract_path)
    suite, _ = contract_suite(contract, kind, suites_dir_for(contract, settings.expectations_dir))
    return replay_quarantine(open_lake(settings), contract, suite, kind, as_of)
