"""What an ingest run did, per file and in total, with the accounting it must satisfy."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadops.errors import LeadOpsError
from tasks.ingest.manifest import ACCEPTED, FAILED

TOP_EXPECTATIONS = 10


class AccountingError(LeadOpsError):
    """Rows went missing or were counted twice: a bug, so the run is undone."""


@dataclass
class FileResult:
    """One landing file's outcome."""

    name: str
    uri: str
    status: str = ACCEPTED
    reason: str = ""
    checksum: str = ""
    size_bytes: int = 0
    rows_in: int = 0
    silver: int = 0
    quarantined: int = 0
    duplicates: int = 0
    updated: int = 0  # of the silver rows: new content for an id an earlier run wrote
    # Outcomes: accepted wins whose lead is in silver, and those of them decided after the
    # contract's outcome window (training counts these as not converted).
    wins: int = 0
    late_wins: int = 0
    failed_expectations: Counter[str] = field(default_factory=Counter)

    def count(self, rows_in: int, silver: int, quarantined: int, duplicates: int) -> None:
        """Add one chunk's counts, refusing counts that do not add up."""
        if rows_in != silver + quarantined + duplicates:
            raise AccountingError(
                f"{self.name}: {rows_in} rows in but {silver} silver + {quarantined} quarantined "
                f"+ {duplicates} duplicates"
            )
        self.rows_in += rows_in
        self.silver += silver
        self.quarantined += quarantined
        self.duplicates += duplicates

    def fail(self, reason: str) -> None:
        """Mark the file failed; its rows were rolled back, so none count."""
        self.status, self.reason = FAILED, reason
        self.rows_in = self.silver = self.quarantined = self.duplicates = self.updated = 0
        self.wins = self.late_wins = 0
        self.failed_expectations.clear()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "uri": self.uri,
            "status": self.status,
            "reason": self.reason,
            "checksum": self.checksum,
            "rows_in": self.rows_in,
            "silver": self.silver,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "failed_expectations": dict(self.failed_expectations.most_common()),
        }

    def manifest_entry(self, kind: str, run_id: str, ingested_at: datetime) -> dict[str, Any]:
        return {
            **self.as_dict(),
            "file": self.uri,
            "kind": kind,
            "size_bytes": self.size_bytes,
            "run_id": run_id,
            "ingested_at": ingested_at,
        }


@dataclass
class IngestResult:
    """A whole run: the files, the totals, and the table versions it left behind."""

    run_id: str
    kind: str
    as_of: datetime
    started_at: datetime
    files: list[FileResult] = field(default_factory=list)
    versions: dict[str, int | None] = field(default_factory=dict)
    quarantine_sample: list[dict[str, Any]] = field(default_factory=list)
    seconds: Counter[str] = field(default_factory=Counter)
    report_key: str = ""
    report_path: str = ""  # the report's full path or URI, for people
    quarantine_sample_path: str | None = None
    outcome_window_days: int | None = None  # the contract's, for the late-wins line

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    @property
    def failed_expectations(self) -> Counter[str]:
        return sum((f.failed_expectations for f in self.files), Counter())

    def check_accounting(self) -> None:
        """rows_in == silver + quarantined + duplicates over the whole run."""
        totals = {a: self.total(a) for a in ("rows_in", "silver", "quarantined", "duplicates")}
        if totals["rows_in"] != totals["silver"] + totals["quarantined"] + totals["duplicates"]:
            raise AccountingError(f"ingest run {self.run_id}: counts do not add up {totals}")

    def as_dict(self) -> dict[str, Any]:
        """The JSON the CLI prints and the flow returns (no row data in it)."""
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "as_of": self.as_of.isoformat(),
            "files": [f.as_dict() for f in self.files],
            "rows_in": self.total("rows_in"),
            "silver": self.total("silver"),
            "quarantined": self.total("quarantined"),
            "duplicates": self.total("duplicates"),
            "new": self.total("silver") - self.total("updated"),
            "updated": self.total("updated"),
            "failed_files": sum(f.status == FAILED for f in self.files),
            "failed_expectations": dict(self.failed_expectations.most_common(TOP_EXPECTATIONS)),
            "versions": self.versions,
            "report": self.report_key,
            "report_path": self.report_path,
            "quarantine_sample_path": self.quarantine_sample_path,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            **self._late_wins(),
        }

    def _late_wins(self) -> dict[str, Any]:
        if self.kind != "outcomes":
            return {}
        return {
            "wins": self.total("wins"),
            "late_wins": self.total("late_wins"),
            "outcome_window_days": self.outcome_window_days,
        }
