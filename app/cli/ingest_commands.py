"""The data commands: generate a synthetic export, ingest an export, deliver owed scores."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from app.cli import runtime
from app.cli.output import emit
from app.cli.root import JsonOption, app
from app.cli.runtime import OptionError, parse_as_of


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
    runtime.prepare_runtime()
    from flows.ingest import ingest as ingest_flow

    result = ingest_flow(source=" ".join(sources), kind=kind, as_of=when, files=files)
    from tasks.ingest.manifest import FAILED
    from tasks.ingest.quarantine_stats import share_line
    from tasks.ingest.report import ingest_summary

    failed = [f for f in result.files if f.status == FAILED]
    data = result.as_dict()  # the summary lines read the same JSON --json prints
    accepted, warning = share_line(data, kind, get_settings().quarantine_warn_share)
    emit(data, as_json, f"{accepted}\n{ingest_summary(data, kind)}")
    if warning:
        typer.echo(f"leadops: warning: {warning}", err=True)
    for file in failed:
        typer.echo(f"leadops: error: {file.reason}", err=True)
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
