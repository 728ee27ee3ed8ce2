"""Approval gates on a real Prefect server: the rollout run pauses for an ``ApprovalInput``.

``prefect server start`` on a free loopback port; the rollout flow runs in a thread
against it with LEADOPS_APPROVAL=before-canary. Its shadow evidence passes, so it
pauses before canary with the approval form; ``leadops approve``'s function resumes it
and the challenger moves with the approval on its tags. A second challenger
is paused the same way and resumed through the REST API the UI's form uses, with a
reject: it is archived with the comment.
"""

from __future__ import annotations

import contextvars
import threading
from datetime import UTC, datetime, timedelta

import pytest

from app.servers.servers import prefect_server
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.storage.local import open_lake
from tasks.rollout.results import RolloutResult
from tests.support.prefect_api import post, wait_for
from tests.support.rollout import (
    NAME,
    add_version,
    leads,
    log_scores,
    model_scores,
    write_outcomes,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WEEK0 = datetime(2026, 3, 2, tzinfo=UTC)


class RolloutRun:
    """The rollout flow running in a thread against the server (it blocks while paused)."""

    def __init__(self, as_of: datetime) -> None:
        from flows.rollout import rollout

        self.result: RolloutResult | None = None
        self.error: Exception | None = None
        context = contextvars.copy_context()  # the thread sees the test's Prefect settings

        def run() -> None:
            try:
                self.result = rollout(as_of=as_of)
            except Exception as exc:  # noqa: BLE001 - reported by finish()
                self.error = exc

        self.thread = threading.Thread(target=context.run, args=(run,), daemon=True)
        self.thread.start()

    def finish(self) -> RolloutResult:
        self.thread.join(timeout=90)
        assert not self.thread.is_alive(), "the resumed rollout run did not finish"
        assert self.error is None, repr(self.error)
        return self.result


def paused_run(api: str) -> dict | None:
    runs = post(
        api,
        "/flow_runs/filter",
        {
            "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}},
            "limit": 5,
            "sort": "EXPECTED_START_TIME_DESC",
        },
    )
    return runs[0] if runs else None


def shadow_evidence(lake, contract, champion: str, challenger: str, week: int, seed: int) -> None:
    frame = leads(1500, WEEK0 + timedelta(weeks=week), seed=seed)
    log_scores(
        lake,
        frame,
        WEEK0 + timedelta(weeks=week + 1),
        champion,
        challenger,
        model_scores(frame, 1.0, seed + 10),
        model_scores(frame, 0.4, seed + 20),
    )
    write_outcomes(lake, contract, frame)


def test_paused_rollout_run_resumes_with_an_approval_and_with_a_reject(
    settings, registry_db, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from app.cli import approvals
    from leadops.settings import get_settings

    monkeypatch.setenv("LEADOPS_APPROVAL", "before-canary")
    get_settings.cache_clear()
    client, lake = registry.registry_client(settings), open_lake(settings)
    contract = load_contract(settings.contract_path)
    champion = add_version(client, "production", 1.0, alias="champion")
    first = add_version(client, "shadow", 0.0, alias="challenger")
    shadow_evidence(lake, contract, champion, first, week=0, seed=1)

    with prefect_server(settings) as api, temporary_settings({PREFECT_API_URL: api}):
        monkeypatch.setenv("PREFECT_API_URL", api)  # configured, as a user or worker has it
        run = RolloutRun(WEEK0 + timedelta(weeks=2))
        paused = wait_for("the rollout run to pause", lambda: paused_run(api), timeout=90)
        # The run waits for typed input: the UI renders this schema as a form.
        schema_key = paused["state"]["state_details"]["run_input_keyset"]["schema"]
        schema = post(api, f"/flow_runs/{paused['id']}/input/filter", {"prefix": schema_key})
        assert "decision" in schema[0]["value"] and "comment" in schema[0]["value"]
        assert client.get_model_version(NAME, first).tags["stage"] == "shadow"  # held meanwhile

        given = approvals.answer("approve", "numbers look fine")  # what `leadops approve` does
        assert given["resumed"] == [paused["id"]]
        moved = run.finish()
        assert moved.action == "advance" and moved.challenger.stage == "canary"
        tags = client.get_model_version(NAME, first).tags
        assert tags["stage"] == "canary" and tags["fraction"] == "0.1"
        assert tags["approval"] == "approved before-canary"
        assert tags["approval_comment"] == "numbers look fine" and tags["approval_by"]
        assert "approved before-canary" in tags["reason"]

        second = add_version(client, "shadow", 0.0, alias="challenger")
        shadow_evidence(lake, contract, champion, second, week=2, seed=2)
        run = RolloutRun(WEEK0 + timedelta(weeks=4))
        paused = wait_for("the second run to pause", lambda: paused_run(api), timeout=90)
        answer = {"decision": "reject", "comment": "sales freeze this month", "by": "ana"}
        post(api, f"/flow_runs/{paused['id']}/resume", {"run_input": answer})
        rejected = run.finish()
        assert rejected.transition and "archived" in rejected.transition

    tags = client.get_model_version(NAME, second).tags
    assert tags["stage"] == "archived" and "sales freeze this month" in tags["reason"]
    assert tags["approval"] == "rejected before-canary" and tags["approval_by"] == "ana"
    assert registry.get_challenger(client, NAME) is None
    assert str(registry.get_champion(client, NAME).version) == champion
