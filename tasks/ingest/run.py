"""One ingest run: landing files → bronze → validation → silver / quarantine → gold.

All of a run's table writes sit in one journal transaction (leadops.storage.journal): a
run killed half-way leaves every table as before it. Inside, each file is its
own unit too (tasks.ingest.loader): a file that turns out malformed in its third
chunk has its earlier chunks undone and is reported failed; the others go on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from leadops import progress
from leadops.clock import utc
from leadops.errors import LeadOpsError
from leadops.inputs.contract import Contract
from leadops.inputs.db_source import DatabaseSource
from leadops.inputs.sources import SourceFile, resolve_sources
from leadops.settings import Settings
from leadops.storage import tables
from leadops.storage.journal import lake_transaction
from leadops.storage.lake import Lake
from tasks.ingest import manifest, quarantine_stats, report
from tasks.ingest.conform import conform_tables
from tasks.ingest.database import SourceLoader
from tasks.ingest.gold import update_gold
from tasks.ingest.results import IngestResult
from tasks.ingest.suites import contract_suite, suites_dir_for
from tasks.ingest.validation import SuiteValidator

log = logging.getLogger(__name__)
CHUNK_ROWS = 200_000


def ingest_files(
    settings: Settings,
    lake: Lake,
    contract: Contract,
    sources: Sequence[SourceFile | DatabaseSource | str | Path],
    kind: str = "leads",
    as_of: datetime | None = None,
    run_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    suites_dir: Path | None = None,
) -> IngestResult:
    """Ingest landing files of one kind into the lake; see the module docstring.

    Args:
        settings: where S3 sources given as strings are reached (endpoint).
        sources: files in ingest order (a later row for the same id wins). Flows pass
            the SourceFile values their first task resolved; a string or path (for
            scripts and tests) is resolved here like the CLI's SOURCE (file, folder,
            glob, s3://).
        as_of: evaluation time for "not in the future" checks; default now (UTC).
        run_id: defaults to a fresh id; flows pass the Prefect flow run id.
        suites_dir: the user's suites; default LEADOPS_EXPECTATIONS_DIR, else those beside
            the contract, else the suite derived from the contract (tasks.ingest.suites).

    Raises:
        LeadOpsError: the kind or suite is unusable, or the lake cannot be written;
            nothing the run wrote stays behind.
    """
    if kind not in tables.KINDS:
        raise LeadOpsError(f"kind {kind!r}: choose one of {', '.join(tables.KINDS)}")
    now = datetime.now(UTC)
    as_of = utc(as_of) if as_of is not None else now
    result = IngestResult(run_id or uuid.uuid4().hex, kind, as_of, started_at=now)
    files = [
        f
        for s in sources
        for f in (
            [s]
            if isinstance(s, (SourceFile, DatabaseSource))
            else resolve_sources(str(s), settings.s3_endpoint_url)
        )
    ]
    suite, suite_source = contract_suite(
        contract, kind, suites_dir_for(contract, suites_dir or settings.expectations_dir)
    )
    log.info("ingest %s: expectation suite %s", kind, suite_source)
    validator = SuiteValidator(suite, as_of)
    written = [
        tables.bronze(kind),
        tables.silver(kind),
        tables.quarantine(kind),
        tables.MANIFEST,
        tables.GOLD_LEADS,
        tables.QUARANTINE_LOG,
        tables.WATERMARKS,  # a database pull's watermark commits with its rows
    ]
    with lake_transaction(lake, "ingest", written):
        conform_tables(lake, contract, kind)  # a widened contract's columns, before any row
        # Inside the lock and after recovery: the manifest read here is the one
        # this run's "already ingested" decisions may rely on.
        run = SourceLoader(settings, lake, contract, kind, result, validator, chunk_rows)
        progress.begin("ingest")
        try:
            for number, source in enumerate(files, 1):
                progress.show("ingest", files=f"{number}/{len(files)}")
                result.files.append(run.ingest(source))
        finally:
            run.close()
        result.check_accounting()
        manifest.record_files(
            lake,
            [
                f.manifest_entry(kind, result.run_id, now)
                for f in result.files
                if f.status != manifest.SKIPPED
            ],
        )
        quarantine_stats.record_shares(lake, result)
        if run.silver.rows_written or not lake.table_exists(tables.GOLD_LEADS):
            with run.timed("gold"):
                update_gold(lake, contract, kind, result.run_id, stream=run.gold)
        result.versions = {name: lake.table_version(name) for name in written}
    result.seconds["validate"] = validator.seconds
    report.write_report(lake, result)
    log.info(
        "ingest %s: %d rows in, %d silver, %d quarantined, %d duplicates",
        result.run_id,
        *(result.total(a) for a in ("rows_in", "silver", "quarantined", "duplicates")),
    )
    return result
