"""Loading a database source: the rows changed since its committed watermark, chunk by
chunk through the same bronze, validation, quarantine and silver as a file.

The pull's new watermark is appended to ``ingest/watermarks`` inside the run's lake
transaction, so it advances only when the run commits: a run killed or failed after
reading leaves the old watermark, and the next run reads the same rows again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa

from leadops.inputs.db_source import ChangePull, DatabaseSource, watermark_column
from leadops.inputs.sources import SourceFile
from leadops.settings import Settings
from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.ingest.bronze import RowStamp
from tasks.ingest.loader import FileLoader
from tasks.ingest.results import FileResult

WATERMARK_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("kind", pa.string()),
        ("watermark", pa.string()),  # ISO text: keeps a naive column naive, an aware one aware
        ("rows", pa.int64()),
        ("run_id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


def last_watermark(lake: Lake, source: str, kind: str) -> datetime | None:
    """The watermark the last committed pull of ``source`` for ``kind`` reached."""
    if not lake.table_exists(tables.WATERMARKS):
        return None
    rows = lake.read_table(
        tables.WATERMARKS, filters=[("source", "==", source), ("kind", "==", kind)]
    )
    if rows.empty:
        return None
    return datetime.fromisoformat(rows.sort_values("recorded_at")["watermark"].iloc[-1])


def record_watermark(lake: Lake, pull: ChangePull, kind: str, rows: int, run_id: str) -> None:
    row = {
        "source": pull.source.uri,
        "kind": kind,
        "watermark": pull.high.isoformat(),
        "rows": rows,
        "run_id": run_id,
        "recorded_at": datetime.now(UTC),
    }
    frame = pd.DataFrame([row])
    lake.append_table(
        tables.WATERMARKS,
        pa.Table.from_pandas(frame, schema=WATERMARK_SCHEMA, preserve_index=False),
    )


class SourceLoader(FileLoader):
    """A FileLoader that also takes database sources."""

    def __init__(self, settings: Settings, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings

    def ingest(self, source: SourceFile | DatabaseSource) -> FileResult:
        if isinstance(source, DatabaseSource):
            return self.ingest_pull(self.pull(source))
        return self.ingest_file(source)

    def pull(self, source: DatabaseSource) -> ChangePull:
        return ChangePull(
            source,
            watermark_column(self.contract, source),
            since=last_watermark(self.lake, source.uri, self.kind),
            overlap=timedelta(seconds=self.settings.crm_watermark_overlap_seconds),
            password=self.settings.crm_password,
            connect_timeout=self.settings.crm_connect_timeout_seconds,
        )

    def ingest_pull(self, pull: ChangePull) -> FileResult:
        """Load one pull. Unlike a file, a failed pull (unreachable, a dropped connection,
        key columns missing) fails the whole run: the journal undoes it, watermark included.
        """
        outcome = FileResult(pull.source.name, pull.source.uri, checksum=pull.pull_id)
        stamp = RowStamp(pull.source.uri, pull.pull_id, self.result.run_id, self.result.started_at)
        chunks, first = pull.chunks(self.chunk_rows), True
        try:
            while True:
                with self.timed("read"):
                    raw = next(chunks, None)
                if raw is None:
                    break
                if first:
                    renames = self._renames(list(raw.columns))
                raw = raw.rename(columns=renames) if renames else raw
                if first:
                    self._check_columns(pull.source, list(raw.columns))
                    first = False
                if not raw.empty:
                    self._load_chunk(raw, stamp, outcome)
        finally:
            chunks.close()  # the connection ends with the pull, whatever happened
        with self.timed("write"):
            self.writes.wait()
        outcome.size_bytes = pull.bytes_read
        if pull.high is not None:
            record_watermark(self.lake, pull, self.kind, outcome.rows_in, self.result.run_id)
        outcome.reason = f"changed since {pull.since.isoformat()}" if pull.since else "first pull"
        return outcome
