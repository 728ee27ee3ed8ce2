"""The long-running processes: serve, the home's Prefect server, the scoring API, the demo."""

from __future__ import annotations

import os
from typing import Optional

import typer

from app.cli import runtime
from app.cli.output import emit
from app.cli.root import JsonOption, app


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

    runtime.prepare_runtime(quiet=False, connect_server=False)
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
    runtime.prepare_runtime()
    records = run_demo(plan, settings, echo=lambda text: (progress.clear(), typer.echo(text)))
    from app.demo.timeline import plot_timeline

    picture = plot_timeline(
        records,
        settings.psi_threshold,
        settings.conversion_drop_threshold,
        settings.home / "demo-timeline.png",
    )
    typer.echo(summary_text(records, settings, picture, time.perf_counter() - started))
