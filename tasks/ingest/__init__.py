"""The ingest stage: landing files → bronze → GX validation → silver / quarantine → gold.

Plain, Prefect-free functions; ``tasks.ingest.steps`` holds the thin @task wrappers
the ``ingest`` flow calls.
"""

from __future__ import annotations

from leadops.inputs.sources import SourceFile, resolve_sources
from tasks.ingest.results import FileResult, IngestResult
from tasks.ingest.run import ingest_files

__all__ = ["FileResult", "IngestResult", "SourceFile", "ingest_files", "resolve_sources"]
