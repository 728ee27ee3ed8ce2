"""The one Prefect server of a LEADOPS_HOME: started on first need, kept, reused, stopped on ask.

Starting Prefect's temporary server cost every command ~11 s, and its runs were lost to
the UI. Instead the first command that runs a flow starts ``prefect server start`` in the
background (loopback, its own session, SQLite under ``$LEADOPS_HOME/prefect-server``) and
records its PID and port in ``server.json`` there; later commands, the demo and
``leadops serve`` reuse it, so every run shows in one UI. ``leadops server stop`` stops it.
A lock file makes two commands starting at once start one server; a recorded server that
died (or a PID reused by another process) is detected and a new one started.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from app.servers.servers import _spawn, free_port, prefect_server_env, wait_until_up
from leadops.settings import Settings

PREFERRED_PORT = 4200  # Prefect's usual port, when it is free
STATE_FILE = "server.json"
LOCK_FILE = "server.lock"


@dataclass(frozen=True)
class HomeServer:
    """A running ``prefect server start`` of one home (what ``server.json`` records)."""

    pid: int
    host: str
    port: int
    created: float  # the process's start time: tells a reused PID from ours

    @property
    def api_url(self) -> str:
        client_host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{client_host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")


def prefect_home(settings: Settings) -> Path:
    """The home's one Prefect folder: the server's database and the clients' PREFECT_HOME."""
    return (settings.home / "prefect-server").resolve()


def read_state(settings: Settings) -> HomeServer | None:
    """The server ``server.json`` records, alive or not; None when nothing is recorded."""
    try:
        return HomeServer(**json.loads((prefect_home(settings) / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def is_alive(server: HomeServer) -> bool:
    """The recorded process still runs (and is the one we started, not a reused PID)."""
    import psutil

    try:
        return abs(psutil.Process(server.pid).create_time() - server.created) < 1.0
    except psutil.Error:
        return False


def answers(server: HomeServer, timeout: float = 3.0) -> bool:
    """Its health endpoint answers."""
    try:
        with urllib.request.urlopen(f"{server.api_url}/health", timeout=timeout) as response:
            return response.status < 500
    except OSError:
        return False


def running_server(settings: Settings) -> HomeServer | None:
    """The home's server when it runs and answers; None otherwise."""
    server = read_state(settings)
    return server if server and is_alive(server) and answers(server) else None


@contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """Hold the home's server lock: one command at a time starts or stops the server."""
    folder = prefect_home(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _start(settings: Settings, host: str, port: int | None, timeout: float) -> HomeServer:
    import psutil

    if port is None:
        port = PREFERRED_PORT if _port_free(host, PREFERRED_PORT) else free_port(host)
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    log_path = settings.home / "logs" / "prefect-server.log"
    proc = _spawn(cmd, prefect_server_env(settings, host, port), log_path)
    server = HomeServer(proc.pid, host, port, psutil.Process(proc.pid).create_time())
    try:
        wait_until_up(f"{server.api_url}/health", proc, "prefect server", log_path, timeout)
    except BaseException:
        terminate(server)
        raise
    (prefect_home(settings) / STATE_FILE).write_text(json.dumps(asdict(server)))
    _start_idle_watch(settings)
    from app.servers.server_use import record_start

    record_start(settings.home.resolve(), server.pid, server.ui_url)
    return server


def _start_idle_watch(settings: Settings) -> None:
    """The watchdog that stops this server after LEADOPS_PREFECT_SERVER_IDLE_MINUTES idle."""
    minutes = settings.prefect_server_idle_minutes
    if not minutes:
        return
    home = str(settings.home.resolve())
    cmd = [sys.executable, "-m", "app.servers.server_idle", home, str(minutes * 60)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    _spawn(cmd, env, settings.home / "logs" / "prefect-server-idle.log")


def ensure_server(
    settings: Settings, host: str = "127.0.0.1", port: int | None = None, timeout: float = 180
) -> tuple[HomeServer, bool]:
    """The home's server, started now when none runs; and whether this call started it.

    Raises:
        ServerError: it did not come up within ``timeout`` (the message names its log).
    """
    with _locked(settings):
        server = read_state(settings)
        if server and is_alive(server):
            if answers(server):
                return server, False
            terminate(server)  # alive but deaf: hung, replace it
        return _start(settings, host, port, timeout), True


def stop_server(
    settings: Settings, only_if: Callable[[HomeServer], bool] | None = None
) -> HomeServer | None:
    """Stop the home's server; returns the one stopped (None when none was running).

    ``only_if``: checked under the lock, so a command starting at that moment either sees
    the server stopped (and starts a new one) or keeps it running.
    """
    with _locked(settings):
        server = read_state(settings)
        if server is not None and only_if is not None and not only_if(server):
            return None
        (prefect_home(settings) / STATE_FILE).unlink(missing_ok=True)
        if server is None or not is_alive(server):
            return None
        terminate(server)
        return server


def terminate(server: HomeServer, grace: float = 15) -> None:
    """SIGTERM the server's process group and descendants; SIGKILL what is left after ``grace``."""
    import psutil

    if not is_alive(server):
        return
    try:
        root = psutil.Process(server.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError, PermissionError):  # its own session: group id = PID
            os.killpg(server.pid, signum)
        for process in tree:
            with suppress(psutil.Error):
                process.send_signal(signum)
        _, tree = psutil.wait_procs(tree, timeout=grace)
        if not tree:
            return


def connect(settings: Settings) -> str:
    """Point this process's Prefect client at a server and return its API URL.

    PREFECT_API_URL when set (a team's server, or one a test harness started);
    otherwise the home's own server, started now if none runs.
    """
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    if "prefect" in sys.modules:  # already configured in-process (prefect_test_harness)
        from prefect.settings import get_current_settings

        if get_current_settings().api.url:
            return str(get_current_settings().api.url)
    from app.servers.server_use import register_client

    register_client(prefect_home(settings))  # before the server is reused: no idle stop now
    server, started = ensure_server(settings)
    if started:
        idle = settings.prefect_server_idle_minutes
        sys.stderr.write(
            f"leadops: started this home's Prefect server at {server.ui_url} ("
            + (f"stops after {idle:g} min idle; " if idle else "")
            + "`leadops server stop` stops it now)\n"
        )
    os.environ["PREFECT_API_URL"] = server.api_url
    return server.api_url


@contextmanager
def serving_server(settings: Settings, host: str, port: int | None) -> Iterator[tuple[str, bool]]:
    """The server ``leadops serve`` uses (API URL, whether serve started it):
    PREFECT_API_URL when set, else the home's server.

    A server serve started is stopped when serve stops (Ctrl-C stops everything it started);
    one that already ran for the home's commands is left running.
    """
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"], False
        return
    current = running_server(settings)
    if current and current.host != host:
        from app.servers.servers import ServerError

        raise ServerError(
            f"the Prefect server of {settings.home} listens on {current.host}, not "
            f"{host}; stop it first with `leadops server stop`"
        )
    from app.servers.server_use import register_client

    register_client(prefect_home(settings))  # serve's runner is a client while it runs
    server, started = ensure_server(settings, host, port)
    try:
        yield server.api_url, started
    finally:
        if started:
            stop_server(settings)
