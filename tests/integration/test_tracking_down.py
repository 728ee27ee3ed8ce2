"""A train run against an MLflow tracking server that does not answer stops in one line,
before any search starts (a whole `leadops train` process)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.servers.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_train_against_a_down_server_stops_before_any_work(settings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADOPS_"))}
    env.update(
        LEADOPS_HOME=str(settings.home),
        LEADOPS_MLFLOW_TRACKING_URI=f"http://127.0.0.1:{free_port()}",
    )
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "train", "--trials", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("leadops: error")]
    assert errors, done.stderr
    assert "MLflow tracking server http://127.0.0.1:" in errors[-1] and "unreachable" in errors[-1]
    assert not (settings.home / "optuna").exists()  # no search was started
