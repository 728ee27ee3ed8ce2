"""Ingest straight from a CRM's PostgreSQL: incremental by the contract's updated_at,
through the same validation and silver as files, all-or-nothing with its watermark.

One real cluster (tests/support/postgres.py) with password logins for the whole module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.servers.servers import free_port
from leadops.errors import LeadOpsError
from leadops.inputs.db_source import DatabaseSource
from leadops.settings import Settings
from leadops.storage import tables
from tasks.ingest import ingest_files
from tasks.ingest.database import SourceLoader, last_watermark
from tests.support.crm import CRM_CONTRACT, create_leads_table, fill_leads, put_leads
from tests.support.ingest import AS_OF, silver
from tests.support.postgres import Unavailable, postgres

pytestmark = [pytest.mark.integration]
PASSWORD = "crm-canary-pw-8d1f"
T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def crm_url():
    try:
        with postgres(("crm",), password=PASSWORD) as urls:
            yield urls["crm"]
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")


@pytest.fixture
def crm(crm_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh leads table; the password reaches libpq from PGPASSWORD for the test's own
    writes and from LEADOPS_CRM_PASSWORD (a SecretStr) for LeadOps."""
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    create_leads_table(crm_url)
    return crm_url


def run(settings: Settings, lake, url: str, **kwargs):
    source = DatabaseSource.parse(url, "leads")
    return ingest_files(settings, lake, CRM_CONTRACT, [source], as_of=AS_OF, **kwargs)


def test_three_incremental_runs_take_inserts_updates_and_a_late_commit(
    home, lake, crm: str
) -> None:
    settings = Settings(home=home, crm_password=PASSWORD, crm_watermark_overlap_seconds=300)
    put_leads(crm, [{"lead_id": f"L{i}"} for i in range(1, 4)], T0)
    first = run(settings, lake, crm)
    assert (first.total("rows_in"), first.total("silver")) == (3, 3)

    # Run 2: one lead changed, one new; L1 and L3 are re-read (they sit on the last
    # watermark, inside the overlap) and counted as duplicates, not as new silver rows.
    changed = [{"lead_id": "L2", "page_views": "42"}, {"lead_id": "L4"}]
    put_leads(crm, changed, T0 + timedelta(hours=1))
    second = run(settings, lake, crm)
    assert (second.total("rows_in"), second.total("silver"), second.total("duplicates")) == (
        4,
        2,
        2,
    )
    assert second.files[0].updated == 1
    assert silver(lake).loc["L2", "page_views"] == 42.0

    # Run 3: a lead whose transaction committed late carries an updated_at one minute before
    # the last watermark (inside the overlap); one stamped an hour before is out of reach.
    put_leads(crm, [{"lead_id": "L5"}], T0 + timedelta(minutes=59))
    put_leads(crm, [{"lead_id": "L6"}], T0)
    third = run(settings, lake, crm)
    assert third.files[0].status == "accepted"
    # Re-read inside the overlap: L2 and L4 (identical, so duplicates) and the late L5.
    assert (third.total("rows_in"), third.total("silver"), third.total("duplicates")) == (3, 1, 2)
    assert sorted(silver(lake).index) == ["L1", "L2", "L3", "L4", "L5"]
    source = DatabaseSource.parse(crm, "leads").uri
    assert last_watermark(lake, source, "leads") == T0 + timedelta(hours=1)
    bronze = lake.read_table(tables.bronze("leads"))
    assert set(bronze[tables.SOURCE_FILE]) == {source}  # lineage names table, not a password


def test_a_connection_dropped_mid_read_leaves_lake_and_watermark_as_before(
    home, lake, crm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    settings = Settings(home=home, crm_password=PASSWORD)
    put_leads(crm, [{"lead_id": "L1"}], T0)
    run(settings, lake, crm)
    before = {name: len(lake.read_table(name)) for name in _tables()}
    fill_leads(crm, 40_000, T0 + timedelta(hours=2))  # ~12 MB: more than in flight at once
    load_chunk = SourceLoader._load_chunk

    def drop_connection_then_load(self, *args):
        with psycopg.connect(crm) as admin:  # as an operator killing the session would
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'leadops' AND pid <> pg_backend_pid()"
            )
        return load_chunk(self, *args)

    monkeypatch.setattr(SourceLoader, "_load_chunk", drop_connection_then_load)
    with pytest.raises(LeadOpsError) as failure:
        run(settings, lake, crm, chunk_rows=1_000)
    assert "terminat" in str(failure.value) or "server closed" in str(failure.value)
    assert {name: len(lake.read_table(name)) for name in _tables()} == before
    assert last_watermark(lake, DatabaseSource.parse(crm, "leads").uri, "leads") == T0


def _tables() -> list[str]:
    return [tables.bronze("leads"), tables.silver("leads"), tables.WATERMARKS, tables.MANIFEST]


@pytest.mark.parametrize("failure", ["wrong password", "unreachable host"])
def test_a_wrong_password_or_unreachable_host_fails_in_one_line_writing_nothing(
    home, lake, crm: str, failure: str
) -> None:
    if failure == "wrong password":
        url, settings = crm, Settings(home=home, crm_password="not-the-password")
        cause = "password authentication failed"
    else:
        url = f"postgresql://leadops@127.0.0.1:{free_port()}/crm"
        settings, cause = Settings(home=home, crm_password=PASSWORD), "refused"
    put_leads(crm, [{"lead_id": "L1"}], T0)
    with pytest.raises(LeadOpsError) as error:
        run(settings, lake, url)
    message = str(error.value)
    assert "\n" not in message and cause in message and url in message
    assert "not-the-password" not in message and PASSWORD not in message
    assert not lake.table_exists(tables.silver("leads"))
    assert not lake.table_exists(tables.WATERMARKS)
