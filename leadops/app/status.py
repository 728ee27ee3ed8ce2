"""Registry and rollout state for people: who serves, who is being tried, what happened last."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from leadops.model_state import CHALLENGER, CHAMPION, VersionState
from leadops.registry import get_challenger, get_champion, registry_client
from leadops.settings import Settings
from leadops.storage import Lake, open_lake
from leadops.transitions import pending, read_history


def status(client: Any, lake: Lake, name: str, limit: int = 10) -> dict[str, Any]:
    """Champion, challenger and the last ``limit`` rollout transitions (newest first).

    An interrupted transition is reported, not completed. Read through the core's
    ``VersionState`` alone: importing the rollout stage (pandas, scipy) would triple the
    command's start-up.
    """
    return {
        "model_name": name,
        CHAMPION: _role(get_champion(client, name)),
        CHALLENGER: _role(get_challenger(client, name)),
        "transitions": list(reversed(read_history(lake)[-limit:])),
        "interrupted": _interrupted(lake),
    }


def _role(model_version: Any) -> dict[str, Any] | None:
    return VersionState.from_version(model_version).as_dict() if model_version is not None else None


def _interrupted(lake: Lake) -> dict[str, Any] | None:
    """A transition a killed process left half-written (the next rollout run completes it)."""
    record = pending(lake)
    if record is None:
        return None
    return {"version": record["version"], "transitions": record["transitions"]}


def registry_status(settings: Settings, limit: int = 10) -> dict[str, Any]:
    """``status`` for the configured registry and lake.

    A local SQLite registry is read with plain SQL: importing mlflow alone costs ~4 s,
    most of the command. Other registries (a tracking server, PostgreSQL) go through
    MlflowClient.
    """
    lake = open_lake(settings)
    path = sqlite_path(settings.tracking_uri)
    if path is None:
        return status(registry_client(settings), lake, settings.model_name, limit)
    return {"model_name": settings.model_name,
            **{role: _sqlite_role(path, settings.model_name, role) for role in (CHAMPION, CHALLENGER)},
            "transitions": list(reversed(read_history(lake)[-limit:])),
            "interrupted": _interrupted(lake)}


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI (None for any other store)."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return Path(tracking_uri.removeprefix("sqlite:///").split("?", 1)[0])


def _sqlite_role(path: Path, name: str, alias: str) -> dict[str, Any] | None:
    """The version behind ``alias`` as ``VersionState.as_dict``, read from MLflow's tables."""
    if not path.exists():
        return None  # nothing was ever trained in this home
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        try:
            row = db.execute(
                "SELECT v.version, v.run_id FROM registered_model_aliases a JOIN model_versions v "
                "ON v.name = a.name AND v.version = a.version WHERE a.name = ? AND a.alias = ?",
                (name, alias)).fetchone()
        except sqlite3.OperationalError as exc:  # a database MLflow has not set up yet
            if "no such table" in str(exc):
                return None
            raise
        if row is None:
            return None
        tags = dict(db.execute("SELECT key, value FROM model_version_tags WHERE name = ? AND "
                               "version = ?", (name, row[0])).fetchall())
    return VersionState.from_tags(name, str(row[0]), tags, row[1]).as_dict()


def status_text(state: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    lines = [f"model {state['model_name']}"]
    for role in (CHAMPION, CHALLENGER):
        version = state[role]
        if version is None:
            lines.append(f"  {role}: none")
            continue
        paused = " (paused)" if version["paused"] else ""
        lines.append(f"  {role}: v{version['version']} {version['stage']} "
                     f"{version['fraction']:.0%}{paused} - {version['reason'] or ''}")
    if state.get("interrupted"):
        steps = ", ".join(f"v{t['version']} → {t['stage']}"
                          for t in state["interrupted"]["transitions"])
        lines.append(f"  interrupted transition: {steps} "
                     "(half-written; the next rollout run completes it)")
    if state["transitions"]:
        lines.append("  last transitions:")
    for step in state["transitions"]:
        lines.append(f"    {step['as_of']}  v{step['version']}: {step['previous_stage']} → "
                     f"{step['stage']} {step['fraction']:.0%}  ({step['reason']})")
    return "\n".join(lines)
