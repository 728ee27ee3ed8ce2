"""The ``rollout`` flow: move the challenger one step when its evidence allows.

shadow → canary 10% → 50% → 100% → production, automatic rollback on a failed
check, and the manual overrides (promote, reject, rollback, pause, resume) as the
``action`` parameter, so a deployment run from the UI can do them too. Wiring only;
the logic is in tasks/rollout. Run locally with ``python -m flows.rollout`` or
``leadops rollout [--as-of ISO]``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from prefect import flow

from leadops.clock import utc
from leadops.settings import get_settings
from tasks.rollout.approval import gated
from tasks.rollout.results import RolloutResult
from tasks.rollout.run import step
from tasks.rollout.state_machine import describe
from tasks.rollout.steps import (
    check_evidence,
    decide_and_apply,
    publish_transitions,
    read_state,
    record_approval,
    reject_at_gate,
    run_override,
    value_rollout,
    wait_for_approval,
    watch_after_promotion,
)

Action = Literal["auto", "promote", "reject", "rollback", "pause", "resume"]


@flow(name="rollout")
def rollout(
    as_of: datetime | None = None, action: Action = "auto", reason: str | None = None
) -> RolloutResult:
    """Advance, roll back or hold the challenger; or apply a manual override.

    Args:
        as_of: evaluation time (maturity, evidence window, transition times); default now.
        action: "auto" lets the evidence decide; the others are manual overrides.
        reason: recorded on the versions a manual override moves.

    Returns:
        The RolloutResult: action, transition (one line, or None when nothing moved),
        reason, evidence metrics, the versions moved, and champion / challenger after it.
    """
    moment = utc(as_of)
    if action != "auto":
        done = run_override(action, moment, reason)
        publish_transitions(f"Manual {action}", None, done)
        lines = [f"v{t.version}: {t.previous_stage} → {t.stage} ({t.reason})" for t in done]
        return RolloutResult(
            action, moment.isoformat(), action, "; ".join(lines) or None, reason, read_state(), done
        )
    watched = watch_after_promotion(moment)  # may restore the previous champion first
    # The same step as ``tasks.rollout.run.advance``, with each part a task.
    plan, done = step(read_state(), moment, check_evidence, _decide())
    if plan.checked:
        publish_transitions(describe(plan), plan, done)
    value = value_rollout(moment)  # the deal-value challenger's own shadow step
    return RolloutResult(
        requested=action,
        as_of=moment.isoformat(),
        action=plan.action,
        transition=describe(plan) if done else None,
        reason=plan.reason,
        state=read_state(),
        moved=done,
        metrics=plan.metrics,
        decision=plan.decision,
        version=plan.version,
        watch=watched,
        value_rollout=value.line() if value.decision != "none" else None,
    )


def _decide() -> Callable[..., Any]:
    """``decide_and_apply``, behind the approval gate when LEADOPS_APPROVAL asks for one."""
    settings = get_settings()
    if settings.approval == "none":
        return decide_and_apply
    return gated(
        decide_and_apply,
        settings.approval,
        settings.canary_steps,
        wait_for_approval,
        record_approval,
        reject_at_gate,
    )


if __name__ == "__main__":
    rollout()
