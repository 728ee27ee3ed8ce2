"""Who uses a home's Prefect server: connected commands, recent activity, busy flow runs.

The watchdog in ``app.servers.server_idle`` reads these to stop an idle server; the home
server module writes them (each command registers its PID while it runs, and the user's
list of started servers gets a record per home).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import urllib.request
from pathlib import Path

ACTIVITY_FILE = "last-activity"
CLIENTS_DIR = "clients"
# Run states a person or a worker is still waiting on: never stop under them.
BUSY_STATES = ["RUNNING", "PENDING", "PAUSED", "CANCELLING"]


def user_registry() -> Path:
    """Where this user's home servers are recorded (one small JSON file per home)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "leadops" / "servers"


def _registry_file(home: Path) -> Path:
    return user_registry() / f"{hashlib.sha256(str(home).encode()).hexdigest()[:16]}.json"


def record_start(home: Path, pid: int, ui_url: str) -> None:
    """Note a started server in the user's registry (best effort: listing is a convenience)."""
    try:
        path = _registry_file(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"home": str(home), "pid": pid, "ui_url": ui_url}))
    except OSError:
        pass


def memory_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MiB."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for process in tree:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total / 2**20


def register_client(folder: Path) -> None:
    """Mark this process as a user of the home's server until it exits."""
    import psutil

    clients = folder / CLIENTS_DIR
    clients.mkdir(parents=True, exist_ok=True)
    me = psutil.Process(os.getpid())
    path = clients / f"{me.pid}.json"
    path.write_text(json.dumps({"pid": me.pid, "created": me.create_time()}))
    atexit.register(_unregister_client, folder, path)


def _unregister_client(folder: Path, path: Path) -> None:
    path.unlink(missing_ok=True)
    touch_activity(folder)  # the idle clock starts when the last command ends


def touch_activity(folder: Path) -> None:
    with contextlib.suppress(OSError):
        (folder / ACTIVITY_FILE).touch()


def last_activity(folder: Path) -> float:
    try:
        return (folder / ACTIVITY_FILE).stat().st_mtime
    except OSError:
        return 0.0


def live_clients(folder: Path) -> int:
    """Commands registered as connected that still run (a kill -9 leaves a stale file)."""
    import psutil

    alive = 0
    for path in (folder / CLIENTS_DIR).glob("*.json"):
        try:
            record = json.loads(path.read_text())
            if abs(psutil.Process(record["pid"]).create_time() - record["created"]) < 1.0:
                alive += 1
                continue
        except (OSError, ValueError, KeyError, psutil.Error):
            pass
        path.unlink(missing_ok=True)
    return alive


def busy_flow_runs(api_url: str) -> int:
    """Flow runs on the server that are running, pending, paused or cancelling (-1: no answer)."""
    body = json.dumps({"flow_runs": {"state": {"type": {"any_": BUSY_STATES}}}}).encode()
    request = urllib.request.Request(
        f"{api_url}/flow_runs/count",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(json.load(response))
    except (OSError, ValueError):
        return -1


def idle_for(folder: Path, api_url: str, now: float) -> float:
    """Seconds the server has been idle (0 while a command or a flow run uses it)."""
    if live_clients(folder) or busy_flow_runs(api_url) != 0:  # no answer counts as busy
        touch_activity(folder)
        return 0.0
    return max(0.0, now - last_activity(folder))
