"""What every flow command sets up before Prefect is imported, and the option errors they raise."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import typer


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


class OptionError(typer.BadParameter):
    """A bad option value: one ``leadops: error:`` line naming it (exit 2), like every
    other failure, instead of Click's usage block."""

    def show(self, file: Any = None) -> None:  # noqa: ARG002 (Click's signature)
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
