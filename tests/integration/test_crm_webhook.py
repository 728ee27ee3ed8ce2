"""Scores delivered to a webhook (a real HTTP receiver on loopback): JSON parts signed
with the shared secret, retried with backoff, each acknowledged part sent once."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from leadops.errors import LeadOpsError
from leadops.settings import get_settings
from tasks.scoring.sinks import ledger
from tests.support.crm import write_scores
from tests.support.receiver import receiver

pytestmark = [pytest.mark.integration]
SECRET = "whsec-canary-51c0"


@pytest.fixture
def hook(home: Path, monkeypatch: pytest.MonkeyPatch):
    with receiver() as (url, received):
        monkeypatch.setenv("LEADOPS_CRM_WEBHOOK_URL", url)
        monkeypatch.setenv("LEADOPS_CRM_WEBHOOK_SECRET", SECRET)
        monkeypatch.setenv("LEADOPS_CRM_DELIVERY_PART_ROWS", "4")
        monkeypatch.setenv("LEADOPS_CRM_DELIVERY_BACKOFF_SECONDS", "0.05")
        get_settings.cache_clear()
        yield received


def _lake():
    from leadops.storage.local import open_lake

    return open_lake(get_settings())


def test_signed_parts_survive_503s_and_are_not_sent_again(hook) -> None:
    from app.cli.deliver import deliver_owed

    write_scores(_lake(), "b1", 10)
    hook.answers = [503, 503]  # the receiver is briefly down: the first part is retried
    report = deliver_owed("b1")["sinks"][0]
    assert (report["parts_sent"], report["rows_sent"]) == (3, 10)
    keys = [headers["X-LeadOps-Delivery"] for headers, _, _ in hook.requests]
    assert keys == ["b1:0", "b1:0", "b1:0", "b1:1", "b1:2"]  # a retry keeps its key
    for headers, body, _ in hook.requests:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-LeadOps-Signature"] == f"sha256={expected}"
    leads = [s["id"] for doc in hook.accepted() for s in doc["scores"]]
    assert sorted(leads) == sorted(f"S{i}" for i in range(1, 11))
    first = hook.accepted()[0]["scores"][0]
    assert first["reasons"] == ["uses Salesforce (+0.41)", "12 page views (+0.20)"]
    assert set(first) == {"id", "score", "tier", "reasons", "model_version", "scored_at"}
    sent = len(hook.requests)
    assert deliver_owed()["sinks"][0]["parts_sent"] == 0 and len(hook.requests) == sent


def test_acknowledged_parts_of_an_interrupted_delivery_are_not_sent_again(hook) -> None:
    from app.cli.deliver import deliver_owed

    write_scores(_lake(), "b1", 10)
    hook.answers = [200, 400]  # part 0 taken, part 1 refused: the run stops there
    with pytest.raises(LeadOpsError) as failure:
        deliver_owed("b1")
    assert "answered 400 to part b1:1" in str(failure.value)
    assert "at once" in str(failure.value)  # a refusal is not retried
    assert "leadops-token-abc" not in str(failure.value)  # the URL's path may be a secret
    assert ledger.pending(_lake(), "webhook")[0][0] == "b1"
    report = deliver_owed()["sinks"][0]
    assert (report["parts_sent"], report["parts_skipped"]) == (2, 1)
    keys = [headers["X-LeadOps-Delivery"] for headers, _, status in hook.requests if status == 200]
    assert keys == ["b1:0", "b1:1", "b1:2"]


def test_a_receiver_that_stays_down_fails_the_run_in_one_line(hook, monkeypatch) -> None:
    from app.cli.deliver import deliver_owed

    monkeypatch.setenv("LEADOPS_CRM_DELIVERY_ATTEMPTS", "3")
    get_settings.cache_clear()
    write_scores(_lake(), "b1", 10)
    hook.always = 500
    with pytest.raises(LeadOpsError) as failure:
        deliver_owed("b1")
    message = str(failure.value)
    assert "\n" not in message and "after 3 attempt(s)" in message and "answered 500" in message
    assert len(hook.requests) == 3
    assert [batch for batch, _ in ledger.pending(_lake(), "webhook")] == ["b1"]
