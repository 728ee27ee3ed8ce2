"""`leadops serve` on a real Prefect server: deployments, a manual run, a drift-triggered run.

Real processes on loopback, started and stopped by the test: `leadops serve` (which
starts `prefect server start` and serves every deployment), the `prefect` CLI and
`leadops train --via-server` as a person would run them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.servers.servers import free_port
from leadops.inputs.contract import load_contract
from leadops.storage.local import open_lake
from tests.support.gold import as_of_after, write_gold
from tests.support.prefect_api import deployments, flow_runs, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This machine's environment minus any Prefect/LeadOps settings the test session set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADOPS_"))}
    return {
        **env,
        "LEADOPS_HOME": str(home),
        "LEADOPS_TRIALS": "2",
        "LEADOPS_GATE_BOOTSTRAP_SAMPLES": "1000",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@pytest.fixture
def served(settings, tmp_path: Path):
    """A lake with matured gold leads, and `leadops serve` running on it."""
    frame = write_gold(open_lake(settings), weeks=8, leads_per_week=300)
    as_of = as_of_after(frame, load_contract(settings.contract_path)).isoformat()
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = clean_env(settings.home)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "serve", "--port", str(port), "--no-mlflow"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        found = wait_for(
            "6 deployments on the served API",
            lambda: len(deployments(api)) == 6 and deployments(api),
            timeout=240,
            every=2,
        )
        yield {
            "api": api,
            "deployments": {d["name"]: d for d in found},
            "env": {**env, "PREFECT_API_URL": api},
            "as_of": as_of,
            "proc": proc,
            "port": port,
            "log": log_path,
        }
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


def listeners(port: int) -> list[str]:
    """Who listens on ``port`` (for the failure message)."""
    import psutil

    found = []
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            try:
                found.append(" ".join(psutil.Process(conn.pid).cmdline()[:4]))
            except (psutil.Error, TypeError):
                found.append(f"pid {conn.pid}")
    return found


def completed_run(api: str, deployment_id: str, want: dict, timeout: float = 300) -> dict:
    """The first flow run of the deployment whose parameters include ``want``, once completed."""

    def probe():
        for run in flow_runs(api, deployment_id):
            if want.items() <= run["parameters"].items():
                state = run["state"]["type"] if run["state"] else None
                if state in ("FAILED", "CRASHED", "CANCELLED"):
                    raise AssertionError(
                        f"flow run {run['name']} ended {state}: {run['state'].get('message')}"
                    )
                return run if state == "COMPLETED" else None
        return None

    return wait_for(f"a completed run with {want}", probe, timeout, every=2)


def test_serve_lists_deployments_runs_manual_and_event_triggered_retrains(served) -> None:
    api, env, by_name = served["api"], served["env"], served["deployments"]
    assert set(by_name) == {
        "ingest-landing",
        "ingest-outcomes",
        "score-daily",
        "monitor-daily",
        "rollout-daily",
        "retrain",
    }
    for name, deployment in by_name.items():
        schedules = deployment["schedules"]
        assert schedules and all(s["active"] for s in schedules), name
    retrain = by_name["retrain"]
    assert retrain["parameters"] == {"reason": "schedule"}

    # The scoring API runs beside the Prefect server: it answers, and says why it is not
    # ready (no champion yet in this home).
    [line] = [x for x in served["log"].read_text().splitlines() if x.startswith("Scoring API:")]
    scoring = line.split()[-1].removesuffix("/docs")
    assert httpx.get(f"{scoring}/health", timeout=10).json() == {"status": "ok"}
    ready = httpx.get(f"{scoring}/ready", timeout=10)
    assert ready.status_code == 503 and "champion" in ready.json()["reason"]

    # Manual retrain the two documented ways: the prefect CLI and leadops --via-server.
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "prefect",
            "deployment",
            "run",
            "train/retrain",
            "-p",
            "trials=2",
            "-p",
            f"as_of={served['as_of']}",
            "-p",
            "reason=manual",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    manual = completed_run(api, retrain["id"], {"reason": "manual"})
    via = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli.main",
            "train",
            "--via-server",
            "--trials",
            "2",
            "--as-of",
            served["as_of"],
            "--reason",
            "schedule",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert via.returncode == 0, via.stdout + via.stderr
    started = json.loads(via.stdout.strip().splitlines()[-1])
    assert started["deployment"] == "train/retrain" and started["url"].startswith(
        api.removesuffix("/api")
    )

    # The monitor's event, as it emits it, makes the deployment trigger start train
    # with reason=drift.
    emit = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from datetime import datetime; "
            "from tasks.monitoring.retrain import emit_retrain_requested as e; "
            "print(e('leadops-lead-scorer', 'drift', datetime.fromisoformat(sys.argv[1])))",
            served["as_of"],
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert emit.returncode == 0 and emit.stdout.strip() != "None", emit.stderr
    drift = completed_run(api, retrain["id"], {"reason": "drift"})
    assert drift["id"] != manual["id"]

    # The served runs tracked their trigger in MLflow too.
    from mlflow import MlflowClient

    from leadops.settings import get_settings
    from tasks.training.tracking import EXPERIMENT

    client = MlflowClient(get_settings().tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])
    reasons = sorted(r.data.tags.get("leadops.trigger_reason") for r in runs)
    assert "drift" in reasons and "manual" in reasons

    # Ctrl-C stops the runner and the server it started.
    proc = served["proc"]
    proc.send_signal(signal.SIGINT)
    # It stops in ~2 s; the bound is generous, and passing it shows serve's log (a lost
    # Ctrl-C left serve running with nothing logged: app.servers.serve._stop_on_signals).
    try:
        code = proc.wait(timeout=150)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve still running 150 s after Ctrl-C: {served['log'].read_text()[-2000:]}")
    assert code == 0, served["log"].read_text()[-2000:]
    # Its Prefect server is gone: the port stops answering. Polled, because the kernel
    # may close a dying server's listener a moment after serve's own exit on a loaded
    # machine (a fresh-clone CI run found it still open right after).
    deadline = time.monotonic() + 30
    while accepts(served["port"]) and time.monotonic() < deadline:
        time.sleep(1)
    assert not accepts(served["port"]), f"still listening: {listeners(served['port'])}"
    assert "stopped the Prefect server" in served["log"].read_text()


def test_serve_refuses_to_expose_the_api_without_auth(settings) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "serve", "--host", "0.0.0.0"],
        env=clean_env(settings.home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().endswith("(clients set PREFECT_API_AUTH_STRING)")
    assert (
        "PREFECT_SERVER_API_AUTH_STRING" in done.stderr
        and len(done.stderr.strip().splitlines()) == 1
    )
