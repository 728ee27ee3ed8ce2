"""The home's Prefect server as users meet it: started once, reused, shown in its UI, stopped.

Real `leadops` processes on a fresh LEADOPS_HOME: two commands starting at once start one
server; a flow command reports its run to it and fails in one last line; a server that
died is replaced; `leadops server stop` stops it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration


def leadops(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADOPS_"))}
    return subprocess.run(
        [sys.executable, "-m", "leadops.app.cli", *args],
        env={**env, "LEADOPS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def flow_run_names(api_url: str) -> list[str]:
    request = urllib.request.Request(
        f"{api_url}/flow_runs/filter",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return [run["flow_id"] for run in json.load(response)]


def test_one_server_per_home_reused_replaced_when_dead_and_stopped(home: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        starts = list(pool.map(lambda _: leadops(home, "server", "start", "--json"), range(2)))
    for done in starts:
        assert done.returncode == 0, done.stderr
    first, second = (json.loads(done.stdout.splitlines()[-1]) for done in starts)
    assert first["pid"] == second["pid"]  # the lock: one of them started it, the other reused it
    assert sorted([first["started"], second["started"]]) == [False, True]

    failed = leadops(home, "reject")  # a flow command with nothing to reject
    assert failed.returncode == 1
    lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert lines[-1] == "leadops: error: model leadops-lead-scorer: no challenger to reject"
    assert sum("no challenger to reject" in line for line in lines) == 1, failed.stderr
    assert flow_run_names(first["api_url"]), "the CLI's flow run is not on the home's server"

    os.kill(first["pid"], signal.SIGKILL)  # the server dies under the home
    psutil.Process(first["pid"]).wait(timeout=30) if psutil.pid_exists(first["pid"]) else None
    status = json.loads(leadops(home, "server", "status", "--json").stdout.splitlines()[-1])
    assert status["running"] is False
    again = json.loads(leadops(home, "server", "start", "--json").stdout.splitlines()[-1])
    assert again["started"] is True and again["pid"] != first["pid"]
    # The runs live in the home's database, not in the process: the new server shows them.
    assert flow_run_names(again["api_url"])

    stopped = json.loads(leadops(home, "server", "stop", "--json").stdout.splitlines()[-1])
    assert stopped == {"home": str(home.resolve()), "stopped": True, "pid": again["pid"]}
    assert (
        not psutil.pid_exists(again["pid"])
        or psutil.Process(again["pid"]).status() == psutil.STATUS_ZOMBIE
    )
    assert json.loads(leadops(home, "server", "status", "--json").stdout)["running"] is False
