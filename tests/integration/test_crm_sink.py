"""Scores delivered into the CRM's own PostgreSQL table through the mapping file:
exactly once per lead and model version, even across a delivery killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leadops.errors import LeadOpsError
from leadops.settings import get_settings
from tasks.scoring.sinks import ledger
from tests.support.crm import MAPPING, write_scores
from tests.support.postgres import Unavailable, postgres

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def crm_url():
    try:
        with postgres(("crm",)) as urls:
            yield urls["crm"]
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")


@pytest.fixture
def crm(crm_url: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A CRM scores table with a column LeadOps does not own (owner), and the settings
    that point the PostgreSQL sink at it."""
    import psycopg

    with psycopg.connect(crm_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS crm_scores, leadops_deliveries")
        conn.execute(
            "CREATE TABLE crm_scores (lead_ref text, owner text, ai_score float8, ai_tier text, "
            "ai_reasons text, ai_model text, ai_scored_at timestamptz, UNIQUE (lead_ref, ai_model))"
        )
    mapping = home.parent / "crm-mapping.yaml"
    mapping.write_text(MAPPING)
    monkeypatch.setenv("LEADOPS_CRM_DATABASE_URL", crm_url)
    monkeypatch.setenv("LEADOPS_CRM_SCORES_MAPPING", str(mapping))
    get_settings.cache_clear()
    return crm_url


def rows(url: str, query: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_scores_land_in_the_mapped_columns_once_per_lead_and_model_version(crm: str) -> None:
    from app.cli.deliver import deliver_owed

    lake = _lake()
    write_scores(lake, "b1", 5, model_version="3")
    first = deliver_owed("b1")
    assert first["sinks"][0]["rows_sent"] == 5
    assert rows(
        crm,
        "SELECT lead_ref, owner, ai_tier, ai_reasons, ai_model FROM crm_scores "
        "WHERE lead_ref = 'S2'",
    ) == [("S2", None, "B", "uses Salesforce (+0.41) | 12 page views (+0.20)", "3")]
    # The same leads scored again by the same model: updated in place; by a new model: added.
    write_scores(lake, "b2", 5, model_version="3")
    write_scores(lake, "b3", 5, model_version="4")
    deliver_owed("b2")
    deliver_owed("b3")
    assert rows(crm, "SELECT ai_model, count(*) FROM crm_scores GROUP BY 1 ORDER BY 1") == [
        ("3", 5),
        ("4", 5),
    ]
    # Nothing is owed any more: a further run sends nothing.
    assert deliver_owed()["sinks"][0]["parts_sent"] == 0


def test_a_value_champion_adds_its_columns_to_an_existing_scores_table(crm: str) -> None:
    from app.cli.deliver import deliver_owed

    lake = _lake()
    write_scores(lake, "b1", 5, model_version="3")
    deliver_owed("b1")  # before any value champion: the CRM's table as it was
    write_scores(lake, "b2", 5, model_version="4", value_version="2")
    assert deliver_owed("b2")["sinks"][0]["rows_sent"] == 5
    query = (
        "SELECT ai_model, expected_value, predicted_value, value_tier, value_model_version "
        "FROM crm_scores WHERE lead_ref = 'S2' ORDER BY ai_model"
    )
    assert rows(crm, query) == [
        ("3", None, None, None, None),
        ("4", pytest.approx(0.0103 * 2000.0), 2000.0, "C", "2"),
    ]


def test_a_delivery_killed_with_sigkill_resumes_without_sending_a_part_twice(crm: str) -> None:
    lake = _lake()
    count, part_rows = 20_000, 50  # 400 parts: the kill lands part-way
    write_scores(lake, "big", count)
    env = {**os.environ, "LEADOPS_CRM_DELIVERY_PART_ROWS": str(part_rows)}
    child = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "deliver", "--batch", "big"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while _parts(crm) < 5 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    before = dict(rows(crm, "SELECT lead_ref, xmin::text FROM crm_scores"))
    assert child.returncode == -signal.SIGKILL and 0 < len(before) < count, child.stderr.read()

    resumed = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "deliver", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    stored = rows(crm, "SELECT lead_ref, ai_model, xmin::text FROM crm_scores")
    assert len(stored) == count and len({(r[0], r[1]) for r in stored}) == count
    # Parts the killed run delivered were not written again (same row versions).
    assert {ref: xmin for ref, _, xmin in stored if ref in before} == before
    assert _parts(crm) == count // part_rows


def test_a_sink_that_stays_down_fails_in_one_line_and_the_batch_stays_owed(
    crm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli.deliver import deliver_owed
    from app.servers.servers import free_port

    monkeypatch.setenv(
        "LEADOPS_CRM_DATABASE_URL", f"postgresql://leadops@127.0.0.1:{free_port()}/crm"
    )
    monkeypatch.setenv("LEADOPS_CRM_DELIVERY_ATTEMPTS", "2")
    monkeypatch.setenv("LEADOPS_CRM_DELIVERY_BACKOFF_SECONDS", "0")
    get_settings.cache_clear()
    lake = _lake()
    write_scores(lake, "b1", 3)
    with pytest.raises(LeadOpsError) as failure:
        deliver_owed("b1")
    message = str(failure.value)
    assert "\n" not in message and "after 2 attempt(s)" in message and "refused" in message
    assert "leadops deliver" in message
    assert [batch for batch, _ in ledger.pending(lake, "postgres")] == ["b1"]


def _lake():
    from leadops.storage.local import open_lake

    return open_lake(get_settings())


def _parts(url: str) -> int:
    try:
        return rows(url, "SELECT count(*) FROM leadops_deliveries")[0][0]
    except Exception:  # the table is created by the child's first connection
        return 0


def test_an_existing_table_without_the_upsert_key_is_named_with_the_index_to_create(
    crm: str,
) -> None:
    import psycopg

    from app.cli.deliver import deliver_owed

    with psycopg.connect(crm, autocommit=True) as conn:
        conn.execute("ALTER TABLE crm_scores DROP CONSTRAINT crm_scores_lead_ref_ai_model_key")
    write_scores(_lake(), "b1", 3)
    with pytest.raises(LeadOpsError) as failure:
        deliver_owed("b1")
    assert "CREATE UNIQUE INDEX ON crm_scores (lead_ref, ai_model)" in str(failure.value)
    assert rows(crm, "SELECT count(*) FROM crm_scores") == [(0,)]
