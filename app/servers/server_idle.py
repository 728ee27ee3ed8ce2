"""A home's background Prefect server stops by itself once nobody has used it for a while.

Every home used to keep its server (~280 MB) forever: after a few trials a machine held 16
of them. Now a small watchdog process starts beside each home server and stops it when, for
``LEADOPS_PREFECT_SERVER_IDLE_MINUTES``, no ``leadops`` command was connected to it (each
registers its PID while it runs), no flow run was running, pending or paused on it, and no
command ended. The next flow command starts the server again; its runs stay in its database.

Servers are also listed per user (``leadops server list``): each start writes a small record
under ``$XDG_STATE_HOME/leadops/servers`` naming the home, so a server of a home you forgot is
found and stopped.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from app.servers.server_use import (
    idle_for,
    last_activity,
    live_clients,
    memory_mb,
    touch_activity,
    user_registry,
)


@dataclass(frozen=True)
class ListedServer:
    """One row of ``leadops server list``."""

    home: str
    pid: int
    ui_url: str
    memory_mb: float
    idle_minutes: float | None  # since the last command ended (None: one is connected now)


def list_servers() -> list[ListedServer]:
    """This user's running home servers, any home; records of stopped ones are removed."""
    from app.servers.home_server import is_alive, prefect_home, read_state
    from leadops.settings import Settings

    found = []
    for path in sorted(user_registry().glob("*.json")):
        try:
            home = Path(json.loads(path.read_text())["home"])
            settings = Settings(home=home)
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        server = read_state(settings)
        if server is None or not is_alive(server):
            path.unlink(missing_ok=True)
            continue
        folder = prefect_home(settings)
        idle = None if live_clients(folder) else (time.time() - last_activity(folder)) / 60
        found.append(
            ListedServer(str(home), server.pid, server.ui_url, memory_mb(server.pid), idle)
        )
    return found


def watch(home: Path, idle_seconds: float) -> None:
    """The watchdog's loop: stop the home's server after ``idle_seconds`` without use."""
    from app.servers.home_server import is_alive, prefect_home, read_state, stop_server
    from leadops.settings import Settings

    settings = Settings(home=home)
    folder = prefect_home(settings)
    watched = read_state(settings)
    touch_activity(folder)
    poll = min(60.0, max(0.5, idle_seconds / 6))
    checked = time.monotonic()

    def still_idle(current: object) -> bool:  # under the home's lock, just before stopping
        return current == watched and idle_for(folder, watched.api_url, time.time()) >= idle_seconds

    # Liveness every second (a stopped server ends the watchdog at once), use every ``poll``.
    while watched is not None and read_state(settings) == watched and is_alive(watched):
        if time.monotonic() - checked >= poll:
            checked = time.monotonic()
            idle = idle_for(folder, watched.api_url, time.time())
            if idle >= idle_seconds and stop_server(settings, only_if=still_idle):
                print(f"stopped the Prefect server (pid {watched.pid}): idle {idle:.0f} s")
                return
        time.sleep(1.0)


if __name__ == "__main__":  # python -m app.servers.server_idle HOME IDLE_SECONDS
    watch(Path(sys.argv[1]), float(sys.argv[2]))
