"""The scoring service's parts without a model: the request model built from a contract,
the key / rate / size gate, readiness without a champion, and the log buffer."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.models import ignored_fields, lead_model, leads_body
from app.api.security import (
    ExposureError,
    Gate,
    RateLimiter,
    check_exposure,
    matching_key,
    parse_keys,
)
from leadops.inputs.contract import parse_contract

OTHER_CRM = {
    "name": "other-crm",
    "entity_id": "ContactId",
    "event_time": "CreatedDate",
    "label": "Won",
    "label_time": "WonDate",
    "features": [
        {"name": "Employees", "role": "numeric"},
        {"name": "Channel", "role": "categorical"},
        {"name": "json", "role": "boolean"},
        {"name": "Tools", "role": "multi_valued"},
    ],
}


def test_another_contract_gets_its_own_request_model() -> None:
    leads = leads_body(lead_model(parse_contract(OTHER_CRM)), max_leads=3)
    body = leads.model_validate(
        {"ContactId": 17, "Employees": 250, "json": "yes", "Tools": "Slack|Jira", "Unknown": 1}
    )
    [lead] = body.root
    assert lead.model_dump(by_alias=True, exclude=set(lead.model_extra)) == {
        "ContactId": "17",
        "CreatedDate": None,
        "Employees": 250.0,
        "Channel": None,
        "json": True,
        "Tools": ["Slack", "Jira"],
    }
    assert ignored_fields(body.root) == ["Unknown"]


@pytest.mark.parametrize(
    "lead, field",
    [
        ({"ContactId": "a", "CreatedDate": "last tuesday"}, "CreatedDate"),
        ({"Employees": 3}, "ContactId"),
    ],
)
def test_a_lead_without_a_usable_id_or_creation_time_is_refused(lead: dict, field: str) -> None:
    from pydantic import ValidationError

    leads = leads_body(lead_model(parse_contract(OTHER_CRM)), max_leads=3)
    with pytest.raises(ValidationError) as failure:
        leads.model_validate([lead])
    [error] = failure.value.errors()
    assert error["loc"] == (0, field)
    assert field == "ContactId" or error["input"] == lead[field]


CHECKED_CRM = {
    **OTHER_CRM,
    "features": [
        {"name": "Employees", "role": "numeric", "min": 1, "max": 100000},
        {"name": "Channel", "role": "categorical", "required": True},
        {"name": "Tools", "role": "multi_valued"},
    ],
}


@pytest.mark.parametrize(
    "lead, degraded",
    [
        ({"Channel": "web", "Employees": "many"}, ["Employees"]),
        ({"Channel": "web", "Employees": -5}, ["Employees"]),
        ({"Channel": "web", "Employees": 1e6}, ["Employees"]),
        ({"Channel": 5, "Employees": 3}, ["Channel"]),
        ({"Employees": 3}, ["Channel"]),
        (
            {"Channel": None, "Employees": "x", "Tools": '["Slack'},
            ["Employees", "Channel", "Tools"],
        ),
    ],
)
def test_a_feature_value_failing_the_contract_is_scored_as_unknown_and_named(
    lead: dict, degraded: list[str]
) -> None:
    # These used to answer 422 (leadops.inputs.lead_checks); the lead now gets a score without them.
    leads = leads_body(lead_model(parse_contract(CHECKED_CRM)), max_leads=3)
    [parsed] = leads.model_validate([{"ContactId": "a", **lead}]).root
    assert parsed.degraded == degraded
    values = parsed.model_dump(by_alias=True, exclude=set(parsed.model_extra))
    assert all(values[column] is None for column in degraded)
    ok = {"ContactId": "a", "Channel": "web", "Employees": 50, "CreatedDate": "2026-01-05"}
    [clean] = leads.model_validate([ok]).root
    assert clean.degraded == [] and clean.model_dump(by_alias=True)["Employees"] == 50


def test_a_creation_time_in_the_future_is_refused_as_ingest_would() -> None:
    from pydantic import ValidationError

    leads = leads_body(lead_model(parse_contract(CHECKED_CRM)), max_leads=3)
    future = {"ContactId": "a", "Channel": "web", "CreatedDate": "2031-01-01T00:00:00Z"}
    with pytest.raises(ValidationError, match="after the evaluation time"):
        leads.model_validate([future])


def test_more_leads_than_the_cap_are_refused() -> None:
    from pydantic import ValidationError

    leads = leads_body(lead_model(parse_contract(OTHER_CRM)), max_leads=3)
    with pytest.raises(ValidationError, match="at most 3"):
        leads.model_validate([{"ContactId": str(i)} for i in range(4)])


def gated(keys: tuple[str, ...], per_minute: int = 0, max_body: int = 1000) -> TestClient:
    app = FastAPI()

    @app.post("/v1/echo")
    def echo(body: dict) -> dict:
        return body

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    app.add_middleware(Gate, keys=keys, limiter=RateLimiter(per_minute), max_body=max_body)
    return TestClient(app)


def test_keys_are_required_when_configured_and_health_stays_open() -> None:
    client = gated(("k1", "k2"))
    assert client.post("/v1/echo", json={"a": 1}).status_code == 401
    assert client.post("/v1/echo", json={"a": 1}, headers={"X-API-Key": "k3"}).status_code == 401
    assert client.post("/v1/echo", json={"a": 1}, headers={"X-API-Key": "k2"}).json() == {"a": 1}
    assert client.get("/health").status_code == 200
    assert gated(()).post("/v1/echo", json={"a": 1}).status_code == 200  # loopback without keys


def test_bodies_over_the_cap_answer_413_with_or_without_a_length() -> None:
    client = gated((), max_body=100)
    assert client.post("/v1/echo", json={"a": "x" * 200}).status_code == 413
    chunks = iter([b'{"a": "', b"x" * 200, b'"}'])
    assert (
        client.post(
            "/v1/echo", content=chunks, headers={"content-type": "application/json"}
        ).status_code
        == 413
    )
    small = iter([b'{"a": ', b'"x"}'])
    assert client.post(
        "/v1/echo", content=small, headers={"content-type": "application/json"}
    ).json() == {"a": "x"}


def test_each_key_has_its_own_rate_and_recovers_with_time() -> None:
    limiter = RateLimiter(per_minute=2)
    assert [limiter.allow("a", now=0.0) for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.allow("a", now=0.0) > 0 and limiter.allow("b", now=0.0) == 0.0
    assert limiter.allow("a", now=31.0) == 0.0  # one token back after 30 s
    client = gated(("k1",), per_minute=1)
    assert client.post("/v1/echo", json={}, headers={"X-API-Key": "k1"}).status_code == 200
    refused = client.post("/v1/echo", json={}, headers={"X-API-Key": "k1"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


def test_keys_and_exposure() -> None:
    assert parse_keys(" a, b ,,") == ("a", "b")
    assert matching_key("b", ("a", "b")) == "b" and matching_key("c", ("a", "b")) is None
    assert matching_key(None, ("a",)) is None
    check_exposure("127.0.0.1", ())
    check_exposure("0.0.0.0", ("a",))
    with pytest.raises(ExposureError, match="LEADOPS_API_KEYS"):
        check_exposure("0.0.0.0", ())


def test_ready_is_503_with_the_reason_when_no_champion_is_registered(settings) -> None:
    from app.api.app import create_app

    with TestClient(create_app(settings)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503 and "no champion" in ready.json()["reason"]
        lead = {"lead_id": "L1", "lead_source": "web", "page_views": 3}
        refused = client.post("/v1/leads/score", json=lead)
        assert refused.status_code == 503 and "train" in refused.json()["detail"]
        assert client.get("/health").status_code == 200


def test_a_fallback_column_must_be_a_numeric_contract_column(home: Path) -> None:
    from app.api.app import FallbackColumnError, create_app
    from leadops.settings import Settings

    with pytest.raises(FallbackColumnError, match="legacy_lead_score"):
        create_app(Settings(home=home, api_fallback_column="industry"))
