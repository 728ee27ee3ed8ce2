"""The demo against a CRM's PostgreSQL (LEADOPS_CRM_DATABASE_URL set): each simulated week's
leads and outcomes are written into CRM tables instead of a landing folder, the flows
ingest them from the database by its watermark, and every score run upserts its scores
into the CRM's ``lead_scores`` table (a mapping file the demo writes, unless one is set).

The tables hold the export's columns as text plus ``updated_at`` (the week's end, as a
CRM stamps a change): the flows see exactly what a CRM database would give them. A row a
database could not hold (a ragged CSV line, a second row for an id) is left out.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from leadops.inputs.db_connect import connect
from leadops.settings import Settings

TABLES = {"leads": "leadops_demo_leads", "outcomes": "leadops_demo_outcomes"}
SCORES_TABLE = "leadops_demo_scores"


def crm_settings(settings: Settings) -> Settings:
    """``settings`` with a contract that names ``updated_at``, the demo's tables and, unless
    set, a mapping file for the scores table (both written under the home)."""
    contract = settings.home / "crm-contract.yaml"
    contract.parent.mkdir(parents=True, exist_ok=True)
    contract.write_text(settings.contract_path.read_text() + "updated_at: updated_at\n")
    update = {
        "contract_path": contract,
        "crm_leads_table": TABLES["leads"],
        "crm_outcomes_table": TABLES["outcomes"],
    }
    if settings.crm_scores_mapping is None:
        mapping = settings.home / "crm-scores.yaml"
        mapping.write_text(f"table: {SCORES_TABLE}\n")
        update["crm_scores_mapping"] = mapping
    return settings.model_copy(update=update)


def land_week_in_crm(settings: Settings, export: Path, week: int, changed_at: datetime) -> None:
    """Write week ``week``'s lead and outcome rows into the CRM tables, stamped ``changed_at``."""
    from psycopg import sql

    password = settings.crm_password.get_secret_value() if settings.crm_password else None
    with connect(settings.crm_database_url, password, settings.crm_connect_timeout_seconds) as conn:
        for kind, table in TABLES.items():
            path = export / kind / f"{kind}_week_{week:02d}.csv"
            if not path.exists():
                continue
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                rows = [row for row in reader if len(row) == len(header)]
            # Changes spread over the week up to its end, as a CRM stamps them: only the
            # week's last few rows fall inside the next pull's overlap and are read twice.
            step = timedelta(days=7) / max(len(rows), 1)
            rows = [[*row, changed_at - (len(rows) - i) * step] for i, row in enumerate(rows)]
            names = [*header, "updated_at"]
            columns = sql.SQL(", ").join(
                sql.SQL("{} text").format(sql.Identifier(n)) for n in header[1:]
            )
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ({} text PRIMARY KEY, {}, "
                    "updated_at timestamptz NOT NULL)"
                ).format(sql.Identifier(table), sql.Identifier(header[0]), columns)
            )
            insert = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", ").join(sql.Placeholder() * len(names)),
            )
            with conn.cursor() as cursor:
                cursor.executemany(insert, [[v if v != "" else None for v in r] for r in rows])
