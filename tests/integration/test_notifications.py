"""Alerts through a real Prefect server: its automations post to a webhook on loopback.

The test starts ``prefect server start`` (as ``leadops serve`` does) and a small HTTP
receiver, registers LeadOps' notification blocks and automations from settings, then
(1) runs a LeadOps flow that fails, and (2) emits a rollout-transition event from inside
a flow run; each time the server itself must post a JSON message to the receiver.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.servers.servers import prefect_server
from leadops.settings import Settings
from tests.support.prefect_api import post, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "hunter2-webhook-token"


class Receiver:
    """An HTTP server on loopback that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "json": json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token={SECRET}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def find(self, *needles: str) -> list[dict] | None:
        """Messages whose text holds every needle (None when none yet, for wait_for)."""
        hits = [m for m in self.messages if all(n in json.dumps(m["json"]) for n in needles)]
        return hits or None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.shutdown()


def run_python(code: str, api: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter talking to ``api`` (as a worker's flow run would)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADOPS_"))}
    clean.update(
        PREFECT_API_URL=api, LEADOPS_HOME=str(home), PREFECT_HOME=str(home / "prefect"), **env
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


FAILING_FLOW = """
from flows.ingest import ingest
ingest("/nonexistent/leadops-alerts-test/*.csv")
"""

TRANSITION = """
from prefect import flow
from leadops.models import events

@flow(name="rollout")
def rollout_step():
    return events.rollout_transition(
        "leadops-lead-scorer", "7", "canary", 0.1,
        "shadow AUC 0.812 vs champion 0.781 on 912 matured leads "
        "(store postgresql://mlflow:s3cret@db.internal/mlflow)",
        previous_stage="shadow", previous_fraction=0.0, decision="advance")

assert rollout_step() is not None, "the event was not sent"
"""


def test_failed_flow_run_and_rollout_transition_reach_the_webhook(
    settings: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with prefect_server(settings) as api:
        code = (
            "from leadops.settings import get_settings\n"
            "from deployments.notifications import register\n"
            "print(','.join(register(get_settings())))"
        )
        done = run_python(code, api, settings.home, LEADOPS_NOTIFY_WEBHOOK_URL=receiver.url)
        assert done.returncode == 0, done.stderr[-3000:]
        assert (
            "leadops-alert-flow-run-failed" in done.stdout
            and "leadops-alert-rollout" in done.stdout
        )

        failed = run_python(FAILING_FLOW, api, settings.home)
        assert failed.returncode != 0, "the flow was meant to fail"
        [message] = wait_for(
            "the failed-run alert", lambda: receiver.find("Failed", "ingest"), timeout=60, every=0.5
        )
        sent = message["json"]
        assert sent["source"] == "leadops"
        assert "flow run" in sent["subject"] and "(ingest)" in sent["subject"]
        assert "/runs/flow-run/" in sent["body"], sent["body"]  # a link to the run in the UI
        assert SECRET not in json.dumps(sent)

        moved = run_python(TRANSITION, api, settings.home)
        assert moved.returncode == 0, moved.stderr[-3000:]
        [message] = wait_for(
            "the rollout alert",
            lambda: receiver.find("leadops.rollout.transition"),
            timeout=60,
            every=0.5,
        )
        sent = message["json"]
        assert "v7 shadow -> canary" in sent["subject"], sent
        body = sent["body"]
        assert "version 7" in body and "Decision: advance" in body
        assert "shadow AUC 0.812 vs champion 0.781 on 912 matured leads" in body
        assert "Stage: shadow (0.0) -> canary (0.1)" in body
        assert "/runs/flow-run/" in body  # emitted inside a flow run: the message links to it
        assert "s3cret" not in body and SECRET not in json.dumps(sent)
        assert len(receiver.messages) == 2, receiver.messages  # one alert each, nothing else

        # Unset: registering again removes the automations, and nothing more is sent.
        done = run_python(code, api, settings.home)
        assert done.returncode == 0 and done.stdout.strip() == "", done.stderr[-3000:]
        assert not [
            a for a in post(api, "/automations/filter", {}) if a["name"].startswith("leadops")
        ]
