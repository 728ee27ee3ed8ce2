"""The model commands: score a batch, train a challenger, monitor the scored leads."""

from __future__ import annotations

from typing import Optional

import typer

from app.cli import runtime
from app.cli.output import emit
from app.cli.root import JsonOption, app
from app.cli.runtime import OptionError, parse_as_of


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
    runtime.prepare_runtime()
    from flows.score import score as score_flow
    from leadops.runners import with_task_runner
    from leadops.settings import get_settings

    result = with_task_runner(score_flow, get_settings())(
        batch=batch, out=out, output_format=output_format, as_of=when, reasons=reasons
    )
    emit(result.as_dict(), as_json, result.line())


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
    from leadops.decisions.train_reasons import TRAIN_REASONS

    if reason not in TRAIN_REASONS:
        raise OptionError(f"--reason {reason!r}: choose one of {', '.join(TRAIN_REASONS)}")
    when = parse_as_of(as_of)
    runtime.prepare_runtime()
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
    emit(result.as_dict(), as_json, result.line())


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
    runtime.prepare_runtime()
    from flows.monitor import monitor as monitor_flow

    result = monitor_flow(window_days=window, as_of=when)
    emit(result.as_dict(), as_json, result.line())
