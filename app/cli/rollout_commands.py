"""The challenger's rollout and its overrides, the decision history and the model pages."""

from __future__ import annotations

from typing import Optional

import typer

from app.cli import runtime
from app.cli.output import emit
from app.cli.root import DecisionTimeOption, JsonOption, app
from app.cli.runtime import OptionError, parse_as_of


@app.command()
def rollout(
    as_of: Optional[str] = typer.Option(
        None,
        "--as-of",
        help="Evaluation time (ISO); leads whose outcome matured by then count as "
        "evidence; default now.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Move the challenger one rollout step when its evidence allows (runs `rollout`)."""
    _run_rollout("auto", as_of, None, as_json)


@app.command()
def promote(
    reason: str = typer.Option("promoted manually", "--reason", help="Recorded on both versions."),
    as_of: Optional[str] = DecisionTimeOption,
    as_json: bool = JsonOption,
) -> None:
    """Make the challenger champion now; the old champion is archived (kept for rollback)."""
    _run_rollout("promote", as_of, reason, as_json)


@app.command()
def reject(
    reason: str = typer.Option("rejected manually", "--reason", help="Recorded on the challenger."),
    as_of: Optional[str] = DecisionTimeOption,
    as_json: bool = JsonOption,
) -> None:
    """Archive the challenger (or answer a rollout step waiting for approval with a reject)."""
    if not _answer_approval("reject", reason, as_of, as_json):
        _run_rollout("reject", as_of, reason, as_json)


@app.command()
def approve(
    comment: str = typer.Option("", "--comment", help="Recorded on the challenger."),
    as_of: Optional[str] = DecisionTimeOption,
    as_json: bool = JsonOption,
) -> None:
    """Approve the rollout step waiting for approval (LEADOPS_APPROVAL)."""
    if not _answer_approval("approve", comment, as_of, as_json):
        raise OptionError("no rollout step is waiting for an approval")


def _answer_approval(decision: str, comment: str, as_of: Optional[str], as_json: bool) -> bool:
    """Resume a paused rollout run (or grant the lake's pending approval); False: none waits."""
    runtime.prepare_runtime()
    from app.cli import approvals
    from tasks.rollout.approval import NoPendingApprovalError

    try:
        given = approvals.answer(decision, comment)
    except NoPendingApprovalError:
        return False
    if given["resumed"]:
        emit(given, as_json, f"{decision}: resumed rollout run(s) {', '.join(given['resumed'])}")
    elif decision == "approve":  # no server: the step waiting for it runs now
        _run_rollout("auto", as_of, None, as_json)
    else:
        _run_rollout("reject", as_of, f"rejected {given['pending']['gate']}: {comment}", as_json)
    return True


@app.command()
def rollback(
    reason: str = typer.Option(
        "rolled back manually", "--reason", help="Recorded on both versions."
    ),
    as_of: Optional[str] = DecisionTimeOption,
    as_json: bool = JsonOption,
) -> None:
    """Restore the previous champion; the current one is archived with the reason."""
    _run_rollout("rollback", as_of, reason, as_json)


@app.command()
def pause(
    resume: bool = typer.Option(False, "--resume", help="Release a paused rollout instead."),
    reason: Optional[str] = typer.Option(
        None,
        "--reason",
        help='Recorded on the challenger: "rollout paused manually: REASON".',
    ),
    as_of: Optional[str] = DecisionTimeOption,
    as_json: bool = JsonOption,
) -> None:
    """Freeze the challenger's rollout where it stands (or --resume it)."""
    _run_rollout("resume" if resume else "pause", as_of, reason, as_json)


def _run_rollout(action: str, as_of: Optional[str], reason: Optional[str], as_json: bool) -> None:
    when = parse_as_of(as_of)
    runtime.prepare_runtime()
    from flows.rollout import rollout as rollout_flow

    result = rollout_flow(as_of=when, action=action, reason=reason)
    emit(result.as_dict(), as_json, result.line())


@app.command()
def status(
    limit: int = typer.Option(
        30,
        "--limit",
        min=1,
        help="How many recent decisions (trained, gate, rollout steps, overrides) to list.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Champion and challenger (stage, fraction, reason) and every recent decision, in order."""
    from app.cli.status import registry_status, status_text
    from leadops.settings import get_settings

    state = registry_status(get_settings(), limit)
    emit(state, as_json, status_text(state))


@app.command()
def report(
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Outcomes known until then count as matured (ISO); default now."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Write the "is the model working?" page of every model name under LEADOPS_HOME/reports."""
    from app.cli.report import report_summary

    result, summary = report_summary(parse_as_of(as_of))
    emit(result, as_json, summary)
