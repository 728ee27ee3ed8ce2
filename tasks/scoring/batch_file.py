"""A batch file given on the command line, typed exactly as ingest types silver.

The file is read with the core's readers (CSV, Parquet, JSON lines; local or s3://)
and parsed by contract role into the contract's Arrow types, as ingest does for
silver, so a lead scores the same whether it came through the lake or a file. Unlike ingest, which quarantines bad
rows, scoring refuses the whole file: a score for a lead whose numbers did not
parse would be silently wrong.
"""

from __future__ import annotations

import logging

import pandas as pd
import pyarrow as pa

from leadops.contract import Contract
from leadops.sources import SourceFile
from tasks.scoring.sources import BatchError, FileBatch

log = logging.getLogger(__name__)

EXAMPLES = 1


def resolve_batch_file(path: str, endpoint_url: str | None = None) -> SourceFile:
    """The one leads file ``path`` names (local or s3://).

    Raises:
        SourceError: ``path`` names nothing.
        BatchError: ``path`` names more than one file.
    """
    from leadops.sources import resolve_sources

    files = resolve_sources(path, endpoint_url)
    if len(files) != 1:
        raise BatchError(f"batch {path}: names {len(files)} files; give one leads file")
    return files[0]


def load_batch_file(source: SourceFile | str, contract: Contract, chunk_rows: int,
                    endpoint_url: str | None = None) -> FileBatch:
    """Read, type and check a leads file.

    Args:
        source: the file, as resolved by :func:`resolve_batch_file` (a path or URI
            string is resolved here, for scripts and tests).

    Raises:
        BatchError: one line naming the file and its missing columns, or the
            columns holding values of the wrong type (with a count and an example).
    """
    from leadops.normalise import match_columns, parse_frame
    from leadops.readers import read_chunks
    from leadops.sources import fingerprint

    if isinstance(source, str):
        source = resolve_batch_file(source, endpoint_url)
    fp = fingerprint(source)
    roles = contract.roles("leads")
    parts: list[pd.DataFrame] = []
    bad: dict[str, list] = {}
    for raw in read_chunks(source, fp, chunk_rows):
        raw = raw.rename(columns=match_columns(list(raw.columns), list(roles)))
        missing = [name for name in roles if name not in raw.columns]
        if missing:
            raise BatchError(f"batch {source.name}: missing column(s) {', '.join(missing)}")
        typed = parse_frame(raw, roles, **contract.parse_options("leads"))
        _collect_unparsed(raw, typed, roles, bad)
        parts.append(typed[list(roles)])
    if bad:
        detail = ", ".join(f"{name} ({count} value(s) not {roles[name]}, e.g. {example!r})"
                           for name, (count, example) in bad.items())
        raise BatchError(f"batch {source.name}: wrong type(s) in column(s) {detail}")
    frame = pd.concat(parts, ignore_index=True)
    return FileBatch(source.name, fp.checksum, _as_table(frame, contract, source.name), chunk_rows)


def _collect_unparsed(raw: pd.DataFrame, typed: pd.DataFrame, roles: dict[str, str],
                      bad: dict[str, list]) -> None:
    from leadops.normalise import unparsed_flag

    for name in roles:
        flag = unparsed_flag(name)
        if flag not in typed.columns or not typed[flag].any():
            continue
        rows = typed.index[typed[flag].to_numpy(dtype=bool)]
        count, example = bad.get(name, [0, raw.at[rows[0], name]])
        bad[name] = [count + len(rows), example]


def _as_table(frame: pd.DataFrame, contract: Contract, name: str) -> pa.Table:
    ids = frame[contract.entity_id]
    if ids.isna().any():
        missing = int(ids.isna().sum())
        raise BatchError(f"batch {name}: {missing} row(s) without {contract.entity_id}")
    duplicates = int(ids.duplicated().sum())
    if duplicates:
        # Same rule as silver: the latest row of a lead wins.
        log.warning("batch %s: %d duplicate %s row(s); the last one of each is scored",
                    name, duplicates, contract.entity_id)
        frame = frame.drop_duplicates(contract.entity_id, keep="last")
    return pa.Table.from_pandas(frame, schema=contract.arrow_schema("leads"), preserve_index=False)
