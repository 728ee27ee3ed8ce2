"""Reliability of the lake on S3: transient errors are retried, permanent ones fail in one line.

Every request goes through tests/faults.py, a proxy in front of the moto server that
answers 503/500/403 instead of forwarding, or stops listening for a while. Each test
asserts the proxy really injected its faults, so a test cannot pass by missing them.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from app.demo import synthetic
from leadops.errors import LeadOpsError, one_line
from leadops.inputs.contract import load_contract
from leadops.settings import BUNDLED_CONTRACT, Settings, get_settings
from leadops.storage import tables
from leadops.storage.lake import Lake, StorageError
from leadops.storage.local import open_lake
from tasks.ingest import ingest_files
from tests.support.faults import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
CONTRACT = load_contract(BUNDLED_CONTRACT)
SECRET = "fault-test-secret-must-never-be-printed"


@pytest.fixture
def proxy(s3_endpoint: str):
    with FaultProxy(s3_endpoint) as running:
        yield running


@pytest.fixture
def settings_s3(
    home: Path, s3_bucket: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """A lake at s3://bucket/lake reached through the fault proxy."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)  # moto accepts any; we grep for it
    monkeypatch.setenv("LEADOPS_S3_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("LEADOPS_LAKE_ROOT", f"s3://{s3_bucket}/lake")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def lake(settings_s3: Settings) -> Lake:
    return open_lake(settings_s3)


def frame(start: int, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(start, start + n)],
            "x": list(range(start, start + n)),
        }
    )


def rows(lake: Lake, name: str) -> pd.DataFrame:
    return lake.read_table(name).sort_values("lead_id").reset_index(drop=True)


def assert_one_clear_line(exc: BaseException, *must_name: str) -> None:
    """What the CLI prints (one_line) is the whole message: one line, no traceback,
    naming what failed and why, and never the credentials."""
    message = str(exc)
    assert isinstance(exc, LeadOpsError), repr(exc)
    assert "\n" not in message and one_line(exc) == message.strip()
    assert "Traceback" not in message and "\x1b[" not in message
    assert SECRET not in message
    for text in must_name:
        assert text in message, f"{text!r} not in {message!r}"


def test_files_and_tables_ride_out_5xx_bursts_and_refused_connections(
    lake: Lake, proxy: FaultProxy
) -> None:
    payload = os.urandom(300_000)
    proxy.fail_next(3, 503)
    lake.write_bytes("reports/a.bin", payload)
    proxy.fail_next(2, 500)
    assert lake.read_bytes("reports/a.bin") == payload
    proxy.fail_next(4, 503)
    assert lake.append_table("silver/t", frame(0, 1000)) == 0

    proxy.refuse_after(1, 1.0)  # boto3: the next call opens a 1 s refusal window
    lake.write_bytes("reports/b.bin", payload[::-1])
    proxy.refuse_after(3, 1.0)  # delta-rs: the window opens inside the append
    assert lake.append_table("silver/t", frame(1000, 500)) == 1
    proxy.fail_next(3, 503, methods="GET")
    stored = rows(lake, "silver/t")
    proxy.fail_next(2, 503, methods="GET")
    assert lake.list("reports") == ["reports/a.bin", "reports/b.bin"]

    injected = proxy.stats()["injected"]
    assert injected == {"503": 12, "500": 2, "refused_window": 2}
    pd.testing.assert_frame_equal(stored, frame(0, 1500))
    assert lake.read_bytes("reports/b.bin") == payload[::-1]
    assert lake.table_version("silver/t") == 1


def test_ingest_on_s3_succeeds_through_transient_faults_with_accounting_intact(
    tmp_path: Path, settings_s3: Settings, lake: Lake, proxy: FaultProxy
) -> None:
    synthetic.write_dataset(
        synthetic.GeneratorConfig(weeks=2, leads_per_week=150), tmp_path / "crm"
    )
    proxy.fail_every(9, total=12, status=503)  # spread over the whole run
    proxy.refuse_after(60, 1.0)
    result = ingest_files(
        settings_s3, lake, CONTRACT, [tmp_path / "crm" / "leads"], kind="leads", as_of=AS_OF
    )

    stats = proxy.stats()
    assert stats["injected"] == {"503": 12, "refused_window": 1}
    assert [f.status for f in result.files] == ["accepted", "accepted"]
    totals = tuple(result.total(a) for a in ("rows_in", "silver", "quarantined", "duplicates"))
    assert totals == (300, 300, 0, 0)
    silver = lake.read_table(tables.silver("leads"))
    bronze = lake.read_table(tables.bronze("leads"))
    gold = lake.read_table(tables.GOLD_LEADS)
    assert len(silver) == len(bronze) == len(gold) == 300
    assert silver["lead_id"].is_unique and gold["lead_id"].is_unique
    assert len(lake.read_table(tables.MANIFEST)) == 2
    # The run finished cleanly: no journal to recover, no lock left taken.
    assert not lake.exists("_journal/ingest.json") and not lake.exists("_locks/ingest.lock")


