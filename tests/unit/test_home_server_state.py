"""The home server's record: a dead or reused PID is not taken for the running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil

from app.servers.home_server import HomeServer, is_alive, prefect_home, read_state, running_server
from leadops.settings import Settings


def _record(settings: Settings, server: HomeServer) -> None:
    folder = prefect_home(settings)
    folder.mkdir(parents=True)
    (folder / "server.json").write_text(json.dumps(server.__dict__))


def test_a_pid_reused_by_another_process_is_not_the_server(settings: Settings) -> None:
    me = psutil.Process(os.getpid())
    _record(settings, HomeServer(me.pid, "127.0.0.1", 4200, me.create_time() - 3600))
    assert read_state(settings) is not None
    assert not is_alive(read_state(settings))
    assert running_server(settings) is None


def test_a_live_process_that_does_not_answer_is_not_running(settings: Settings) -> None:
    from app.servers.servers import free_port

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        created = psutil.Process(sleeper.pid).create_time()
        _record(settings, HomeServer(sleeper.pid, "127.0.0.1", free_port(), created))
        assert is_alive(read_state(settings))
        assert running_server(settings) is None  # nothing listens on that port
    finally:
        sleeper.kill()
        sleeper.wait()


def test_no_record_and_a_torn_record_read_as_none(settings: Settings) -> None:
    assert read_state(settings) is None
    prefect_home(settings).mkdir(parents=True)
    (prefect_home(settings) / "server.json").write_text('{"pid": 12')
    assert read_state(settings) is None


def test_clients_of_a_server_bound_to_every_interface_use_loopback() -> None:
    server = HomeServer(1, "0.0.0.0", 4300, 0.0)
    assert server.api_url == "http://127.0.0.1:4300/api"
    assert server.ui_url == "http://127.0.0.1:4300"
