"""LeadOps installed with ``pip install .`` (not editable) finds its package data and ingests.

The expectation suites ship as the top-level ``expectations`` package and the bundled
contract inside ``leadops``; every floor (app, flows, stages, core) is a package, so a
non-editable install has all of them. A checkout-relative path would work in the
repository and break once installed.
The dependencies come from the running environment (on PYTHONPATH, after the new
venv), while every LeadOps module comes from the fresh, non-editable install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "leads_sample.csv"
PACKAGING = (
    "pyproject.toml",
    "README.md",
    "leadops",
    "app",
    "tasks",
    "flows",
    "deployments",
    "expectations",
)

SCRIPT = """
import json, sys
from datetime import UTC, datetime

import app.cli.main
import expectations
import flows.monitor
import leadops
import tasks.monitoring.assess
import tasks.rollout.state_machine
from leadops.inputs.contract import load_contract
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.ingest import ingest_files

settings = get_settings()
result = ingest_files(settings, open_lake(settings), load_contract(settings.contract_path),
                      [sys.argv[1]], as_of=datetime(2026, 3, 15, tzinfo=UTC))
print(json.dumps({"leadops": leadops.__file__, "suites": str(expectations.SUITES_DIR),
                  "stages": tasks.monitoring.assess.__file__,
                  "statuses": [f.status for f in result.files],
                  "rows_in": result.total("rows_in"), "silver": result.total("silver")}))
"""


def test_a_non_editable_install_ingests_a_sample_file(tmp_path: Path) -> None:
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path / "src"
    source.mkdir()
    for name in PACKAGING:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr
    shutil.rmtree(source)  # nothing may still point at a checkout

    (tmp_path / "ingest.py").write_text(SCRIPT)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEADOPS_")},
        "LEADOPS_HOME": str(tmp_path / "home"),
        "PYTHONNOUSERSITE": "1",
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
    }
    run = subprocess.run(
        [str(python), str(tmp_path / "ingest.py"), str(SAMPLE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(summary["leadops"]).is_relative_to(venv)
    assert Path(summary["suites"]).is_relative_to(venv)
    assert Path(summary["stages"]).is_relative_to(venv)
    assert summary["statuses"] == ["accepted"]
    assert summary["rows_in"] == summary["silver"] == 15
