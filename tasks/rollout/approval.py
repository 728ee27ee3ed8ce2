"""Approval gates: a person approves (or rejects) the challenger before canary or production.

With ``LEADOPS_APPROVAL=before-canary`` (or ``before-production``) a rollout step that
would take the challenger into canary (or production) first asks for a decision:

- on a Prefect server, the flow run pauses with ``pause_flow_run(wait_for_input=
  ApprovalInput)``: the UI shows the form on the paused run, ``leadops approve`` /
  ``leadops reject`` resume it with the same input;
- without one (the embedded default, nobody could resume a run there), the step holds,
  a pending approval is written to the lake (``APPROVAL_KEY``) and the next rollout run
  after ``leadops approve`` / ``reject`` applies the decision.

The decision, who gave it and the comment go on the version's tags (``APPROVAL_TAGS``)
and into the step's metrics, so the rollout artifact and the transition record show them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal

from prefect.input import RunInput

from leadops.errors import LeadOpsError
from leadops.models.model_state import Stage
from leadops.storage.lake import Lake
from tasks.rollout.checks import StepVerdict
from tasks.rollout.state_machine import (
    ADVANCE,
    PROMOTE,
    ROLLBACK,
    WAIT,
    Position,
    RolloutState,
    StepPlan,
    plan_step,
)

APPROVAL_KEY = "rollout/approval.json"
DECISION_TAG, BY_TAG, COMMENT_TAG, AT_TAG = (
    "approval",
    "approval_by",
    "approval_comment",
    "approval_at",
)
PENDING = "pending"
DONE = {"approve": "approved", "reject": "rejected"}

Moves = tuple[StepPlan, list]
Decide = Callable[[RolloutState, StepVerdict, datetime], Moves]


class ApprovalInput(RunInput):
    """What a person answers on a paused rollout run (the Prefect UI shows it as a form)."""

    decision: Literal["approve", "reject"]
    comment: str = ""
    by: str = ""


class NoPendingApprovalError(LeadOpsError):
    """``leadops approve`` with no rollout step waiting for one."""


def server_configured() -> bool:
    """A Prefect server the user configured (environment or profile), which a person can
    reach to resume a paused run; a test harness's or the embedded temporary API is not."""
    from prefect.settings import Settings as PrefectSettings

    return bool(PrefectSettings().api.url)


def gate_for(approval: str, plan: StepPlan) -> str | None:
    """The gate ``plan`` crosses under the ``approval`` setting, or None."""
    if (
        approval == "before-canary"
        and plan.action == ADVANCE
        and plan.current.stage == Stage.SHADOW
    ):
        return approval
    if approval == "before-production" and plan.action == PROMOTE:
        return approval
    return None


def read_request(lake: Lake) -> dict | None:
    """The approval asked for or given in the lake (version, gate, decision, by, comment)."""
    return json.loads(lake.read_bytes(APPROVAL_KEY)) if lake.exists(APPROVAL_KEY) else None


def answer_from_lake(lake: Lake, version: str, gate: str, as_of: datetime) -> ApprovalInput | None:
    """The decision given for ``version`` at ``gate``; else ask for one and return None."""
    asked = read_request(lake)
    if asked and asked["version"] == version and asked["gate"] == gate:
        if asked["decision"] != PENDING:
            lake.delete(APPROVAL_KEY)  # used once: a later gate asks again
            return ApprovalInput(
                decision=asked["decision"], comment=asked["comment"], by=asked["by"]
            )
        return None
    request = {
        "version": version,
        "gate": gate,
        "decision": PENDING,
        "by": "",
        "comment": "",
        "requested_at": as_of.isoformat(),
    }
    lake.write_bytes(APPROVAL_KEY, json.dumps(request).encode())
    return None


def give(lake: Lake, decision: str, by: str, comment: str) -> dict:
    """Record ``decision`` on the pending approval (``leadops approve`` / ``reject``).

    Raises:
        NoPendingApprovalError: no rollout step is waiting for an approval.
    """
    asked = read_request(lake)
    if asked is None or asked["decision"] != PENDING:
        raise NoPendingApprovalError("no rollout step is waiting for an approval")
    asked.update(
        decision=decision,
        by=by,
        comment=comment,
        decided_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    if decision == "reject":
        lake.delete(APPROVAL_KEY)  # the caller archives the challenger right away
    else:
        lake.write_bytes(APPROVAL_KEY, json.dumps(asked).encode())
    return asked


def approval_tags(answer: ApprovalInput, gate: str) -> dict[str, str]:
    """The version tags recording the decision, who gave it and the comment."""
    return {
        DECISION_TAG: f"{DONE[answer.decision]} {gate}",
        BY_TAG: answer.by or "unknown",
        COMMENT_TAG: answer.comment[:4900],
        AT_TAG: datetime.now(UTC).isoformat(timespec="seconds"),
    }


def describe_answer(answer: ApprovalInput, gate: str) -> str:
    """One line: ``approved before-canary by ana: looks good``."""
    text = f"{DONE[answer.decision]} {gate} by {answer.by or 'unknown'}"
    return f"{text}: {answer.comment}" if answer.comment else text


def gated(
    decide: Decide,
    approval: str,
    canary_steps: tuple[float, ...],
    wait: Callable[[StepPlan, str, datetime], ApprovalInput | None],
    record: Callable[[str, dict[str, str]], None],
    reject: Callable[[str, str, datetime], list],
) -> Decide:
    """``decide`` behind the approval gate.

    Args:
        decide: plans and applies the step (``decide_and_apply``).
        approval: the ``approval`` setting.
        canary_steps: the canary fractions (to preview the plan).
        wait: asks for the decision; None while none is given (the step holds).
        record: writes tags on a version.
        reject: archives the challenger with a reason.
    """

    def run(state: RolloutState, verdict: StepVerdict, as_of: datetime) -> Moves:
        challenger = state.challenger
        preview = plan_step(challenger.version, Position.of(challenger), verdict, canary_steps)
        gate = gate_for(approval, preview)
        if gate is None:
            return decide(state, verdict, as_of)
        answer = wait(preview, gate, as_of)
        if answer is None:
            why = f"waiting for approval {gate}: run `leadops approve` (or `leadops reject`)"
            return StepPlan(
                WAIT, preview.version, preview.current, preview.target, why, preview.metrics
            ), []
        record(challenger.version, approval_tags(answer, gate))
        said = describe_answer(answer, gate)
        metrics = {**verdict.metrics, "approval": said}
        if answer.decision == "reject":
            done = reject(challenger.version, said, as_of)
            return StepPlan(
                ROLLBACK,
                preview.version,
                preview.current,
                Position(Stage.ARCHIVED, 0.0),
                said,
                metrics,
            ), done
        return decide(
            state, replace(verdict, reason=f"{verdict.reason}; {said}", metrics=metrics), as_of
        )

    return run
