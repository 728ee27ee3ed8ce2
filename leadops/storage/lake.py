"""The lake: one small interface over a local folder or an S3 prefix.

This module holds the interface; ``leadops.storage.local`` the local folder and the factory,
``leadops.storage.s3`` the S3 prefix.

Every flow reads and writes through a ``Lake``: files (landing data, reports,
manifests) by key, and tables (bronze/silver/gold, quarantine, prediction log)
as Delta tables, whose commits are atomic and versioned. Keys are relative to the
lake root and may never escape it.
"""

from __future__ import annotations

import builtins
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from deltalake import DeltaTable


from leadops.errors import LeadOpsError, one_line

log = logging.getLogger(__name__)


class StorageError(LeadOpsError):
    """A lake operation that failed; the message names the key and the cause."""


# A table with fewer files than this is left alone by ``compact_table``.
COMPACT_MIN_FILES = 32


def safe_key(key: str) -> str:
    """Normalise a lake key, refusing anything that would leave the lake root."""
    path = PurePosixPath(key.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise StorageError(f"lake key {key!r}: must be a relative path inside the lake")
    return str(path)


class Lake(ABC):
    """Files and Delta tables under one root (a folder or s3://bucket/prefix)."""

    root: str

    def uri(self, key: str) -> str:
        return f"{self.root}/{safe_key(key)}"

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Keys of the files under ``prefix``, sorted, relative to the root."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def open_read(self, key: str) -> BinaryIO:
        """A binary stream, so large files are read without loading them whole."""

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None:
        """Write atomically: readers see the old object or the new one, never a part."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Move the local file ``path`` to ``key`` without reading it into memory."""

    @abstractmethod
    def try_create(self, key: str, data: bytes) -> bool:
        """Create ``key`` only if it does not exist; False when it already does."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @property
    @abstractmethod
    def storage_options(self) -> dict[str, str]:
        """Options deltalake needs to reach this root."""

    # -- tables ------------------------------------------------------------
    def table_uri(self, name: str) -> str:
        return self.uri(f"tables/{name}")

    def table_exists(self, name: str) -> bool:
        from deltalake import DeltaTable

        with self.table_errors(name, "open"):
            return DeltaTable.is_deltatable(
                self.table_uri(name), storage_options=self.storage_options
            )

    def table_version(self, name: str) -> int | None:
        """The table's current commit version, or None when it does not exist yet."""
        if not self.table_exists(name):
            return None
        return self._delta(name).version()

    def table_columns(self, name: str) -> builtins.list[str]:
        """The table's column names; none when it does not exist yet."""
        if not self.table_exists(name):
            return []
        with self.table_errors(name, "read"):
            return [field.name for field in self._delta(name).schema().fields]

    def read_table(
        self, name: str, columns: builtins.list[str] | None = None, filters: Any = None
    ) -> pd.DataFrame:
        """The table as a DataFrame; an empty frame when it does not exist yet."""
        import pandas as pd

        if not self.table_exists(name):
            return pd.DataFrame(columns=columns or [])
        dataset = self._delta(name).to_pyarrow_dataset()
        expression = _filter_expression(filters)
        with self.table_errors(name, "read"):
            return dataset.to_table(columns=columns, filter=expression).to_pandas()

    def append_table(self, name: str, frame: pd.DataFrame | pa.Table) -> int:
        """Append rows in one atomic commit; returns the new table version."""
        return self._write(name, frame, mode="append")

    def overwrite_table(self, name: str, frame: pd.DataFrame | pa.Table) -> int:
        """Replace the table's rows in one atomic commit (old versions stay readable)."""
        return self._write(name, frame, mode="overwrite")

    def _write(self, name: str, frame: Any, mode: Literal["append", "overwrite"]) -> int:
        from deltalake import write_deltalake

        with self.table_errors(name, mode):
            write_deltalake(
                self.table_uri(name),
                frame,
                mode=mode,
                schema_mode="merge" if mode == "append" else "overwrite",
                storage_options=self.storage_options,
            )
        return self._delta(name).version()

    def compact_table(
        self, name: str, min_files: int = COMPACT_MIN_FILES
    ) -> tuple[int, int] | None:
        """Merge a table's small files into few (Delta optimize) once it has ``min_files``.

        Appends of a few rows each (the API's flushes, weekly runs) leave one Parquet file
        per commit: 1,751 files for 8.4M prediction-log rows, every read opening each one.
        Files the merge replaces stay until a vacuum older than Delta's 7-day retention, so
        earlier versions remain readable for a week (a batch run's undo restores one).

        Returns:
            (files before, files after), or None when the table is absent or small enough.
        """
        if not self.table_exists(name):
            return None
        table = self._delta(name)
        before = len(table.file_uris())
        if before < min_files:
            return None
        with self.table_errors(name, "compact"):
            table.optimize.compact()
            table.vacuum(dry_run=False)  # only files unreferenced for the full retention
        return before, len(self._delta(name).file_uris())

    def _delta(self, name: str) -> DeltaTable:
        from deltalake import DeltaTable

        with self.table_errors(name, "open"):
            return DeltaTable(self.table_uri(name), storage_options=self.storage_options)

    @contextmanager
    def table_errors(self, name: str, action: str) -> Iterator[None]:
        """A failed table operation (S3 still failing after its retries, a corrupt log)
        becomes one StorageError line naming the table's URI and the cause."""
        try:
            yield
        except LeadOpsError:
            raise
        except Exception as exc:  # deltalake raises several unrelated types
            raise StorageError(
                f"table {name} at {self.table_uri(name)}: {action} failed ({one_line(exc)})"
            ) from exc


def _filter_expression(filters: Any) -> Any:
    """Turn [(column, op, value), ...] into a pyarrow expression (AND of all)."""
    if filters is None or not isinstance(filters, list):
        return filters
    import pyarrow.compute as pc

    ops = {
        "==": lambda f, v: f == v,
        "!=": lambda f, v: f != v,
        "<": lambda f, v: f < v,
        "<=": lambda f, v: f <= v,
        ">": lambda f, v: f > v,
        ">=": lambda f, v: f >= v,
        "in": lambda f, v: f.isin(list(v)),
    }
    import pyarrow as pa

    expression = None
    for column, op, value in filters:
        field = pc.field(column)
        values = list(value) if op == "in" else [value]
        if values and all(isinstance(v, str) for v in values):
            # A Delta merge (deltalake 1.6) writes string columns as string_view; Arrow has
            # no string-vs-string_view kernel for the statistics pruning, so compare as string.
            field = field.cast(pa.string())
        term = ops[op](field, value)
        expression = term if expression is None else expression & term
    return expression
