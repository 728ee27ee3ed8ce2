"""Another CRM's export, end to end through the CLI with no change inside the project:
`contract init` -> ingest -> train -> score -> monitor, every row accounted for.

The export is built here from the synthetic generator and reshaped the way another
CRM writes it: other column names and order, integer ids, "Won"/"Lost" labels,
epoch-millisecond times, semicolon-delimited technologies, gzipped, one ragged line.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LEADS = {
    "lead_id": "Record Id",
    "created_at": "Created Date",
    "lead_source": "Source",
    "industry": "Vertical",
    "country": "Country",
    "company_size": "Employees",
    "annual_revenue": "Annual Revenue",
    "page_views": "Page Views",
    "email_opens": "Email Opens",
    "form_fills": "Form Fills",
    "webinars_attended": "Webinars",
    "days_since_last_activity": "Days Idle",
    "legacy_lead_score": "Old Score",
    "marketing_opt_in": "Opt In",
    "technographics": "Tech Stack",
    "email": "Email Address",
    "job_title": "Title",
}
OUTCOMES = {"lead_id": "Record Id", "converted": "Stage", "converted_at": "Closed Date"}
RAGGED = "99999999,1767607200000,web"


def epoch_ms(column: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(column, utc=True)
    return (stamps.astype("int64") // 1_000_000).astype(str).where(column.notna(), "")


def other_crm(synthetic: Path, out: Path) -> tuple[Path, Path, int]:
    """The synthetic export reshaped as another CRM writes it; returns files and lead rows."""
    leads = pd.concat(
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((synthetic / "leads").glob("*.csv"))
    )
    outcomes = pd.concat(
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((synthetic / "outcomes").glob("*.csv"))
    )
    for frame in (leads, outcomes):
        frame["lead_id"] = (
            frame["lead_id"].str.lstrip("L").str.replace("-", "").astype(int).astype(str)
        )
    leads["created_at"] = epoch_ms(leads["created_at"])
    leads["technographics"] = leads["technographics"].map(lambda t: ";".join(json.loads(t or "[]")))
    leads["marketing_opt_in"] = leads["marketing_opt_in"].map({"true": "Yes", "false": "No"})
    outcomes["converted"] = outcomes["converted"].map({"true": "Won", "false": "Lost"})
    outcomes["converted_at"] = epoch_ms(outcomes["converted_at"])
    leads = leads.rename(columns=LEADS)[sorted(LEADS.values(), reverse=True)]  # other order
    text = leads.to_csv(index=False, lineterminator="\n") + RAGGED + "\n"
    out.mkdir()
    (out / "leads.csv.gz").write_bytes(gzip.compress(text.encode()))
    (out / "outcomes.csv.gz").write_bytes(
        gzip.compress(outcomes.rename(columns=OUTCOMES).to_csv(index=False).encode())
    )
    return out / "leads.csv.gz", out / "outcomes.csv.gz", len(leads) + 1


def test_another_crm_export_goes_from_sample_to_monitored_scores(tmp_path: Path) -> None:
    project = Path(__file__).resolve().parents[2]
    before = project_files(project)
    # The code under test, run from the user's own folder (tmp_path).
    env = {
        **os.environ,
        "LEADOPS_HOME": str(tmp_path / "home"),
        "LEADOPS_TRIALS": "2",
        "PYTHONPATH": str(project),
    }

    def leadops(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli.main", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert not check or done.returncode == 0, done.stderr[-3000:]
        return done

    leadops(
        "generate", "--out", str(tmp_path / "synthetic"), "--weeks", "8", "--leads-per-week", "400"
    )
    leads, outcomes, lead_rows = other_crm(tmp_path / "synthetic", tmp_path / "export")

    missing = leadops(
        "contract", "init", str(leads), "--out", str(tmp_path / "no" / "c.yaml"), check=False
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    init = leadops("contract", "init", str(leads), str(outcomes), "--out", "contract.yaml")
    assert "entity_id: Record Id" in init.stdout and "label: Stage" in init.stdout
    contract = (tmp_path / "contract.yaml").read_text()
    assert 'positive_values: ["Won"]' in contract and '"Tech Stack", role: multi_valued' in contract
    # This CRM closes a deal within a week: the window is measured from the samples, not
    # left at 30 days (which with an outcome gap would leave 8 weeks nothing to train).
    assert "outcome_window_days: 7" in contract
    assert "outcome_window_days: 7 (99% of " in init.stdout
    env["LEADOPS_CONTRACT_PATH"] = str(tmp_path / "contract.yaml")

    ingested = json.loads(leadops("ingest", str(leads), "--json").stdout.splitlines()[-1])
    assert ingested["rows_in"] == lead_rows
    assert (
        ingested["rows_in"] == ingested["silver"] + ingested["quarantined"] + ingested["duplicates"]
    )
    assert ingested["failed_expectations"].get("line:malformed") == 1
    labelled = json.loads(
        leadops("ingest", str(outcomes), "--kind", "outcomes", "--json").stdout.splitlines()[-1]
    )
    assert labelled["silver"] == labelled["rows_in"] > 0 and labelled["quarantined"] == 0

    trained = json.loads(leadops("train", "--trials", "2", "--json").stdout.splitlines()[-1])
    assert trained["metrics"]["roc_auc"] > 0.6

    scored = json.loads(
        leadops(
            "score", str(leads), "--out", str(tmp_path / "scores.csv"), "--format", "csv", "--json"
        ).stdout.splitlines()[-1]
    )
    assert scored["rows"] + scored["rejected"] == lead_rows
    assert scored["rejected"] >= 1
    assert len(pd.read_csv(tmp_path / "scores.csv")) == scored["rows"]
    assert (tmp_path / "scores.csv").stat().st_mode & 0o044  # group/other may read

    monitored = leadops("monitor", check=False)
    assert monitored.returncode == 0, monitored.stderr[-3000:]
    assert project_files(project) == before  # nothing written inside the project


def project_files(project: Path) -> dict[str, float]:
    return {
        str(p): p.stat().st_mtime
        for folder in ("leadops", "tasks", "flows")
        for p in (project / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
