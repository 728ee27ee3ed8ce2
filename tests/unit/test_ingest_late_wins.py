"""Ingest of outcomes says how many wins came after outcome_window_days (training would
count them as not converted), in its report and its one-line CLI summary."""

from __future__ import annotations

import json

from leadops.storage import tables
from tasks.ingest.report import ingest_summary
from tests.support.ingest import AS_OF, lead, write_csv

# lead() rows are created 2026-01-05 10:00; the bundled contract's window is 7 days.
ON_TIME, EDGE, LATE = "2026-01-08T10:00:00", "2026-01-12T10:00:00", "2026-01-15T10:00:00"


def outcome(lead_id: str, converted: str, at: str) -> dict[str, str]:
    return {"lead_id": lead_id, "converted": converted, "converted_at": at}


def test_wins_after_the_window_are_counted_and_named_in_the_line(ingest, lake, tmp_path) -> None:
    ingest(write_csv(tmp_path / "leads.csv", [lead(f"L{i}") for i in range(1, 11)]))
    rows = [outcome(f"L{i}", "true", ON_TIME) for i in range(1, 5)]
    rows += [outcome(f"L{i}", "true", LATE) for i in range(5, 8)]
    rows += [
        outcome("L8", "true", EDGE),  # exactly at the window: a win, as training decides
        outcome("L9", "false", LATE),  # a late loss is no lost win
        outcome("L77", "true", LATE),  # its lead is not in silver: cannot be timed
    ]

    result = ingest(write_csv(tmp_path / "outcomes.csv", rows), kind="outcomes", as_of=AS_OF)

    totals = result.as_dict()
    assert (totals["wins"], totals["late_wins"], totals["outcome_window_days"]) == (8, 3, 7)
    line = ingest_summary(totals, "outcomes").splitlines()[1]
    assert line == (
        # The same words train says (leadops.inputs.maturity.LateWins): one rule, one sentence.
        "  38% of wins (3 of 8) came after 7 days and count as not converted; "
        "raise outcome_window_days in the contract"
    )
    report = json.loads(lake.read_bytes(f"{tables.INGEST_REPORTS}/{result.run_id}.json"))
    assert (report["wins"], report["late_wins"]) == (8, 3)


def test_no_line_when_every_win_came_within_the_window(ingest, tmp_path) -> None:
    ingest(write_csv(tmp_path / "leads.csv", [lead("L1"), lead("L2")]))
    rows = [outcome("L1", "true", ON_TIME), outcome("L2", "false", LATE)]
    result = ingest(write_csv(tmp_path / "outcomes.csv", rows), kind="outcomes", as_of=AS_OF)
    assert (result.as_dict()["wins"], result.as_dict()["late_wins"]) == (1, 0)
    assert "raise outcome_window_days" not in ingest_summary(result.as_dict(), "outcomes")
