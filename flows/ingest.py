"""The ``ingest`` flow: landing files → bronze → validation → silver / quarantine → gold.

Wiring only; the logic is in tasks/ingest. Run locally with
``python -m flows.ingest crm-export/leads`` or ``leadops ingest crm-export/leads``.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Literal

from prefect import flow

from leadops.inputs.db_source import DatabaseSource
from leadops.inputs.sources import SourceFile
from tasks.ingest.results import IngestResult
from tasks.ingest.steps import find_source_files, publish_summary, validate_and_load


@flow(name="ingest")
def ingest(
    source: str,
    kind: Literal["leads", "outcomes"] = "leads",
    as_of: datetime | None = None,
    files: list[SourceFile | DatabaseSource] | None = None,
) -> IngestResult:
    """Ingest the files SOURCE names (a file, folder, glob or s3:// prefix).

    Args:
        source: where the landing files are, or the CRM database (postgresql://user@host/db,
            no password; ``#table`` or LEADOPS_CRM_LEADS_TABLE / ..._OUTCOMES_TABLE).
        kind: which contract columns and expectation suite apply.
        as_of: evaluation time for "not in the future" checks (the demo's simulated
            clock); default now.
        files: SOURCE already resolved by the caller (the CLI does, to fail fast);
            default: resolved here, once, by the first task.

    Returns:
        The IngestResult: per-file status and reason, row counts and the table versions
        written (its ``as_dict()`` is the CLI's JSON; a persisted result pickles it).
    """
    found = files if files is not None else find_source_files(source, kind)
    result = validate_and_load(found, kind, as_of)
    publish_summary(result)
    return result


if __name__ == "__main__":
    ingest(sys.argv[1], *sys.argv[2:3])
