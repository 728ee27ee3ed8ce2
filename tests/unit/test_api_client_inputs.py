"""What an outside client can send the score route: no input answers 500.

Each case here answered 500 before (found by schemathesis and hand-made requests): a
number beyond float32 range with reasons on, a creation time whose offset overflows the
date range, NaN / Infinity / 1e999 literals, a lone surrogate, a blank id; and the
route's other refusals: non-JSON bodies (415), a stalled body (408), a bounded 422.
The app runs in-process on a tiny champion set in place of the registry's (no MLflow).
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api.app import SCORE_ROUTE, create_app
from app.api.serving import Serving
from leadops.models.cutpoints import score_cutpoints
from leadops.settings import Settings
from tasks.scoring.scorer import ServingSet
from tests.support.scoring import serving_model, train_tiny, typed_week, write_crm

LEAD = {
    "lead_id": "L-1",
    "created_at": "2026-01-20T10:00:00Z",
    "lead_source": "referral",
    "company_size": 250,
    "page_views": 12,
    "technographics": ["Salesforce", "Slack"],
    "email": "ann@acme.com",
}
NO_CHAMPION = (None, None, None, None, None)  # the empty registry's fingerprint: no reload


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("api-inputs")
    week = typed_week(write_crm(root / "crm"), 1)
    model = serving_model(*train_tiny(week, seed=0), version="1")
    cutpoints = np.asarray(score_cutpoints(model.predict(model.encoder.transform_table(week))))
    settings = Settings(home=root / "home", api_body_timeout_seconds=0.5, api_max_leads=1000)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        app.state.holder.current = Serving(
            ServingSet(model), None, {"1": cutpoints}, {"1": "model"}, NO_CHAMPION
        )
        yield test_client


def post(client: TestClient, text: str, **params) -> object:
    headers = {"content-type": "application/json"}
    return client.post(SCORE_ROUTE, content=text.encode(), headers=headers, params=params)


@pytest.mark.parametrize("number", ["1e39", "-1e39", "NaN", "Infinity", "-Infinity", "1e999"])
def test_a_number_no_model_can_read_is_a_degraded_feature_not_a_500(client, number) -> None:
    other = '{"lead_id": "L-2", "company_size": 50}'
    body = f'[{{"lead_id": "L-1", "company_size": 250, "page_views": {number}}}, {other}]'
    for reasons in ("true", "false"):
        answer = post(client, body, reasons=reasons)
        assert answer.status_code == 200, answer.text
        first, second = answer.json()["leads"]
        assert "page_views" in first["degraded"] and 0.0 <= first["score"] <= 1.0
        assert second["lead_id"] == "L-2" and "page_views" not in second["degraded"]


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_a_creation_time_beyond_the_date_range_in_utc_is_a_422_naming_it(client, created_at):
    answer = client.post(SCORE_ROUTE, json={**LEAD, "created_at": created_at})
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"][-1] == "created_at" and "range" in error["msg"]
    for within in ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00-05:00"):  # still in range
        answer = client.post(SCORE_ROUTE, json={**LEAD, "created_at": within})
        assert answer.status_code == 200 and answer.json()["leads"][0]["lead_id"] == "L-1"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999"])
def test_a_non_finite_id_or_creation_time_is_a_422_that_can_be_read(client, literal) -> None:
    for field in ("lead_id", "created_at"):
        other = "" if field == "lead_id" else '"lead_id": "L-1", '
        body = f'{{{other}"{field}": {literal}}}'
        answer = post(client, body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][-1] == field


@pytest.mark.parametrize(
    "where",
    [
        '{"lead_id": "L-\\ud800"}',
        '{"lead_id": "L-1", "lead_source": "web\\udc00"}',
        '{"lead_id": "L-1", "\\ud800x": 1}',
    ],
)
def test_a_lone_surrogate_in_any_string_is_a_400(client, where: str) -> None:
    answer = post(client, where)
    assert answer.status_code == 400, answer.text
    assert "surrogate" in answer.json()["detail"]
    paired = post(client, '{"lead_id": "L-\\ud83d\\ude00", "lead_source": "web"}')
    assert paired.status_code == 200 and paired.json()["leads"][0]["lead_id"] == "L-\U0001f600"


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_a_blank_lead_id_is_a_422_not_a_lead_called_none(client, blank: str) -> None:
    answer = client.post(SCORE_ROUTE, json={**LEAD, "lead_id": blank})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][-1] == "lead_id"


def test_an_id_is_answered_and_logged_trimmed(client) -> None:
    buffer = client.app.state.buffer
    before = buffer.pending_rows
    answer = client.post(SCORE_ROUTE, json={**LEAD, "lead_id": "  L-7 "})
    assert answer.json()["leads"][0]["lead_id"] == "L-7"
    assert buffer.pending_rows == before + 1


@pytest.mark.parametrize(
    "content_type, body",
    [("text/plain", '{"lead_id": "L-1"}'), ("application/xml", "<lead id='L-1'/>")],
)
def test_a_body_that_is_not_json_is_a_415(client, content_type: str, body: str) -> None:
    answer = client.post(SCORE_ROUTE, content=body, headers={"content-type": content_type})
    assert answer.status_code == 415, answer.text
    assert content_type in answer.json()["detail"]


def test_a_422_is_bounded_and_does_not_echo_the_leads(client) -> None:
    leads = [{"lead_id": "", "notes": "x" * 100} for _ in range(1001)]
    answer = client.post(SCORE_ROUTE, json=leads)
    assert answer.status_code == 422
    assert len(answer.content) < 5_000
    body = answer.json()
    assert "x" * 100 not in answer.text and body["error_count"] >= 1
    many = client.post(SCORE_ROUTE, json=[{"lead_id": ""} for _ in range(500)])
    assert many.json()["error_count"] == 500 and len(many.json()["detail"]) == 20
    assert len(many.content) < 5_000


def test_a_body_that_stalls_is_cut_with_a_408(client) -> None:
    # TestClient sends a body whole, so the app is called as uvicorn calls it.
    import asyncio
    import json
    import time

    async def stalling_receive() -> dict:
        await asyncio.sleep(30)  # the client never sends the rest
        return {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": SCORE_ROUTE,
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "query_string": b"",
    }
    started = time.monotonic()
    asyncio.run(client.app(scope, stalling_receive, send))
    assert time.monotonic() - started < 5
    assert sent[0]["status"] == 408
    assert "within 0.5 s" in json.loads(sent[1]["body"])["detail"]


def test_the_schema_documents_every_answer_the_route_gives(client) -> None:
    schema = client.get("/openapi.json").json()
    score = schema["paths"][SCORE_ROUTE]["post"]
    for status in ("400", "401", "408", "413", "415", "422", "429", "503"):
        body = score["responses"][status]["content"]["application/json"]["schema"]
        assert body["$ref"].rsplit("/", 1)[-1] in ("Problem", "ValidationProblem"), status
    schemes = schema["components"]["securitySchemes"]
    [(name, scheme)] = schemes.items()
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert score["security"] == [{name: []}]
    assert list(schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    lead = next(v for k, v in schema["components"]["schemas"].items() if k.startswith("Lead_"))
    size = lead["properties"]["company_size"]
    assert size["x-contract-min"] == 1 and size["x-contract-max"] == 1_000_000
    assert "minimum" not in str(size) and "1 <= value <= 1e+06" in size["description"]
