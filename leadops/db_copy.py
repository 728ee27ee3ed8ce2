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
from typing import Any

from leadops.readers import _rechunk

# Arrow's parse block: big enough that parsing is not per row, small enough to stream.
CSV_BLOCK_BYTES = 4 << 20


class CopyStream(io.RawIOBase):
    """A psycopg ``Copy`` (TO STDOUT) read as a file; counts bytes on ``counter``."""

    def __init__(self, copy: Any, counter: Any = None) -> None:
        self.copy, self.counter, self.pending = copy, counter, memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            data = self.copy.read()
            if not data:
                return 0
            self.pending = memoryview(data)
            if self.counter is not None:
                self.counter.bytes_read += len(data)
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        return count


def arrow_chunks(
    cursor: Any, statement: Any, names: list[str], chunk_rows: int, counter: Any = None
) -> Iterator[Any]:
    """Arrow tables of ``chunk_rows`` rows (at least one, maybe empty) of text columns."""
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    with cursor.copy(statement) as copy:
        stream = io.BufferedReader(CopyStream(copy, counter), buffer_size=1 << 20)
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
