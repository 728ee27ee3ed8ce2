"""A CRM's PostgreSQL table (or query) as a source of raw chunks, read incrementally.

Each pull takes the rows whose watermark column (the contract's ``updated_at``) is at
or after the last committed watermark minus a small overlap, and at or before the
highest value this pull saw. Both bounds come from one REPEATABLE READ snapshot, so
the new watermark is exactly the newest row read. The overlap re-reads rows whose
transaction committed after the last pull had read past their timestamp (a late
commit) and rows tied on the watermark; silver counts the re-read ones as duplicates.

Rows travel by ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` through psycopg 3 into
Arrow's streaming CSV reader: the server's bulk path, no per-row Python object, and
values arrive as text, which is what bronze keeps. The password never sits in a
source's URL (that would reach Prefect parameters and logs): it comes from
``LEADOPS_CRM_PASSWORD`` (a SecretStr) or libpq's own PGPASSWORD / ~/.pgpass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import SecretStr

from leadops.errors import LeadOpsError, one_line
from leadops.inputs.db_connect import connect, database_error, redacted

if TYPE_CHECKING:
    import pandas as pd
    import psycopg
    from psycopg import sql

    from leadops.inputs.contract import Contract
    from leadops.settings import Settings


SCHEMES = ("postgresql://", "postgres://")


def is_database_url(source: str) -> bool:
    return source.startswith(SCHEMES)


def crm_tables(settings: Settings) -> dict[str, str]:
    """The CRM table (or query) of each kind, from the settings."""
    return {"leads": settings.crm_leads_table, "outcomes": settings.crm_outcomes_table}


def database_source(url: str, kind: str, tables: dict[str, str]) -> DatabaseSource:
    """SOURCE ``postgresql://user@host/db`` (``#schema.table`` picks the table) as a source of
    ``kind``; without a fragment, ``tables[kind]`` (LEADOPS_CRM_LEADS_TABLE / ..._OUTCOMES_TABLE).
    """
    base, _, fragment = url.partition("#")
    return DatabaseSource.parse(base, fragment or tables[kind])


def watermark_column(contract: Contract, source: DatabaseSource) -> str:
    """The contract's updated_at column, which a database source reads by.

    Raises:
        LeadOpsError: the contract names none (one line saying what to add).
    """
    if not contract.updated_at:
        raise LeadOpsError(
            f"{source.name}: contract {contract.name!r} names no updated_at column; a database "
            "source reads the rows changed since its last run by it (add `updated_at: <column>`)"
        )
    return contract.updated_at


@dataclass(frozen=True)
class DatabaseSource:
    """A table (``schema.table``) or a SELECT query in a CRM database; plain data, no secret."""

    url: str
    relation: str

    @classmethod
    def parse(cls, url: str, relation: str) -> DatabaseSource:
        """Raises LeadOpsError when the URL holds a password (say where to put it instead)."""
        if urlsplit(url).password is not None:
            raise LeadOpsError(
                f"{redacted(url)}: the URL holds a password, which would be shown in Prefect "
                "parameters and logs; set LEADOPS_CRM_PASSWORD (or PGPASSWORD / ~/.pgpass)"
            )
        if not relation.strip():
            raise LeadOpsError(f"{url}: no table or query named")
        return cls(url, relation.strip())

    @property
    def is_query(self) -> bool:
        return self.relation.lower().startswith(("select ", "with ", "select\n", "with\n"))

    @property
    def name(self) -> str:
        what = "query" if self.is_query else self.relation
        return f"{self.url} {what}"

    @property
    def uri(self) -> str:
        """The source's identity in lineage and the watermark table."""
        if self.is_query:
            return f"{self.url}#query-{hashlib.sha256(self.relation.encode()).hexdigest()[:12]}"
        return f"{self.url}#{self.relation}"


