"""One automatic rollout step, end to end in plain Python: state → evidence → plan → registry.

The rollout flow runs the same pieces as visible tasks; tests and scripts call
``advance``. Registry writes happen under ``leadops.registry.promotion_lock``,
because MLflow aliases are last-writer-wins and two rollouts must never interleave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from leadops import registry
from leadops.contract import Contract
from leadops.settings import Settings
from leadops.storage import Lake
from tasks.rollout import evidence
from leadops import transitions
from tasks.rollout.checks import Verdict, canary_check, shadow_check
from tasks.rollout.status import describe_version
from tasks.rollout.steps import CANARY, PROMOTE, ROLLBACK, SHADOW, Position, StepPlan, idle_plan, plan_step
from leadops import prediction_log as plog


def rollout_state(client: Any, name: str, lake: Lake | None = None) -> dict[str, Any]:
    """Champion and challenger as the registry has them now (see ``describe_version``).

    With the ``lake``, a transition a killed run left half-written is completed first
    (it may have dropped the challenger alias, which would otherwise read as "idle").
    """
    if lake is not None and transitions.pending(lake) is not None:
        with transitions.registry_transaction(client, lake, name):
            pass
    return {
        "champion": describe_version(registry.get_champion(client, name)),
        "challenger": describe_version(registry.get_challenger(client, name)),
    }


def evidence_since(challenger: dict[str, Any]) -> datetime | None:
    """Where the current step's evidence starts.

    A canary step counts only leads scored since it began (``stage_since``), so each
    fraction earns its own evidence. A shadow challenger has scores only since it
    became challenger, so it needs no lower bound.
    """
    if challenger["stage"] == CANARY and challenger["since"]:
        return datetime.fromisoformat(challenger["since"])
    return None


def verdict_for(
    lake: Lake, contract: Contract, settings: Settings, champion: str, challenger: str,
    current: Position, since: datetime | None, as_of: datetime,
) -> Verdict:
    """Read the step's evidence (leads scored since the step began) and run its check."""
    log = evidence.read_step_log(lake, champion, challenger, since)
    log = log[log[plog.SCORED_AT] <= pd.Timestamp(as_of)] if not log.empty else log
    paired = evidence.paired_scores(log, evidence.read_outcomes(lake, contract), contract, champion, challenger, as_of)
    if current.stage == SHADOW:
        return shadow_check(paired, settings.rollout_min_matured_per_arm)
    errors = evidence.scoring_errors(log, challenger) + evidence.unserved_canary_leads(log, challenger)
    return canary_check(
        paired, current.fraction, settings.rollout_min_matured_per_arm, settings.capacity_fraction,
        settings.canary_tolerance, settings.psi_threshold, errors,
    )


def apply_plan(client: Any, lake: Lake, name: str, plan: StepPlan, as_of: datetime) -> list[transitions.Transition]:
    """Write a planned transition to the registry (the caller holds ``leadops.registry.promotion_lock``).

    The challenger is read again first: if a manual promote / reject / rollback moved
    it since the evidence was read, nothing is written.
    """
    if not plan.transition:
        return []
    live = registry.get_challenger(client, name)
    if live is None or str(live.version) != plan.version or Position(*transitions.position_of(live)) != plan.current:
        return []
    if plan.action == PROMOTE:
        return transitions.make_champion(client, lake, name, plan.version, plan.reason, as_of, plan.metrics)
    if plan.action == ROLLBACK:
        return [transitions.archive_challenger(client, lake, name, plan.version, plan.reason, as_of, plan.metrics)]
    if plan.current.stage == SHADOW:
        return [transitions.enter_canary(client, lake, name, plan.version, plan.target.fraction, plan.reason, as_of, plan.metrics)]
    step = transitions.Transition(
        plan.version, CANARY, plan.target.fraction, plan.reason, as_of.isoformat(), CANARY, plan.current.fraction, plan.metrics
    )
    return [transitions.record(client, lake, name, step)]


def advance(client: Any, lake: Lake, contract: Contract, settings: Settings, as_of: datetime) -> tuple[StepPlan, list[transitions.Transition]]:
    """Check the challenger's evidence and move it one step if it allows."""
    state = rollout_state(client, settings.model_name, lake)
    plan = idle_plan(state)
    if plan is not None:
        return plan, []
    challenger = state["challenger"]
    current = Position(challenger["stage"], challenger["fraction"])
    verdict = verdict_for(lake, contract, settings, state["champion"]["version"], challenger["version"],
                          current, evidence_since(challenger), as_of)
    plan = plan_step(challenger["version"], current, verdict, settings.canary_steps)
    with transitions.registry_transaction(client, lake, settings.model_name):
        return plan, apply_plan(client, lake, settings.model_name, plan, as_of)
