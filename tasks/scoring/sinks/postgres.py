"""The PostgreSQL sink: each part upserted into the CRM's scores table in one transaction
together with its row in the CRM-side ledger table.

The ledger row (batch_id, part) is the acknowledgement, and it commits atomically with
the scores: a process killed mid-part leaves neither (PostgreSQL rolls the transaction
back), a part whose ledger row exists is skipped, so each part lands exactly once. The
upsert on (id, model_version) keeps a lead's score for a model version once even when
a later batch scores the lead again with the same model (the newest score wins).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from leadops.inputs.db_connect import DatabaseUnavailable, connect, database_error, redacted
from tasks.scoring.sinks.mapping import FIELDS, VALUE_FIELDS, ScoreMapping
from tasks.scoring.sinks.records import Part

TYPES = {
    "id": "text",
    "score": "double precision",
    "tier": "text",
    "reasons": "text",
    "model_version": "text",
    "scored_at": "timestamptz",
    "expected_value": "double precision",
    "predicted_value": "double precision",
    "value_tier": "text",
    "value_model_version": "text",
}
INCOMING = "leadops_incoming"


class PostgresSink:
    """Delivers parts to ``mapping.table``; acknowledgements live in the CRM database."""

    name = "postgres"
    acks_in_target = True  # the lake ledger need not record parts: the CRM ledger does

    def __init__(
        self, url: str, password: SecretStr | None, mapping: ScoreMapping, timeout: int
    ) -> None:
        self.url, self.password, self.mapping, self.timeout = url, password, mapping, timeout
        self.conn: Any = None
        self.value_columns = False  # the scores table has the value columns (this connection)

    @property
    def label(self) -> str:
        return f"postgres sink {redacted(self.url)} table {self.mapping.table}"

    def send(self, part: Part) -> bool:
        """Deliver ``part``; False when the CRM ledger says it was delivered before.

        Raises:
            DatabaseUnavailable: one line (transient when the connection failed or dropped).
        """
        import psycopg

        try:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cursor:
                if not self._claim(cursor, part):
                    return False
                self._upsert(cursor, part)
            return True
        except psycopg.errors.InvalidColumnReference:  # ON CONFLICT found no unique key
            self.close()
            raise DatabaseUnavailable(self._no_unique_key()) from None
        except psycopg.Error as exc:
            self.close()
            raise database_error(self.url, exc) from None

    def _no_unique_key(self) -> str:
        table, cols = self.mapping.table, self.mapping.columns
        key = f"{cols['id']}, {cols['model_version']}"
        return (
            f"table {table} has no unique constraint on ({key}), which the upsert of a lead's "
            f"score per model version needs: CREATE UNIQUE INDEX ON {table} ({key})"
        )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self) -> Any:
        if self.conn is None or self.conn.closed or self.conn.broken:
            secret = self.password.get_secret_value() if self.password else None
            self.conn = connect(self.url, secret, self.timeout, autocommit=True)
            self.value_columns = False
            with self.conn.transaction():
                self._create_tables(self.conn)
        return self.conn

    def _create_tables(self, conn: Any) -> None:
        from psycopg import sql

        cols = self.mapping.columns
        fields = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(cols[f]), sql.SQL(TYPES[f])) for f in FIELDS
        )
        key = sql.SQL(", ").join(sql.Identifier(cols[f]) for f in ("id", "model_version"))
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}, UNIQUE ({}))").format(
                _name(self.mapping.table), fields, key
            )
        )
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (batch_id text, part integer, rows integer, "
                "delivered_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (batch_id, part))"
            ).format(_name(self.mapping.ledger_table))
        )
        conn.execute(
            sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
                sql.Identifier(INCOMING),
                sql.SQL(", ").join(sql.SQL(f"{f} {TYPES[f]}") for f in FIELDS + VALUE_FIELDS),
            )
        )

    def _claim(self, cursor: Any, part: Part) -> bool:
        """Insert the part's ledger row; a concurrent deliverer of the same part waits on
        the primary key and then finds it taken."""
        from psycopg import sql

        cursor.execute(
            sql.SQL(
                "INSERT INTO {} (batch_id, part, rows) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
            ).format(_name(self.mapping.ledger_table)),
            [part.batch_id, part.number, part.rows.num_rows],
        )
        return cursor.rowcount == 1

    def _add_value_columns(self, cursor: Any) -> None:
        """A table made before a deal-value champion served gains its columns (nullable:
        its older rows and batches scored without one keep nulls)."""
        from psycopg import sql

        for field in VALUE_FIELDS:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    _name(self.mapping.table),
                    sql.Identifier(self.mapping.columns[field]),
                    sql.SQL(TYPES[field]),
                )
            )
        self.value_columns = True

    def _upsert(self, cursor: Any, part: Part) -> None:
        from psycopg import sql

        names = part.rows.schema.names
        fields = FIELDS + tuple(f for f in VALUE_FIELDS if f in names)
        if len(fields) > len(FIELDS) and not self.value_columns:
            self._add_value_columns(cursor)
        incoming = sql.SQL(", ").join(sql.Identifier(f) for f in fields)
        copy_into = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(INCOMING), incoming)
        with cursor.copy(copy_into) as copy:
            for row in zip(*(part.rows.column(f).to_pylist() for f in fields), strict=True):
                copy.write_row(row)
        cols = self.mapping.columns
        key = sql.SQL(", ").join(sql.Identifier(cols[f]) for f in ("id", "model_version"))
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = excluded.{0}").format(sql.Identifier(cols[f]))
            for f in fields
            if f not in ("id", "model_version")
        )
        cursor.execute(
            sql.SQL(
                "INSERT INTO {t} ({c}) SELECT {f} FROM {i} ON CONFLICT ({k}) DO UPDATE SET {u}"
            ).format(
                t=_name(self.mapping.table),
                c=sql.SQL(", ").join(sql.Identifier(cols[f]) for f in fields),
                f=incoming,
                i=sql.Identifier(INCOMING),
                k=key,
                u=updates,
            )
        )


def _name(qualified: str) -> Any:
    from psycopg import sql

    return sql.Identifier(*qualified.split("."))
