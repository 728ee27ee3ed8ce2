"""Manual overrides: promote, reject, rollback, pause and resume.

Each takes the registry lock, records its transition like an automatic step
(version tags + the lake's history) and fails with one line when there is
nothing to act on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadops.errors import LeadOpsError
from leadops.models import registry, transitions
from leadops.models.model_state import CHAMPION, PAUSED_TAG, Stage, VersionState
from leadops.models.transitions import Transition, registry_transaction
from leadops.storage.lake import Lake


class NothingToDoError(LeadOpsError):
    """The override has no model version to act on."""


def _challenger(client: Any, name: str, action: str) -> Any:
    challenger = registry.get_challenger(client, name)
    if challenger is None:
        raise NothingToDoError(f"model {name}: no challenger to {action}")
    return challenger


def promote(
    client: Any, lake: Lake, name: str, as_of: datetime, reason: str = "promoted manually"
) -> list[Transition]:
    """The challenger becomes champion now, whatever its stage; the old champion is archived."""
    with registry_transaction(client, lake):
        challenger = _challenger(client, name, "promote")
        return transitions.make_champion(client, lake, name, str(challenger.version), reason, as_of)


def reject(
    client: Any, lake: Lake, name: str, as_of: datetime, reason: str = "rejected manually"
) -> list[Transition]:
    """The challenger is archived (fraction 0): no more shadow or canary scores."""
    with registry_transaction(client, lake):
        challenger = _challenger(client, name, "reject")
        version = str(challenger.version)
        return [transitions.archive_challenger(client, lake, name, version, reason, as_of)]


def previous_champion(lake: Lake, current: VersionState) -> str | None:
    """The version ``current`` replaced: its tag, else the lake's history."""
    if current.previous_champion:
        return current.previous_champion
    replaced = [
        t
        for t in transitions.read_history(lake)
        if t["reason"] == f"replaced by v{current.version}"
    ]
    return replaced[-1]["version"] if replaced else None


def rollback(
    client: Any, lake: Lake, name: str, as_of: datetime, reason: str = "rolled back manually"
) -> list[Transition]:
    """The previous champion is champion again; the current one is archived with the reason."""
    with registry_transaction(client, lake):
        champion = registry.get_champion(client, name)
        if champion is None:
            raise NothingToDoError(f"model {name}: no champion to roll back")
        current = VersionState.from_version(champion)
        previous = previous_champion(lake, current)
        if previous is None:
            raise NothingToDoError(
                f"model {name}: champion v{current.version} replaced no earlier champion"
            )
        restored = VersionState.from_version(client.get_model_version(name, previous))
        when = as_of.isoformat()
        done = [
            Transition(
                current.version,
                Stage.ARCHIVED,
                0.0,
                f"{reason}: replaced by v{previous}",
                when,
                current.stage,
                current.fraction,
            ),
            Transition(
                str(previous),
                Stage.PRODUCTION,
                1.0,
                f"{reason}: restored in place of v{current.version}",
                when,
                restored.stage,
                restored.fraction,
            ),
        ]
        # One journaled unit (see leadops.models.transitions): a kill half-way is completed.
        transitions.commit(
            client,
            lake,
            name,
            [
                ["alias", CHAMPION, str(previous)],
                *transitions.stage_ops(done[0]),
                *transitions.stage_ops(done[1]),
            ],
        )
        return done


def set_paused(
    client: Any, lake: Lake, name: str, as_of: datetime, paused: bool, reason: str | None = None
) -> list[Transition]:
    """Freeze (or release) the challenger where it stands: the rollout flow then makes no move.

    Raises:
        NothingToDoError: no challenger, or it is already paused (pause) / not paused
            (resume); nothing is recorded then.
    """
    with registry_transaction(client, lake):
        action = "pause" if paused else "resume"
        challenger = VersionState.from_version(_challenger(client, name, action))
        if challenger.paused == paused:
            state = "is already paused" if paused else "is not paused, nothing to resume"
            raise NothingToDoError(f"model {name}: challenger v{challenger.version} {state}")
        stage, fraction = challenger.stage, challenger.fraction
        # The stage does not move, so the recorded reason keeps saying what happened.
        text = f"rollout {'paused' if paused else 'resumed'} manually"
        step = Transition(
            challenger.version,
            stage or Stage.SHADOW,
            fraction,
            f"{text}: {reason}" if reason else text,
            as_of.isoformat(),
            stage,
            fraction,
        )
        flag = {PAUSED_TAG: "true" if paused else "false"}
        ops = transitions.stage_ops(step, new_step=False, extra_tags=flag)
        transitions.commit(client, lake, name, ops)
        return [step]


OVERRIDES = ("promote", "reject", "rollback", "pause", "resume")


def override(
    client: Any, lake: Lake, name: str, action: str, as_of: datetime, reason: str | None = None
) -> list[Transition]:
    """Apply one of ``OVERRIDES``; without a ``reason`` each records its own default.

    Pause and resume record "rollout paused (resumed) manually: <reason>", since the
    challenger's stage does not move and the reason alone says what happened.
    """
    if action in ("pause", "resume"):
        return set_paused(client, lake, name, as_of, action == "pause", reason)
    extra = {"reason": reason} if reason else {}
    return {"promote": promote, "reject": reject, "rollback": rollback}[action](
        client, lake, name, as_of, **extra
    )
