"""The ``leadops`` command line.

Start-up stays light: heavy libraries (prefect, mlflow, xgboost, GX, evidently)
are imported inside each command, never at module level, so ``--help`` is quick.
Failures print one line and exit non-zero; the traceback goes to the debug log.
"""

from __future__ import annotations

import atexit
import gc
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

log = logging.getLogger("app.cli.main")

app = typer.Typer(
    name="leadops",
    help="Lead-scoring MLOps pipeline: ingest, train, score, monitor and roll out models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain errors even when typer was imported (with rich) before this module was.
    rich_markup_mode=None,
)

JsonOption = typer.Option(False, "--json", help="Print one JSON object as the last line.")
# Manual overrides use the time only to stamp the decision (and start the next evidence window).
DecisionTimeOption = typer.Option(
    None,
    "--as-of",
    help="Time recorded on the decision (ISO date/time); default now. The next "
    "rollout step counts evidence from it.",
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"leadops {version('leadops')}")
        except PackageNotFoundError:  # a source tree that was never installed
            typer.echo("leadops (not installed; run pip install -e .)")
        raise typer.Exit()


@app.callback()
def check_settings(
    ctx: typer.Context,
    show_version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the installed LeadOps version and exit.",
    ),
    verbose: bool = typer.Option(
        False, "-v", "--verbose", help="Show Prefect's run logs (LEADOPS_LOG_LEVEL=INFO)."
    ),
) -> None:
    """Read the settings once up front, so a bad LEADOPS_* value fails every command early."""
    from leadops.settings import check_home, get_settings

    if verbose:
        os.environ["LEADOPS_LOG_LEVEL"] = "INFO"
        get_settings.cache_clear()
    level = get_settings().log_level
    # Prefect prints flow-run logs with its own handler; a root handler would print each of
    # them a second time, so there is one only when LEADOPS_LOG_LEVEL asks (DEBUG: tracebacks).
    if level:
        logging.basicConfig(level=level)
    if ctx.invoked_subcommand != "generate":  # every other command reads or writes the home
        check_home(get_settings().home)


def prepare_runtime(quiet: bool = True, connect_server: bool = True) -> None:
    """Point Prefect at the home's server and forward our loggers, before prefect is imported.

    ``quiet``: Prefect's own console lines only with -v / LEADOPS_LOG_LEVEL=INFO (they still
    reach the UI); a failure is then the one ``leadops: error:`` line ``main`` prints.
    """
    from app.servers.home_server import connect, prefect_home
    from leadops.runners import flow_run_environment
    from leadops.settings import get_settings

    settings = get_settings()
    # One Prefect home per LEADOPS_HOME: the CLI, the demo and `leadops serve` share it.
    os.environ.setdefault("PREFECT_HOME", str(prefect_home(settings)))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    if quiet and settings.log_level not in ("DEBUG", "INFO"):
        quiet_prefect_console()
    for name, value in flow_run_environment().items():
        os.environ.setdefault(name, value)
    # The ephemeral API's start-up can exceed Prefect's default 20 s on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # No phoning home: CI and many production hosts have no route out, and it logs an error.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    quiet_libraries(settings.log_level)
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(_no_traceback_for_user_errors)
    if connect_server:  # serve starts (and owns) the server itself
        connect(settings)


