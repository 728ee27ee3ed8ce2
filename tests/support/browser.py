"""A real browser for tests (no tests here): Debian's headless Chromium driven over the
DevTools protocol, so a test sees what a person would: the rendered page, its console
errors, and a screenshot.

``ensure_chromium`` installs the package when it is missing and the test runs as root
(CI does); otherwise it returns the reason to skip.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.servers.servers import free_port


def ensure_chromium() -> str | None:
    """The path of a chromium binary, installing Debian's package if needed; None when it
    cannot be had (not root, no apt-get), so the caller skips with a reason."""
    found = shutil.which("chromium")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
    subprocess.run(["apt-get", "update"], timeout=600, **quiet)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "chromium"], timeout=900, env=env, **quiet)
    return shutil.which("chromium")


@dataclass
class PageVisit:
    """What loading one page showed: console errors, exceptions, and answers to checks."""

    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""


class _Session:
    def __init__(self, socket: Any) -> None:
        self.socket, self.ids, self.events = socket, itertools.count(1), []

    def call(self, method: str, **params: Any) -> dict:
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.socket.recv(timeout=deadline - time.monotonic())))


def console_errors(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions and failed loads the page logged."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            found.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(params["entry"].get("text", "error"))
    return found


@contextmanager
def _chromium(binary: str, width: int) -> Iterator[str]:
    """A headless Chromium on a loopback DevTools port; yields its first page's socket URL."""
    port = free_port("127.0.0.1")
    profile = tempfile.mkdtemp(prefix="leadops-chromium-")
    args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    args += [f"--remote-debugging-port={port}", "--remote-allow-origins=*"]
    args += [f"--user-data-dir={profile}", f"--window-size={width},900", "about:blank"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    yield pages[0]["webSocketDebuggerUrl"]
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chromium's DevTools port did not answer within 60 s")
            time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


def visit(binary: str, path: Path, checks: dict[str, str], width: int = 1280) -> PageVisit:
    """Load ``path`` as a person would, evaluate each JavaScript check, take a full-page
    screenshot, and collect every console error on the way."""
    from websockets.sync.client import connect

    seen = PageVisit()
    with _chromium(binary, width) as socket_url, connect(socket_url, max_size=None) as socket:
        session = _Session(socket)
        for domain in ("Runtime", "Log", "Page"):
            session.call(f"{domain}.enable")
        session.call("Page.navigate", url=path.resolve().as_uri())
        session.call("Runtime.evaluate", expression="1")  # drain events up to here
        session.wait_for("Page.loadEventFired")
        for name, expression in checks.items():
            result = session.call("Runtime.evaluate", expression=expression, returnByValue=True)
            seen.values[name] = result["result"].get("value")
        shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        seen.screenshot = base64.b64decode(shot["data"])
        seen.errors = console_errors(session.events)
    return seen
