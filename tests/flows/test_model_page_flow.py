"""The monitor flow rewrites the model page and links it on the run's Artifacts tab."""

from __future__ import annotations

from pathlib import Path

from app.demo import synthetic
from leadops.inputs.contract import load_contract
from leadops.storage.local import open_lake
from leadops.storage.tables import GOLD_LEADS
from tests.flows.test_monitor_flow import CONFIG, land_until, score_week, week_end
from tests.support.artifacts import read_artifacts
from tests.support.rollout import NAME, register_real_model


def test_a_monitor_run_publishes_the_model_page(settings, registry_db) -> None:
    from flows.monitor import monitor

    lake, contract = open_lake(settings), load_contract(settings.contract_path)
    leads, outcomes = synthetic.generate(CONFIG)
    land_until(lake, contract, leads, outcomes, week_end(6))
    champion = register_real_model(
        settings, contract, lake.read_table(GOLD_LEADS), week_end(6), lake.table_version(GOLD_LEADS)
    )
    land_until(lake, contract, leads, outcomes, week_end(7))
    score_week(lake, settings, contract, champion, 7)

    result = monitor(as_of=week_end(7))

    [page] = [Path(p) for p in result.model_pages]
    assert page == Path(settings.home).resolve() / "reports" / f"model-{NAME}.html"
    text = page.read_text()
    assert 'id="estimate"' in text and "700" in text  # week 7's 700 leads, none matured yet
    [artifact] = read_artifacts(key=f"model-page-{NAME}", limit=5)
    assert page.as_uri() in artifact["data"]  # a link a person clicks in the UI
