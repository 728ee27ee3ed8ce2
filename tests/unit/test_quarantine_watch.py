"""Quarantine is monitored: shares per check logged by ingest, said on the CLI line,
judged by the monitor (a jump is a finding and an alert) and shown by `leadops status`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadops.logs import quarantine_log
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.ingest.quarantine_stats import share_line
from tasks.ingest.run import ingest_files
from tasks.monitoring.quarantine import watch_quarantine
from tests.support.quarantine import month_export, narrow_contract

LATE = datetime(2026, 12, 1, tzinfo=UTC)
CHECK = "previous:boolean"


def _history(tmp_path: Path, settings: Settings, lake: Lake, late_counts: list[int]) -> Any:
    """Six clean months of 40 leads, then month 7 with ``late_counts`` in ``previous``."""
    contract = narrow_contract(tmp_path)
    for month in range(1, 7):
        export = month_export(tmp_path / f"m{month}.csv", month, 40, [])
        ingest_files(settings, lake, contract, [export], as_of=LATE)
    late = month_export(tmp_path / "m7.csv", 7, 40, late_counts)
    return ingest_files(settings, lake, contract, [late], as_of=LATE)


def test_each_run_logs_its_quarantined_share_per_check(
    tmp_path: Path, settings: Settings, lake: Lake
) -> None:
    _history(tmp_path, settings, lake, list(range(2, 14)))
    log = quarantine_log.read_log(lake)
    assert log["run_id"].nunique() == 7
    totals = log[log["check"] == quarantine_log.ANY_CHECK]
    assert totals["quarantined"].tolist() == [0, 0, 0, 0, 0, 0, 12]
    assert totals["rows_in"].tolist() == [40] * 7
    late = log[log["check"] == CHECK]
    assert late[["rows_in", "quarantined"]].values.tolist() == [[40, 12]]


def test_the_ingest_line_names_the_share_and_the_check_and_warns_above_the_setting(
    tmp_path: Path, settings: Settings, lake: Lake
) -> None:
    result = _history(tmp_path, settings, lake, list(range(2, 14))).as_dict()
    line, warning = share_line(result, "leads", settings.quarantine_warn_share)
    assert line == "accepted 28 leads, 30.0% quarantined (check previous:boolean: 12 rows)"
    assert warning is not None and "12 of 40 leads (30.0%)" in warning
    assert "LEADOPS_QUARANTINE_WARN_SHARE=5%" in warning
    clean = {**result, "silver": 40, "quarantined": 0, "failed_expectations": {}}
    assert share_line(clean, "leads", 0.05) == ("accepted 40 leads, 0.0% quarantined", None)


def test_a_check_that_jumps_from_nothing_to_a_third_is_a_finding(
    tmp_path: Path, settings: Settings, lake: Lake
) -> None:
    _history(tmp_path, settings, lake, list(range(2, 14)))
    watch = watch_quarantine(quarantine_log.read_log(lake), "leads", 0.05, 0.01)
    assert [c.check for c in watch.jumps] == [CHECK]
    jump = watch.jumps[0]
    assert (jump.quarantined, jump.rows_in, jump.earlier_rows_in, jump.earlier_runs) == (
        12,
        40,
        240,
        6,
    )
    assert 0.05 < jump.low < 0.30 < jump.high  # the 95% Wilson interval around 12/40
    assert "JUMP: previous:boolean: 30.0% of 40 rows" in watch.note()
    assert "earlier 6 run(s) 0.0% of 240" in watch.note()


def test_two_bad_rows_of_forty_are_not_an_incident(
    tmp_path: Path, settings: Settings, lake: Lake
) -> None:
    _history(tmp_path, settings, lake, [2, 3])
    watch = watch_quarantine(quarantine_log.read_log(lake), "leads", 0.05, 0.01)
    # 5% of 40: its interval's lower end is ~1.4%, under the jump share.
    assert watch.jumps == [] and "no check jumped" in watch.note()


def test_the_monitor_step_alerts_on_a_jump_and_status_shows_it(
    tmp_path: Path, settings: Settings, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli.status import quarantine, status_text
    from leadops.models import events
    from tasks.monitoring import steps

    _history(tmp_path, settings, lake, list(range(2, 14)))
    sent: list[tuple] = []
    monkeypatch.setattr(events, "emit", lambda *args, **kwargs: sent.append((args, kwargs)))
    monkeypatch.setattr(steps, "get_run_logger", lambda: logging.getLogger("test"))
    watched = steps.watch_quarantine.fn(LATE, "3")
    assert watched["jumps"] == [CHECK]
    ((args, kwargs),) = sent
    assert args[0] == events.QUARANTINE_JUMP and args[2] == "3"
    assert list(kwargs["checks"]) == [CHECK]
    state = {"model_name": "m", "champion": None, "challenger": None}
    text = status_text({**state, "quarantine": quarantine(lake, settings)})
    assert "  quarantine: latest ingest quarantined 30.0% of 40 leads; JUMP: previous" in text
    assert text.endswith("earlier 6 run(s) 0.0% of 240; 12 leads held now")
