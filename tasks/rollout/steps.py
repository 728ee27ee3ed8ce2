"""The @task entry points of the rollout flows: thin wrappers over the plain functions.

Reading evidence retries (lake I/O); deciding and writing to the registry never do:
a transition written twice would be two transitions.
"""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from leadops.errors import retry_if_transient
from leadops.inputs.contract import load_contract
from leadops.models.registry import registry_client
from leadops.models.transitions import Transition
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.rollout import approval, manual, run, value_step, watch
from tasks.rollout.approval import ApprovalInput
from tasks.rollout.checks import StepVerdict
from tasks.rollout.state_machine import RolloutState, StepPlan, describe


@task(
    name="read-rollout-state",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def read_state() -> RolloutState:
    """Champion and challenger as the registry has them now."""
    settings = get_settings()
    return run.rollout_state(registry_client(settings), settings.model_name, open_lake(settings))


@task(
    name="check-evidence",
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def check_evidence(state: RolloutState, as_of: datetime) -> StepVerdict:
    """Shadow or canary check on the leads scored since the step began."""
    settings = get_settings()
    verdict = run.check_evidence(
        open_lake(settings), load_contract(settings.contract_path), settings, state, as_of
    )
    challenger = state.challenger
    get_run_logger().info(
        "rollout evidence for v%s (%s): %s, %s",
        challenger.version,
        challenger.stage,
        verdict.outcome,
        verdict.reason,
    )
    return verdict


@task(name="decide-and-apply", cache_policy=NO_CACHE)
def decide_and_apply(
    state: RolloutState, verdict: StepVerdict, as_of: datetime
) -> tuple[StepPlan, list[Transition]]:
    """Plan the move and write it under the registry lock."""
    settings = get_settings()
    plan, done = run.decide_and_apply(
        registry_client(settings), open_lake(settings), settings, state, verdict, as_of
    )
    get_run_logger().info("rollout: %s", describe(plan))
    return plan, done


@task(name="run-override", cache_policy=NO_CACHE)
def run_override(action: str, as_of: datetime, reason: str | None) -> list[Transition]:
    """promote | reject | rollback | pause | resume, as ``tasks.rollout.manual`` does them."""
    settings = get_settings()
    return manual.override(
        registry_client(settings), open_lake(settings), settings.model_name, action, as_of, reason
    )


def _decision_line(decision: dict) -> str:
    """The step test in one line: test, verdict, n, estimate with interval, bound, MDE."""

    def num(key: str) -> str:
        value = decision.get(key)
        return f"{value:+.4f}" if isinstance(value, (int, float)) else "n/a"

    return (
        f"**Decision:** {decision['test']} {decision['verdict'].upper()} on "
        f"{decision['n']} matured leads: estimate {num('estimate')} "
        f"[{num('ci_low')}, {num('ci_high')}], non-inferiority bound {num('threshold')}, "
        f"MDE at this n {num('mde')}, alpha {decision.get('alpha')}"
    )


@task(
    name="publish-transitions",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def publish_transitions(title: str, plan: StepPlan | None, done: list[Transition]) -> None:
    """One markdown artifact per run: the decision, the evidence, every version moved."""
    lines = [f"# {title}"]
    if plan is not None:
        lines += [f"**Action:** {plan.action}", f"**Why:** {plan.reason}", ""]
        if plan.decision:
            lines += [_decision_line(plan.decision), ""]
        if "evidence_created_after" in plan.metrics:
            window = (
                f"**Evidence window:** leads created after "
                f"{plan.metrics['evidence_created_after']} (the challenger's training "
                f"and test data end), scored from {plan.metrics['evidence_scored_since']} "
                f"to {plan.metrics['evidence_until']}"
            )
            lines += [window, ""]
        if plan.metrics:
            lines += ["| evidence | value |", "|---|---|"]
            lines += [
                f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |"
                for k, v in plan.metrics.items()
            ]
    if done:
        lines += [
            "",
            "| version | from | to | fraction | reason | as of |",
            "|---|---|---|---:|---|---|",
        ]
        lines += [
            f"| v{t.version} | {t.previous_stage} | {t.stage} | {t.fraction:.0%} "
            f"| {t.reason} | {t.as_of} |"
            for t in done
        ]
    create_markdown_artifact(
        key="rollout-decision",
        markdown="\n".join(lines),
        description="Rollout: evidence, decision and registry transitions",
    )


def wait_for_approval(plan: StepPlan, gate: str, as_of: datetime) -> ApprovalInput | None:
    """Pause the flow run for an ``ApprovalInput`` on a Prefect server; else ask in the lake.

    Called from the flow body (a task cannot pause its flow run). A pause that times out
    holds the step like a missing approval: the next run asks again.
    """
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import pause_flow_run

    settings = get_settings()
    if not approval.server_configured():
        answer = approval.answer_from_lake(open_lake(settings), plan.version, gate, as_of)
        if answer is None:
            get_run_logger().warning(
                "v%s is waiting for approval %s: run `leadops approve`", plan.version, gate
            )
        return answer
    get_run_logger().warning(
        "v%s: %s; waiting for approval %s (form on this paused run, or "
        "`leadops approve` / `leadops reject`)",
        plan.version,
        describe(plan),
        gate,
    )
    try:
        return pause_flow_run(
            wait_for_input=ApprovalInput,
            timeout=settings.approval_timeout_seconds,
            key=f"approval-v{plan.version}-{gate}",
            poll_interval=2,
        )
    except FlowPauseTimeout:
        return None


@task(name="record-approval", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def record_approval(version: str, tags: dict[str, str]) -> None:
    """Write the approval tags on the version."""
    settings = get_settings()
    client = registry_client(settings)
    for key, value in tags.items():
        client.set_model_version_tag(settings.model_name, version, key, value)


@task(name="reject-at-gate", cache_policy=NO_CACHE)
def reject_at_gate(
    version: str,  # noqa: ARG001 (shown as the task run's parameter in the Prefect UI)
    reason: str,
    as_of: datetime,
) -> list[Transition]:
    """Archive the challenger a person rejected at the approval gate."""
    settings = get_settings()
    return manual.reject(
        registry_client(settings), open_lake(settings), settings.model_name, as_of, reason
    )


@task(name="watch-after-promotion", cache_policy=NO_CACHE)
def watch_after_promotion(as_of: datetime) -> dict | None:
    """The new champion against the one it replaced (watch period only); rolls back on FAIL."""
    settings = get_settings()
    decision, done = watch.check_watch(
        registry_client(settings),
        open_lake(settings),
        load_contract(settings.contract_path),
        settings,
        as_of,
    )
    if decision is None:
        return None
    get_run_logger().info("watch after promotion: %s: %s", decision.verdict.value, decision.reason)
    return {"decision": decision.as_dict(), "moved": [t.__dict__ for t in done]}


@task(
    name="value-rollout-step",
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def value_rollout(as_of: datetime) -> value_step.ValueStep:
    """The deal-value challenger's shadow step (tasks.rollout.value_step)."""
    settings = get_settings()
    contract = load_contract(settings.contract_path)
    done = value_step.value_rollout_step(settings, open_lake(settings), contract, as_of)
    get_run_logger().info("%s", done.line())
    return done
