"""Setting LeadOps up for a CRM export: contract init/check, quarantine replay, suites."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from app.cli.output import emit
from app.cli.root import JsonOption, app
from app.cli.runtime import OptionError

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
    emit(result.as_dict(), as_json, f"{result.line()}\n  report: {result.report}")


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
