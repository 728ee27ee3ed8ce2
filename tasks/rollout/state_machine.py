"""The rollout state machine: shadow → canary 10% → 50% → 100% → production.

Pure: given where the challenger stands and the verdict of its checks, ``plan_step``
says what to do. ``tasks.rollout.run`` reads the evidence and writes the decision.

- shadow: pass → canary at the first canary step (with a fresh routing salt);
  fail → archived.
- canary f: pass → the next step; at the last step (100%) → production;
  fail → automatic rollback (fraction 0, archived) with the reason.
- a ``wait`` verdict changes nothing and says what evidence is missing.
- an ``inconclusive`` verdict (still undecided after ``rollout_max_wait_days``) stops
  the rollout: the challenger is archived as inconclusive and the champion stays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from leadops.models.model_state import CHALLENGER, CHAMPION, Stage, VersionState
from tasks.rollout.checks import FAIL, INCONCLUSIVE, PASS, StepVerdict

# What a rollout run does with the challenger (``StepPlan.action``).
ADVANCE, PROMOTE, ROLLBACK, STOP = "advance", "promote", "rollback", "inconclusive"
WAIT, HOLD, IDLE = "wait", "hold", "idle"


@dataclass(frozen=True)
class RolloutState:
    """Champion and challenger as the registry has them (None: no version holds the alias)."""

    champion: VersionState | None
    challenger: VersionState | None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON: each role's ``VersionState.as_dict``, or None."""
        return {
            CHAMPION: self.champion.as_dict() if self.champion else None,
            CHALLENGER: self.challenger.as_dict() if self.challenger else None,
        }


@dataclass(frozen=True)
class Position:
    """Where a challenger stands: its stage and canary fraction."""

    stage: Stage | None
    fraction: float

    @classmethod
    def of(cls, version: VersionState) -> Position:
        return cls(version.stage, version.fraction)


def next_position(current: Position, canary_steps: tuple[float, ...]) -> Position:
    """The position one step further along the rollout."""
    steps = sorted(canary_steps)
    if current.stage == Stage.SHADOW:
        return Position(Stage.CANARY, steps[0])
    if current.stage == Stage.CANARY:
        later = [s for s in steps if s > current.fraction + 1e-9]
        return Position(Stage.CANARY, later[0]) if later else Position(Stage.PRODUCTION, 1.0)
    stage = current.stage.value if current.stage else None
    raise ValueError(f"stage {stage!r}: only shadow and canary challengers move along the rollout")


@dataclass(frozen=True)
class StepPlan:
    """What the rollout does with the challenger this time, and why."""

    action: str  # advance | promote | rollback | inconclusive | wait | hold | idle
    version: str | None
    current: Position | None
    target: Position | None
    reason: str
    metrics: dict = field(default_factory=dict)
    decision: dict | None = None  # the step test (leadops.decisions.verdict.Decision.as_dict())

    @property
    def transition(self) -> bool:
        return self.action in (ADVANCE, PROMOTE, ROLLBACK, STOP)

    @property
    def checked(self) -> bool:
        """The challenger's evidence was read for this plan (not idle, not paused)."""
        return self.action not in (IDLE, HOLD)

    def as_dict(self) -> dict:
        return asdict(self)


def plan_step(
    version: str, current: Position, verdict: StepVerdict, canary_steps: tuple[float, ...]
) -> StepPlan:
    """Turn a verdict into the next move (pure)."""
    evidence = (verdict.metrics, verdict.decision)
    where = "shadow" if current.stage == Stage.SHADOW else f"canary at {current.fraction:.0%}"
    if verdict.outcome == PASS:
        target = next_position(current, canary_steps)
        action = PROMOTE if target.stage == Stage.PRODUCTION else ADVANCE
        return StepPlan(action, version, current, target, verdict.reason, *evidence)
    if verdict.outcome == FAIL:
        what = "shadow evaluation failed" if current.stage == Stage.SHADOW else f"{where} failed"
        return StepPlan(
            ROLLBACK,
            version,
            current,
            Position(Stage.ARCHIVED, 0.0),
            f"{what}: {verdict.reason}",
            *evidence,
        )
    if verdict.outcome == INCONCLUSIVE:
        return StepPlan(
            STOP,
            version,
            current,
            Position(Stage.ARCHIVED, 0.0),
            f"{where} stopped, champion stays: {verdict.reason}",
            *evidence,
        )
    return StepPlan(
        WAIT, version, current, None, f"waiting for evidence: {verdict.reason}", *evidence
    )


def describe(plan: StepPlan) -> str:
    """One line for logs, the CLI and the artifact title."""
    if not plan.transition:
        return f"v{plan.version}: {plan.action} ({plan.reason})" if plan.version else plan.reason
    source = _where(plan.current)
    return f"v{plan.version}: {source} → {_where(plan.target)} ({plan.reason})"


def _where(position: Position | None) -> str:
    if position is None:
        return "?"
    if position.stage == Stage.CANARY:
        return f"canary {position.fraction:.0%}"
    return str(position.stage)


def idle_plan(state: RolloutState) -> StepPlan | None:
    """The plan when no evidence is needed (no challenger or champion, paused, not in rollout)."""
    challenger, champion = state.challenger, state.champion
    if challenger is None or champion is None:
        why = "no challenger in rollout" if champion else "no champion registered"
        return StepPlan(IDLE, None, None, None, why)
    current = Position.of(challenger)
    if challenger.paused:
        return StepPlan(HOLD, challenger.version, current, None, "rollout paused")
    if not challenger.in_rollout:
        stage = current.stage.value if current.stage else None
        return StepPlan(
            IDLE, challenger.version, current, None, f"challenger stage {stage!r} is not in rollout"
        )
    return None
