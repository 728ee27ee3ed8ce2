"""The ``leadops`` command line.

Start-up stays light: heavy libraries (prefect, mlflow, xgboost, GX, evidently)
are imported inside each command, never at module level, so ``--help`` is quick.
Failures print one line and exit non-zero; the traceback goes to the debug log.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

# Rich help formatting costs ~0.8 s of imports on every call; plain help is enough.
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer  # noqa: E402

log = logging.getLogger("leadops.app.cli")

app = typer.Typer(
    name="leadops",
    help="Lead-scoring MLOps pipeline: ingest, train, score, monitor and roll out models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = typer.Option(False, "--json", help="Print one JSON object as the last line.")
AsOfOption = typer.Option(
    None, "--as-of", help="Evaluation time (ISO date/time); default now. Used for maturity and windows."
)


@app.callback()
def check_settings() -> None:
    """Read the settings once up front, so a bad LEADOPS_* value fails every command early."""
    from leadops.settings import get_settings

    level = get_settings().log_level
    # Prefect prints flow-run logs with its own handler; a root handler would print each of
    # them a second time, so there is one only when LEADOPS_LOG_LEVEL asks (DEBUG: tracebacks).
    if level:
        logging.basicConfig(level=level)


def prepare_runtime() -> None:
    """Point Prefect at LEADOPS_HOME and forward our loggers, before prefect is imported."""
    from leadops.runners import flow_run_environment
    from leadops.settings import get_settings

    settings = get_settings()
    os.environ.setdefault("PREFECT_HOME", str((settings.home / "prefect").resolve()))
    # The ephemeral API cannot create its SQLite file in a folder that does not exist.
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    for name, value in flow_run_environment().items():
        os.environ.setdefault(name, value)
    # The ephemeral API's start-up can exceed Prefect's default 20 s on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # No phoning home: CI and many production hosts have no route out, and it logs an error.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    quiet_libraries(settings.log_level)
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(_no_traceback_for_user_errors)


def _no_traceback_for_user_errors(record: logging.LogRecord) -> bool:
    """Keep Prefect's "task/flow failed: <error>" line but drop the traceback for our own errors.

    A LeadOpsError is a user-facing failure with a one-line message (bad input, no
    champion, ...); its traceback says nothing the line does not. Anything else keeps it.
    """
    from leadops.errors import LeadOpsError

    if record.exc_info and isinstance(record.exc_info[1], LeadOpsError):
        record.exc_info, record.exc_text = None, None
    return True


def quiet_libraries(log_level: str | None) -> None:
    """Library chatter (GX temp folders, MLflow table set-up, Optuna per trial) below WARNING.

    Our own loggers and Prefect's run logs are unaffected; LEADOPS_LOG_LEVEL=DEBUG keeps it all.
    """
    if log_level in ("DEBUG", "INFO"):
        return
    for name in ("great_expectations", "mlflow", "optuna", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")


def emit(result: dict[str, Any], as_json: bool, summary: str) -> None:
    """Print a human summary, or the result as one JSON object on the last line."""
    if as_json:
        typer.echo(json.dumps(result, default=str, sort_keys=True))
    else:
        typer.echo(summary)


def parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"--as-of {value!r}: expected an ISO date or date-time") from None


@app.command()
def generate(
    out: Path = typer.Option(Path("crm-export"), "--out", help="Folder to write leads/ and outcomes/."),
    weeks: int = typer.Option(12, min=1, help="Weeks of leads."),
    leads_per_week: int = typer.Option(2000, min=1, help="Leads created per week."),
    seed: int = typer.Option(7, help="Random seed; same seed, byte-identical files."),
    scenario: str = typer.Option("stable", help="stable | covariate-drift | conversion-drop"),
    drift_week: int = typer.Option(9, min=1, help="First week of drift (1-based)."),
    start: Optional[str] = typer.Option(None, help="Monday of week 1 (ISO date); fixed default."),
    defect_share: float = typer.Option(0.0, min=0.0, max=0.5, help="Share of lead rows with one export defect each."),
) -> None:
    """Write a synthetic CRM export: one leads file and one outcomes file per week."""
    from leadops.app import synthetic

    if scenario not in synthetic.SCENARIOS:
        raise typer.BadParameter(f"--scenario {scenario!r}: choose one of {', '.join(synthetic.SCENARIOS)}")
    config = synthetic.GeneratorConfig(
        weeks=weeks,
        leads_per_week=leads_per_week,
        seed=seed,
        scenario=scenario,
        drift_week=drift_week,
        start=date.fromisoformat(start) if start else synthetic.DEFAULT_START,
        defect_share=defect_share,
    )
    paths = synthetic.write_dataset(config, out)
    typer.echo(f"wrote {len(paths)} files under {out} ({weeks} weeks x {leads_per_week} leads, {scenario})")


@app.command()
def ingest(
    source: str = typer.Argument(
        ..., help="A file, folder, glob or s3:// prefix of CSV / Parquet / JSON-lines files."
    ),
    kind: str = typer.Option("leads", "--kind", help="leads | outcomes (columns and suite)."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Evaluation time (ISO) for 'not in the future' checks; default now."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Validate landing files into bronze / silver / quarantine / gold (runs the `ingest` flow).

    Exits 1 when any file failed (the others are still ingested).
    """
    if kind not in ("leads", "outcomes"):
        raise typer.BadParameter(f"--kind {kind!r}: choose leads or outcomes")
    when = parse_as_of(as_of)
    from leadops.settings import get_settings
    from leadops.sources import resolve_sources

    # A mistyped SOURCE fails in a second, as one line, before Prefect starts; the
    # flow takes the files as resolved here rather than listing SOURCE again.
    files = resolve_sources(source, get_settings().s3_endpoint_url)
    prepare_runtime()
    from flows.ingest import ingest as ingest_flow

    result = ingest_flow(source=source, kind=kind, as_of=when, files=files)
    failed = [f for f in result["files"] if f["status"] == "failed"]
    skipped = sum(f["status"] == "skipped" for f in result["files"])
    accepted = len(result["files"]) - len(failed) - skipped
    summary = (
        f"ingested {accepted} of {len(result['files'])} {kind} files ({len(failed)} failed, "
        f"{skipped} skipped): {result['rows_in']} rows in -> {result['silver']} silver, "
        f"{result['quarantined']} quarantined, {result['duplicates']} duplicates; "
        f"report {result['report']}"
    )
    emit(result, as_json, summary)
    for file in failed:
        typer.echo(f"leadops: error: {file['reason']}", err=True)
    if failed:
        raise typer.Exit(code=1)


