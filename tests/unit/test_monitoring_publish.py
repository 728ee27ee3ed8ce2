"""Drift reports are kept to a number: each embeds Evidently's page (~4.5 MB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.monitoring.publish import prune_reports, report_key, save_report


def test_only_the_newest_reports_are_kept(lake) -> None:
    first = datetime(2026, 1, 5, tzinfo=UTC)
    days = [first + timedelta(days=d) for d in range(5)]
    for day in reversed(days):  # written out of order: age is the as-of time in the name
        save_report(lake, f"<html>{day}</html>", day)
    lake.write_bytes("reports/drift-notes.html", b"not a report")  # a neighbour stays

    deleted = prune_reports(lake, keep=2)

    assert deleted == [report_key(d) for d in days[:3]]
    left = [k for k in lake.list("reports") if k.startswith("reports/drift/")]
    assert left == [report_key(d) for d in days[3:]]
    assert lake.exists("reports/drift-notes.html")
    assert prune_reports(lake, keep=0) == []  # 0 keeps all
    assert prune_reports(lake, keep=2) == []
