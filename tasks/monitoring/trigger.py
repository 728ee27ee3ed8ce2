"""The retrain decision and its cooldown.

The rule is stated once here and printed in every report: retrain when any
monitored feature's fixed-bin PSI exceeds the threshold (drift), or when the
matured conversion rate dropped more than the threshold relative to the champion's
baseline and the drop is beyond sampling noise (conversion-drop). The cooldown is
kept in the lake (``monitor/state.json``) and measured on the as-of clock, so a
replayed timeline behaves like a live one and one incident starts one retrain.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from leadops.decisions.monitor_state import STATE_KEY, read_state
from leadops.storage.journal import lake_lock
from leadops.storage.lake import Lake

log = logging.getLogger(__name__)


def trigger_rule(psi_threshold: float, drop_threshold: float) -> str:
    """The retrain rule in words, as the report and the CLI show it."""
    return (
        f"retrain when any feature's PSI > {psi_threshold:g} (fixed bins from the champion's "
        f"training reference), or when the matured conversion rate drops more than "
        f"{drop_threshold:.0%} relative to the champion's baseline (and the drop is significant)"
    )


@dataclass(frozen=True)
class RetrainDecision:
    """Whether the evidence calls for a retrain, and why."""

    retrain: bool
    reason: str | None  # drift | conversion-drop | miscalibration | ranking-loss | None
    explanation: str
    drifted_features: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def claim_retrain(
    lake: Lake, as_of: datetime, reason: str, cooldown_days: float, model_version: str | None
) -> tuple[bool, str]:
    """Record a retrain at ``as_of`` unless one was started within the cooldown.

    The read-check-write runs under the lake's "monitor" lock, so of two monitor runs
    inside one cooldown exactly one claims the retrain.

    Returns:
        (claimed, why): claimed is False inside the cooldown; why says which applies.
    """
    with lake_lock(lake, "monitor"):
        state = read_state(lake)
        last = state.get("last_trigger")
        if last:
            last_time = datetime.fromisoformat(last)
            until = last_time + timedelta(days=cooldown_days)
            if as_of < until:
                return False, (
                    f"cooldown: a retrain ({state.get('reason')}) was started at {last}; "
                    f"next one possible from {until.isoformat()}"
                )
        previous = {k: v for k, v in state.items() if k != "previous"}
        state.update(
            last_trigger=as_of.isoformat(),
            reason=reason,
            champion_version=model_version,
            previous=previous,
        )
        lake.write_bytes(STATE_KEY, json.dumps(state, indent=2).encode())
        log.info("retrain claimed at %s (%s)", as_of.isoformat(), reason)
        return True, f"retrain started ({reason}); cooldown {cooldown_days:g} days"


def mark_evaluated(lake: Lake, as_of: datetime) -> str | None:
    """Record that the monitor judged the moment ``as_of``; returns the later moment already judged.

    Retrain decisions are taken once per moment: a monitor run for a time earlier than one
    already evaluated (a replayed week, a backfill of old exports) reports what it sees but
    starts no retrain, because the registry it would act on has moved on since then.
    """
    with lake_lock(lake, "monitor"):
        state = read_state(lake)
        latest = state.get("last_evaluated")
        if latest and as_of < datetime.fromisoformat(latest):
            return latest
        state["last_evaluated"] = as_of.isoformat()
        lake.write_bytes(STATE_KEY, json.dumps(state, indent=2).encode())
        return None


def release_retrain(lake: Lake, as_of: datetime) -> bool:
    """Undo the claim made at ``as_of`` (the retrain it started failed), so the next run may retry.

    Returns:
        True when the claim was found and released.
    """
    with lake_lock(lake, "monitor"):
        state = read_state(lake)
        if state.get("last_trigger") != as_of.isoformat():
            return False
        lake.write_bytes(STATE_KEY, json.dumps(state.get("previous") or {}, indent=2).encode())
        log.warning("retrain claim of %s released", as_of.isoformat())
        return True


@dataclass(frozen=True)
class RetrainRequest:
    """What one monitor run does about a retrain: whether it claimed one, and why (not)."""

    claimed: bool
    why: str
    route: str | None = None  # claimed: "event" (a deployment trigger starts train) or "subflow"
    event_id: str | None = None
    # A persisting cause whose retrains keep being rejected (tasks.monitoring.persistence).
    escalation: str | None = None
    # The claimed retrain's cause when it is not the assessment's: a held drift retrain
    # that gave way to a recalibration (tasks.monitoring.steps.recalibrate_instead).
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def routed(self, route: str, event_id: str | None) -> RetrainRequest:
        return replace(self, route=route, event_id=event_id)

    def train_failed(self) -> RetrainRequest:
        """The train run this monitor started itself failed; its claim was given back."""
        return replace(self, claimed=False, why="the train run failed; the cooldown was released")


def request_retrain(
    lake: Lake,
    decision: RetrainDecision,
    as_of: datetime,
    in_rollout: str | None,
    cooldown_days: float,
    champion_version: str | None,
    held: str | None = None,
) -> RetrainRequest:
    """The retrain decision of one monitor run; plain Python on the lake, no Prefect.

    The moment is recorded as evaluated whatever the evidence says. A retrain is claimed
    only when the rule fired, the moment is not earlier than one already judged (a replay
    of the past), no challenger is in rollout (``in_rollout`` says why not, or is None),
    the last retrain for this cause is not waiting for new evidence (``held`` says why,
    tasks.monitoring.persistence) and the cooldown allows it.
    """
    later = mark_evaluated(lake, as_of)
    if not decision.retrain:
        return RetrainRequest(False, "no retrain needed")
    if later is not None:
        return RetrainRequest(
            False,
            f"no retrain: {as_of.isoformat()} is before {later}, "
            "already evaluated (a re-run of the past)",
        )
    if in_rollout:
        return RetrainRequest(False, in_rollout)
    if held:
        return RetrainRequest(False, held)
    claimed, why = claim_retrain(
        lake, as_of, decision.reason or "", cooldown_days, champion_version
    )
    return RetrainRequest(claimed, why)
