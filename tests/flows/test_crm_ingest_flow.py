"""`leadops ingest postgresql://...` through the real ingest flow: leads and outcomes from
the CRM's tables, and the password in no output, log, flow-run parameter, artifact or file."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadops.settings import BUNDLED_CONTRACT, get_settings
from leadops.storage.local import open_lake
from tests.support.artifacts import read_artifacts
from tests.support.crm import create_leads_table, put_leads
from tests.support.ingest import silver
from tests.support.postgres import Unavailable, postgres

PASSWORD = "crm-flow-canary-77e2"
T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def crm_url():
    try:
        with postgres(("crm",), password=PASSWORD) as urls:
            yield urls["crm"]
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")


def test_cli_ingests_leads_and_outcomes_from_the_crm_and_never_shows_the_password(
    home: Path, crm_url: str, monkeypatch: pytest.MonkeyPatch, caplog, tmp_path: Path
) -> None:
    import psycopg

    from app.cli.main import app

    monkeypatch.setenv("PGPASSWORD", PASSWORD)  # the test's own writes only
    create_leads_table(crm_url)
    put_leads(crm_url, [{"lead_id": "L1"}, {"lead_id": "L2"}], T0)
    with psycopg.connect(crm_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS deals")
        conn.execute(
            "CREATE TABLE deals (lead_id text, converted text, converted_at timestamptz, "
            "updated_at timestamptz)"
        )
        conn.execute("INSERT INTO deals VALUES ('L1', 'yes', %s, %s)", [T0 + timedelta(days=2), T0])
    monkeypatch.delenv("PGPASSWORD")
    contract = tmp_path / "crm.yaml"
    contract.write_text(BUNDLED_CONTRACT.read_text() + "updated_at: updated_at\n")
    monkeypatch.setenv("LEADOPS_CONTRACT_PATH", str(contract))
    monkeypatch.setenv("LEADOPS_CRM_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    caplog.set_level(logging.DEBUG)

    runner, as_of = CliRunner(), ["--as-of", "2026-03-01"]
    leads = runner.invoke(app, ["ingest", crm_url, "--json", *as_of])
    outcomes = runner.invoke(
        app, ["ingest", f"{crm_url}#deals", "--kind", "outcomes", "--json", *as_of]
    )
    assert leads.exit_code == outcomes.exit_code == 0, leads.output + outcomes.output
    assert json.loads(leads.output.splitlines()[-1])["silver"] == 2
    lake = open_lake(get_settings())
    assert bool(silver(lake, "outcomes").loc["L1", "converted"]) is True

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:  # the raw route: read_flow_runs sends nulls
        runs = client.request(
            "POST", "/flow_runs/filter", json={"limit": 50, "offset": 0, "sort": "ID_DESC"}
        ).json()
    seen = {
        "cli": leads.output + outcomes.output,
        "logs": caplog.text,
        "parameters": json.dumps([run["parameters"] for run in runs]),
        "artifacts": json.dumps(read_artifacts(limit=50)),
    }
    seen.update(
        {str(p): p.read_bytes().decode("utf-8", "replace") for p in home.rglob("*") if p.is_file()}
    )
    assert crm_url in seen["parameters"]  # the runs are the ones looked at
    assert [place for place, text in seen.items() if PASSWORD in text] == []
