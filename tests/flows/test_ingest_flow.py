"""The `ingest` flow for real (Prefect test harness): CLI, artifact, and a lake on S3."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from app.cli.main import app
from app.demo import synthetic
from leadops.settings import get_settings
from leadops.storage import tables
from leadops.storage.local import open_lake
from tests.support.artifacts import latest_artifact

AS_OF = "2026-03-15"


def count_resolutions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SOURCE resolved from now on, wherever ``resolve_sources`` was imported."""
    import flows.ingest  # noqa: F401  (bind every module that imports the function)
    import leadops.inputs.sources
    import tasks.ingest.run  # noqa: F401

    original, calls = leadops.inputs.sources.resolve_sources, []

    def counting(source: str, *args, **kwargs):
        calls.append(source)
        return original(source, *args, **kwargs)

    for module in list(sys.modules.values()):
        if vars(module).get("resolve_sources") is original:
            monkeypatch.setattr(module, "resolve_sources", counting)
    return calls


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """Three weeks of synthetic CRM files (leads/ and outcomes/)."""
    config = synthetic.GeneratorConfig(weeks=3, leads_per_week=120)
    synthetic.write_dataset(config, tmp_path / "crm")
    return tmp_path / "crm"


def test_cli_ingests_reports_json_and_skips_what_it_already_has(
    export: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Import prefect's entry point before CliRunner swaps stderr: prefect configures
    # its console log handler on first import and would bind it to CliRunner's
    # stream, which is closed after invoke.
    import prefect.main  # noqa: F401

    (export / "leads" / "broken.csv").write_bytes(b"")
    runner = CliRunner()
    resolved = count_resolutions(monkeypatch)
    first = runner.invoke(app, ["ingest", str(export / "leads"), "--as-of", AS_OF, "--json"])
    assert first.exit_code == 1  # one file failed; the others went in
    assert resolved == [str(export / "leads")]  # once per run: the CLI's, handed to the flow
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    status = {f["name"]: (f["status"], f["reason"]) for f in summary["files"]}
    assert status["broken.csv"] == ("failed", "broken.csv: empty file (0 bytes)")
    counts = [summary[k] for k in ("rows_in", "silver", "quarantined", "duplicates")]
    assert counts == [360, 360, 0, 0]
    assert "leadops: error: broken.csv: empty file (0 bytes)" in first.stderr

    artifact = latest_artifact("ingest-summary")
    assert "| leads_week_02.csv | accepted | 120 | 120 | 0 | 0 |" in artifact

    (export / "leads" / "broken.csv").unlink()
    again = runner.invoke(app, ["ingest", str(export / "leads"), "--as-of", AS_OF, "--json"])
    assert again.exit_code == 0, again.output
    rerun = json.loads(again.stdout.strip().splitlines()[-1])
    assert {f["status"] for f in rerun["files"]} == {"skipped"} and rerun["rows_in"] == 0
    lake = open_lake(get_settings())
    assert lake.exists(rerun["report"]) and len(lake.read_table(tables.GOLD_LEADS)) == 360


@pytest.mark.integration
@pytest.mark.slow
def test_lake_on_s3_from_a_local_folder_and_an_s3_prefix(
    export: Path, home: Path, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    monkeypatch.setenv("LEADOPS_LAKE_ROOT", f"s3://{s3_bucket}/lake")
    get_settings.cache_clear()
    settings = get_settings()
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
    for path in sorted((export / "outcomes").glob("*.csv")):
        s3.upload_file(str(path), s3_bucket, f"landing/outcomes/{path.name}")
    as_of = datetime(2026, 3, 15, tzinfo=UTC)

    leads = ingest(str(export / "leads"), kind="leads", as_of=as_of)
    resolved = count_resolutions(monkeypatch)
    outcomes = ingest(f"s3://{s3_bucket}/landing/outcomes", kind="outcomes", as_of=as_of)

    assert resolved == [f"s3://{s3_bucket}/landing/outcomes"]  # listed once, by the first task

    assert leads.total("silver") == 360
    assert outcomes.total("silver") == outcomes.total("rows_in") > 0
    landing = f"s3://{s3_bucket}/landing/outcomes/"
    assert all(f.uri.startswith(landing) for f in outcomes.files)
    lake = open_lake(settings)
    assert lake.root == f"s3://{s3_bucket}/lake"
    gold = lake.read_table(tables.GOLD_LEADS)
    assert len(gold) == 360 and gold[settings_label()].notna().sum() == outcomes.total("silver")
    assert lake.exists(outcomes.report_key)


def settings_label() -> str:
    from leadops.inputs.contract import load_contract

    return load_contract(get_settings().contract_path).label
