"""Registry writes for every rollout transition, automatic or manual.

Each transition is written on the model version (tags stage, fraction, reason,
metrics, time through ``leadops.registry.set_stage``, plus ``stage_since`` on the
as-of clock, which the next step's evidence window starts from) and appended to
``rollout/history.json`` in the lake, so ``leadops status`` can list the last
transitions even though a tag only holds the latest value. Callers hold the
lake's "registry" lock (``leadops.registry.promotion_lock``): MLflow aliases are last-writer-wins.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadops import registry
from leadops.storage import Lake

HISTORY_KEY = "rollout/history.json"
STAGE_SINCE, SALT, PREVIOUS_CHAMPION, PAUSED = "stage_since", "salt", "previous_champion", "paused"


@dataclass(frozen=True)
class Transition:
    """One recorded move of one model version."""

    version: str
    stage: str
    fraction: float
    reason: str
    as_of: str
    previous_stage: str | None = None
    previous_fraction: float | None = None
    metrics: dict = field(default_factory=dict)
    recorded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


def read_history(lake: Lake) -> list[dict]:
    """Every transition recorded so far, oldest first."""
    if not lake.exists(HISTORY_KEY):
        return []
    return json.loads(lake.read_bytes(HISTORY_KEY))


def record(client: Any, lake: Lake, name: str, transition: Transition, new_step: bool = True) -> Transition:
    """Write ``transition`` on the version's tags and append it to the lake's history.

    ``new_step`` restarts the evidence window (``stage_since``); a pause does not.
    """
    registry.set_stage(
        client, name, transition.version, transition.stage, transition.fraction, transition.reason,
        metrics=transition.metrics or None,
    )
    if new_step:
        client.set_model_version_tag(name, transition.version, STAGE_SINCE, transition.as_of)
    history = read_history(lake)
    history.append(asdict(transition))
    lake.write_bytes(HISTORY_KEY, json.dumps(history, indent=1, default=str).encode())
    return transition


def new_salt(version: str) -> str:
    """A fresh routing salt per rollout, so each canary draws a new random set of leads."""
    return f"v{version}-{secrets.token_hex(4)}"


def position_of(version: Any) -> tuple[str | None, float]:
    """(stage, fraction) from a ModelVersion's tags."""
    tags = version.tags or {}
    return tags.get("stage"), float(tags.get("fraction") or 0.0)


def enter_canary(client: Any, lake: Lake, name: str, version: str, fraction: float, reason: str, as_of: datetime, metrics: dict) -> Transition:
    """Shadow → canary: a fresh salt first, so no lead is routed with a stale one."""
    client.set_model_version_tag(name, version, SALT, new_salt(version))
    return record(client, lake, name, Transition(str(version), "canary", fraction, reason, as_of.isoformat(), "shadow", 0.0, metrics))


def archive_challenger(client: Any, lake: Lake, name: str, version: str, reason: str, as_of: datetime, metrics: dict | None = None) -> Transition:
    """Fraction 0, stage archived, challenger alias removed: the score stage stops using it."""
    current = client.get_model_version(name, version)
    stage, fraction = position_of(current)
    done = record(client, lake, name, Transition(str(version), "archived", 0.0, reason, as_of.isoformat(), stage, fraction, metrics or {}))
    _drop_alias(client, name, "challenger", version)
    return done


def make_champion(client: Any, lake: Lake, name: str, version: str, reason: str, as_of: datetime, metrics: dict | None = None) -> list[Transition]:
    """``version`` becomes champion; the old champion is archived and remembered for rollback."""
    old = registry.get_champion(client, name)
    incoming = client.get_model_version(name, version)
    stage, fraction = position_of(incoming)
    done = []
    if old is not None and str(old.version) != str(version):
        done.append(record(client, lake, name, Transition(
            str(old.version), "archived", 0.0, f"replaced by v{version}", as_of.isoformat(), *position_of(old))))
        client.set_model_version_tag(name, version, PREVIOUS_CHAMPION, str(old.version))
    registry.move_alias(client, name, "champion", version)
    _drop_alias(client, name, "challenger", version)
    done.append(record(client, lake, name, Transition(str(version), "production", 1.0, reason, as_of.isoformat(), stage, fraction, metrics or {})))
    return done


def _drop_alias(client: Any, name: str, alias: str, version: str) -> None:
    """Remove ``alias`` if it still points at ``version`` (never another version's)."""
    holder = registry.get_alias(client, name, alias)
    if holder is not None and str(holder.version) == str(version):
        client.delete_registered_model_alias(name, alias)
