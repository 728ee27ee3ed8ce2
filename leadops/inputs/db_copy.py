"""``COPY ... TO STDOUT (FORMAT csv)`` as a byte stream, parsed by Arrow's streaming CSV reader.

psycopg hands COPY data over in pieces as libpq receives them; a small raw stream
joins them for Arrow, which parses whole blocks in C. Every column is read as text:
bronze keeps values exactly as the database rendered them, and silver types them
like any export. COPY writes NULL as an unquoted empty field and an empty string as
``""``; Arrow keeps that difference (``quoted_strings_can_be_null=False``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from leadops.inputs.readers import _rechunk

if TYPE_CHECKING:
    import psycopg
    import pyarrow as pa
    from psycopg import Copy, sql


class ByteCounter(Protocol):
    """Whoever wants to know how many bytes a pull read (the change pull, for its line)."""

    bytes_read: int


# Arrow's parse block. Small, so that parsing one block overlaps reading the next from
# the start: 256 KiB pulled 100k leads at 0.64-0.75x a bare COPY, 1 MiB at 0.43-0.48x,
# 4 MiB at 0.37-0.54x (bench/bench_crm.py's rows, 2 busy cores). A row must fit in it.
CSV_BLOCK_BYTES = 256 << 10


class CopyStream(io.RawIOBase):
    """A psycopg ``Copy`` (TO STDOUT) read as a file; counts bytes on ``counter``.

    libpq hands COPY data over one row at a time: ``read`` gathers rows until it has the
    bytes asked for and joins them once (Arrow asks for whole blocks), so the only
    per-row Python work is the read call itself.
    """

    def __init__(self, copy: Copy, counter: ByteCounter | None = None) -> None:
        self.copy, self.counter, self.rest = copy, counter, b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        pieces: list[bytes | bytearray | memoryview] = [self.rest]
        have = len(self.rest)
        read = self.copy.read
        while size < 0 or have < size:
            data = read()
            if not data:
                break
            pieces.append(data)
            have += len(data)
        block = b"".join(pieces)
        if self.counter is not None:
            self.counter.bytes_read += len(block) - len(self.rest)
        if 0 <= size < len(block):
            block, self.rest = block[:size], block[size:]
        else:
            self.rest = b""
        return block

    def readinto(self, buffer: Any) -> int:
        block = self.read(len(buffer))
        buffer[: len(block)] = block
        return len(block)


def arrow_chunks(
    cursor: psycopg.Cursor,
    statement: sql.Composed,
    names: list[str],
    chunk_rows: int,
    counter: ByteCounter | None = None,
) -> Iterator[pa.Table]:
    """Arrow tables of ``chunk_rows`` rows (at least one, maybe empty) of text columns."""
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    with cursor.copy(statement) as copy:
        stream = CopyStream(copy, counter)
        reader = arrow_csv.open_csv(
            stream,
            read_options=arrow_csv.ReadOptions(
                column_names=names, skip_rows=1, block_size=CSV_BLOCK_BYTES
            ),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=True),
            convert_options=arrow_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        yield from _rechunk(iter(reader), reader.schema, chunk_rows)
