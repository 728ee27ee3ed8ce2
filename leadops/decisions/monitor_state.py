"""The monitor's persisted state, and what the gate reads from it: a shift that persists.

The monitor (``tasks.monitoring``) writes ``monitor/state.json``: its cooldown and, per
cause and champion, the retrains it started and what the gate made of them
(``tasks.monitoring.persistence``). The train's gate reads one fact from it: the drift
against this champion has persisted through several rejected retrains, which makes the
champion stale the way a significant miscalibration does (``tasks.training.gate``).
"""

from __future__ import annotations

import json

from leadops.decisions.train_reasons import DRIFT
from leadops.storage.lake import Lake

STATE_KEY = "monitor/state.json"
PERSISTING = "persisting"  # the state's key: cause -> {since, champion_version, retrains}
ARCHIVED = "archived"  # a retrain's gate outcome when the gate rejected it


def read_state(lake: Lake) -> dict:
    """The monitor's persisted state ({} before the first trigger)."""
    if not lake.exists(STATE_KEY):
        return {}
    return json.loads(lake.read_bytes(STATE_KEY))


def persisting_drift(lake: Lake, champion_version: str | None, min_rejected: int) -> str | None:
    """ "drift persists since DAY through N rejected retrains" when the monitor's drift
    record for this champion holds at least ``min_rejected`` rejections; else None."""
    if champion_version is None or min_rejected <= 0:
        return None
    record = (read_state(lake).get(PERSISTING) or {}).get(DRIFT)
    if not record or record.get("champion_version") != champion_version:
        return None
    rejected = [r for r in record.get("retrains", []) if r.get("outcome") == ARCHIVED]
    if len(rejected) < min_rejected:
        return None
    return (
        f"drift against v{champion_version} persists since {record['since'][:10]} through "
        f"{len(rejected)} rejected retrains"
    )
