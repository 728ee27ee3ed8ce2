"""Local servers LeadOps starts for a person at a desk: Prefect server and MLflow UI.

Both bind to loopback by default and keep their state under LEADOPS_HOME. Each
is a child process that is stopped when the context exits (Ctrl-C included).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from leadops.errors import LeadOpsError
from leadops.settings import Settings

log = logging.getLogger(__name__)


class ServerError(LeadOpsError):
    """A server that did not come up; the message says which and where its log is."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_until_up(
    url: str, proc: subprocess.Popen, name: str, log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"{name} exited with code {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise ServerError(f"{name} did not answer at {url} within {timeout:.0f} s; see {log_path}")


def _spawn(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handle = log_path.open("ab")
    # Its own session: the server and everything it starts (MLflow's job consumers, uvicorn
    # workers) form one process group we stop together, and a Ctrl-C in the terminal
    # reaches only us, so we stop them in order.
    return subprocess.Popen(
        cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def _stop(proc: subprocess.Popen, grace: float = 15) -> None:
    """Stop ``proc`` and every process it started: its process group, then any descendant
    that left the group. A second SIGTERM or Ctrl-C waits until this is done."""
    import psutil

    blocked = {signal.SIGTERM, signal.SIGINT}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        try:
            tree = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:  # already gone
            tree = []
        _signal_group(proc.pid, signal.SIGTERM)
        for child in tree:
            _quietly(child.terminate)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
        _, alive = psutil.wait_procs(tree, timeout=grace)
        for child in alive:
            _quietly(child.kill)
        _signal_group(proc.pid, signal.SIGKILL)  # anything of the group still there
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _signal_group(pgid: int, signum: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _quietly(action: Callable[[], None]) -> None:
    import psutil

    with suppress(psutil.Error):
        action()


@contextmanager
def _running(
    cmd: list[str], env: dict[str, str], log_path: Path, health_url: str, name: str, timeout: float
) -> Iterator[None]:
    """A child server process, up (its health URL answers) for the body, stopped after it."""
    proc = _spawn(cmd, env, log_path)
    try:
        wait_until_up(health_url, proc, name, log_path, timeout)
        yield
    finally:
        _stop(proc)


def prefect_server_env(settings: Settings, host: str, port: int) -> dict[str, str]:
    """Environment for a Prefect server whose SQLite database lives under home."""
    prefect_home = (settings.home / "prefect-server").resolve()
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}
    env["PREFECT_SERVER_API_HOST"] = host
    env["PREFECT_SERVER_API_PORT"] = str(port)
    env.setdefault(
        "PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}"
    )
    # Alert messages link to flow runs through the server's UI URL.
    env.setdefault(
        "PREFECT_UI_URL", f"http://{socket.getfqdn() if host in ('0.0.0.0', '::') else host}:{port}"
    )
    # Telemetry needs the network, which production hosts may not have.
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return env


@contextmanager
def prefect_server(
    settings: Settings, host: str = "127.0.0.1", port: int | None = None, timeout: float = 180
) -> Iterator[str]:
    """Run ``prefect server start`` and yield its API URL (``http://host:port/api``)."""
    port = port or free_port(host)
    env = prefect_server_env(settings, host, port)
    log_path = settings.home / "logs" / "prefect-server.log"
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    api = f"http://{host}:{port}/api"
    with _running(cmd, env, log_path, f"{api}/health", "prefect server", timeout):
        yield api


@contextmanager
def mlflow_server(
    backend_store_uri: str,
    artifacts: str,
    log_path: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    timeout: float = 90,
    proxied: bool = False,
) -> Iterator[str]:
    """Run ``mlflow server`` and yield its URL.

    Args:
        backend_store_uri: runs and the registry (sqlite:/// or postgresql://).
        artifacts: a folder or s3:// URI.
        proxied: the server stores artifacts itself (``--artifacts-destination``), so
            clients need no bucket credentials; otherwise clients write to ``artifacts``.
    """
    port = port or free_port(host)
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        host,
        "--port",
        str(port),
        "--backend-store-uri",
        backend_store_uri,
        "--workers",
        "1",
        *(
            ["--artifacts-destination", artifacts, "--serve-artifacts"]
            if proxied
            else ["--default-artifact-root", artifacts]
        ),
    ]
    url = f"http://{host}:{port}"
    with _running(cmd, dict(os.environ), log_path, f"{url}/health", "mlflow server", timeout):
        yield url


@contextmanager
def mlflow_ui(
    settings: Settings, host: str = "127.0.0.1", port: int | None = None, timeout: float = 90
) -> Iterator[str]:
    """The MLflow UI over this home's tracking store and artifact root; yields its URL."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with mlflow_server(
        settings.tracking_uri,
        settings.artifact_uri,
        settings.home / "logs" / "mlflow-ui.log",
        host,
        port,
        timeout,
    ) as url:
        yield url
