"""Registry writes for every rollout transition, automatic or manual.

Each transition is written on the model version (tags stage, fraction, reason,
metrics, time through ``leadops.models.model_state.stage_tags``, plus ``stage_since`` on the
as-of clock, which the next step's evidence window starts from) and appended to
``rollout/history.json`` in the lake, so ``leadops status`` can list the last
transitions even though a tag only holds the latest value. Callers hold the
lake's "registry" lock (``leadops.models.registry.promotion_lock``): MLflow aliases are
last-writer-wins.

A transition is several registry calls (tags one by one, alias moves) and a history
append, none of which MLflow can group. So each transition first records its whole
list of writes in the lake (``PENDING_KEY``), then makes them, then removes the record.
A process killed in between leaves the record; whoever next takes the lock through
``registry_transaction`` replays it (every write is idempotent), so the registry ends
as if the transition had completed, and ``leadops status`` names it until then.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from leadops.models import events, registry
from leadops.models.model_state import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION_TAG,
    PROMOTED_AT_TAG,
    SALT_TAG,
    STAGE_SINCE_TAG,
    STAGE_TAG,
    Stage,
    VersionState,
    stage_tags,
)
from leadops.storage.lake import Lake

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

log = logging.getLogger(__name__)

HISTORY_KEY = "rollout/history.json"
PENDING_KEY = "_journal/registry-transition.json"


@dataclass(frozen=True)
class Transition:
    """One recorded move of one model version."""

    version: str
    stage: Stage
    fraction: float
    reason: str
    as_of: str
    previous_stage: Stage | None = None
    previous_fraction: float | None = None
    metrics: dict = field(default_factory=dict)
    recorded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


def read_history(lake: Lake) -> list[dict]:
    """Every transition recorded so far, oldest first."""
    if not lake.exists(HISTORY_KEY):
        return []
    return json.loads(lake.read_bytes(HISTORY_KEY))


def record(
    client: MlflowClient, lake: Lake, name: str, transition: Transition, new_step: bool = True
) -> Transition:
    """Write ``transition`` on the version's tags and append it to the lake's history.

    ``new_step`` restarts the evidence window (``stage_since``); a pause does not.
    """
    commit(client, lake, name, stage_ops(transition, new_step))
    announce(name, [transition])
    return transition


def stage_ops(
    transition: Transition, new_step: bool = True, extra_tags: dict | None = None
) -> list[list]:
    """The writes recording ``transition``: tags (stage last: it is what the score stage
    acts on), then the history entry."""
    tags = stage_tags(
        transition.stage, transition.fraction, transition.reason, metrics=transition.metrics or None
    )
    stage = tags.pop(STAGE_TAG)
    tags = {**(extra_tags or {}), **tags}
    if new_step:
        tags[STAGE_SINCE_TAG] = transition.as_of
    ops = [["tag", transition.version, key, value] for key, value in tags.items()]
    ops.append(["tag", transition.version, STAGE_TAG, stage])
    ops.append(["history", json.loads(json.dumps(asdict(transition), default=str))])
    return ops


def commit(client: MlflowClient, lake: Lake, name: str, ops: list[list]) -> None:
    """Record ``ops`` as pending, make them, clear the record (see the module docstring)."""
    lake.write_bytes(PENDING_KEY, json.dumps({"model": name, "ops": ops}, default=str).encode())
    _replay(client, lake, name, ops)
    lake.delete(PENDING_KEY)


def pending(lake: Lake) -> dict | None:
    """The transition a killed process left half-written, if any: model, ops, versions."""
    if not lake.exists(PENDING_KEY):
        return None
    record = json.loads(lake.read_bytes(PENDING_KEY))
    steps = [op[1] for op in record["ops"] if op[0] == "history"]
    record["transitions"] = steps
    record["version"] = steps[-1]["version"] if steps else None
    return record


def finish_interrupted(client: MlflowClient, lake: Lake) -> dict | None:
    """Complete a transition a killed process left half-written (hold the registry lock)."""
    record = pending(lake)
    if record is None:
        return None
    _replay(client, lake, record["model"], record["ops"])
    lake.delete(PENDING_KEY)
    log.warning("registry: completed an interrupted transition of v%s", record["version"])
    return record


@contextmanager
def registry_transaction(client: MlflowClient, lake: Lake) -> Iterator[None]:
    """``promotion_lock`` plus completing any interrupted transition before deciding anything."""
    with registry.promotion_lock(lake):
        finish_interrupted(client, lake)
        yield


def _replay(client: MlflowClient, lake: Lake, name: str, ops: list[list]) -> None:
    for op in ops:
        kind = op[0]
        if kind == "tag":
            client.set_model_version_tag(name, op[1], op[2], op[3])
        elif kind == "alias":
            registry.move_alias(client, name, op[1], op[2])
        elif kind == "drop_alias":
            _drop_alias(client, name, op[1], op[2])
        elif kind == "history":
            history = read_history(lake)
            if op[1] not in history:  # a replay must not record the step twice
                history.append(op[1])
                lake.write_bytes(HISTORY_KEY, json.dumps(history, indent=1, default=str).encode())
        else:
            raise ValueError(f"registry journal: unknown write {kind!r}")


def new_salt(version: str) -> str:
    """A fresh routing salt per rollout, so each canary draws a new random set of leads."""
    return f"v{version}-{secrets.token_hex(4)}"


def _position(model_version: ModelVersion) -> tuple[Stage | None, float]:
    """(stage, fraction) of a ModelVersion: where a transition moves it from."""
    state = VersionState.from_version(model_version)
    return state.stage, state.fraction


def enter_canary(
    client: MlflowClient,
    lake: Lake,
    name: str,
    version: str,
    fraction: float,
    reason: str,
    as_of: datetime,
    metrics: dict,
) -> Transition:
    """Shadow → canary: a fresh salt first, so no lead is routed with a stale one."""
    step = Transition(
        str(version), Stage.CANARY, fraction, reason, as_of.isoformat(), Stage.SHADOW, 0.0, metrics
    )
    commit(client, lake, name, stage_ops(step, extra_tags={SALT_TAG: new_salt(version)}))
    announce(name, [step])
    return step


def archive_challenger(
    client: MlflowClient,
    lake: Lake,
    name: str,
    version: str,
    reason: str,
    as_of: datetime,
    metrics: dict | None = None,
) -> Transition:
    """Fraction 0, stage archived, challenger alias removed: the score stage stops using it."""
    stage, fraction = _position(client.get_model_version(name, version))
    step = Transition(
        str(version), Stage.ARCHIVED, 0.0, reason, as_of.isoformat(), stage, fraction, metrics or {}
    )
    # The alias goes first: from then on the score stage no longer uses the version.
    commit(client, lake, name, [["drop_alias", CHALLENGER, str(version)], *stage_ops(step)])
    announce(name, [step])
    return step


def make_champion(
    client: MlflowClient,
    lake: Lake,
    name: str,
    version: str,
    reason: str,
    as_of: datetime,
    metrics: dict | None = None,
) -> list[Transition]:
    """``version`` becomes champion; the old champion is archived and remembered for rollback."""
    old = registry.get_champion(client, name)
    stage, fraction = _position(client.get_model_version(name, version))
    done, tag_ops = [], []
    # Aliases first (challenger dropped, then champion moved): the score stage never sees
    # one version as both, and every prefix of these writes serves one consistent champion.
    ops = [["drop_alias", CHALLENGER, str(version)], ["alias", CHAMPION, str(version)]]
    if old is not None and str(old.version) != str(version):
        retired = Transition(
            str(old.version),
            Stage.ARCHIVED,
            0.0,
            f"replaced by v{version}",
            as_of.isoformat(),
            *_position(old),
        )
        done.append(retired)
        ops += stage_ops(retired)
        tag_ops = [
            ["tag", str(version), PREVIOUS_CHAMPION_TAG, str(old.version)],
            ["tag", str(version), PROMOTED_AT_TAG, as_of.isoformat()],
        ]
    promoted = Transition(
        str(version),
        Stage.PRODUCTION,
        1.0,
        reason,
        as_of.isoformat(),
        stage,
        fraction,
        metrics or {},
    )
    done.append(promoted)
    commit(client, lake, name, ops + tag_ops + stage_ops(promoted))
    announce(name, done)
    events.promoted(
        name,
        promoted.version,
        reason,
        str(old.version) if old is not None else None,
        promoted.as_of,
    )
    return done


def announce(name: str, steps: list[Transition]) -> None:
    """A rollout-transition event per committed step (alerts; never on a journal replay)."""
    for step in steps:
        events.rollout_transition(
            name,
            step.version,
            str(step.stage),
            step.fraction,
            step.reason,
            previous_stage=step.previous_stage and str(step.previous_stage),
            previous_fraction=step.previous_fraction,
            as_of=step.as_of,
            metrics=step.metrics,
        )


def _drop_alias(client: MlflowClient, name: str, alias: str, version: str) -> None:
    """Remove ``alias`` if it still points at ``version`` (never another version's)."""
    holder = registry.get_alias(client, name, alias)
    if holder is not None and str(holder.version) == str(version):
        client.delete_registered_model_alias(name, alias)
