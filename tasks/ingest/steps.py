"""The @task entry points of the ingest flow: thin wrappers over the plain functions.

Only listing sources retries (S3 listings fail transiently); validation and
loading never retry: the journal already makes a failed run leave no trace, and
re-validating the same bad rows gives the same answer.
"""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from leadops.errors import retry_if_transient
from leadops.inputs.contract import load_contract
from leadops.inputs.db_source import DatabaseSource, crm_tables, database_source, is_database_url
from leadops.inputs.sources import SourceFile, resolve_sources
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.ingest import quarantine_stats, report
from tasks.ingest.results import IngestResult
from tasks.ingest.run import ingest_files

ARTIFACT_KEY = "ingest-summary"


@task(
    name="find-source-files",
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def find_source_files(source: str, kind: str = "leads") -> list[SourceFile | DatabaseSource]:
    """The files SOURCE names (file, folder, glob or s3:// prefix), or the CRM database table
    of ``kind`` a postgresql:// SOURCE names: the run's one resolution."""
    settings = get_settings()
    if is_database_url(source):
        return [database_source(source, kind, crm_tables(settings))]
    files = resolve_sources(source, settings.s3_endpoint_url)
    get_run_logger().info("ingest: %d file(s) under %s", len(files), source)
    return files


@task(name="validate-and-load", cache_policy=NO_CACHE)
def validate_and_load(
    files: list[SourceFile | DatabaseSource], kind: str, as_of: datetime | None
) -> IngestResult:
    """Bronze → validation → silver / quarantine → gold for these files (one transaction)."""
    settings = get_settings()
    result = ingest_files(
        settings,
        open_lake(settings),
        load_contract(settings.contract_path),
        files,
        kind=kind,
        as_of=as_of,
        run_id=flow_run.id or None,
    )
    logger = get_run_logger()
    for failed in (f for f in result.files if f.status == "failed"):
        logger.warning("file failed: %s", failed.reason)
    totals = result.as_dict()
    logger.info(
        "ingest %s: %d rows in → %d silver, %d quarantined, %d duplicates",
        kind,
        totals["rows_in"],
        totals["silver"],
        totals["quarantined"],
        totals["duplicates"],
    )
    _, warning = quarantine_stats.share_line(totals, kind, settings.quarantine_warn_share)
    if warning:
        logger.warning("ingest: %s", warning)
    return result


@task(
    name="publish-summary",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def publish_summary(result: IngestResult) -> None:
    """The run's markdown artifact in the Prefect UI (counts, failures, sample rows)."""
    create_markdown_artifact(
        key=ARTIFACT_KEY,
        markdown=report.summary_markdown(result),
        description=f"Ingest {result.kind}: accepted, quarantined, failed",
    )
