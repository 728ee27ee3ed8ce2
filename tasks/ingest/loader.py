"""Loading one landing file: fingerprint, skip or read, then chunk by chunk into
bronze, validation, quarantine and silver. A file that turns out unusable part-way
is undone on its own (its tables restored to their versions before it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from leadops import progress
from leadops.errors import LeadOpsError, one_line
from leadops.inputs.contract import Contract
from leadops.inputs.normalise import match_columns, match_stored_columns, parse_frame
from leadops.inputs.readers import FileRejected, MalformedLine, read_chunks
from leadops.inputs.sources import (
    FORMATS,
    DecompressedTooLarge,
    Fingerprint,
    SourceFile,
    UnreadableSource,
    fingerprint,
)
from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.ingest import late_wins, manifest, outcome_dates, report
from tasks.ingest.bronze import RowStamp, bronze_table, quarantine_table
from tasks.ingest.gold import GoldStream
from tasks.ingest.report import other_kind_hint
from tasks.ingest.results import FileResult, IngestResult
from tasks.ingest.silver import SilverWriter, silver_schema, silver_table
from tasks.ingest.suites import required_columns
from tasks.ingest.validation import SuiteValidator
from tasks.ingest.writes import WriteQueue

log = logging.getLogger(__name__)
# The quarantine column holding a malformed line's text (its row number is its line number).
RAW_LINE = "_raw_line"
# Columns ingest adds to bronze and quarantine rows; a file's own column of that name is renamed.
BOOKKEEPING = [
    tables.SOURCE_FILE,
    tables.ROW_NUMBER,
    tables.INGESTED_AT,
    tables.FILE_CHECKSUM,
    tables.RUN_ID,
    tables.FAILED_EXPECTATIONS,
    RAW_LINE,
]


class FileLoader:
    """Loads the files of one run, sharing its validator, silver writer and manifest view."""

    def __init__(
        self,
        lake: Lake,
        contract: Contract,
        kind: str,
        result: IngestResult,
        validator: SuiteValidator,
        chunk_rows: int,
    ) -> None:
        self.lake, self.contract, self.kind, self.result = lake, contract, kind, result
        result.outcome_window_days = contract.outcome_window_days
        self.validator, self.chunk_rows = validator, chunk_rows
        self.roles = contract.roles(kind)
        self.parse_options = contract.parse_options(kind)
        self.schema = silver_schema(contract, kind)
        self.writes = WriteQueue()
        self.gold = GoldStream(lake, contract) if GoldStream.usable(lake, kind, contract) else None
        self.silver = SilverWriter(
            lake, tables.silver(kind), contract.entity_id, result.run_id, self.writes, self.gold
        )
        self.seen = manifest.accepted_checksums(lake, kind)
        self.this_run: dict[str, str] = {}

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.result.seconds[step] += time.perf_counter() - started

    def ingest_file(self, source: SourceFile) -> FileResult:
        """Ingest one file; a structurally unusable one is failed and undone, never raised."""
        outcome = FileResult(source.name, source.uri)
        if source.format is None:
            outcome.status = manifest.SKIPPED
            outcome.reason = f"not a data file (expected {', '.join(sorted(FORMATS))})"
            return outcome
        try:
            with self.timed("read"):
                fp = fingerprint(source)
        except (DecompressedTooLarge, UnreadableSource) as exc:
            outcome.fail(str(exc))
            return outcome
        except (OSError, EOFError, LeadOpsError) as exc:
            outcome.fail(f"{source.name}: cannot be read ({one_line(exc)})")
            return outcome
        outcome.checksum, outcome.size_bytes = fp.checksum, fp.size
        if skipped := self._skip_reason(fp.checksum):
            outcome.status, outcome.reason = manifest.SKIPPED, skipped
            return outcome
        outcome.reason = fp.note
        before = {name: self.lake.table_version(name) for name in self._file_tables}
        written_before = self.silver.rows_written
        gold_before = self.gold.mark() if self.gold is not None else 0
        sampled_before = len(self.result.quarantine_sample)
        try:
            self._load(source, fp, outcome)
            with self.timed("write"):
                self.writes.wait()
        except FileRejected as exc:
            self.writes.settle()
            _undo(self.lake, before)
            if self.gold is not None:
                self.gold.drop_since(gold_before)
            self.silver.rows_written = written_before
            self.silver.forget()
            del self.result.quarantine_sample[sampled_before:]
            outcome.fail(str(exc))
            # Info, not warning: the run's report and the CLI's last lines name every failed
            # file once (a warning here printed each of them twice).
            log.info("ingest: file failed: %s", exc)
            return outcome
        except BaseException:
            self.writes.settle()  # nothing writes behind the run's own rollback
            raise
        self.this_run[fp.checksum] = source.name
        return outcome

    def close(self) -> None:
        """Finish queued writes and stop the write thread."""
        self.writes.close()
        if self.gold is not None:
            self.gold.close()

    @property
    def _file_tables(self) -> list[str]:
        return [tables.bronze(self.kind), tables.silver(self.kind), tables.quarantine(self.kind)]

    def _skip_reason(self, checksum: str) -> str:
        if checksum in self.seen:
            return f"already ingested {self.seen[checksum]:%Y-%m-%d %H:%M:%S} UTC"
        if checksum in self.this_run:
            return f"same content as {self.this_run[checksum]}, ingested earlier in this run"
        return ""

    def _load(self, source: SourceFile, fp: Fingerprint, outcome: FileResult) -> None:
        stamp = RowStamp(source.uri, fp.checksum, self.result.run_id, self.result.started_at)
        malformed: list[MalformedLine] = []
        chunks = read_chunks(source, fp, self.chunk_rows, malformed, arrow_strings=True)
        first, renames = True, {}
        while True:
            with self.timed("read"):
                raw = next(chunks, None)
            if raw is None:
                break
            if first:
                renames = self._renames(list(raw.columns))
            raw = raw.rename(columns=renames) if renames else raw
            if first:
                self._check_columns(source, list(raw.columns))
                first = False
                if raw.empty:
                    notes = [outcome.reason, "header only: no rows"]
                    outcome.reason = "; ".join(filter(None, notes))
            if not raw.empty:
                self._load_chunk(raw, stamp, outcome)
        if malformed:
            self._quarantine_lines(malformed, stamp, outcome)

    def _renames(self, columns: list[str]) -> dict[str, str]:
        # " Lead_ID " in the header is the contract's lead_id; an extra column keeps the
        # spelling bronze already has for it ("LEAD OWNER" is "Lead Owner").
        renames = match_columns(columns, list(self.roles))
        named = [renames.get(c, c) for c in columns]
        stored = self.lake.table_columns(tables.bronze(self.kind))
        more = match_stored_columns(named, stored, list(self.roles), BOOKKEEPING)
        return {
            c: more.get(n, n) for c, n in zip(columns, named, strict=True) if more.get(n, n) != c
        }

    def _quarantine_lines(
        self, lines: list[MalformedLine], stamp: RowStamp, outcome: FileResult
    ) -> None:
        """Malformed lines go to quarantine whole: their text, line number and cause."""
        # A line whose number was not found (text spread over lines) gets a unique negative one.
        numbers = [line.line or -k for k, line in enumerate(lines, start=1)]
        raw = pd.DataFrame(
            {RAW_LINE: [line.text for line in lines]}, index=pd.Index(numbers, name="row")
        )
        failures = pd.Series(
            [[f"line:malformed ({line.cause})"] for line in lines], index=raw.index
        )
        with self.timed("write"):
            self.writes.submit(
                self.lake.append_table,
                tables.quarantine(self.kind),
                quarantine_table(raw, failures, stamp),
            )
        self._keep_sample(raw, failures, stamp.source_file)
        outcome.count(len(lines), 0, len(lines), 0)
        outcome.failed_expectations.update(["line:malformed"] * len(lines))
        for line in lines[:3]:
            log.warning(
                "ingest: %s line %s quarantined: %s", stamp.source_file, line.line, line.cause
            )

    def _check_columns(self, source: SourceFile, columns: list[str]) -> None:
        # The contract's key columns first: without them no row can be typed or deduplicated,
        # whatever the suite says (it may have been written for another contract).
        keys = (
            [self.contract.entity_id, self.contract.label, self.contract.label_time]
            if self.kind == "outcomes"
            else [self.contract.entity_id, self.contract.event_time]
        )
        absent = [c for c in keys if c not in set(columns)]
        if absent:
            raise FileRejected(
                f"{source.name}: no column(s) {', '.join(absent)}, which the contract "
                f"{self.contract.name!r} names as key columns"
                f"{other_kind_hint(self.contract, self.kind, columns)}"
            )
        failed = self.validator.file_failures(columns)
        if failed:
            present = set(columns)
            missing = [c for c in required_columns(self.contract, self.kind) if c not in present]
            raise FileRejected(
                f"{source.name}: missing required column(s) {', '.join(missing)} "
                f"(failed {', '.join(failed)})"
            )

    def _load_chunk(self, raw: pd.DataFrame, stamp: RowStamp, outcome: FileResult) -> None:
        progress.count("ingest", "rows", len(raw))
        with self.timed("write"):
            self.writes.submit(
                self.lake.append_table, tables.bronze(self.kind), bronze_table(raw, stamp)
            )
        with self.timed("parse"):
            typed = parse_frame(raw, self.roles, **self.parse_options, arrow_strings=True)
        failures = self.validator.row_failures(typed)
        if self.kind == "outcomes":
            created = outcome_dates.lead_created(self.lake, self.contract, typed)
            early = outcome_dates.dated_before_creation(self.contract, typed, created)
            name = outcome_dates.before_creation_name(self.contract)
            failures = outcome_dates.with_failures(failures, early, name, typed.index)
            kept = typed.index.difference(failures.index)
            late_wins.count(outcome, self.contract, typed.loc[kept], created.loc[kept])
        with self.timed("write"):
            if len(failures):
                rejected = quarantine_table(raw, failures, stamp)
                self.writes.submit(self.lake.append_table, tables.quarantine(self.kind), rejected)
                self._keep_sample(raw.loc[failures.index], failures, stamp.source_file)
            valid = typed.drop(index=failures.index)
            added, duplicates, updated = self.silver.upsert(
                silver_table(valid, self.schema, self.roles, stamp)
            )
        outcome.count(len(raw), added, len(failures), duplicates)
        outcome.updated += updated
        outcome.failed_expectations.update(name for names in failures for name in names)

    def _keep_sample(self, rejected: pd.DataFrame, failures: pd.Series, source: str) -> None:
        room = report.SAMPLE_ROWS - len(self.result.quarantine_sample)
        if room > 0:
            self.result.quarantine_sample += report.sample_rows(rejected, failures, source, room)


def _undo(lake: Lake, versions: dict[str, int | None]) -> None:
    """Put each table back to its version before a failed file (a new Delta commit)."""
    from deltalake import DeltaTable

    for name, version in versions.items():
        if lake.table_version(name) == version:
            continue
        delta = DeltaTable(lake.table_uri(name), storage_options=lake.storage_options)
        if version is None:
            lake.overwrite_table(name, delta.to_pyarrow_dataset().schema.empty_table())
        else:
            delta.restore(version)