@app.command()
def score(
    batch: Optional[str] = typer.Argument(
        None, help="Leads file (CSV / Parquet / JSON lines, local or s3://); default: unscored silver leads."
    ),
    out: Optional[str] = typer.Option(
        None, "--out", help="Output file, folder or s3:// URI; default <lake>/scores/<batch_id>.<format>."
    ),
    output_format: str = typer.Option("parquet", "--format", help="parquet | csv"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Scoring time (ISO) written as scored_at; default now."),
    as_json: bool = JsonOption,
) -> None:
    """Score leads with the champion (shadow / canary challenger beside it); runs the `score` flow."""
    if output_format not in ("parquet", "csv"):
        raise typer.BadParameter(f"--format {output_format!r}: choose parquet or csv")
    when = parse_as_of(as_of)
    prepare_runtime()
    from flows.score import score as score_flow
    from leadops.runners import with_task_runner
    from leadops.settings import get_settings

    result = with_task_runner(score_flow, get_settings())(batch=batch, out=out, output_format=output_format, as_of=when)
    arms = ", ".join(f"{arm} {count}" for arm, count in sorted(result["arms"].items()))
    versions = ", ".join(f"{role} v{version}" for role, version in result["model_versions"].items())
    summary = (
        f"batch {result['batch_id']}: nothing scored ({result['skipped']})" if result["skipped"]
        else f"scored {result['rows']} leads (batch {result['batch_id']}; {arms}; {versions}) -> {result['output']}"
    )
    emit(result, as_json, summary)


@app.command()
def train(
    trials: Optional[int] = typer.Option(
        None, "--trials", min=1, help="Optuna trials (default LEADOPS_TRIALS; with only --timeout: as many as fit)."
    ),
    timeout: Optional[float] = typer.Option(None, "--timeout", min=1, help="Search time budget in seconds."),
    reason: str = typer.Option("manual", "--reason", help="Trigger: manual | schedule | drift | conversion-drop"),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel search processes sharing one Optuna study."),
    as_of: Optional[str] = AsOfOption,
    training_window_days: Optional[int] = typer.Option(
        None, "--training-window-days", min=1, help="Only leads this many days before the maturity cutoff."
    ),
    min_gain: Optional[float] = typer.Option(
        None, "--min-gain", min=0, help="Relative ROC-AUC gain a challenger needs (default LEADOPS_GATE_MIN_RELATIVE_AUC_GAIN)."
    ),
    via_server: bool = typer.Option(
        False, "--via-server", help="Start a run of the train/retrain deployment on PREFECT_API_URL instead."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train on matured gold leads, log to MLflow and gate against the champion (runs the `train` flow)."""
    if reason not in ("manual", "schedule", "drift", "conversion-drop"):
        raise typer.BadParameter(f"--reason {reason!r}: choose manual, schedule, drift or conversion-drop")
    when = parse_as_of(as_of)
    prepare_runtime()
    if via_server:
        parameters = {"reason": reason, "trials": trials, "timeout_seconds": timeout, "workers": workers,
                      "as_of": when.isoformat() if when else None, "training_window_days": training_window_days,
                      "min_gain": min_gain}
        from leadops.app.remote import start_deployment_run

        started = start_deployment_run("train/retrain", {k: v for k, v in parameters.items() if v is not None})
        emit(started, as_json, f"started flow run {started['flow_run_name']} of train/retrain: {started['url']}")
        return
    from flows.train import train as train_flow
    from leadops.runners import with_task_runner
    from leadops.settings import get_settings

    result = with_task_runner(train_flow, get_settings())(reason=reason, trials=trials, timeout_seconds=timeout, as_of=when, workers=workers,
                        training_window_days=training_window_days, min_gain=min_gain)
    metrics = result["metrics"]
    summary = (
        f"{result['model_name']} v{result['model_version']}: {result['decision']} ({result['reason']}); "
        f"test ROC-AUC {metrics['roc_auc']:.4f}, precision at capacity {metrics['precision_at_capacity']:.3f}; "
        f"MLflow run {result['run_id']}"
    )
    emit(result, as_json, summary)

@app.command()
def monitor(
    window: Optional[int] = typer.Option(
        None, "--window", min=1, help="Look at leads scored in the DAYS before as-of; default the latest batch."
    ),
    as_of: Optional[str] = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Drift and conversion of recently scored leads vs the champion's training reference (runs `monitor`).

    Retrains (drift / conversion-drop) when the rule in the report fires, once per cooldown.
    """
    when = parse_as_of(as_of)
    prepare_runtime()
    from flows.monitor import monitor as monitor_flow

    result = monitor_flow(window_days=window, as_of=when)
    worst = max(result["psi"], key=result["psi"].get, default=None)
    psi_text = f"max PSI {result['psi'][worst]:.3f} ({worst})" if worst else "no PSI"
    retrain = f"retrain started ({result['reason']})" if result["retrain_triggered"] else result["retrain"]["why"]
    summary = (
        f"monitor v{result['model_version']} on {result['window']}: {psi_text}; "
        f"conversion: {result['conversion']['note']}; {retrain}; report {result['report']}"
    )
    emit(result, as_json, summary)


@app.command()
def rollout(as_of: Optional[str] = AsOfOption, as_json: bool = JsonOption) -> None:
    """Move the challenger one rollout step when its evidence allows (runs `rollout`)."""
    _run_rollout("auto", as_of, None, as_json)


@app.command()
def promote(
    reason: str = typer.Option("promoted manually", "--reason", help="Recorded on both versions."),
    as_of: Optional[str] = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Make the challenger champion now; the old champion is archived (kept for rollback)."""
    _run_rollout("promote", as_of, reason, as_json)


@app.command()
def reject(
    reason: str = typer.Option("rejected manually", "--reason", help="Recorded on the challenger."),
    as_of: Optional[str] = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Archive the challenger (or answer a rollout step waiting for approval with a reject)."""
    if not _answer_approval("reject", reason, as_of, as_json):
        _run_rollout("reject", as_of, reason, as_json)


@app.command()
def approve(
    comment: str = typer.Option("", "--comment", help="Recorded on the challenger."),
    as_of: Optional[str] = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Approve the rollout step waiting for approval (LEADOPS_APPROVAL)."""
    if not _answer_approval("approve", comment, as_of, as_json):
        raise typer.BadParameter("no rollout step is waiting for an approval")


def _answer_approval(decision: str, comment: str, as_of: Optional[str], as_json: bool) -> bool:
    """Resume a paused rollout run (or grant the lake's pending approval); False: none waits."""
    prepare_runtime()
    from leadops.app import approvals
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
    reason: str = typer.Option("rolled back manually", "--reason", help="Recorded on both versions."),
    as_of: Optional[str] = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Restore the previous champion; the current one is archived with the reason."""
    _run_rollout("rollback", as_of, reason, as_json)


@app.command()
def pause(
    resume: bool = typer.Option(False, "--resume", help="Release a paused rollout instead."),
    as_of: Optional[str] = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Freeze the challenger's rollout where it stands (or --resume it)."""
    _run_rollout("resume" if resume else "pause", as_of, None, as_json)


def _run_rollout(action: str, as_of: Optional[str], reason: Optional[str], as_json: bool) -> None:
    when = parse_as_of(as_of)
    prepare_runtime()
    from flows.rollout import rollout as rollout_flow

    result = rollout_flow(as_of=when, action=action, reason=reason)
    summary = result["transition"] or f"no transition: {result['reason'] or result['action']}"
    emit(result, as_json, f"rollout ({action}): {summary}")


@app.command()
def status(
    limit: int = typer.Option(10, "--limit", min=1, help="How many recent transitions to list."),
    as_json: bool = JsonOption,
) -> None:
    """Champion and challenger (stage, fraction, reason) and the last rollout transitions."""
    from leadops.app.status import registry_status, status_text
    from leadops.settings import get_settings

    state = registry_status(get_settings(), limit)
    emit(state, as_json, status_text(state))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address; beyond loopback needs PREFECT_SERVER_API_AUTH_STRING."),
    port: int = typer.Option(4200, "--port", min=1, max=65535, help="Prefect server port."),
    mlflow: bool = typer.Option(True, "--mlflow/--no-mlflow", help="Also start the MLflow UI on a free port."),
) -> None:
    """Start a local Prefect server (SQLite under LEADOPS_HOME) and serve every deployment.

    The UI lists ingest, score, monitor, rollout and train with their schedules; Ctrl-C
    stops the server, the MLflow UI and the runner.
    """
    from leadops.app.serve import serve as serve_all
    from leadops.settings import get_settings

    prepare_runtime()
    serve_all(get_settings(), host, port, mlflow, typer.echo)


@app.command()
def api(
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address; beyond loopback needs LEADOPS_API_KEYS."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port of the scoring API."),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes (one core each)."),
) -> None:
    """Serve online scoring (POST /v1/leads/score, /ready, /metrics, /docs) until Ctrl-C or SIGTERM."""
    from leadops.app.api.process import run_api
    from leadops.settings import get_settings

    run_api(get_settings(), host, port, workers)


@app.command()
def demo(
    fast: bool = typer.Option(False, "--fast", help="Smaller weeks and fewer trials (about 3 minutes)."),
    fresh: bool = typer.Option(False, "--fresh", help="Delete a previous demo run in LEADOPS_HOME first "
                               "(without it, the same demo replays idempotently)."),
) -> None:
    """Run the whole lifecycle on a simulated 17-week timeline of synthetic CRM exports.

    Generates leads with covariate drift from week 9, ingests and trains on the first
    8 weeks, then each week: ingest, rollout step, score, monitor. Ends with a summary
    and a timeline picture (PNG) under LEADOPS_HOME.
    """
    import time

    from leadops.app.demo import DemoPlan, prepare_home, run_demo, summary_text
    from leadops.settings import get_settings

    started = time.perf_counter()
    settings = get_settings()
    plan = DemoPlan.fast() if fast else DemoPlan()
    if prepare_home(settings, fresh, plan):
        typer.echo(f"{settings.home} holds this demo already: replaying its weeks (idempotent); --fresh starts over")
    # One line per week is the demo's output; each flow's own logs stay in the Prefect UI.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    prepare_runtime()
    records = run_demo(plan, settings, echo=typer.echo)
    from leadops.app.timeline import plot_timeline

    picture = plot_timeline(records, settings.psi_threshold, settings.conversion_drop_threshold,
                            settings.home / "demo-timeline.png")
    typer.echo(summary_text(records, settings, picture, time.perf_counter() - started))


def main() -> None:
    """Entry point: run the app; any failure becomes one line and exit code 1."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("leadops: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # every failure reaches the user as one line
        from leadops.errors import one_line

        log.debug("leadops command failed", exc_info=True)
        typer.echo(f"leadops: error: {one_line(exc)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
