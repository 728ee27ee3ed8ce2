"""Shared helpers for the ingest tests: valid lead rows, CSV writing, a lake and a runner.

No tests here; the ``lake`` and ``ingest`` fixtures are in tests/support/fixtures.py.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from leadops.inputs.contract import load_contract
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage import tables
from leadops.storage.lake import Lake

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
CONTRACT = load_contract(BUNDLED_CONTRACT)


def lead(lead_id: str = "L1", **overrides: Any) -> dict[str, Any]:
    """One valid lead row as a CRM export would hold it."""
    row = {
        "lead_id": lead_id,
        "created_at": "2026-01-05T10:00:00",
        "lead_source": "web",
        "industry": "software",
        "country": "US",
        "company_size": "50",
        "annual_revenue": "1000000",
        "page_views": "3",
        "email_opens": "2",
        "form_fills": "1",
        "webinars_attended": "0",
        "days_since_last_activity": "4",
        "legacy_lead_score": "40",
        "marketing_opt_in": "true",
        "technographics": '["Salesforce","Slack"]',
        "email": "anna@acme.com",
        "job_title": "VP of Sales",
    }
    return {**row, **overrides}


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def silver(lake: Lake, kind: str = "leads") -> pd.DataFrame:
    return lake.read_table(tables.silver(kind)).set_index("lead_id")
