"""The @task entry points of the rollout flows: thin wrappers over the plain functions.

Reading evidence retries (lake I/O); deciding and writing to the registry never do:
a transition written twice would be two transitions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from leadops.contract import load_contract
from leadops.settings import get_settings
from leadops.storage import open_lake
from leadops.registry import registry_client
from tasks.rollout import manual
from tasks.rollout.checks import Verdict
from tasks.rollout.run import apply_plan, evidence_since, rollout_state, verdict_for
from tasks.rollout.steps import Position, StepPlan, describe, plan_step
from leadops.transitions import Transition, registry_transaction


@task(name="read-rollout-state", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def read_state() -> dict[str, Any]:
    """Champion and challenger as the registry has them now."""
    settings = get_settings()
    return rollout_state(registry_client(settings), settings.model_name, open_lake(settings))


@task(name="check-evidence", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def check_evidence(state: dict[str, Any], as_of: datetime) -> Verdict:
    """Shadow or canary check on the leads scored since the step began."""
    settings = get_settings()
    challenger = state["challenger"]
    current = Position(challenger["stage"], challenger["fraction"])
    verdict = verdict_for(open_lake(settings), load_contract(settings.contract_path), settings,
                          state["champion"]["version"], challenger["version"], current,
                          evidence_since(challenger), as_of)
    get_run_logger().info("rollout evidence for v%s (%s): %s, %s", challenger["version"], current.stage,
                          verdict.outcome, verdict.reason)
    return verdict


@task(name="decide-and-apply", cache_policy=NO_CACHE)
def decide_and_apply(state: dict[str, Any], verdict: Verdict, as_of: datetime) -> tuple[StepPlan, list[Transition]]:
    """Plan the move and write it under the registry lock."""
    settings = get_settings()
    challenger = state["challenger"]
    plan = plan_step(challenger["version"], Position(challenger["stage"], challenger["fraction"]), verdict, settings.canary_steps)
    lake, client = open_lake(settings), registry_client(settings)
    with registry_transaction(client, lake, settings.model_name):
        done = apply_plan(client, lake, settings.model_name, plan, as_of)
    get_run_logger().info("rollout: %s", describe(plan))
    return plan, done


@task(name="run-override", cache_policy=NO_CACHE)
def run_override(action: str, as_of: datetime, reason: str | None) -> list[Transition]:
    """promote | reject | rollback | pause | resume, as ``tasks.rollout.manual`` does them."""
    settings = get_settings()
    client, lake, name = registry_client(settings), open_lake(settings), settings.model_name
    extra = {"reason": reason} if reason else {}
    if action in ("pause", "resume"):
        return manual.set_paused(client, lake, name, as_of, action == "pause", reason)
    return {"promote": manual.promote, "reject": manual.reject, "rollback": manual.rollback}[action](
        client, lake, name, as_of, **extra
    )


@task(name="publish-transitions", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def publish_transitions(title: str, plan: StepPlan | None, done: list[Transition]) -> None:
    """One markdown artifact per run: the decision, the evidence, every version moved."""
    lines = [f"# {title}"]
    if plan is not None:
        lines += [f"**Action:** {plan.action}", f"**Why:** {plan.reason}", ""]
        if plan.metrics:
            lines += ["| evidence | value |", "|---|---|"]
            lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in plan.metrics.items()]
    if done:
        lines += ["", "| version | from | to | fraction | reason | as of |", "|---|---|---|---:|---|---|"]
        lines += [f"| v{t.version} | {t.previous_stage} | {t.stage} | {t.fraction:.0%} | {t.reason} | {t.as_of} |" for t in done]
    create_markdown_artifact(key="rollout-decision", markdown="\n".join(lines),
                             description="Rollout: evidence, decision and registry transitions")
