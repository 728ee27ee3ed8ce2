"""Outcomes a label cannot be decided from are quarantined, each naming why."""

from __future__ import annotations

from leadops.storage import tables
from tests.support.ingest import AS_OF, lead, silver, write_csv


def test_a_conversion_without_its_time_or_before_its_lead_is_quarantined(
    ingest, lake, tmp_path
) -> None:
    ingest(write_csv(tmp_path / "leads.csv", [lead(f"L{i}") for i in range(1, 6)]))
    outcomes = write_csv(
        tmp_path / "outcomes.csv",
        [
            {"lead_id": "L1", "converted": "true", "converted_at": "2026-01-07T09:00:00"},
            {"lead_id": "L2", "converted": "true", "converted_at": ""},  # converted when?
            {"lead_id": "L3", "converted": "false", "converted_at": ""},  # fine: no conversion
            # Two days before the lead was created (2026-01-05 10:00).
            {"lead_id": "L4", "converted": "true", "converted_at": "2026-01-03T09:00:00"},
            {"lead_id": "L9", "converted": "true", "converted_at": "2025-12-01T09:00:00"},
        ],
    )

    result = ingest(outcomes, kind="outcomes", as_of=AS_OF)

    assert sorted(silver(lake, "outcomes").index) == ["L1", "L3", "L9"]  # L9's lead is unknown
    quarantined = lake.read_table(tables.quarantine("outcomes"))
    why = dict(zip(quarantined["lead_id"], quarantined["_failed_expectations"], strict=True))
    assert list(why["L2"]) == ["converted_at:when_converted"]
    assert list(why["L4"]) == ["converted_at:after_created"]
    assert result.files[0].failed_expectations == {
        "converted_at:when_converted": 1,
        "converted_at:after_created": 1,
    }
