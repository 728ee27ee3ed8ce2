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

import typer

log = logging.getLogger("leadops.cli")

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

    get_settings()


def prepare_runtime() -> None:
    """Point Prefect at LEADOPS_HOME and forward our loggers, before prefect is imported."""
    from leadops.settings import get_settings

    settings = get_settings()
    os.environ.setdefault("PREFECT_HOME", str((settings.home / "prefect").resolve()))
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "leadops,tasks,flows")
    # The ephemeral API's start-up can exceed Prefect's default 20 s on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


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
) -> None:
    """Write a synthetic CRM export: one leads file and one outcomes file per week."""
    from leadops import synthetic

    if scenario not in synthetic.SCENARIOS:
        raise typer.BadParameter(f"--scenario {scenario!r}: choose one of {', '.join(synthetic.SCENARIOS)}")
    config = synthetic.GeneratorConfig(
        weeks=weeks,
        leads_per_week=leads_per_week,
        seed=seed,
        scenario=scenario,
        drift_week=drift_week,
        start=date.fromisoformat(start) if start else synthetic.DEFAULT_START,
    )
    paths = synthetic.write_dataset(config, out)
    typer.echo(f"wrote {len(paths)} files under {out} ({weeks} weeks x {leads_per_week} leads, {scenario})")


def main() -> None:
    """Entry point: run the app; any failure becomes one line and exit code 1."""
    logging.basicConfig(level=os.environ.get("LEADOPS_LOG_LEVEL", "WARNING"))
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
