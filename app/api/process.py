"""Running the service: ``leadops api`` in the foreground, or as a child of ``leadops serve``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from app.api.security import check_exposure, parse_keys
from leadops.settings import Settings

APP_FACTORY = "app.api.app:create_app"


def run_api(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve until SIGTERM or Ctrl-C; uvicorn then finishes in-flight requests and the
    app flushes its prediction-log buffer before the process exits."""
    check_exposure(host, parse_keys(settings.api_keys.get_secret_value()))
    # Each worker scores on one core (see serving.py); set before xgboost is imported.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import uvicorn

    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=os.environ.get("LEADOPS_LOG_LEVEL", "info").lower(),
        timeout_graceful_shutdown=30,
    )


@contextmanager
def api_server(
    settings: Settings, host: str = "127.0.0.1", port: int | None = None, timeout: float = 120
) -> Iterator[str]:
    """``leadops api`` as a child process (stopped on exit); yields its URL."""
    from app.servers.servers import _running, free_port

    check_exposure(host, parse_keys(settings.api_keys.get_secret_value()))
    port = port or free_port(host)
    cmd = [sys.executable, "-m", "app.cli.main", "api", "--host", host, "--port", str(port)]
    url = f"http://{host}:{port}"
    with _running(
        cmd,
        dict(os.environ),
        settings.home / "logs" / "api.log",
        f"{url}/health",
        "scoring API",
        timeout,
    ):
        yield url
