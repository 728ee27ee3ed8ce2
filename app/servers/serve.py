"""``leadops serve``: a local Prefect server, the MLflow UI, and every deployment served.

Everything it starts is a child process bound to loopback by default and stopped on
Ctrl-C (or SIGTERM). Binding elsewhere needs PREFECT_SERVER_API_AUTH_STRING, so the
UI and API are never exposed without a password.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path

from app.servers.home_server import prefect_home, serving_server
from app.servers.servers import mlflow_ui
from leadops.errors import LeadOpsError
from leadops.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")
AUTH_VARIABLE = "PREFECT_SERVER_API_AUTH_STRING"


class ServeError(LeadOpsError):
    """``leadops serve`` cannot start as asked."""


def check_exposure(host: str) -> None:
    """Refuse to bind the Prefect server beyond loopback without basic auth."""
    if host not in LOOPBACK and not os.environ.get(AUTH_VARIABLE):
        raise ServeError(
            f"--host {host}: binding beyond loopback exposes the Prefect API; "
            f"set {AUTH_VARIABLE}=user:password first (clients set PREFECT_API_AUTH_STRING)"
        )


def _stop_on_signals() -> None:
    # SIGTERM (systemd, docker stop) takes the same path as Ctrl-C, so children are stopped.
    # Ctrl-C gets its own handler too: with the default one, asyncio.run only cancels
    # Prefect's runner task, and a CI run showed that cancellation swallowed (serve still
    # up 150 s after Ctrl-C, nothing logged); KeyboardInterrupt ends the loop itself.
    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def serve(
    settings: Settings, host: str, port: int | None, with_mlflow: bool, echo: Callable[[str], None]
) -> None:
    """Start the servers, print where they are, serve all deployments until interrupted."""
    check_exposure(host)
    _stop_on_signals()
    if "://" not in settings.landing_uri:
        for kind in ("leads", "outcomes"):
            Path(settings.landing_uri, kind).mkdir(parents=True, exist_ok=True)
    started = False
    with ExitStack() as stack:
        # This process is the served deployments' runner: it talks to the home's server,
        # the one every CLI and demo run of this home reports to.
        api, started = stack.enter_context(serving_server(settings, host, port))
        os.environ["PREFECT_API_URL"] = api
        if os.environ.get(AUTH_VARIABLE):
            os.environ.setdefault("PREFECT_API_AUTH_STRING", os.environ[AUTH_VARIABLE])
        echo(f"Prefect UI:  {api.removesuffix('/api')}   (state in {prefect_home(settings)})")
        echo(f"  in another terminal: export PREFECT_API_URL={os.environ['PREFECT_API_URL']}")
        from app.api.process import api_server

        echo(f"Scoring API: {stack.enter_context(api_server(settings, host))}/docs")
        from app.cli.report import pages_server
        from tasks.monitoring.report.build import page_path

        page = page_path(settings, settings.model_name).name
        pages = stack.enter_context(pages_server(settings, host))
        echo(f"Model page:  {pages}/{page}   (`leadops report` writes it)")
        if with_mlflow:
            echo(f"MLflow UI:   {stack.enter_context(mlflow_ui(settings))}")
        else:
            echo(f"MLflow UI:   mlflow ui --backend-store-uri {settings.tracking_uri}")
        from prefect import serve as prefect_serve

        from deployments.definitions import active_specs, runner_deployments
        from deployments.notifications import register as register_alerts

        alerts = register_alerts(settings)
        echo(
            f"alerts: {len(alerts)} automations"
            if alerts
            else "alerts: off (set LEADOPS_NOTIFY_WEBHOOK_URL or LEADOPS_NOTIFY_SLACK_WEBHOOK_URL)"
        )

        specs = active_specs(settings.crm_database_url)  # + the CRM database ingests if set
        echo(
            f"serving {len(specs)} deployments: "
            + ", ".join(f"{s.flow_name}/{s.name}" for s in specs)
            + "; Ctrl-C stops everything"
        )
        with suppress(KeyboardInterrupt):
            prefect_serve(
                *runner_deployments(settings.model_name, settings.landing_uri),
                print_starting_message=False,
            )
    stopped = (
        ["the Prefect server"] * started + ["the scoring API"] + ["the MLflow UI"] * with_mlflow
    )
    echo(
        f"stopped {', '.join(stopped)}"
        + (
            ""
            if started
            else "; the home's Prefect server keeps running (`leadops server stop` stops it)"
        )
    )
