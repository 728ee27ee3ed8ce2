"""`leadops api` as a real process on loopback, against a champion in a temporary registry.

One service runs for the module (starting one costs seconds); the tests run in file
order on it: score, refuse, canary arms online == batch, hot reload under load, and
last a graceful stop whose prediction log holds exactly one served row per answer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from leadops.logs import prediction_log as plog
from leadops.logs import request_log as rlog
from leadops.models import registry
from leadops.settings import Settings
from leadops.storage.local import open_lake
from leadops.storage.tables import API_REQUESTS, PREDICTION_LOG
from tests.conftest import free_port
from tests.support import scoring as S
from tests.support.models import register

pytestmark = [pytest.mark.integration]

KEY = "test-key-1"
NAME = "leadops-lead-scorer"


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADOPS_", "MLFLOW_"))
    }
    return {**env, "LEADOPS_HOME": str(home), "PYTHONUNBUFFERED": "1", **extra}


def start_api(home: Path, log_path: Path, **settings: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = clean_env(home, **{f"LEADOPS_{k.upper()}": v for k, v in settings.items()})
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "api", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"api did not start: {log_path.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, log_path: Path) -> None:
    """SIGTERM, as systemd or docker stop send it; uvicorn shuts down, then re-raises it."""
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert code in (0, -signal.SIGTERM), log_path.read_text()[-3000:]
    assert "Application shutdown complete" in log_path.read_text()


def records(path: Path, n: int) -> list[dict]:
    """Leads of a CRM export as a CRM would send them: JSON values, missing ones null."""
    return json.loads(pd.read_csv(path).head(n).to_json(orient="records"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("api")
    home = root / "home"
    settings = Settings(home=home)
    crm = S.write_crm(root / "crm")
    week1, week2 = S.typed_week(crm, 1), S.typed_week(crm, 2)
    S.write_silver(open_lake(settings), [week1])
    champion = register(settings, *S.train_tiny(week1, seed=0))
    proc, url = start_api(
        home,
        root / "api.log",
        api_keys=f"{KEY},other-key",
        api_reload_seconds="1",
        api_log_flush_seconds="1",
        api_max_body_bytes="200000",
        api_rate_limit_per_minute="100000",
        api_body_timeout_seconds="2",
    )
    answered = {"leads": 0}
    try:
        yield {
            "settings": settings,
            "url": url,
            "proc": proc,
            "crm": crm,
            "week2": week2,
            "root": root,
            "champion": champion,
            "answered": answered,
            "client": httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=30),
        }
    finally:
        if proc.poll() is None:
            proc.kill()


def score(world: dict, body, **params) -> httpx.Response:
    response = world["client"].post("/v1/leads/score", json=body, params=params)
    if response.status_code == 200:
        world["answered"]["leads"] += len(response.json()["leads"])
    return response


def test_one_lead_and_many_leads_are_scored_with_reasons(world: dict) -> None:
    leads = records(world["crm"] / "leads" / "leads_week_02.csv", 100)
    one = score(world, {**leads[0], "crm_internal_flag": "x"})
    assert one.status_code == 200, one.text
    body = one.json()
    assert (
        body["ignored_fields"] == ["crm_internal_flag"]
        and one.headers["x-request-id"] == body["request_id"]
    )
    [lead] = body["leads"]
    assert lead["lead_id"] == leads[0]["lead_id"] and 0 < lead["score"] < 1
    assert lead["model_version"] == world["champion"] and lead["arm"] == "champion"
    assert 1 <= lead["decile"] <= 10 and lead["tier"] == "ABBCCCDDDD"[lead["decile"] - 1]
    assert len(lead["reasons"]) == 3 and all(r.endswith(")") for r in lead["reasons"])
    many = score(world, leads, reasons="false")
    assert many.status_code == 200
    results = many.json()["leads"]
    assert [r["lead_id"] for r in results] == [r["lead_id"] for r in leads]
    assert "reasons" not in results[0] and results[0]["score"] == pytest.approx(lead["score"])
    # Deciles come from the version's fixed cut-points: the same lead, alone or among 99
    # others, gets the same decile.
    assert results[0]["decile"] == lead["decile"]


def test_refusals_name_the_cause(world: dict) -> None:
    lead = records(world["crm"] / "leads" / "leads_week_02.csv", 1)[0]
    url = world["url"] + "/v1/leads/score"
    assert httpx.post(url, json=lead).status_code == 401
    assert httpx.post(url, json=lead, headers={"X-API-Key": KEY + "x"}).status_code == 401
    assert httpx.post(url, json=lead, headers={"X-API-Key": "other-key"}).status_code == 200
    world["answered"]["leads"] += 1
    # A feature value failing the contract is scored as unknown and named, not refused.
    degraded = score(world, {**lead, "page_views": "lots"})
    assert degraded.status_code == 200, degraded.text
    assert degraded.json()["leads"][0]["degraded"] == ["page_views"]
    no_id = score(world, {k: v for k, v in lead.items() if k != "lead_id"})
    assert no_id.status_code == 422
    [error] = no_id.json()["detail"]
    assert error["loc"][-1] == "lead_id"
    assert score(world, {**lead, "page_views": 12}).status_code == 200  # a JSON integer is a number
    too_big = score(world, [lead] * 1000)  # ~0.5 MB over the 200 kB cap of this service
    assert too_big.status_code == 413
    chunked = world["client"].post(
        "/v1/leads/score",
        content=iter([json.dumps([lead] * 600).encode()]),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413  # no Content-Length: counted while read
    assert score(world, [lead] * 0).status_code == 422


def test_a_lead_lands_in_the_same_canary_arm_online_and_in_batch(
    world: dict, tmp_path: Path
) -> None:
    from leadops.inputs.contract import load_contract
    from tasks.scoring.batch import RunOptions, run_score
    from tasks.scoring.batch_file import load_batch_file
    from tasks.scoring.model_access import load_serving_set

    settings = world["settings"]
    challenger = register(
        settings,
        *S.train_tiny(world["week2"], week=2, seed=1),
        alias="challenger",
        stage="canary",
        fraction=0.5,
        salt="api-test",
    )
    world["challenger"] = challenger
    path = world["crm"] / "leads" / "leads_week_02.csv"
    leads = records(path, 300)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the service picks the canary up within its reload time
        online = {r["lead_id"]: r for r in score(world, leads, reasons="false").json()["leads"]}
        if any(r["arm"] == "canary" for r in online.values()):
            break
        time.sleep(0.5)
    contract = load_contract(settings.contract_path)
    batch = load_batch_file(str(path), contract, 10_000)
    out = tmp_path / "scores.parquet"
    run_score(
        open_lake(settings),
        contract,
        load_serving_set(settings),
        RunOptions(datetime.now(UTC), "approx", "parquet", str(out)),
        10_000,
        batch,
    )
    offline = pd.read_parquet(out).set_index("lead_id").loc[list(online)]
    assert {r["arm"] for r in online.values()} == {"champion", "canary"}
    assert [online[i]["arm"] for i in offline.index] == offline["arm"].tolist()
    assert [online[i]["model_version"] for i in offline.index] == offline["model_version"].tolist()
    assert [online[i]["score"] for i in offline.index] == pytest.approx(
        offline["score"].tolist(), rel=1e-6
    )


def test_promote_and_rollback_swap_models_without_failing_a_request(world: dict) -> None:
    from tasks.rollout.manual import promote, rollback

    settings, lead = world["settings"], records(world["crm"] / "leads" / "leads_week_02.csv", 1)[0]
    seen: list[tuple[int, str | None]] = []
    stop_load = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=world["url"], headers={"X-API-Key": KEY}, timeout=30) as client:
            while not stop_load.is_set():
                response = client.post("/v1/leads/score", json={**lead, "lead_id": "L-reload"})
                version = (
                    response.json()["leads"][0]["model_version"]
                    if response.status_code == 200
                    else None
                )
                seen.append((response.status_code, version))

    def served_until(version: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (seen and seen[-1][1] == version):
            time.sleep(0.2)
        assert seen[-1][1] == version, seen[-5:]

    load = threading.Thread(target=traffic)
    load.start()
    try:
        client, lake = registry.registry_client(settings), open_lake(settings)
        promote(client, lake, NAME, datetime.now(UTC))
        served_until(world["challenger"])
        rollback(client, lake, NAME, datetime.now(UTC))
        served_until(world["champion"])
    finally:
        stop_load.set()
        load.join()
    world["answered"]["leads"] += sum(status == 200 for status, _ in seen)
    assert all(status == 200 for status, _ in seen), [s for s in seen if s[0] != 200][:5]
    assert {world["champion"], world["challenger"]} <= {v for _, v in seen}


def test_metrics_and_docs_are_served(world: dict) -> None:
    text = httpx.get(world["url"] + "/metrics").text
    assert (
        'leadops_api_request_seconds_bucket{arm="champion",le="0.1",route="/v1/leads/score"}'
        in text
    )
    assert 'leadops_api_errors_total{route="/v1/leads/score",status="401"}' in text
    assert (
        f'leadops_api_served_model_version{{role="champion",stage="production",version="{world["champion"]}"}}'
        in text
    )
    page = httpx.get(world["url"] + "/docs")
    assert page.status_code == 200
    # The page was blank without internet: Swagger UI came from a CDN. Every file it loads
    # is now the service's own, and answers.
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert loaded and all(url.startswith("/docs/assets/") for url in loaded), loaded
    for url in loaded:
        asset = httpx.get(world["url"] + url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    schema = httpx.get(world["url"] + "/openapi.json").json()
    assert "page_views" in json.dumps(schema["components"]["schemas"])


def test_a_body_that_stalls_is_answered_408_and_the_connection_closed(world: dict) -> None:
    # It was held open indefinitely (> 90 s): one stalled client per connection slot.
    import socket

    host, port = world["url"].removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        conn.sendall(
            b"POST /v1/leads/score HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
            + f"X-API-Key: {KEY}\r\ncontent-length: 100\r\n\r\n".encode()
            + b'{"lead_id": '
        )
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"within 2 s" in answer and time.monotonic() - started < 15


def test_a_graceful_stop_leaves_one_served_log_row_per_answered_lead(world: dict) -> None:
    stop(world["proc"], world["root"] / "api.log")
    log = open_lake(world["settings"]).read_table(PREDICTION_LOG)
    online = log[log[plog.BATCH_ID].str.startswith("online-") & log[plog.SERVED]]
    assert len(online) == world["answered"]["leads"] > 400
    # Serving health's source: every request to the score route, answered or refused.
    requests = open_lake(world["settings"]).read_table(API_REQUESTS)
    answered = requests[requests[rlog.STATUS] == 200]
    assert answered[rlog.LEADS].sum() == world["answered"]["leads"]
    assert set(answered[rlog.ARM]) <= {"champion", "canary"}
    assert {401, 413, 422} <= set(requests[rlog.STATUS])
    refused = requests[requests[rlog.STATUS] >= 400]
    assert (refused[rlog.ARM] == "").all() and (refused[rlog.LEADS] == 0).all()
    # One row per request and arm it answered from (a request split between champion and
    # canary has two), each request with its own id. How many requests the reload test's
    # traffic loop made depends on the machine's speed, so no count is asserted.
    assert (requests[rlog.LATENCY_MS] > 0).all()
    assert not requests.duplicated([rlog.REQUEST_ID, rlog.ARM]).any()
    assert (requests.groupby(rlog.REQUEST_ID)[rlog.RECEIVED_AT].nunique() == 1).all()


def test_without_a_model_leads_are_answered_from_the_fallback_column(tmp_path: Path) -> None:
    crm = S.write_crm(tmp_path / "crm")
    lead = records(crm / "leads" / "leads_week_01.csv", 1)[0]
    proc, url = start_api(
        tmp_path / "home",
        tmp_path / "api.log",
        api_fallback_column="legacy_lead_score",
        api_rate_limit_per_minute="3",
        api_log_flush_seconds="1",
    )
    try:
        ready = httpx.get(url + "/ready").json()
        assert ready["mode"] == "fallback" and "no champion" in ready["reason"]
        [answer] = httpx.post(url + "/v1/leads/score", json=lead).json()["leads"]
        assert answer["arm"] == answer["model_version"] == "fallback"
        assert answer["score"] == pytest.approx(lead["legacy_lead_score"] / 100)
        statuses = [httpx.post(url + "/v1/leads/score", json=lead).status_code for _ in range(3)]
        assert statuses[:2] == [200, 200] and statuses[2] == 429
    finally:
        stop(proc, tmp_path / "api.log")
    log = open_lake(Settings(home=tmp_path / "home")).read_table(PREDICTION_LOG)
    assert log[plog.ARM].tolist() == ["fallback"] * 3 and log[plog.SERVED].all()