def test_access_denied_mid_ingest_fails_in_one_line_and_keeps_the_lake_whole(
    tmp_path: Path, settings_s3: Settings, lake: Lake, proxy: FaultProxy, s3_bucket: str
) -> None:
    synthetic.write_dataset(
        synthetic.GeneratorConfig(weeks=2, leads_per_week=150), tmp_path / "crm"
    )
    week1, week2 = sorted((tmp_path / "crm" / "leads").glob("*.csv"))
    ingest_files(settings_s3, lake, CONTRACT, [week1], as_of=AS_OF)
    before = {
        name: rows(lake, name)
        for name in (tables.bronze("leads"), tables.silver("leads"), tables.GOLD_LEADS)
    }
    manifest_before = len(lake.read_table(tables.MANIFEST))

    # A bucket policy that denies writes under the silver table: permanent, never retried.
    proxy.fail_always(403, methods="PUT,POST,DELETE", path_contains="/lake/tables/silver/")
    started = time.monotonic()
    with pytest.raises(StorageError) as failure:
        ingest_files(settings_s3, lake, CONTRACT, [week2], as_of=AS_OF)
    elapsed = time.monotonic() - started

    assert elapsed < 60
    assert proxy.stats()["injected"].get("403", 0) >= 1
    assert_one_clear_line(
        failure.value, f"s3://{s3_bucket}/lake/tables/silver/leads", "403 Forbidden", "AccessDenied"
    )
    proxy.clear()
    # The journal undid the run's bronze write; every table reads as before it.
    for name, frame_before in before.items():
        pd.testing.assert_frame_equal(rows(lake, name), frame_before)
    assert len(lake.read_table(tables.MANIFEST)) == manifest_before
    assert not lake.exists("_journal/ingest.json") and not lake.exists("_locks/ingest.lock")
    # And the lake is usable again once the cause is gone.
    again = ingest_files(settings_s3, lake, CONTRACT, [week2], as_of=AS_OF)
    assert again.total("silver") == again.total("rows_in") == 150


def test_a_lasting_outage_fails_in_one_line_within_the_retry_budget(
    lake: Lake, proxy: FaultProxy, s3_bucket: str
) -> None:
    payload = os.urandom(10_000)
    lake.write_bytes("reports/a.bin", payload)
    lake.append_table("silver/t", frame(0, 100))

    proxy.fail_always(503)  # the endpoint never recovers
    started = time.monotonic()
    with pytest.raises(StorageError) as failed_put:
        lake.write_bytes("reports/a.bin", b"new content")
    boto_seconds = time.monotonic() - started
    started = time.monotonic()
    with pytest.raises(StorageError) as failed_append:
        lake.append_table("silver/t", frame(100, 100))
    delta_seconds = time.monotonic() - started

    injected = proxy.stats()["injected"]["503"]
    proxy.clear()
    # Retried (boto3 5 attempts, delta-rs up to 10 retries), then given up, in bounded time.
    assert injected >= 5 + 2
    assert boto_seconds < 30 and delta_seconds < 40, (boto_seconds, delta_seconds)
    assert_one_clear_line(failed_put.value, f"s3://{s3_bucket}/lake/reports/a.bin", "SlowDown")
    assert_one_clear_line(
        failed_append.value,
        f"s3://{s3_bucket}/lake/tables/silver/t",
        "503 Service Unavailable",
        "SlowDown",
    )
    # What was stored before the outage is whole.
    assert lake.read_bytes("reports/a.bin") == payload
    pd.testing.assert_frame_equal(rows(lake, "silver/t"), frame(0, 100))
    assert lake.table_version("silver/t") == 0
