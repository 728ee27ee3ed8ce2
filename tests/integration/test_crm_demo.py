"""The demo's CRM mode: weeks written into CRM tables and pulled by watermark give silver
the same leads and outcomes as the same weeks' files."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from app.demo import synthetic
from app.demo.demo import week_end
from app.demo.demo_crm import crm_settings, land_week_in_crm
from leadops.inputs.contract import load_contract
from leadops.inputs.db_source import crm_tables, database_source
from leadops.settings import Settings
from leadops.storage import tables
from leadops.storage.local import open_lake
from tasks.ingest import ingest_files
from tests.support.postgres import Unavailable, postgres

pytestmark = [pytest.mark.integration]


def test_two_weeks_from_the_crm_tables_match_the_same_weeks_from_files(tmp_path: Path) -> None:
    config = synthetic.GeneratorConfig(weeks=2, leads_per_week=300, defect_share=0.02)
    synthetic.write_dataset(config, tmp_path / "export")
    start = datetime.combine(config.start, time(), tzinfo=UTC)
    try:
        with postgres(("crm",)) as urls:
            db = crm_settings(Settings(home=tmp_path / "db", crm_database_url=urls["crm"]))
            files = Settings(home=tmp_path / "files")
            pulls = []
            for week in (1, 2):
                as_of = week_end(start, week)
                land_week_in_crm(db, tmp_path / "export", week, as_of)
                for kind in ("leads", "outcomes"):
                    source = database_source(urls["crm"], kind, crm_tables(db))
                    pulls.append(_ingest(db, [source], kind, as_of))
                    exported = tmp_path / "export" / kind / f"{kind}_week_{week:02d}.csv"
                    _ingest(files, [exported], kind, as_of)
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    for kind in ("leads", "outcomes"):
        from_db, from_files = (
            set(open_lake(s).read_table(tables.silver(kind))["lead_id"]) for s in (db, files)
        )
        assert from_db == from_files and len(from_db) > 250
    # Week 2's lead pull read week 2's rows and only the last of week 1's (the overlap).
    assert 300 <= pulls[2].total("rows_in") <= 305


def _ingest(settings: Settings, sources: list, kind: str, as_of: datetime):
    contract = load_contract(settings.contract_path)
    lake = open_lake(settings)
    return ingest_files(settings, lake, contract, sources, kind=kind, as_of=as_of)
