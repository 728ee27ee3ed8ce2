"""A command's result on stdout: one human summary, or one JSON object on the last line."""

from __future__ import annotations

import json
from typing import Any

import typer


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
