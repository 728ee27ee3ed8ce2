"""Registry and rollout state for people: who serves, who is being tried, what happened.

The history merges the registry (when each version was trained, and for versions from
before the gate wrote history, the decision its tags still hold) with the lake's rollout
history (every gate result, rollout step, rollback and manual override), oldest first.
Each event is placed and shown at the moment it was written (``at``); ``as_of``, the
clock a decision was evaluated for, is kept beside it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadops.clock import utc
from leadops.decisions import monitor_state
from leadops.models import registry
from leadops.models.model_state import (
    CHALLENGER,
    CHAMPION,
    FRACTION_TAG,
    METRICS_TAG,
    VersionState,
)
from leadops.models.registry import get_alias, get_challenger, get_champion, registry_client
from leadops.models.transitions import pending, read_history
from leadops.settings import Settings, home_is_new
from leadops.storage.lake import Lake
from leadops.storage.local import open_lake


def status(client: Any, lake: Lake, name: str, limit: int = 10) -> dict[str, Any]:
    """Champion, challenger, the last ``limit`` rollout transitions (newest first) and the
    last ``limit`` decisions of the whole history (oldest first).

    An interrupted transition is reported, not completed. Read through the core's
    ``VersionState`` alone: importing the rollout stage (pandas, scipy) would triple the
    command's start-up.
    """
    transitions = read_history(lake)
    return {
        "model_name": name,
        CHAMPION: _role(get_champion(client, name)),
        CHALLENGER: _role(get_challenger(client, name)),
        "transitions": list(reversed(transitions[-limit:])),
        "history": decision_history(registry.history(client, name), transitions)[-limit:],
        "interrupted": _interrupted(lake),
        "quarantine": quarantine(lake),
        "escalations": escalations(lake),
        "value_model": value_roles(
            registry.value_model_name(name),
            lambda value_name, role: _role(get_alias(client, value_name, role)),
        ),
    }


def value_roles(name: str, role_of: Any) -> dict[str, Any] | None:
    """The deal-value model's champion and challenger (``<model name>-value``); None when
    no deal-value version holds either alias (no value column, or none trained yet)."""
    roles = {role: role_of(name, role) for role in (CHAMPION, CHALLENGER)}
    return {"model_name": name, **roles} if any(roles.values()) else None


def escalations(lake: Lake) -> list[str]:
    """What the monitor escalated: persisting causes whose retrains the gate kept rejecting
    (tasks.monitoring.persistence writes them under ``persisting`` in the monitor's state)."""
    return [
        record["escalation"]
        for record in (monitor_state.read_state(lake).get(monitor_state.PERSISTING) or {}).values()
        if record.get("escalation")
    ]


def decision_history(
    versions: list[dict[str, Any]], transitions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every decision on every version in the order it was made.

    Args:
        versions: ``leadops.models.registry.history`` rows (one per registered version).
        transitions: the lake's rollout history, oldest first.
    """
    events = [
        {
            "event": "trained",
            "version": str(v["version"]),
            "at": v["created_at"],
            "as_of": v["created_at"],
            "run_id": v["run_id"],
        }
        for v in versions
    ]
    for step in transitions:
        kind = "gate" if step.get("previous_stage") is None else "rollout"
        events.append({**step, "event": kind, "at": step.get("recorded_at") or step["as_of"]})
    recorded = {(str(s["version"]), s["reason"]) for s in transitions}
    for v in versions:  # a decision only the tags hold (written before the gate kept history)
        if v["stage"] and (str(v["version"]), v["reason"]) not in recorded:
            events.append(
                {
                    "event": "gate",
                    "version": str(v["version"]),
                    "stage": v["stage"],
                    "fraction": v["fraction"] or 0.0,
                    "reason": v["reason"],
                    "as_of": v["decided_at"],
                    "at": v["decided_at"] or v["created_at"],
                    "previous_stage": None,
                    "metrics": v["metrics"] or {},
                }
            )
    # Versions registered in the same second keep their number order; the lake's
    # history keeps its own order (a stable sort).
    return sorted(
        events,
        key=lambda e: (
            _instant(e["at"]),
            e["event"] != "trained",
            int(e["version"]) if e["event"] == "trained" else 0,
        ),
    )


def _instant(text: str | None) -> datetime:
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    return utc(datetime.fromisoformat(text))


def _role(model_version: Any) -> dict[str, Any] | None:
    return VersionState.from_version(model_version).as_dict() if model_version is not None else None


def _interrupted(lake: Lake) -> dict[str, Any] | None:
    """A transition a killed process left half-written (the next rollout run completes it)."""
    record = pending(lake)
    if record is None:
        return None
    return {"version": record["version"], "transitions": record["transitions"]}


def registry_status(settings: Settings, limit: int = 10) -> dict[str, Any]:
    """``status`` for the configured registry and lake, naming the home it read.

    A home that does not exist yet (or is empty) is reported as new, not created: a
    ``leadops status`` from the wrong folder must not leave an empty home behind. A local
    SQLite registry is read with plain SQL: importing mlflow alone costs ~4 s, most of the
    command. Other registries (a tracking server, PostgreSQL) go through MlflowClient.
    """
    home = str(settings.home.expanduser().resolve())
    if settings.mlflow_tracking_uri is None and home_is_new(settings.home):
        return {
            "model_name": settings.model_name,
            "home": home,
            "home_new": True,
            CHAMPION: None,
            CHALLENGER: None,
            "transitions": [],
            "history": [],
            "interrupted": None,
            "value_model": None,
        }
    lake = open_lake(settings)
    path = sqlite_path(settings.tracking_uri)
    if path is None:
        state = status(registry_client(settings), lake, settings.model_name, limit)
        return {"home": home, "home_new": False, **state}
    transitions = read_history(lake)
    return {
        "model_name": settings.model_name,
        "home": home,
        "home_new": False,
        **{role: _sqlite_role(path, settings.model_name, role) for role in (CHAMPION, CHALLENGER)},
        "transitions": list(reversed(transitions[-limit:])),
        "history": decision_history(_sqlite_versions(path, settings.model_name), transitions)[
            -limit:
        ],
        "interrupted": _interrupted(lake),
        "quarantine": quarantine(lake, settings),
        "escalations": escalations(lake),
        "value_model": value_roles(
            registry.value_model_name(settings.model_name),
            lambda name, role: _sqlite_role(path, name, role),
        ),
    }


def quarantine(lake: Lake, settings: Settings | None = None) -> dict[str, Any] | None:
    """The monitor's quarantine watch of the latest leads ingest (None before any ingest).

    Imported here, not at the top: pandas is only worth its start-up when there is a log.
    """
    from leadops.settings import get_settings
    from leadops.storage import tables

    settings = settings or get_settings()

    if not lake.table_exists(tables.QUARANTINE_LOG):
        return None
    from leadops.logs.quarantine_log import read_log
    from tasks.monitoring.quarantine import watch_quarantine

    watch = watch_quarantine(
        read_log(lake, "leads"),
        "leads",
        settings.quarantine_jump_share,
        settings.quarantine_baseline_share,
    )
    # The log is history; a replay since may have emptied the quarantine: say both.
    held = lake.read_table(tables.quarantine("leads"), columns=[tables.FAILED_EXPECTATIONS])
    return {**watch.as_dict(), "held": len(held)}


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
                (name, alias),
            ).fetchone()
        except sqlite3.OperationalError as exc:  # a database MLflow has not set up yet
            if "no such table" in str(exc):
                return None
            raise
        if row is None:
            return None
        tags = dict(
            db.execute(
                "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                (name, row[0]),
            ).fetchall()
        )
    return VersionState.from_tags(name, str(row[0]), tags, row[1]).as_dict()


def _sqlite_versions(path: Path, name: str) -> list[dict[str, Any]]:
    """``leadops.models.registry.history`` rows (every version, newest first), from MLflow's
    tables."""
    if not path.exists():
        return []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        try:
            versions = db.execute(
                "SELECT version, run_id, creation_time FROM model_versions "
                "WHERE name = ? ORDER BY version DESC",
                (name,),
            ).fetchall()
            aliases = db.execute(
                "SELECT alias, version FROM registered_model_aliases WHERE name = ?", (name,)
            ).fetchall()
            tag_rows = db.execute(
                "SELECT version, key, value FROM model_version_tags WHERE name = ?", (name,)
            ).fetchall()
        except sqlite3.OperationalError as exc:  # a database MLflow has not set up yet
            if "no such table" in str(exc):
                return []
            raise
    tags: dict[int, dict[str, str]] = {}
    for version, key, value in tag_rows:
        tags.setdefault(int(version), {})[key] = value
    rows = []
    for version, run_id, created in versions:
        own = tags.get(int(version), {})
        state = VersionState.from_tags(name, str(version), own, run_id)
        rows.append(
            {
                "version": int(version),
                "run_id": run_id,
                "aliases": sorted(a for a, v in aliases if int(v) == int(version)),
                "stage": state.stage and state.stage.value,
                "fraction": state.fraction if FRACTION_TAG in own else None,
                "reason": state.reason,
                "decided_at": state.decided_at,
                "metrics": state.metrics if METRICS_TAG in own else None,
                "created_at": datetime.fromtimestamp(created / 1000, UTC).isoformat(
                    timespec="seconds"
                ),
            }
        )
    return rows


def status_text(state: dict[str, Any]) -> str:
    """A few lines for the terminal: the home, the roles, then the history in order."""
    where = f" (LEADOPS_HOME {state['home']})" if state.get("home") else ""
    lines = [f"model {state['model_name']}{where}"]
    if state.get("home_new"):
        lines.append(
            "  this home is new or empty: nothing ingested or trained here yet "
            "(run from the folder that holds your home, or set LEADOPS_HOME)"
        )
    lines += _role_lines(state, "")
    if state.get("value_model"):  # the deal-value model beside it (expected revenue)
        lines += _role_lines(state["value_model"], "value ")
    if state.get("interrupted"):
        steps = ", ".join(
            f"v{t['version']} → {t['stage']}" for t in state["interrupted"]["transitions"]
        )
        lines.append(
            f"  interrupted transition: {steps} (half-written; the next rollout run completes it)"
        )
    if state.get("quarantine"):
        held = state["quarantine"].get("held", 0)
        lines.append(f"  quarantine: {state['quarantine']['note']}; {held:,} leads held now")
    lines += [f"  ESCALATED: {text}" for text in state.get("escalations", [])]
    if state.get("history"):
        lines.append("  history (oldest first):")
    lines += [f"    {event_text(event)}" for event in state.get("history", [])]
    return "\n".join(lines)


def _role_lines(state: dict[str, Any], kind: str) -> list[str]:
    lines = []
    for role in (CHAMPION, CHALLENGER):
        version = state[role]
        if version is None:
            lines.append(f"  {kind}{role}: none")
            continue
        paused = " (paused)" if version["paused"] else ""
        lines.append(
            f"  {kind}{role}: v{version['version']} {version['stage']} "
            f"{version['fraction']:.0%}{paused} - {version['reason'] or ''}"
        )
    return lines


def event_text(event: dict[str, Any]) -> str:
    """One decision as a line: when, which version, what happened and why."""
    when = _clock(event.get("at"))
    version = f"v{event['version']}"
    if event["event"] == "trained":
        run = f" (MLflow run {event['run_id']})" if event.get("run_id") else ""
        return f"{when}  {version}: trained{run}"
    return f"{when}  {version}: {_decision_text(event)}{_decided_for(event)}"


def _clock(text: str | None) -> str:
    return _instant(text).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if text else ""


def _decided_for(event: dict[str, Any]) -> str:
    """The as-of day a decision was made for, when it is not the day it was made.

    A gate's ``as_of`` is the training's evaluation clock (read before training, so a
    few seconds before the version exists) and a rollout's is its evidence clock: a
    backfill or the demo's simulated weeks decide for another day than today.
    """
    if not event.get("as_of"):
        return ""
    day = _instant(event["as_of"]).date()
    return f"  [as of {day.isoformat()}]" if day != _instant(event.get("at")).date() else ""


def _decision_text(event: dict[str, Any]) -> str:
    auc = (event.get("metrics") or {}).get("roc_auc")
    scored = (
        f", test ROC-AUC {auc:.3f}" if isinstance(auc, float) and event["event"] == "gate" else ""
    )
    if event["event"] == "gate":
        return f"gate → {event['stage']} {event['fraction']:.0%}{scored}  ({event['reason']})"
    return (
        f"{event['previous_stage']} → {event['stage']} {event['fraction']:.0%}  ({event['reason']})"
    )