@dataclass
class ChangePull:
    """One incremental read: what it covered, and its rows as raw text chunks."""

    source: DatabaseSource
    column: str
    since: datetime | None  # the committed watermark this pull starts from (None: first pull)
    overlap: timedelta
    password: SecretStr | None = field(default=None, repr=False)
    connect_timeout: int = 10
    high: datetime | None = None  # the newest watermark value read (known once chunks start)
    bytes_read: int = 0

    @property
    def pull_id(self) -> str:
        """Stands in for a file checksum in bronze lineage: source + lower bound."""
        return hashlib.sha256(f"{self.source.uri}|{self.since}".encode()).hexdigest()

    def chunks(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        """Raw chunks (strings, nulls as None) indexed by 1-based row number; the first may
        be empty (no changed rows: its columns still tell the loader what the table has).

        Raises:
            LeadOpsError: cannot connect, the relation or column is unknown, or the
                connection dropped mid-read (the caller's transaction then undoes the run).
        """
        from psycopg import Error

        try:
            password = self.password.get_secret_value() if self.password else None
            with connect(self.source.url, password, self.connect_timeout) as conn:
                yield from self._read(conn, chunk_rows)
        except Error as exc:
            raise database_error(self.source.url, exc) from None
        except ValueError as exc:  # Arrow's CSV errors (a row longer than a parse block)
            raise LeadOpsError(f"{self.source.name}: unreadable rows ({one_line(exc)})") from exc

    def _read(self, conn: psycopg.Connection, chunk_rows: int) -> Iterator[pd.DataFrame]:
        import pandas as pd
        from psycopg import IsolationLevel

        from leadops.inputs.db_copy import arrow_chunks

        # REPEATABLE READ: the max and the COPY see one snapshot, so nothing slips between.
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            relation, lower = self._relation(), self._lower()
            names = _column_names(cursor, relation)
            if self.column not in names:
                raise LeadOpsError(
                    f"{self.source.name}: no column {self.column!r} (the contract's updated_at)"
                )
            self.high = _newest(cursor, relation, self.column, lower)
            copy_sql = _copy_statement(relation, self.column, lower, self.high)
            row = 0
            for table in arrow_chunks(cursor, copy_sql, names, chunk_rows, self):
                chunk = table.to_pandas(types_mapper=pd.ArrowDtype)
                chunk.index = pd.RangeIndex(row + 1, row + 1 + len(chunk), name="row")
                row += len(chunk)
                yield chunk

    def _lower(self) -> datetime | None:
        return None if self.since is None else self.since - self.overlap

    def _relation(self) -> sql.Composable:
        from psycopg import sql

        if self.source.is_query:
            return sql.SQL("({}) AS crm_source").format(sql.SQL(self.source.relation))
        return sql.Identifier(*self.source.relation.split("."))


def _column_names(cursor: psycopg.Cursor, relation: sql.Composable) -> list[str]:
    from psycopg import sql

    cursor.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(relation))
    return [column.name for column in cursor.description or []]


def _newest(
    cursor: psycopg.Cursor, relation: sql.Composable, column: str, lower: datetime | None
) -> datetime | None:
    from psycopg import sql

    where = sql.SQL("WHERE {c} >= %s" if lower is not None else "").format(c=sql.Identifier(column))
    query = sql.SQL("SELECT max({c}) FROM {r} {w}").format(
        c=sql.Identifier(column), r=relation, w=where
    )
    row = cursor.execute(query, [lower] if lower is not None else []).fetchone()
    return row[0] if row else None


def _copy_statement(
    relation: sql.Composable, column: str, lower: datetime | None, high: datetime | None
) -> sql.Composed:
    from psycopg import sql

    bounds = sql.SQL("{c} >= {lo} AND {c} <= {hi}" if lower is not None else "{c} <= {hi}")
    where = bounds.format(c=sql.Identifier(column), lo=sql.Literal(lower), hi=sql.Literal(high))
    if high is None:
        where = sql.SQL("false").format()
    # No ORDER BY: a table holds each id once, and a server-side sort cost a third of the
    # pull (measured, bench/bench_crm.py). A query that can return an id twice orders itself:
    # the later row wins in silver, as in a file.
    return sql.SQL("COPY (SELECT * FROM {r} WHERE {w}) TO STDOUT (FORMAT csv, HEADER true)").format(
        r=relation, w=where
    )