def quiet_prefect_console() -> None:
    """Prefect's console handler off; our own warnings still reach stderr, once each."""
    from leadops.runners import FORWARDED_LOGGERS

    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("leadops: %(levelname)s: %(message)s"))
    for name in FORWARDED_LOGGERS.split(","):
        logger = logging.getLogger(name)
        if not any(getattr(h, "leadops_console", False) for h in logger.handlers):
            handler.leadops_console = True  # type: ignore[attr-defined]
            logger.addHandler(handler)


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
    if log_level != "DEBUG":
        # httpx: one line per call to the Prefect API; GX's docs decorators: ~200 lines of
        # "Skipping registering function ..." on import. Neither says anything about the run.
        for name in ("httpx", "great_expectations._docs_decorators"):
            logging.getLogger(name).setLevel(logging.WARNING)
    if log_level in ("DEBUG", "INFO"):
        return
    for name in ("great_expectations", "mlflow", "optuna", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")


def emit(result: dict[str, Any], as_json: bool, summary: str) -> None:
    """Print a human summary, or the result as one JSON object on the last line.

    Both name the home the command used, so a run from another folder is never a mystery.
    """
    from leadops import progress
    from leadops.settings import get_settings

    progress.clear()

    home = str(get_settings().home.expanduser().resolve())
    result = {"home": home, **result}
    # Always its own line: a summary that names a path under the home (ingest's lake) is not
    # the statement of which home was used.
    if f"(LEADOPS_HOME {home})" not in summary:
        summary = f"{summary}\n  (LEADOPS_HOME {home})"
    if as_json:
        typer.echo(json.dumps(result, default=str, sort_keys=True))
    else:
        typer.echo(summary)


class OptionError(typer.BadParameter):
    """A bad option value: one ``leadops: error:`` line naming it (exit 2), like every
    other failure, instead of Click's usage block."""

    def show(self, file: Any = None) -> None:
        typer.echo(f"leadops: error: {self.format_message()}", err=True)

    def format_message(self) -> str:
        return self.message


def parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise OptionError(f"--as-of {value!r}: expected an ISO date or date-time") from None


@app.command()
def generate(
    out: Path = typer.Option(
        Path("crm-export"), "--out", help="Folder to write leads/ and outcomes/."
    ),
    weeks: int = typer.Option(12, min=1, help="Weeks of leads."),
    leads_per_week: int = typer.Option(2000, min=1, help="Leads created per week."),
    seed: int = typer.Option(7, help="Random seed; same seed, byte-identical files."),
    scenario: str = typer.Option(
        "stable", help="stable | covariate-drift | conversion-drop | real-history"
    ),
    drift_week: int = typer.Option(9, min=1, help="First week of drift (1-based)."),
    start: Optional[str] = typer.Option(
        None, help="Monday of week 1 (ISO date); default 2026-01-05, the same on every run."
    ),
    defect_share: float = typer.Option(
        0.0, min=0.0, max=0.5, help="Share of lead rows with one export defect each."
    ),
    id_prefix: str = typer.Option(
        "L",
        "--id-prefix",
        help="Lead ids are <prefix><ISO year+week>-<n>: other weeks never reuse an id; "
        "another prefix keeps two exports of the same weeks apart.",
    ),
) -> None:
    """Write a synthetic CRM export: one leads file and one outcomes file per week."""
    from app.demo import synthetic

    if scenario not in synthetic.SCENARIOS:
        raise OptionError(
            f"--scenario {scenario!r}: choose one of {', '.join(synthetic.SCENARIOS)}"
        )
    config = synthetic.GeneratorConfig(
        weeks=weeks,
        leads_per_week=leads_per_week,
        seed=seed,
        scenario=scenario,
        drift_week=drift_week,
        start=date.fromisoformat(start) if start else synthetic.DEFAULT_START,
        defect_share=defect_share,
        id_prefix=id_prefix,
    )
    paths = synthetic.write_dataset(config, out)
    typer.echo(
        f"wrote {len(paths)} files under {out} ({weeks} week{'s' * (weeks != 1)} x "
        f"{leads_per_week} leads, {scenario})"
    )
    if scenario == synthetic.crm_history.SCENARIO:  # two more columns: its own contract
        typer.echo(f"ingest with LEADOPS_CONTRACT_PATH={synthetic.crm_history.CONTRACT}")


@app.command()
def ingest(
    sources: list[str] = typer.Argument(
        ...,
        metavar="SOURCE...",
        help="Files, folders, globs or s3:// prefixes of CSV / Parquet / JSON-lines files "
        "(a shell-expanded glob is several files).",
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
        raise OptionError(f"--kind {kind!r}: choose leads or outcomes")
    when = parse_as_of(as_of)
    from leadops.settings import get_settings

    # A mistyped SOURCE fails in a second, as one line, before Prefect starts; the
    # flow takes the files as resolved here rather than listing SOURCE again.
    endpoint = get_settings().s3_endpoint_url
    files = [found for source in sources for found in _ingest_sources(source, kind, endpoint)]
    files = list(dict.fromkeys(files))  # a file named twice is read once
    prepare_runtime()
    from flows.ingest import ingest as ingest_flow

    result = ingest_flow(source=" ".join(sources), kind=kind, as_of=when, files=files)
    from tasks.ingest.quarantine_stats import share_line
    from tasks.ingest.report import ingest_summary

    failed = [f for f in result["files"] if f["status"] == "failed"]
    accepted, warning = share_line(result, kind, get_settings().quarantine_warn_share)
    emit(result, as_json, f"{accepted}\n{ingest_summary(result, kind)}")
    if warning:
        typer.echo(f"leadops: warning: {warning}", err=True)
    for file in failed:
        typer.echo(f"leadops: error: {file['reason']}", err=True)
    if failed:
        raise typer.Exit(code=1)


def _ingest_sources(source: str, kind: str, endpoint: str | None) -> list:
    """A postgresql:// SOURCE is the CRM database (refused with a password in it); else files."""
    from leadops.inputs.db_source import crm_tables, database_source, is_database_url
    from leadops.inputs.sources import resolve_sources
    from leadops.settings import get_settings

    if is_database_url(source):
        from leadops.inputs.contract import load_contract
        from leadops.inputs.db_source import watermark_column

        found = database_source(source, kind, crm_tables(get_settings()))
        watermark_column(load_contract(get_settings().contract_path), found)  # fail fast
        return [found]
    return resolve_sources(source, endpoint)


@app.command()
def deliver(
    batch: Optional[str] = typer.Option(
        None, "--batch", help="Also owe this scored batch (its <lake>/scores file) to the sinks."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Send every scored batch the CRM sinks still owe (PostgreSQL table, webhook)."""
    from app.cli.deliver import deliver_owed

    result = deliver_owed(batch)
    emit(result, as_json, result.pop("summary"))


contract_app = typer.Typer(
    help="Set LeadOps up for your own CRM export.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(contract_app, name="contract")


@contract_app.command("init")
def contract_init(
    samples: list[str] = typer.Argument(..., help="Sample leads export (and outcomes export)."),
    out: Path = typer.Option(..., "--out", help="Contract YAML to write (must not exist)."),
) -> None:
    """Propose a data contract from sample exports; prints what it inferred and why."""
    from app.contract.contract_init import init_contract

    for line in init_contract(samples, out):
        typer.echo(line)


@contract_app.command("check")
def contract_check(
    write: bool = typer.Option(
        False, "--write", help="Write the widened contract to LEADOPS_CONTRACT_PATH."
    ),
    out: Optional[Path] = typer.Option(
        None, "--out", help="Write the widened contract here instead (implies --write)."
    ),
) -> None:
    """Show which checks quarantined how many rows, and propose the widened contract."""
    from app.contract.contract_widen import check_contract
    from leadops.settings import get_settings

    for line in check_contract(get_settings(), write=write, out=out):
        typer.echo(line)


quarantine_app = typer.Typer(
    help="The quarantined rows: replay them after widening the contract.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("replay")
def quarantine_replay(
    kind: str = typer.Option("leads", "--kind", help="leads | outcomes."),
    as_json: bool = JsonOption,
) -> None:
    """Re-validate quarantined rows with the current contract; those that pass go to silver."""
    if kind not in ("leads", "outcomes"):
        raise OptionError(f"--kind {kind!r}: choose leads or outcomes")
    from leadops.settings import get_settings
    from tasks.ingest.replay import replay_configured

    result = replay_configured(get_settings(), kind)
    emit(result.to_dict(), as_json, f"{result.line()}\n  report: {result.report}")


@app.command()
def suites(
    out: Path = typer.Option(
        ..., "--out", help="Folder to write leads.json and outcomes.json into."
    ),
) -> None:
    """Write editable expectation suites for the contract (use: LEADOPS_EXPECTATIONS_DIR=DIR)."""
    from app.contract.contract_init import write_suites

    for path in write_suites(out):
        typer.echo(f"wrote {path}")


@app.command()
def score(
    batch: Optional[str] = typer.Argument(
        None,
        help=(
            "Leads file (CSV / Parquet / JSON lines, local or s3://); "
            "default: unscored silver leads."
        ),
    ),
    out: Optional[str] = typer.Option(
        None,
        "--out",
        help="Output file, folder or s3:// URI; default <lake>/scores/<batch_id>.<format>.",
    ),
    output_format: str = typer.Option("parquet", "--format", help="parquet | csv"),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Scoring time (ISO) written as scored_at; default now."
    ),
    reasons: Optional[str] = typer.Option(
        None,
        "--reasons",
        help="exact | approx | tiered | none (no reasons: fastest, for rescoring many "
        "leads); default LEADOPS_REASONS_MODE.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Score leads with the champion (shadow/canary challenger beside it); runs the `score` flow."""
    if output_format not in ("parquet", "csv"):
        raise OptionError(f"--format {output_format!r}: choose parquet or csv")
    if reasons is not None:
        from typing import get_args

        from leadops.settings import ReasonsMode

        if reasons not in get_args(ReasonsMode):
            choices = ", ".join(get_args(ReasonsMode))
            raise OptionError(f"--reasons {reasons!r}: choose one of {choices}")
    when = parse_as_of(as_of)
    if batch and not batch.startswith("s3://"):
        # A wrong path says so now, not after the Prefect run has started (~7 s).
        from leadops.inputs.sources import resolve_sources

        resolve_sources(batch)
    prepare_runtime()
    from flows.score import score as score_flow
    from leadops.runners import with_task_runner
    from leadops.settings import get_settings

    result = with_task_runner(score_flow, get_settings())(
        batch=batch, out=out, output_format=output_format, as_of=when, reasons=reasons
    )
    emit(result, as_json, score_summary(result) + unscored_summary(result))


def score_summary(result: dict[str, Any]) -> str:
    """ "scored 3000 leads (batch b1): champion v1 served 2700, canary v2 served 300 -> file"."""
    if result["skipped"]:
        return f"batch {result['batch_id']}: nothing scored ({result['skipped']})"
    versions, arms = result["model_versions"], result["arms"]
    parts = [f"champion v{versions['champion']} served {arms.get('champion', 0)}"]
    if "challenger" in versions:
        stage, served = result.get("challenger_stage") or "challenger", arms.get("canary", 0)
        parts.append(
            f"{stage} v{versions['challenger']} "
            + (f"served {served}" if served else "scored alongside, not served")
        )
    if result.get("value_model_version"):  # the deal-value champion sized every lead
        parts.append(f"deal value v{result['value_model_version']}")
    order = "expected value" if result.get("ranked_by") == "expected_value" else "score"
    return (
        f"scored {result['rows']} leads (batch {result['batch_id']}): {', '.join(parts)} "
        f"-> {result['output']} (sorted by {order}, best first)"
    )


def unscored_summary(result: dict[str, Any]) -> str:
    """ "; 4 degraded (...); 2 unscorable (...) -> file": leads scored on less, and not at all."""
    text = ""
    if result.get("degraded"):
        text += f"; {result['degraded']} degraded (failing features scored as unknown)"
    if result.get("rejected"):
        text += (
            f"; {result['rejected']} unscorable (no usable id or creation time) "
            f"-> {result['rejected_output']}"
        )
    return text


# flows.train.REASONS, kept here as text: importing the flow would load Prefect at start-up.
TRAIN_REASONS = (
    "manual",
    "schedule",
    "drift",
    "conversion-drop",
    "miscalibration",
    "ranking-loss",
    "deal-value-shift",
)


@app.command()
def train(
    trials: Optional[int] = typer.Option(
        None,
        "--trials",
        min=1,
        help="Optuna trials (default LEADOPS_TRIALS; with only --timeout: as many as fit).",
    ),
    timeout: Optional[float] = typer.Option(
        None, "--timeout", min=1, help="Search time budget in seconds."
    ),
    reason: str = typer.Option(
        "manual",
        "--reason",
        help="Trigger: manual | schedule | drift | conversion-drop | miscalibration (a new "
        "calibrator for the champion) | ranking-loss | deal-value-shift",
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Parallel search processes sharing one Optuna study."
    ),
    as_of: Optional[str] = typer.Option(
        None,
        "--as-of",
        help="Train on leads whose outcome matured by this time (ISO); the last "
        "LEADOPS_TEST_WINDOW_DAYS before it are the test set; default now.",
    ),
    training_window_days: Optional[int] = typer.Option(
        None,
        "--training-window-days",
        min=1,
        help="Only leads this many days before the maturity cutoff.",
    ),
    min_gain: Optional[float] = typer.Option(
        None,
        "--min-gain",
        min=0,
        help=(
            "Relative ROC-AUC gain a challenger needs (default LEADOPS_GATE_MIN_RELATIVE_AUC_GAIN)."
        ),
    ),
    via_server: bool = typer.Option(
        False,
        "--via-server",
        help="Start a run of the train/retrain deployment on PREFECT_API_URL instead.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train on matured gold leads, log to MLflow and gate against the champion (runs `train`)."""
    if reason not in TRAIN_REASONS:
        raise OptionError(f"--reason {reason!r}: choose one of {', '.join(TRAIN_REASONS)}")
    when = parse_as_of(as_of)
    prepare_runtime()
    if via_server:
        parameters = {
            "reason": reason,
            "trials": trials,
            "timeout_seconds": timeout,
            "workers": workers,
            "as_of": when.isoformat() if when else None,
            "training_window_days": training_window_days,
            "min_gain": min_gain,
        }
        from app.servers.remote import start_deployment_run

        started = start_deployment_run(
            "train/retrain", {k: v for k, v in parameters.items() if v is not None}
        )
        emit(
            started,
            as_json,
            f"started flow run {started['flow_run_name']} of train/retrain: {started['url']}",
        )
        return
    from flows.train import train as train_flow
    from leadops.runners import with_task_runner
    from leadops.settings import get_settings

    result = with_task_runner(train_flow, get_settings())(
        reason=reason,
        trials=trials,
        timeout_seconds=timeout,
        as_of=when,
        workers=workers,
        training_window_days=training_window_days,
        min_gain=min_gain,
    )
    metrics, baseline = result["metrics"], result.get("baseline_metrics") or {}
    summary = (
        f"{result['model_name']}: {result['decision']} ({result['reason']})"
        if metrics is None
        else f"{result['model_name']} v{result['model_version']}: {result['decision']} "
        f"(v{result['recalibrated_from']} recalibrated: {result['reason']}); "
        f"MLflow run {result['run_id']}"
        if result.get("recalibrated_from")
        else f"{result['model_name']} v{result['model_version']}: "
        f"{result['decision']} ({result['reason']}); "
        f"test ROC-AUC {metrics['roc_auc']:.4f} "
        f"(logistic baseline {baseline.get('roc_auc', float('nan')):.4f}), "
        f"precision at capacity {metrics['precision_at_capacity']:.3f} "
        f"(baseline {baseline.get('precision_at_capacity', float('nan')):.3f}); "
        f"{_windows(result)}MLflow run {result['run_id']}"
    )
    if result.get("late_wins_warning"):  # wins after the outcome window, counted as negatives
        summary += f"; WARNING: {result['late_wins_warning']}"
    if result.get("value_model"):  # the deal-value model beside it, or why there is none
        summary += f"\n{result['value_model']['line']}"
    emit(result, as_json, summary)


@app.command()
def monitor(
    window: Optional[int] = typer.Option(
        None,
        "--window",
        min=1,
        help="Look at leads scored in the DAYS before as-of; default the latest batch.",
    ),
    as_of: Optional[str] = typer.Option(
        None,
        "--as-of",
        help="End of the monitored window (ISO); outcomes matured by then count; default now.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Drift and conversion of recently scored leads vs the champion's reference (runs `monitor`).

    Retrains (drift / conversion-drop) when the rule in the report fires, once per cooldown.
    """
    when = parse_as_of(as_of)
    prepare_runtime()
    from flows.monitor import monitor as monitor_flow
    from tasks.monitoring.publish import monitor_line

    result = monitor_flow(window_days=window, as_of=when)
    value = result.get("value_model") or {}  # the deal-value champion's watch, when one serves
    emit(
        result,
        as_json,
        monitor_line(result) + (f"\n{value['line']}" if value.get("version") else ""),
    )


def _windows(result: dict[str, Any]) -> str:
    """ "trained on 2,400 leads created 2026-01-05..2026-02-16, tested on 600 created ...; " """
    train, test = result.get("train_leads_created"), result.get("test_leads_created")
    if not train or not test:
        return ""
    return (
        f"trained on {result['train_rows']:,} leads created {_day(train[0])}..{_day(train[1])}, "
        f"tested on {result['test_rows']:,} created {_day(test[0])}..{_day(test[1])}; "
    )


def _day(iso: str | None) -> str:
    """The date part of an ISO time ("?" when unknown)."""
    return (iso or "?")[:10]


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
    prepare_runtime()
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
    prepare_runtime()
    from flows.rollout import rollout as rollout_flow

    result = rollout_flow(as_of=when, action=action, reason=reason)
    summary = result["transition"] or f"no transition: {result['reason'] or result['action']}"
    value = f"\n{result['value_rollout']}" if result.get("value_rollout") else ""
    emit(result, as_json, f"rollout ({action}): {summary}{_evidence(result)}{value}")


def _evidence(result: dict[str, Any]) -> str:
    """ " [evidence: 286 matured leads created after 2026-02-16, scored 2026-03-02..2026-03-09]" """
    metrics = result.get("metrics") or {}
    if "evidence_created_after" not in metrics:
        return ""
    n = metrics.get("matured_leads")
    leads = f"{n:,} matured leads" if isinstance(n, int) else "matured leads"
    return (
        f" [evidence: {leads} created after {_day(metrics['evidence_created_after'])}, scored "
        f"{_day(metrics.get('evidence_scored_since'))}..{_day(metrics.get('evidence_until'))}]"
    )


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


@app.command()
def serve(
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Bind address; beyond loopback needs PREFECT_SERVER_API_AUTH_STRING.",
    ),
    port: Optional[int] = typer.Option(
        None,
        "--port",
        min=1,
        max=65535,
        help="Prefect server port when serve starts it (default 4200 when free).",
    ),
    mlflow: bool = typer.Option(
        True, "--mlflow/--no-mlflow", help="Also start the MLflow UI on a free port."
    ),
) -> None:
    """Start a local Prefect server (SQLite under LEADOPS_HOME) and serve every deployment.

    The UI lists ingest, score, monitor, rollout and train with their schedules; Ctrl-C
    stops the server, the MLflow UI and the runner.
    """
    from app.servers.serve import serve as serve_all
    from leadops.settings import get_settings

    prepare_runtime(quiet=False, connect_server=False)
    serve_all(get_settings(), host, port, mlflow, typer.echo)


server_app = typer.Typer(
    help="The home's background Prefect server (started by the first flow command).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(server_app, name="server")


@server_app.command("status")
def server_status(as_json: bool = JsonOption) -> None:
    """Whether the home's Prefect server runs, and its UI and API URLs."""
    from app.servers.home_server import prefect_home, running_server
    from leadops.settings import get_settings

    settings = get_settings()
    server = running_server(settings)
    result = {
        "running": server is not None,
        "prefect_home": str(prefect_home(settings)),
        **(
            {"pid": server.pid, "api_url": server.api_url, "ui_url": server.ui_url}
            if server
            else {}
        ),
    }
    emit(
        result,
        as_json,
        f"Prefect server running (pid {server.pid}): UI {server.ui_url}"
        if server
        else "no Prefect server running for this home (the next flow command starts one)",
    )


@server_app.command("start")
def server_start(as_json: bool = JsonOption) -> None:
    """Start the home's Prefect server now (a flow command would start it anyway)."""
    from app.servers.home_server import ensure_server
    from leadops.settings import get_settings

    server, started = ensure_server(get_settings())
    result = {
        "pid": server.pid,
        "api_url": server.api_url,
        "ui_url": server.ui_url,
        "started": started,
    }
    emit(
        result,
        as_json,
        f"Prefect server {'started' if started else 'already running'} "
        f"(pid {server.pid}): UI {server.ui_url}",
    )


@server_app.command("list")
def server_list(as_json: bool = JsonOption) -> None:
    """Every home's background Prefect server this user started, with its memory."""
    from dataclasses import asdict

    from app.servers.server_idle import list_servers

    servers = list_servers()
    lines = [
        f"{s.ui_url}  pid {s.pid}  {s.memory_mb:,.0f} MB  "
        + ("in use" if s.idle_minutes is None else f"idle {s.idle_minutes:,.0f} min")
        + f"  {s.home}"
        for s in servers
    ]
    summary = "\n".join(lines) if lines else "no LeadOps Prefect server is running"
    total = sum(s.memory_mb for s in servers)
    if len(servers) > 1:
        summary += f"\n{len(servers)} servers, {total:,.0f} MB; `leadops server stop` in a home"
    emit({"servers": [asdict(s) for s in servers]}, as_json, summary)


@server_app.command("stop")
def server_stop(as_json: bool = JsonOption) -> None:
    """Stop the home's Prefect server (its runs stay in its database for the next one)."""
    from app.servers.home_server import stop_server
    from leadops.settings import get_settings

    server = stop_server(get_settings())
    emit(
        {"stopped": server is not None, **({"pid": server.pid} if server else {})},
        as_json,
        f"stopped the Prefect server (pid {server.pid})"
        if server
        else "no Prefect server was running",
    )


@app.command()
def api(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Bind address; beyond loopback needs LEADOPS_API_KEYS."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port of the scoring API."),
    workers: int = typer.Option(
        1, "--workers", min=1, help="uvicorn worker processes (one core each)."
    ),
) -> None:
    """Serve online scoring (POST /v1/leads/score, /ready, /metrics, /docs) until Ctrl-C/SIGTERM."""
    from app.api.process import run_api
    from leadops.settings import get_settings

    run_api(get_settings(), host, port, workers)


@app.command()
def demo(
    fast: bool = typer.Option(
        False, "--fast", help="Smaller weeks and fewer trials (about 3 minutes)."
    ),
    fresh: bool = typer.Option(
        False,
        "--fresh",
        help="Delete a previous demo run in LEADOPS_HOME first "
        "(without it, the same demo replays idempotently).",
    ),
) -> None:
    """Run the whole lifecycle on a simulated 26-week timeline of synthetic CRM exports.

    Generates leads with covariate drift from week 9, ingests and trains on the first
    8 weeks, then each week: ingest, rollout step, score, monitor. Ends with a summary
    and a timeline picture (PNG) under LEADOPS_HOME.
    """
    import time

    from app.demo.demo import DemoPlan, prepare_home, run_demo, summary_text
    from leadops import progress
    from leadops.settings import get_settings

    started = time.perf_counter()
    settings = get_settings()
    plan = DemoPlan.fast() if fast else DemoPlan()
    if prepare_home(settings, fresh, plan):
        typer.echo(
            f"{settings.home} holds this demo already: "
            "replaying its weeks (idempotent); --fresh starts over"
        )
    # One line per week is the demo's output; each flow's own logs stay in the Prefect UI.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    prepare_runtime()
    records = run_demo(plan, settings, echo=lambda text: (progress.clear(), typer.echo(text)))
    from app.demo.timeline import plot_timeline

    picture = plot_timeline(
        records,
        settings.psi_threshold,
        settings.conversion_drop_threshold,
        settings.home / "demo-timeline.png",
    )
    typer.echo(summary_text(records, settings, picture, time.perf_counter() - started))


def _no_gc_at_exit() -> None:
    """The command is done: skip the cyclic GC that interpreter exit would still run over
    every object of GX, Prefect, MLflow and pandas (~1.7 s of an 8 s `leadops ingest`).

    Registered first, so it runs after every other exit handler (Prefect's log and event
    flushes included); flushing and module teardown still run as usual.
    """
    gc.disable()
    gc.freeze()


def main() -> None:
    """Entry point: run the app; any failure becomes one line and exit code 1."""
    from leadops import progress

    atexit.unregister(_no_gc_at_exit)  # once per process, even when main() runs in-process
    atexit.register(_no_gc_at_exit)
    if sys.stderr.isatty() and "--json" not in sys.argv:  # never in CI logs or JSON output
        progress.enable(sys.stderr)
    # typer >= 0.29 vendors Click: its exceptions are these classes, not the click package's.
    from typer._click import exceptions as click_errors

    try:
        # Not standalone: Click would print its usage box for a bad option value and
        # "Aborted!" for an EOFError (it reads one as Ctrl-D); both become our one line.
        code = app(standalone_mode=False)
    except SystemExit:
        raise
    except click_errors.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click_errors.ClickException as exc:
        _error_line(exc.format_message())
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort) as exc:
        if isinstance(exc.__cause__, EOFError):
            _fail(exc.__cause__)
        typer.echo("leadops: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # every failure reaches the user as one line
        _fail(exc)
    # typer.Exit(code) returns its code when not standalone; exit as Click's own main does.
    sys.exit(code if isinstance(code, int) else 0)


def _fail(exc: BaseException) -> None:
    from leadops import progress
    from leadops.errors import one_line

    log.debug("leadops command failed", exc_info=exc)
    progress.clear()
    _error_line(one_line(exc))
    sys.exit(1)


def _error_line(message: str) -> None:
    """The one error line on stderr; with --json also a JSON error object as stdout's last line,
    so a script reading the last line gets one on failure too."""
    typer.echo(f"leadops: error: {message}", err=True)
    if "--json" in sys.argv[1:]:
        typer.echo(json.dumps({"error": message, "ok": False}))


if __name__ == "__main__":
    main()
