"""What the gate reads from the monitor's state: a drift that outlived its retrains."""

from __future__ import annotations

import json

from leadops.decisions.monitor_state import STATE_KEY, persisting_drift
from leadops.storage.local import LocalLake


def _state(lake: LocalLake, champion: str, outcomes: list[str | None]) -> None:
    retrains = [
        {"as_of": f"2026-06-0{i + 1}T00:00:00+00:00", "outcome": o} for i, o in enumerate(outcomes)
    ]
    record = {
        "since": "2026-05-18T00:00:00+00:00",
        "champion_version": champion,
        "retrains": retrains,
    }
    lake.write_bytes(STATE_KEY, json.dumps({"persisting": {"drift": record}}).encode())


def test_drift_is_persisting_after_the_set_number_of_rejected_retrains(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    assert persisting_drift(lake, "3", 2) is None  # no monitor state yet
    _state(lake, "3", ["archived", None])  # the second retrain's gate has not answered
    assert persisting_drift(lake, "3", 2) is None
    _state(lake, "3", ["archived", "shadow", "archived"])
    assert persisting_drift(lake, "3", 2) == (
        "drift against v3 persists since 2026-05-18 through 2 rejected retrains"
    )
    # Another champion's record, or the route turned off, says nothing.
    assert persisting_drift(lake, "4", 2) is None
    assert persisting_drift(lake, "3", 0) is None
