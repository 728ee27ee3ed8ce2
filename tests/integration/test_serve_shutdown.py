"""`leadops serve` leaves no process behind on SIGTERM, during its start-up or after it.

The test runs `leadops serve` (Prefect server + MLflow UI + the deployments' runner),
records every descendant process it has while running (psutil), sends SIGTERM, and
checks that none of them is still alive once serve has exited. MLflow's server starts
job-consumer processes of its own, which once outlived a serve stopped during start-up.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port
from tests.integration.test_serve import clean_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def watch_then_terminate(
    proc: subprocess.Popen,
    ready: Callable[[list[psutil.Process]], bool],
    timeout: float = 240,
    log_tail: Callable[[], str] = lambda: "",
) -> dict[int, psutil.Process]:
    """Poll ``proc``'s descendants until ``ready(descendants)``; SIGTERM it; keep recording
    descendants until it exits. Returns every descendant seen (by pid)."""
    seen: dict[int, psutil.Process] = {}
    parent = psutil.Process(proc.pid)

    def record() -> list[psutil.Process]:
        try:
            found = parent.children(recursive=True)
        except psutil.Error:
            return []
        for child in found:
            seen.setdefault(child.pid, child)
        return found

    deadline = time.monotonic() + timeout
    while not ready(record()):
        assert proc.poll() is None, f"serve exited early with {proc.returncode}"
        assert time.monotonic() < deadline, "serve never reached the point to stop it at"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 90
    while proc.poll() is None:
        alive = record()
        # What is still up, and serve's own log (beside its stdout), say where it hangs.
        assert time.monotonic() < deadline, (
            f"serve did not exit within 90 s of SIGTERM; still up: {survivors(seen)}; "
            f"descendants: {len(alive)}; serve log: {log_tail()}"
        )
        time.sleep(0.2)
    return seen


def survivors(seen: dict[int, psutil.Process]) -> list[str]:
    alive = []
    for process in seen.values():
        try:  # is_running compares the start time, so a reused pid is not a survivor
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{process.pid} {' '.join(process.cmdline())[:160]}")
        except psutil.Error:
            continue
    return alive


def start_serve(home: Path, log_path: Path) -> subprocess.Popen:
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "serve", "--port", str(free_port())],
            env=clean_env(home),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def mlflow_started(descendants: list[psutil.Process]) -> bool:
    """MLflow's server is up far enough to have started processes of its own."""

    def cmd(process: psutil.Process) -> str:
        try:
            return " ".join(process.cmdline())
        except psutil.Error:
            return ""

    mlflow = [p for p in descendants if "mlflow" in cmd(p)]
    return len(mlflow) >= 2


@pytest.mark.parametrize("when", ["during start-up", "after start-up"])
def test_sigterm_stops_every_process_serve_started(tmp_path: Path, when: str) -> None:
    home, log_path = tmp_path / "home", tmp_path / "serve.log"
    proc = start_serve(home, log_path)
    try:
        if when == "during start-up":
            ready = mlflow_started  # the MLflow UI is still coming up; the runner is not there
        else:

            def ready(descendants: list[psutil.Process]) -> bool:
                return "Ctrl-C stops everything" in log_path.read_text()

        seen = watch_then_terminate(
            proc, ready, log_tail=lambda: log_path.read_text(errors="replace")[-3000:]
        )
    finally:
        if proc.poll() is None:
            proc.kill()
    assert seen, "serve started no process at all"
    time.sleep(1)  # let the last ones be reaped
    left = survivors(seen)
    assert not left, (
        f"{len(left)} process(es) outlived serve:\n"
        + "\n".join(left)
        + "\n"
        + log_path.read_text()[-2000:]
    )
