"""One automatic rollout step in plain Python: state → evidence → plan → registry.

``step`` is the one place the order of a rollout step is written down. ``advance``
runs it with the plain functions below (tests, scripts); the rollout flow runs it with
the same functions wrapped as tasks (``tasks.rollout.steps``), so the Prefect UI
shows each part and only reading the evidence retries. Registry writes happen under
``leadops.models.registry.promotion_lock``: MLflow aliases are last-writer-wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

import pandas as pd

from leadops.clock import utc
from leadops.decisions import gate_evidence
from leadops.decisions.verdict import decision_tags
from leadops.inputs.contract import Contract
from leadops.logs import prediction_log as plog
from leadops.models import events, registry, transitions
from leadops.models.model_state import Stage, VersionState
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.rollout import evidence
from tasks.rollout.checks import StepRule, StepVerdict, step_check
from tasks.rollout.state_machine import (
    PROMOTE,
    ROLLBACK,
    STOP,
    Position,
    RolloutState,
    StepPlan,
    idle_plan,
    plan_step,
)

Moves = tuple[StepPlan, list[transitions.Transition]]


def rollout_state(client: Any, name: str, lake: Lake | None = None) -> RolloutState:
    """Champion and challenger as the registry has them now.

    With the ``lake``, a transition a killed run left half-written is completed first
    (it may have dropped the challenger alias, which would otherwise read as "idle").
    """
    if lake is not None and transitions.pending(lake) is not None:
        with transitions.registry_transaction(client, lake):
            pass
    return RolloutState(
        _state(registry.get_champion(client, name)), _state(registry.get_challenger(client, name))
    )


def _state(model_version: Any) -> VersionState | None:
    return VersionState.from_version(model_version) if model_version is not None else None


def step(
    state: RolloutState,
    as_of: datetime,
    check: Callable[[RolloutState, datetime], StepVerdict],
    decide: Callable[[RolloutState, StepVerdict, datetime], Moves],
) -> Moves:
    """One rollout step: hold when idle or paused, else check the evidence and decide.

    ``check`` and ``decide`` are ``check_evidence`` and ``decide_and_apply`` bound to a
    lake, contract and registry (or the flow's tasks wrapping them).
    """
    plan = idle_plan(state)
    if plan is not None:
        return plan, []
    return decide(state, check(state, as_of), as_of)


def advance(
    client: Any, lake: Lake, contract: Contract, settings: Settings, as_of: datetime
) -> Moves:
    """Check the challenger's evidence and move it one step if it allows."""
    return step(
        rollout_state(client, settings.model_name, lake),
        as_of,
        partial(check_evidence, lake, contract, settings),
        partial(decide_and_apply, client, lake, settings),
    )


def check_evidence(
    lake: Lake, contract: Contract, settings: Settings, state: RolloutState, as_of: datetime
) -> StepVerdict:
    """Read the step's evidence and run the paired step test on it.

    Evidence: leads scored by both models since the step began and created after the
    challenger's training data ended (its gate test window included); the artifact
    and the metrics state that window.
    """
    champion, challenger = state.champion.version, state.challenger.version
    since = evidence_since(state.challenger)
    log = evidence.read_step_log(lake, champion, challenger, since)
    log = log[log[plog.SCORED_AT] <= pd.Timestamp(as_of)] if not log.empty else log
    outcomes = evidence.read_outcomes(lake, contract)
    data_end = evidence.training_data_end(
        registry.registry_client(settings),
        settings.model_name,
        challenger,
        contract.outcome_window_days,
    )
    paired = evidence.paired_scores(log, outcomes, contract, champion, challenger, as_of)
    paired = evidence.created_after(paired, contract, data_end)
    gate_rows = None
    if settings.rollout_gate_rows:
        gate_rows = gate_evidence.load(lake, settings.model_name, challenger, champion)
        paired = evidence.with_gate_rows(paired, gate_rows, contract)
    began = since or _first_scored(log, challenger)
    elapsed = (as_of - began).total_seconds() / 86_400 if began is not None else None
    errors = 0
    if Position.of(state.challenger).stage == Stage.CANARY:
        errors = evidence.scoring_errors(log, challenger) + evidence.unserved_canary_leads(
            log, challenger
        )
    verdict = step_check(paired, StepRule.from_settings(settings), errors, elapsed)
    window = {
        "evidence_created_after": data_end.isoformat() if data_end else "unknown",
        "evidence_scored_since": began.isoformat() if began else None,
        "evidence_until": as_of.isoformat(),
        "gate_rows": 0 if gate_rows is None else len(gate_rows),
    }
    if gate_rows is not None and len(gate_rows):
        from_gate = int((paired["arm"] == evidence.GATE_ARM).sum())
        counted = f"{len(paired) - from_gate:,} step leads + {from_gate:,} gate rows"
        verdict = replace(verdict, reason=f"{verdict.reason} [{counted}]")
    return replace(verdict, metrics={**verdict.metrics, **window})


def _first_scored(log: pd.DataFrame, challenger: str) -> datetime | None:
    """When the challenger first scored (a shadow step's start)."""
    scored = log.loc[log[plog.MODEL_VERSION] == str(challenger), plog.SCORED_AT] if len(log) else []
    return pd.Timestamp(min(scored)).to_pydatetime() if len(scored) else None


def evidence_since(challenger: VersionState) -> datetime | None:
    """Where the current step's evidence starts.

    A canary step counts only leads scored since it began (``stage_since``), so each
    fraction earns its own evidence. A shadow challenger has scores only since it
    became challenger, so it needs no lower bound.
    """
    if challenger.stage == Stage.CANARY and challenger.since:
        return utc(datetime.fromisoformat(challenger.since))
    return None


def decide_and_apply(
    client: Any,
    lake: Lake,
    settings: Settings,
    state: RolloutState,
    verdict: StepVerdict,
    as_of: datetime,
) -> Moves:
    """Plan the challenger's move from the verdict and write it under the registry lock."""
    challenger = state.challenger
    plan = plan_step(challenger.version, Position.of(challenger), verdict, settings.canary_steps)
    with transitions.registry_transaction(client, lake):
        return plan, apply_plan(client, lake, settings.model_name, plan, as_of)


def apply_plan(
    client: Any, lake: Lake, name: str, plan: StepPlan, as_of: datetime
) -> list[transitions.Transition]:
    """Write a planned transition to the registry (the caller holds the registry lock).

    The challenger is read again first: if a manual promote / reject / rollback moved
    it since the evidence was read, nothing is written.
    """
    if not plan.checked:
        return []
    live = registry.get_challenger(client, name)
    if live is None or str(live.version) != plan.version:
        return []
    if Position.of(VersionState.from_version(live)) != plan.current:
        return []
    version, reason, metrics = plan.version, plan.reason, plan.metrics
    if plan.decision:  # the step test's verdict, interval and MDE on the version, even on a wait
        transitions.commit(
            client,
            lake,
            name,
            [["tag", version, key, value] for key, value in decision_tags(plan.decision).items()],
        )
    if not plan.transition:
        return []
    if plan.action == PROMOTE:
        return transitions.make_champion(client, lake, name, version, reason, as_of, metrics)
    if plan.action in (ROLLBACK, STOP):
        step = transitions.archive_challenger(client, lake, name, version, reason, as_of, metrics)
        champion = registry.get_champion(client, name)
        if plan.action == ROLLBACK:  # an inconclusive stop is no rollback alert
            events.rollback(name, version, reason, champion.version if champion else None, as_of)
        return [step]
    if plan.current.stage == Stage.SHADOW:
        return [
            transitions.enter_canary(
                client, lake, name, version, plan.target.fraction, reason, as_of, metrics
            )
        ]
    moved = transitions.Transition(
        version,
        Stage.CANARY,
        plan.target.fraction,
        reason,
        as_of.isoformat(),
        Stage.CANARY,
        plan.current.fraction,
        metrics,
    )
    return [transitions.record(client, lake, name, moved)]
