"""Retrains for a persisting shift stop looping: wait for new evidence, and escalate once.

A shift that persists (a drifted feature, a miscalibration) fires the monitor on every
run; the cooldown alone then starts a retrain each cooldown period, and when the gate
rejects them all (17 retrains, 0 promotions in one real history) each one repeats the
last on nearly the same leads. So, per cause and per champion, the monitor keeps the
retrains it started (``monitor/state.json``, key ``persisting``) and reads each one's
gate outcome from the rollout history (the gate's entry carries the train's as-of, the
moment the monitor claimed it).

After a rejected retrain, the next one for the same cause waits until as many new
matured leads exist (created after the rejected training's data ended) as that gate
tested on (its test window, counted when it was claimed). The next gate then tests on
leads the rejected one never saw, and the training set holds the old test window
besides: twice the evidence, not the same answer again. From the second rejection in a
row on, each doubles the wait (1x, 1x, 2x, 4x, ... the test window's leads): the first
two waits let post-shift leads mature into a training set (the usual reason a retrain
right after a shift loses), the doubling makes a shift no retrain can learn cost a few
retrains a year, not one per cooldown: at a constant volume and the 14-day test window,
weekly runs retrain in weeks 0, 2, 4, 8, 16, 32, 48 (7 instead of 52; the wait
stops doubling at ``MAX_FACTOR``).
After ``ESCALATE_AFTER`` rejections the monitor says so once ("drift persists since DAY;
2 retrains did not beat the champion; ..."), through an alert and ``leadops status``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from leadops.decisions.monitor_state import ARCHIVED, PERSISTING, STATE_KEY, read_state
from leadops.models.transitions import read_history
from leadops.storage.journal import lake_lock
from leadops.storage.lake import Lake

ESCALATE_AFTER = 2  # the first rejection is often the label delay (no post-shift lead matured)
# The wait stops doubling at 8x the test window's leads (16 weeks at a 14-day window): the
# monitor counts matured leads within its conversion lookback (26 weeks by default), so a
# longer wait could never be met.
MAX_FACTOR = 8


@dataclass(frozen=True)
class MaturedEvidence:
    """What the monitor can count: the champion's matured scored leads, by creation time."""

    created: pd.Series  # event times of matured leads
    outcome_window_days: float
    test_window_days: int

    def count(self, after: datetime, until: datetime) -> int:
        times = pd.to_datetime(self.created, utc=True)
        return int(((times > pd.Timestamp(after)) & (times <= pd.Timestamp(until))).sum())

    def matured_until(self, as_of: datetime) -> datetime:
        return as_of - timedelta(days=self.outcome_window_days)


@dataclass(frozen=True)
class Review:
    """Whether the next retrain for a cause must wait, and a one-time escalation."""

    hold: str | None = None
    escalation: str | None = None


def _gate_outcomes(lake: Lake) -> dict[str, dict]:
    """Gate entries of the rollout history by the as-of of the training that wrote them."""
    return {
        str(entry.get("as_of")): entry
        for entry in read_history(lake)
        if entry.get("previous_stage") in (None, "None")
    }


def review(
    lake: Lake, cause: str, as_of: datetime, evidence: MaturedEvidence, champion: str | None
) -> Review:
    """Before claiming a retrain for ``cause``: hold it for evidence, escalate once."""
    with lake_lock(lake, "monitor"):
        state = read_state(lake)
        record = (state.get(PERSISTING) or {}).get(cause)
        if not record or record.get("champion_version") != champion:
            return Review()
        gates = _gate_outcomes(lake)
        for retrain in record["retrains"]:
            entry = gates.get(retrain["as_of"])
            if retrain.get("outcome") is None and entry is not None:
                retrain["outcome"], retrain["gate_reason"] = entry["stage"], entry["reason"]
                retrain["version"] = entry["version"]
        rejected = [r for r in record["retrains"] if r.get("outcome") == ARCHIVED]
        in_a_row = _rejections_in_a_row(record["retrains"])
        if not in_a_row:
            lake.write_bytes(STATE_KEY, json.dumps(state, indent=2).encode())
            return Review()  # never rejected, or the last outcome not known yet: cooldown rules
        last = rejected[-1]
        since = evidence.matured_until(datetime.fromisoformat(last["as_of"]))
        new = evidence.count(since, evidence.matured_until(as_of))
        factor = min(2 ** max(in_a_row - 2, 0), MAX_FACTOR)
        needed = max(int(last.get("test_leads") or 0), 1) * factor
        hold = None
        if new < needed:
            hold = (
                f"no retrain: {cause} persists and the last retrain for it (v{last['version']}, "
                f"{last['as_of'][:10]}) was rejected by the gate; the next waits for {needed:,} "
                f"new matured leads created after {since:%Y-%m-%d} ({factor}x the "
                f"{int(last.get('test_leads') or 0):,} that gate tested on, doubling with each "
                f"further rejection in a row; {new:,} so far)"
            )
        escalation = None
        if len(rejected) >= ESCALATE_AFTER and not record.get("escalated"):
            escalation = (
                f"{cause} persists since {record['since'][:10]}; {len(rejected)} retrains did not "
                f"beat champion v{champion}; the last gate said: {last['gate_reason']}"
            )
            record["escalated"], record["escalation"] = True, escalation
        lake.write_bytes(STATE_KEY, json.dumps(state, indent=2).encode())
        return Review(hold, escalation)


def _rejections_in_a_row(retrains: list[dict]) -> int:
    """Rejected retrains at the end of the list (0 when the last was not, or is not known)."""
    count = 0
    for retrain in reversed(retrains):
        if retrain.get("outcome") != ARCHIVED:
            break
        count += 1
    return count


def record_claim(
    lake: Lake, cause: str, as_of: datetime, evidence: MaturedEvidence, champion: str | None
) -> int:
    """After a claim: remember the retrain and the leads its gate will test on (returned)."""
    end = evidence.matured_until(as_of)
    test_leads = evidence.count(end - timedelta(days=evidence.test_window_days), end)
    with lake_lock(lake, "monitor"):
        state = read_state(lake)
        causes = state.setdefault(PERSISTING, {})
        record = causes.get(cause)
        if not record or record.get("champion_version") != champion:
            record = {"since": as_of.isoformat(), "champion_version": champion, "retrains": []}
            causes[cause] = record
        record["retrains"].append({"as_of": as_of.isoformat(), "test_leads": test_leads})
        lake.write_bytes(STATE_KEY, json.dumps(state, indent=2).encode())
    return test_leads
