"""Fixtures shared by every test layer: an isolated LEADOPS_HOME, and a real S3
HTTP endpoint (moto's server mode, a separate process on loopback)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.servers.servers import free_port
from leadops.settings import Settings, get_settings

# Shared fixtures (registry, lake, ingest, search data) are defined once, in tests/support.
pytest_plugins = ["tests.support.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """The user-level list of home servers (leadops server list) goes to a scratch folder,
    not the tester's ~/.local/state; CLI subprocesses inherit it."""
    import tempfile

    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="leadops-test-state-")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh LEADOPS_HOME; nothing a test writes lands in the repository."""
    path = tmp_path / "leadops-home"
    monkeypatch.setenv("LEADOPS_HOME", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()
    # A CLI process the test ran may have started the home's background Prefect server.
    if (path / "prefect-server" / "server.json").exists():
        from app.servers.home_server import stop_server

        stop_server(Settings(home=path))


# The longest test file (the 26-week demo, ~12 min): started first, so that with
# `make test`'s two workers the rest of the suite runs beside it, not after it.
FIRST = "tests/system/test_demo.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(FIRST))  # stable: order kept


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop every home Prefect server a CLI subprocess started under this session's temp
    folders (tests with their own home, such as the demo's, not only the ``home`` fixture)."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    from app.servers.home_server import stop_server

    for state in factory.getbasetemp().glob("**/prefect-server/server.json"):
        try:
            stop_server(Settings(home=state.parent.parent))
        except Exception as exc:  # noqa: BLE001 - a cleanup must not hide the test result
            print(f"could not stop the Prefect server of {state.parent.parent}: {exc}")


@pytest.fixture
def settings(home: Path) -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto in server mode on a free loopback port, stopped after the session."""
    port = free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket on the loopback endpoint; AWS credentials set for boto3 and delta-rs."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("LEADOPS_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_endpoint)
    name = f"leadops-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    get_settings.cache_clear()
    return name
