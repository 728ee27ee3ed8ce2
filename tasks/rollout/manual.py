"""Manual overrides: promote, reject, rollback, pause and resume.

Each takes the registry lock, records its transition like an automatic step
(version tags + the lake's history) and fails with one line when there is
nothing to act on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadops import registry
from leadops.errors import LeadOpsError
from leadops.storage import Lake
from leadops import transitions
from leadops.transitions import PAUSED, PREVIOUS_CHAMPION, Transition, position_of, registry_transaction


class NothingToDoError(LeadOpsError):
    """The override has no model version to act on."""


def _challenger(client: Any, name: str, action: str) -> Any:
    challenger = registry.get_challenger(client, name)
    if challenger is None:
        raise NothingToDoError(f"model {name}: no challenger to {action}")
    return challenger


def promote(client: Any, lake: Lake, name: str, as_of: datetime, reason: str = "promoted manually") -> list[Transition]:
    """The challenger becomes champion now, whatever its stage; the old champion is archived."""
    with registry_transaction(client, lake, name):
        challenger = _challenger(client, name, "promote")
        return transitions.make_champion(client, lake, name, str(challenger.version), reason, as_of)


def reject(client: Any, lake: Lake, name: str, as_of: datetime, reason: str = "rejected manually") -> list[Transition]:
    """The challenger is archived (fraction 0): no more shadow or canary scores."""
    with registry_transaction(client, lake, name):
        challenger = _challenger(client, name, "reject")
        return [transitions.archive_challenger(client, lake, name, str(challenger.version), reason, as_of)]


def previous_champion(client: Any, lake: Lake, name: str, current: Any) -> str | None:
    """The version ``current`` replaced: its tag, else the lake's history."""
    tagged = (current.tags or {}).get(PREVIOUS_CHAMPION)
    if tagged:
        return tagged
    replaced = [t for t in transitions.read_history(lake) if t["reason"] == f"replaced by v{current.version}"]
    return replaced[-1]["version"] if replaced else None


def rollback(client: Any, lake: Lake, name: str, as_of: datetime, reason: str = "rolled back manually") -> list[Transition]:
    """The previous champion is champion again; the current one is archived with the reason."""
    with registry_transaction(client, lake, name):
        current = registry.get_champion(client, name)
        if current is None:
            raise NothingToDoError(f"model {name}: no champion to roll back")
        previous = previous_champion(client, lake, name, current)
        if previous is None:
            raise NothingToDoError(f"model {name}: champion v{current.version} replaced no earlier champion")
        restored = client.get_model_version(name, previous)
        done = [
            Transition(str(current.version), "archived", 0.0, f"{reason}: replaced by v{previous}", as_of.isoformat(),
                       *position_of(current)),
            Transition(str(previous), "production", 1.0, f"{reason}: restored in place of v{current.version}",
                       as_of.isoformat(), *position_of(restored)),
        ]
        # One journaled unit (see leadops.transitions): a kill half-way is completed.
        transitions.commit(client, lake, name, [["alias", "champion", str(previous)],
                                                *transitions.stage_ops(done[0]), *transitions.stage_ops(done[1])])
        return done


def set_paused(client: Any, lake: Lake, name: str, as_of: datetime, paused: bool, reason: str | None = None) -> list[Transition]:
    """Freeze (or release) the challenger where it stands: the rollout flow then makes no move."""
    with registry_transaction(client, lake, name):
        challenger = _challenger(client, name, "pause" if paused else "resume")
        stage, fraction = position_of(challenger)
        text = reason or ("rollout paused manually" if paused else "rollout resumed manually")
        step = Transition(str(challenger.version), stage or "shadow", fraction, text, as_of.isoformat(), stage, fraction)
        flag = {PAUSED: "true" if paused else "false"}
        transitions.commit(client, lake, name, transitions.stage_ops(step, new_step=False, extra_tags=flag))
        return [step]
