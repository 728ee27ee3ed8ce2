"""The Typer apps, the options every command shares and the settings check run before each.

Start-up stays light: heavy libraries (prefect, mlflow, xgboost, GX, evidently)
are imported inside each command, never at module level, so ``--help`` is quick.
"""

from __future__ import annotations

import logging
import os

# Rich help formatting costs ~0.8 s of imports on every call; plain help is enough.
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer  # noqa: E402

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
    show_version: bool = typer.Option(  # noqa: ARG001 (read by its eager callback)
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
