"""The CLI starts fast and fails in one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

LEADOPS = [sys.executable, "-m", "leadops.app.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEADOPS, *args], capture_output=True, text=True, env=env, timeout=120)


def test_help_is_fast_and_lists_commands() -> None:
    run("--help")  # warm the bytecode cache; a user's second call is what we measure
    started = time.perf_counter()
    result = run("--help")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0
    assert "generate" in result.stdout
    assert elapsed < 1.5, f"leadops --help took {elapsed:.2f} s"


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; import leadops.app.cli; "
        "heavy = [m for m in ('prefect', 'mlflow', 'xgboost', 'great_expectations', 'evidently', "
        "'shap', 'optuna', 'boto3', 'pandas') if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_bad_setting_is_one_line_and_nonzero(tmp_path: Path) -> None:
    env = {**os.environ, "LEADOPS_CAPACITY_FRACTION": "7", "LEADOPS_HOME": str(tmp_path)}
    result = run("generate", "--out", str(tmp_path / "x"), "--weeks", "1", env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("leadops: error:")
    assert "capacity_fraction" in lines[0]


@pytest.mark.parametrize("bad", [["generate", "--scenario", "chaos"], ["generate", "--weeks", "0"]])
def test_bad_option_is_rejected(bad: list[str], tmp_path: Path) -> None:
    result = run(*bad, "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
