"""The @task entry points of the rollout flows: thin wrappers over the plain functions.

Reading evidence retries (lake I/O); deciding and writing to the registry never do:
a transition written twice would be two transitions.
"""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from leadops.contract import load_contract
from leadops.errors import retry_if_transient
from leadops.registry import registry_client
from leadops.settings import get_settings
from leadops.storage import open_lake
from leadops.transitions import Transition
from tasks.rollout import manual, run
from tasks.rollout.checks import Verdict
from tasks.rollout.steps import RolloutState, StepPlan, describe


@task(name="read-rollout-state", retries=2, retry_delay_seconds=5,
      retry_condition_fn=retry_if_transient, cache_policy=NO_CACHE)
def read_state() -> RolloutState:
    """Champion and challenger as the registry has them now."""
    settings = get_settings()
    return run.rollout_state(registry_client(settings), settings.model_name, open_lake(settings))


@task(name="check-evidence", retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=retry_if_transient, cache_policy=NO_CACHE)
def check_evidence(state: RolloutState, as_of: datetime) -> Verdict:
    """Shadow or canary check on the leads scored since the step began."""
    settings = get_settings()
    verdict = run.check_evidence(open_lake(settings), load_contract(settings.contract_path),
                                 settings, state, as_of)
    challenger = state.challenger
    get_run_logger().info("rollout evidence for v%s (%s): %s, %s", challenger.version,
                          challenger.stage, verdict.outcome, verdict.reason)
    return verdict


@task(name="decide-and-apply", cache_policy=NO_CACHE)
def decide_and_apply(state: RolloutState, verdict: Verdict,
                     as_of: datetime) -> tuple[StepPlan, list[Transition]]:
    """Plan the move and write it under the registry lock."""
    settings = get_settings()
    plan, done = run.decide_and_apply(registry_client(settings), open_lake(settings), settings,
                                      state, verdict, as_of)
    get_run_logger().info("rollout: %s", describe(plan))
    return plan, done


@task(name="run-override", cache_policy=NO_CACHE)
def run_override(action: str, as_of: datetime, reason: str | None) -> list[Transition]:
    """promote | reject | rollback | pause | resume, as ``tasks.rollout.manual`` does them."""
    settings = get_settings()
    return manual.override(registry_client(settings), open_lake(settings), settings.model_name,
                           action, as_of, reason)


def _decision_line(decision: dict) -> str:
    """The step test in one line: test, verdict, n, estimate with interval, bound, MDE."""
    def num(key: str) -> str:
        value = decision.get(key)
        return f"{value:+.4f}" if isinstance(value, (int, float)) else "n/a"

    return (f"**Decision:** {decision['test']} {decision['verdict'].upper()} on "
            f"{decision['n']} matured leads: estimate {num('estimate')} "
            f"[{num('ci_low')}, {num('ci_high')}], non-inferiority bound {num('threshold')}, "
            f"MDE at this n {num('mde')}, alpha {decision.get('alpha')}")


@task(name="publish-transitions", retries=2, retry_delay_seconds=5,
      retry_condition_fn=retry_if_transient, cache_policy=NO_CACHE)
def publish_transitions(title: str, plan: StepPlan | None, done: list[Transition]) -> None:
    """One markdown artifact per run: the decision, the evidence, every version moved."""
    lines = [f"# {title}"]
    if plan is not None:
        lines += [f"**Action:** {plan.action}", f"**Why:** {plan.reason}", ""]
        if plan.decision:
            lines += [_decision_line(plan.decision), ""]
        if "evidence_created_after" in plan.metrics:
            window = (f"**Evidence window:** leads created after "
                      f"{plan.metrics['evidence_created_after']} (the challenger's training "
                      f"and test data end), scored from {plan.metrics['evidence_scored_since']} "
                      f"to {plan.metrics['evidence_until']}")
            lines += [window, ""]
        if plan.metrics:
            lines += ["| evidence | value |", "|---|---|"]
            lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |"
                      for k, v in plan.metrics.items()]
    if done:
        lines += ["", "| version | from | to | fraction | reason | as of |",
                  "|---|---|---|---:|---|---|"]
        lines += [f"| v{t.version} | {t.previous_stage} | {t.stage} | {t.fraction:.0%} "
                  f"| {t.reason} | {t.as_of} |" for t in done]
    create_markdown_artifact(key="rollout-decision", markdown="\n".join(lines),
                             description="Rollout: evidence, decision and registry transitions")
