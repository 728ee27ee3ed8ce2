"""A CRM's own PostgreSQL tables for the database source and sink tests (and the bench).

The leads table is typed as a CRM would type it (integers, numeric, boolean, timestamptz),
with the ``updated_at`` column a CRM keeps up to date on every change.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from tests.support.ingest import CONTRACT, lead

CRM_CONTRACT = dataclasses.replace(CONTRACT, updated_at="updated_at")
TYPES = {
    "created_at": "timestamptz",
    "company_size": "integer",
    "annual_revenue": "numeric",
    "page_views": "integer",
    "email_opens": "integer",
    "form_fills": "integer",
    "webinars_attended": "integer",
    "days_since_last_activity": "integer",
    "legacy_lead_score": "integer",
    "marketing_opt_in": "boolean",
}
COLUMNS = list(lead())


def create_leads_table(url: str, table: str = "leads") -> None:
    import psycopg

    columns = ", ".join(f"{name} {TYPES.get(name, 'text')}" for name in COLUMNS)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(
            f"CREATE TABLE {table} ({columns}, updated_at timestamptz NOT NULL, "
            "PRIMARY KEY (lead_id))"
        )


def put_leads(
    url: str, rows: list[dict[str, Any]], updated_at: datetime, table: str = "leads"
) -> None:
    """Insert or update leads as the CRM would, each stamped ``updated_at``."""
    import psycopg

    names = [*COLUMNS, "updated_at"]
    updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:])
    statement = (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT (lead_id) DO UPDATE SET {updates}"
    )
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.executemany(
            statement, [[*(lead(**row)[n] for n in COLUMNS), updated_at] for row in rows]
        )


def fill_leads(url: str, count: int, updated_at: datetime, table: str = "leads") -> None:
    """``count`` generated leads (ids C1..Cn), written by the server in one statement."""
    import psycopg

    base = lead()
    values = []
    for name in COLUMNS:
        if name == "lead_id":
            values.append("'C' || n")
        elif name == "page_views":
            values.append("n %% 50")
        else:
            values.append(f"%({name})s::{TYPES.get(name, 'text')}")
    statement = (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}, updated_at) "
        f"SELECT {', '.join(values)}, %(updated_at)s FROM generate_series(1, %(count)s) AS n"
    )
    with psycopg.connect(url) as conn:
        conn.execute(statement, {**base, "updated_at": updated_at, "count": count})


def write_scores(
    lake: Any, batch_id: str, count: int, model_version: str = "3", value_version: str | None = None
) -> str:
    """A batch's scores file in the lake as a score run writes it (``<lake>/scores``):
    leads S1..Sn, one score each, with reasons (and, with ``value_version``, the deal-value
    champion's columns: lead Si worth 1,000 x i, expected value score x that); its URI."""
    from datetime import UTC

    import pyarrow as pa
    import pyarrow.parquet as pq

    from tasks.scoring.table import output_schema

    schema = output_schema(CRM_CONTRACT, with_value=value_version is not None)
    rows = {
        "lead_id": [f"S{i}" for i in range(1, count + 1)],
        "score": [round((i % 97) / 97, 4) for i in range(count)],
        "decile": [1 + i % 10 for i in range(count)],
        "tier": ["ABCD"[i % 4] for i in range(count)],
        "model_version": [model_version] * count,
        "arm": ["champion"] * count,
        "reason_1": ["uses Salesforce (+0.41)"] * count,
        "reason_2": ["12 page views (+0.20)"] * count,
        "reason_3": [None] * count,
        "scored_at": [datetime(2026, 3, 2, 6, 0, tzinfo=UTC)] * count,
        "degraded": [None] * count,  # features a lead's checks failed (scored as missing)
    }
    if value_version is not None:
        predicted = [1000.0 * i for i in range(1, count + 1)]
        rows.update(
            predicted_value=predicted,
            expected_value=[s * v for s, v in zip(rows["score"], predicted, strict=True)],
            value_tier=["DCBA"[i % 4] for i in range(count)],
            value_model_version=[value_version] * count,
            **{f"value_reason_{k}": [None] * count for k in (1, 2, 3)},
        )
    path = lake.uri(f"scores/{batch_id}.parquet")
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows, schema=schema), path)
    return path


MAPPING = """\
table: crm_scores
columns:
  id: lead_ref
  score: ai_score
  tier: ai_tier
  reasons: ai_reasons
  model_version: ai_model
  scored_at: ai_scored_at
ledger_table: leadops_deliveries
"""
