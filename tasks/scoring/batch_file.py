"""A batch file given on the command line, typed exactly as ingest types silver.

The file is read with the core's readers (CSV, Parquet, JSON lines; local or s3://)
and parsed by contract role into the contract's Arrow types, as ingest does for
silver, so a lead scores the same whether it came through the lake or a file. Every
lead with a usable id and creation time is scored: a feature value that fails the
contract (not a number, a bad list, a required value missing, a number outside its
min/max: leadops.inputs.lead_checks) is scored as missing and the lead is marked degraded
with the features' names. A row without a usable id or creation time (or one after
the run's time, or a malformed line) is set aside with its reason, for the run to
write to a rejected-rows file. A file without the contract's columns is refused whole.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa

from leadops.inputs.contract import Contract
from leadops.inputs.lead_checks import DEGRADED_FEATURES, check_leads
from leadops.inputs.sources import SourceFile
from tasks.scoring.sources import BatchError, FileBatch

log = logging.getLogger(__name__)


def resolve_batch_file(path: str, endpoint_url: str | None = None) -> SourceFile:
    """The one leads file ``path`` names (local or s3://).

    Raises:
        SourceError: ``path`` names nothing.
        BatchError: ``path`` names more than one file.
    """
    from leadops.inputs.sources import resolve_sources

    files = resolve_sources(path, endpoint_url)
    if len(files) != 1:
        raise BatchError(f"batch {path}: names {len(files)} files; give one leads file")
    return files[0]


def load_batch_file(
    source: SourceFile | str,
    contract: Contract,
    chunk_rows: int,
    endpoint_url: str | None = None,
    as_of: datetime | None = None,
) -> FileBatch:
    """Read and type a leads file; rows without a usable id or creation time go to
    ``FileBatch.rejected``, failing feature values are nulled and named (``_degraded``).

    Args:
        source: the file, as resolved by :func:`resolve_batch_file` (a path or URI
            string is resolved here, for scripts and tests).
        as_of: the evaluation time an event time may not be after (default: now).

    Raises:
        BatchError: one line naming the file and its missing columns.
    """
    from leadops.inputs.normalise import match_columns, parse_frame
    from leadops.inputs.readers import MalformedLine, read_chunks
    from leadops.inputs.sources import fingerprint

    if isinstance(source, str):
        source = resolve_batch_file(source, endpoint_url)
    fp = fingerprint(source)
    roles = contract.roles("leads")
    parts: list[pd.DataFrame] = []
    rejected: list[pd.DataFrame] = []
    malformed: list[MalformedLine] = []
    for raw in read_chunks(source, fp, chunk_rows, malformed):
        raw = raw.rename(columns=match_columns(list(raw.columns), list(roles)))
        missing = [name for name in roles if name not in raw.columns]
        if missing:
            raise BatchError(f"batch {source.name}: missing column(s) {', '.join(missing)}")
        typed = parse_frame(raw, roles, **contract.parse_options("leads"))
        typed, checks = check_leads(contract, typed, as_of or datetime.now(UTC), raw)
        reasons = checks.unscorable[checks.unscorable != ""]
        if len(reasons):
            rejected.append(raw.loc[reasons.index].assign(**{REASON: reasons}))
        degraded = checks.degraded.drop(index=reasons.index).replace("", None)
        parts.append(
            typed.drop(index=reasons.index)[list(roles)].assign(**{DEGRADED_FEATURES: degraded})
        )
    rejected += [
        pd.DataFrame(
            {REASON: [f"malformed line ({m.cause})"], RAW_LINE: [m.text]}, index=[m.line or 0]
        )
        for m in malformed
    ]
    frame = pd.concat(parts, ignore_index=True)
    table = _as_table(frame, contract, source.name)
    return FileBatch(
        source.name, fp.checksum, table, chunk_rows, rejected=_rejected_table(rejected, source.name)
    )


REASON = "_rejected_because"
RAW_LINE = "_raw_line"
ROW = "_row"


def _rejected_table(parts: list[pd.DataFrame], name: str) -> pa.Table | None:
    if not parts:
        return None
    frame = pd.concat(parts).rename_axis(ROW).reset_index()
    frame[ROW] = frame[ROW].astype(str)
    log.warning(
        "batch %s: %d row(s) without a usable id or creation time are not scored", name, len(frame)
    )
    columns = [ROW, REASON] + [c for c in frame.columns if c not in (ROW, REASON)]
    return pa.table(
        {
            c: pa.array(frame[c].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
            for c in columns
        }
    )


def _as_table(frame: pd.DataFrame, contract: Contract, name: str) -> pa.Table:
    ids = frame[contract.entity_id]
    duplicates = int(ids.duplicated().sum())
    if duplicates:
        # Same rule as silver: the latest row of a lead wins.
        log.warning(
            "batch %s: %d duplicate %s row(s); the last one of each is scored",
            name,
            duplicates,
            contract.entity_id,
        )
        frame = frame.drop_duplicates(contract.entity_id, keep="last")
    schema = contract.arrow_schema("leads").append(pa.field(DEGRADED_FEATURES, pa.string()))
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
