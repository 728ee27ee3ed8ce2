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
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration


def leadops(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADOPS_"))}
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", *args],
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


def test_a_home_server_says_it_started_and_stops_by_itself_when_idle(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every home kept its server (~280 MB) forever; the first command started it silently."""
    monkeypatch.setenv("LEADOPS_PREFECT_SERVER_IDLE_MINUTES", "0.1")  # 6 s

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        return subprocess.run(
            [sys.executable, "-m", "app.cli.main", *args],
            env={**env, "LEADOPS_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    first = run("reject")  # a flow command: it needs the server
    started = [line for line in first.stderr.splitlines() if "Prefect server at" in line]
    assert len(started) == 1 and "stops after 0.1 min idle" in started[0], first.stderr
    listed = json.loads(run("server", "list", "--json").stdout.splitlines()[-1])["servers"]
    assert [s["home"] for s in listed] == [str(home.resolve())]
    assert listed[0]["memory_mb"] > 50 and listed[0]["ui_url"] in started[0]

    deadline = time.monotonic() + 90
    while psutil.pid_exists(listed[0]["pid"]) and time.monotonic() < deadline:
        time.sleep(1)
    gone = not psutil.pid_exists(listed[0]["pid"]) or (
        psutil.Process(listed[0]["pid"]).status() == psutil.STATUS_ZOMBIE
    )
    assert gone, (home / "logs" / "prefect-server-idle.log").read_text()
    assert json.loads(run("server", "status", "--json").stdout)["running"] is False
    assert json.loads(run("server", "list", "--json").stdout.splitlines()[-1])["servers"] == []
