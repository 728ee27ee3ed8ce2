"""Read CSV, Parquet and JSON-lines files in bounded chunks of raw strings.

Every reader yields DataFrames of strings (or nulls) indexed by 1-based data row
number, so bronze keeps values exactly as received and later stages can say
"row 1234". A malformed line (a ragged CSV row, a broken JSON line) is set aside
as a :class:`MalformedLine` with its text and line number, for the caller to
quarantine, and the rest of the file is read. A file the parser cannot get
through raises FileRejected with one line naming the file and the cause; the
caller undoes that file's writes.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

import pandas as pd

from leadops.errors import LeadOpsError, one_line
from leadops.inputs.sources import DecompressedTooLarge, Fingerprint, SourceFile

if TYPE_CHECKING:
    import pyarrow as pa


DELIMITERS = (",", ";", "\t", "|")
MAX_CAUSE = 240
# A CRM export has tens of columns and short fields. Far beyond that is a wrong file
# or an attack on memory (each column and each cell is held per chunk), so refuse it.
MAX_COLUMNS = 1_000
MAX_CELL_CHARS = 65_536
# Arrow's CSV block must hold the longest row; 4 MiB parses any row under the cell
# limit (1 MiB default would fail on a long cell with a parser message instead of ours).
CSV_BLOCK_BYTES = 4 << 20


class FileRejected(LeadOpsError):
    """A landing file that is structurally unusable."""


@dataclass
class MalformedLine:
    """A line no row can be read from: its 1-based line number in the file, text and cause."""

    line: int | None
    text: str
    cause: str


def read_chunks(
    source: SourceFile,
    fp: Fingerprint,
    chunk_rows: int,
    malformed: list[MalformedLine] | None = None,
    arrow_strings: bool = False,
) -> Iterator[pd.DataFrame]:
    """Raw chunks of ``source``; the first chunk may be empty (header only).

    Args:
        malformed: where malformed lines are set aside (their line numbers are known
            once the file is read through); None: the first one fails the file.
        arrow_strings: CSV columns as Arrow-backed strings (``string[pyarrow]``, nulls
            NA) instead of Python objects: no copy out of Arrow, and :func:`text_array`
            hands them back to Arrow as they are. Ingest reads this way; other formats
            and callers get object columns.

    Raises:
        FileRejected: the file is empty, binary, not its format, or malformed.
    """
    if fp.size == 0:
        raise FileRejected(f"{source.name}: empty file (0 bytes)")
    if source.format is None:
        raise FileRejected(f"{source.name}: unsupported file type (expected {_known()})")
    if source.format != "parquet" and fp.binary:
        raise FileRejected(
            f"{source.name}: binary content (NUL bytes), not a {source.format} text file"
        )
    readers = {"csv": _csv_chunks, "parquet": _parquet_chunks, "jsonl": _jsonl_chunks}
    options = {"arrow_strings": arrow_strings} if source.format == "csv" else {}
    row = 0
    try:
        for chunk in readers[source.format](source, fp, chunk_rows, malformed, **options):
            chunk.index = pd.RangeIndex(row + 1, row + 1 + len(chunk), name="row")
            chunk.columns = [str(c).strip() for c in chunk.columns]
            row += len(chunk)
            yield chunk
    except FileRejected:
        raise
    except DecompressedTooLarge as exc:
        raise FileRejected(str(exc)) from None
    except (ValueError, OSError, EOFError, LeadOpsError, UnicodeError) as exc:
        # pandas ParserError / EmptyDataError, ArrowInvalid and JSONDecodeError are
        # ValueErrors; StorageError covers an S3 stream that breaks mid-file, EOFError a
        # truncated gzip.
        # Parser messages quote the offending line; keep the reason one readable line.
        cause = one_line(exc)[:MAX_CAUSE]
        raise FileRejected(f"{source.name}: malformed {source.format} ({cause})") from exc


def _known() -> str:
    from leadops.inputs.sources import FORMATS

    return ", ".join(sorted(FORMATS))


def text_array(values: pd.Series) -> pa.Array:
    """A column of raw text as an Arrow string array, maybe chunked (from Arrow-backed
    strings: no copy per value; from objects: converted, None and NaN as null)."""
    import pyarrow as pa

    if isinstance(values.dtype, pd.ArrowDtype):
        array = pa.array(values.array)
        return array if array.type == pa.string() else array.cast(pa.string())
    return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _csv_chunks(
    source: SourceFile,
    fp: Fingerprint,
    chunk_rows: int,
    malformed: list[MalformedLine] | None,
    arrow_strings: bool = False,
) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    # Arrow's streaming reader, not pandas': pandas' chunked C parser silently
    # drops the extra fields of a ragged line that starts a chunk.
    header, delimiter = _csv_header(source, fp)
    ragged: list[MalformedLine] = []

    def set_aside(row: Any) -> str:
        if malformed is None:
            return "error"
        ragged.append(
            MalformedLine(
                None,
                row.text,
                f"{row.actual_columns} fields where the header has {row.expected_columns}",
            )
        )
        return "skip"

    with source.open() as stream:
        reader = arrow_csv.open_csv(
            stream,
            read_options=arrow_csv.ReadOptions(
                column_names=header,
                skip_rows=1,
                block_size=CSV_BLOCK_BYTES,
                encoding=_ARROW_ENCODINGS[fp.encoding],
            ),
            parse_options=arrow_csv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=set_aside
            ),
            # Only an empty field is missing: "NA" is Namibia and "null" may be a name.
            convert_options=arrow_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
        batches = (_within_cell_limit(source, batch) for batch in reader)
        to_pandas = {"types_mapper": pd.ArrowDtype} if arrow_strings else {}
        for table in _rechunk(batches, reader.schema, chunk_rows):
            yield table.to_pandas(**to_pandas)
    if ragged and malformed is not None:
        malformed += _numbered(source, fp, ragged)


def _numbered(
    source: SourceFile, fp: Fingerprint, lines: list[MalformedLine]
) -> list[MalformedLine]:
    """Arrow does not say where a ragged row was: find each one's line number in a second pass."""
    pending = list(lines)
    with source.open() as raw, io.TextIOWrapper(raw, encoding=fp.encoding, newline="") as text:
        for number, line in enumerate(text, start=1):
            if pending and line.rstrip("\r\n").lstrip("\ufeff") == pending[0].text:
                pending.pop(0).line = number
            if not pending:
                break
    return lines


