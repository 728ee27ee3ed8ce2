"""A home's Prefect server is idle only when no command, flow run or recent use holds it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from app.servers import server_idle, server_use
from app.servers.home_server import HomeServer, prefect_home
from leadops.settings import Settings


def test_a_connected_command_keeps_the_server_busy_and_its_exit_starts_the_idle_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_use, "busy_flow_runs", lambda api_url: 0)
    folder = tmp_path / "prefect-server"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        clients = folder / server_use.CLIENTS_DIR
        clients.mkdir(parents=True)
        record = {"pid": sleeper.pid, "created": psutil.Process(sleeper.pid).create_time()}
        (clients / f"{sleeper.pid}.json").write_text(json.dumps(record))
        assert server_use.idle_for(folder, "http://x/api", time.time() + 3600) == 0.0
    finally:
        sleeper.kill()
        sleeper.wait()
    # The command is gone (as after kill -9): its stale record no longer holds the server.
    later = time.time() + 3600
    assert server_use.idle_for(folder, "http://x/api", later) >= 3599
    assert not list(clients.iterdir())


def test_a_running_flow_run_or_a_server_that_does_not_answer_is_never_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "prefect-server"
    folder.mkdir()
    for answer in (1, -1):  # one run in progress; no answer at all
        monkeypatch.setattr(server_use, "busy_flow_runs", lambda api_url, n=answer: n)
        assert server_use.idle_for(folder, "http://x/api", time.time() + 3600) == 0.0


def test_server_list_shows_live_servers_of_any_home_and_forgets_stopped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        created = psutil.Process(sleeper.pid).create_time()
        for name, when in (("a", created), ("b", 1.0)):  # b's PID is another process's now
            home = tmp_path / name
            prefect_home(Settings(home=home)).mkdir(parents=True)
            state = HomeServer(sleeper.pid, "127.0.0.1", 4200, when).__dict__
            (prefect_home(Settings(home=home)) / "server.json").write_text(json.dumps(state))
            server_use.record_start(home.resolve(), sleeper.pid, "http://127.0.0.1:4200")
        (listed,) = server_idle.list_servers()
        assert listed.home == str((tmp_path / "a").resolve()) and listed.memory_mb > 1
        assert len(list(server_use.user_registry().glob("*.json"))) == 1
    finally:
        sleeper.kill()
        sleeper.wait()
        for name in ("a", "b"):  # no server record left for the session's clean-up to stop
            (prefect_home(Settings(home=tmp_path / name)) / "server.json").unlink(missing_ok=True)
