"""The CLI as a separate process: ``--help`` imports none of the heavy libraries.

Only a fresh interpreter shows which modules a command imports; how long ``--help``
takes is a figure printed by bench/bench_cli.py, not asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY = (
    "prefect",
    "mlflow",
    "xgboost",
    "great_expectations",
    "evidently",
    "shap",
    "optuna",
    "boto3",
    "pandas",
)


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; import app.cli.main; "
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "[]"


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert "generate" in result.stdout


def test_status_of_a_local_registry_imports_neither_mlflow_nor_prefect(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADOPS_"))}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "app.cli.main", "status"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**env, "LEADOPS_HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "champion: none" in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert not imported & {"mlflow", "prefect", "pandas", "scipy"}