def _within_cell_limit(source: SourceFile, batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch, unless a value in it is longer than MAX_CELL_CHARS (then the file is refused)."""
    import pyarrow.compute as pc

    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        # Bytes are at least characters: count characters only past the byte limit.
        if (pc.max(pc.binary_length(column)).as_py() or 0) <= MAX_CELL_CHARS:
            continue
        longest = pc.max(pc.utf8_length(column)).as_py()
        if longest is not None and longest > MAX_CELL_CHARS:
            raise FileRejected(
                f"{source.name}: a value in column {name!r} is {longest:,} characters "
                f"(limit {MAX_CELL_CHARS:,}); not a lead export"
            )
    return batch


_ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "latin-1": "latin1", "utf-16": "utf-16"}


def _csv_header(source: SourceFile, fp: Fingerprint) -> tuple[list[str], str]:
    """Column names (trimmed, duplicates numbered) and the delimiter, from the first line."""
    text = fp.head.decode(fp.encoding, errors="replace").lstrip("\ufeff")
    first_line = text.splitlines()[0] if text.strip() else ""
    if fp.size > len(fp.head) and not any(end in text for end in ("\n", "\r")):
        raise FileRejected(
            f"{source.name}: header line longer than {len(fp.head):,} bytes; not a lead export"
        )
    if not first_line.strip():
        raise FileRejected(f"{source.name}: no header row (blank first line)")
    # Excel in many locales writes ";" and some CRMs tab or pipe: the header decides.
    delimiter = max(DELIMITERS, key=first_line.count)
    if first_line.count(delimiter) >= MAX_COLUMNS:
        # The head may cut a very long header short: "or more".
        raise FileRejected(
            f"{source.name}: {first_line.count(delimiter) + 1:,} or more columns in the header "
            f"(limit {MAX_COLUMNS:,}); not a lead export"
        )
    names = next(csv.reader([first_line], delimiter=delimiter))
    seen: dict[str, int] = {}
    header = []
    for name in (n.strip() for n in names):
        header.append(f"{name}.{seen[name]}" if name in seen else name)
        seen[name] = seen.get(name, 0) + 1
    return header, delimiter


def _rechunk(
    batches: Iterator[pa.RecordBatch], schema: pa.Schema, rows: int
) -> Iterator[pa.RecordBatch]:
    """Arrow batches are sized in bytes; regroup them into tables of ``rows`` rows
    (slices of the batches read, no copy). Always at least one table, maybe empty."""
    import pyarrow as pa

    pending: list[Any] = []
    size, yielded = 0, False
    for batch in batches:
        pending.append(batch)
        size += batch.num_rows
        while size >= rows:
            merged = pa.Table.from_batches(pending, schema=schema)
            yield merged.slice(0, rows)
            yielded = True
            pending, size = merged.slice(rows).to_batches(), size - rows
    if size or not yielded:
        yield pa.Table.from_batches(pending, schema=schema)


def _parquet_chunks(
    source: SourceFile,
    fp: Fingerprint,
    chunk_rows: int,
    malformed: list[MalformedLine] | None,  # noqa: ARG001 (every reader's signature)
) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    if not fp.head.startswith(b"PAR1"):
        raise FileRejected(f"{source.name}: not a Parquet file (no PAR1 magic bytes)")
    with _seekable(source) as stream:
        parquet = pq.ParquetFile(stream)
        batches = parquet.iter_batches(batch_size=chunk_rows)
        first = True
        for batch in batches:
            first = False
            yield pd.DataFrame(
                {name: _arrow_text(batch.column(name)) for name in batch.schema.names}
            )
        if first:
            yield pd.DataFrame(columns=parquet.schema_arrow.names, dtype=object)


def _seekable(source: SourceFile) -> BinaryIO:
    """Parquet needs random access; an S3 stream is spooled to a local temp file."""
    stream = source.open()
    if stream.seekable():
        return stream
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (returned open to the caller)
    with stream:
        shutil.copyfileobj(stream, spool, length=1 << 20)
    spool.seek(0)
    return spool


def _arrow_text(column: pa.Array) -> list[str | None]:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind):
        return [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()]
    return pc.cast(column, pa.string()).to_pylist()


def _jsonl_chunks(
    source: SourceFile, fp: Fingerprint, chunk_rows: int, malformed: list[MalformedLine] | None
) -> Iterator[pd.DataFrame]:
    rows: list[dict[str, str | None]] = []
    yielded = False
    with source.open() as raw, io.TextIOWrapper(raw, encoding=fp.encoding, newline="") as text:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            record, cause = _json_record(line)
            if cause:
                if malformed is None:
                    raise FileRejected(f"{source.name}: line {number} {cause}")
                malformed.append(MalformedLine(number, line.rstrip("\r\n"), cause))
                continue
            rows.append(record)
            if len(rows) == chunk_rows:
                yield pd.DataFrame.from_records(rows)
                rows, yielded = [], True
    if rows or not yielded:
        yield pd.DataFrame.from_records(rows)


def _json_record(line: str) -> tuple[dict[str, str | None], str]:
    """A JSON line's fields as text, or why the line holds no record."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"is not valid JSON ({exc.msg})"
    except RecursionError:
        return {}, "nests JSON too deeply to be a lead"
    if not isinstance(record, dict):
        return {}, "is not a JSON object (JSON lines expected)"
    try:
        return {str(k): _json_text(v) for k, v in record.items()}, ""
    except RecursionError:
        return {}, "nests JSON too deeply to be a lead"


def _json_text(value: Any) -> str | None:
    """A JSON value as the text a CSV export of it would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)
