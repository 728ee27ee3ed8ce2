"""The registry vocabulary: stages, aliases, tag names, and the one reader of a version's state.

A registered version's rollout state lives in its tags: ``stage``, ``fraction``,
``reason``, ``decided_at`` and ``metrics`` (written together by ``stage_tags``), plus
``stage_since`` (when its current rollout step began), ``salt`` (canary routing),
``previous_champion`` (for rollback) and ``paused``. The serving roles are the aliases
``champion`` and ``challenger``. Every other module names these through this one.
Pure: no MLflow import; ``leadops.models.registry`` does the reads and writes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadops.errors import LeadOpsError

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion


class Stage(StrEnum):
    """Where a model version stands (its ``stage`` tag)."""

    PRODUCTION = "production"  # the champion: serves every lead not in a canary
    SHADOW = "shadow"  # scored beside the champion, never served
    CANARY = "canary"  # served to a share (``fraction``) of leads
    ARCHIVED = "archived"  # out of service


IN_ROLLOUT = (Stage.SHADOW, Stage.CANARY)

# Aliases: the serving roles (also the ``role`` column of the prediction log).
CHAMPION, CHALLENGER = "champion", "challenger"
# Arms of the prediction log: which model a lead's served score came from.
CHAMPION_ARM, CANARY_ARM = CHAMPION, Stage.CANARY.value

# Version tags.
STAGE_TAG, FRACTION_TAG, REASON_TAG = "stage", "fraction", "reason"
DECIDED_AT_TAG, METRICS_TAG = "decided_at", "metrics"
STAGE_SINCE_TAG, SALT_TAG, PREVIOUS_CHAMPION_TAG, PAUSED_TAG = (
    "stage_since",
    "salt",
    "previous_champion",
    "paused",
)
# When the version became champion by a promotion (a rollback that restores it does not
# change it): the watch after promotion counts from here.
PROMOTED_AT_TAG = "promoted_at"


class RegistryTagError(LeadOpsError):
    """A version tag that does not hold what LeadOps writes there."""


def stage_tags(
    stage: str, fraction: float, reason: str, metrics: dict[str, Any] | None = None
) -> dict[str, str]:
    """The tags recording a decision on a version: stage, fraction, why, when, metrics."""
    try:
        stage = Stage(stage)
    except ValueError:
        raise ValueError(f"stage {stage!r}: choose one of {', '.join(Stage)}") from None
    tags = {
        STAGE_TAG: stage.value,
        FRACTION_TAG: f"{fraction:g}",
        REASON_TAG: reason[:4900],
        DECIDED_AT_TAG: datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if metrics is not None:
        tags[METRICS_TAG] = json.dumps(metrics, sort_keys=True, default=float)
    return tags


@dataclass(frozen=True)
class VersionState:
    """One registered version's rollout state, as its tags say (missing tags read as unset)."""

    version: str
    stage: Stage | None = None  # None: no stage tag, or one LeadOps does not know
    fraction: float = 0.0
    reason: str | None = None
    since: str | None = None  # when the current rollout step began (as-of clock)
    salt: str | None = None
    paused: bool = False
    previous_champion: str | None = None
    promoted_at: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    decided_at: str | None = None

    @classmethod
    def from_version(cls, model_version: ModelVersion) -> VersionState:
        """Read an MLflow ``ModelVersion``.

        Raises:
            RegistryTagError: its fraction tag is not a number in 0..1.
        """
        return cls.from_tags(
            model_version.name,
            str(model_version.version),
            dict(model_version.tags or {}),
            model_version.run_id,
        )

    @classmethod
    def from_tags(
        cls, name: str, version: str, tags: dict[str, str], run_id: str | None = None
    ) -> VersionState:
        """Read a version's tags (``name`` only names the model in an error)."""
        return cls(
            version=str(version),
            stage=_stage(tags.get(STAGE_TAG)),
            fraction=_fraction(tags.get(FRACTION_TAG), name, version),
            reason=tags.get(REASON_TAG),
            since=tags.get(STAGE_SINCE_TAG),
            salt=tags.get(SALT_TAG),
            paused=tags.get(PAUSED_TAG) == "true",
            previous_champion=tags.get(PREVIOUS_CHAMPION_TAG),
            promoted_at=tags.get(PROMOTED_AT_TAG),
            metrics=_metrics(tags.get(METRICS_TAG)),
            run_id=run_id,
            decided_at=tags.get(DECIDED_AT_TAG),
        )

    def watched_at(self, as_of: datetime, watch_days: int) -> bool:
        """Whether the watch after promotion runs at ``as_of``: this champion was promoted
        over another at most ``watch_days`` before. A clock before the promotion (a replayed
        week) is outside it: the champion was not serving yet. A champion restored by a
        rollback is not watched anew against the one it once replaced: the watch counts
        from its promotion (``promoted_at``; versions promoted before that tag: ``since``).
        """
        promoted = self.promoted_at or self.since
        if not self.previous_champion or not promoted:
            return False
        elapsed = as_of - datetime.fromisoformat(promoted)
        return timedelta(0) <= elapsed <= timedelta(days=watch_days)

    @property
    def in_rollout(self) -> bool:
        """Shadow or canary: scored beside the champion, its evidence collected."""
        return self.stage in IN_ROLLOUT

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON (the CLI, flow results)."""
        return {**asdict(self), "stage": self.stage.value if self.stage else None}


def _stage(value: str | None) -> Stage | None:
    try:
        return Stage(value) if value else None
    except ValueError:
        return None


def _fraction(value: str | None, name: str, version: str) -> float:
    try:
        fraction = float(value or 0.0)
    except ValueError:
        raise RegistryTagError(
            f"model {name} version {version}: fraction tag {value!r} is not a number"
        ) from None
    if not 0.0 <= fraction <= 1.0:
        raise RegistryTagError(
            f"model {name} version {version}: fraction tag {fraction} is outside 0..1"
        )
    return fraction


def _metrics(value: str | None) -> dict[str, Any]:
    try:
        return json.loads(value or "{}")
    except ValueError:
        return {"raw": value}
