"""Registry and rollout state for people: who serves, who is being tried, what happened last."""

from __future__ import annotations

import json
from typing import Any

from leadops import registry
from leadops.settings import Settings
from leadops.storage import Lake, open_lake
from leadops.registry import registry_client
from leadops.transitions import PAUSED, PREVIOUS_CHAMPION, SALT, STAGE_SINCE, pending, read_history


def describe_version(version: Any) -> dict[str, Any] | None:
    """The rollout-relevant facts of one ModelVersion (None stays None)."""
    if version is None:
        return None
    tags = dict(version.tags or {})
    try:
        metrics = json.loads(tags.get("metrics") or "{}")
    except ValueError:
        metrics = {"raw": tags.get("metrics")}
    return {
        "version": str(version.version),
        "stage": tags.get("stage"),
        "fraction": float(tags.get("fraction") or 0.0),
        "reason": tags.get("reason"),
        "since": tags.get(STAGE_SINCE),
        "salt": tags.get(SALT),
        "paused": tags.get(PAUSED) == "true",
        "previous_champion": tags.get(PREVIOUS_CHAMPION),
        "metrics": metrics,
        "run_id": version.run_id,
    }


def status(client: Any, lake: Lake, name: str, limit: int = 10) -> dict[str, Any]:
    """Champion, challenger and the last ``limit`` rollout transitions (newest first)."""
    return {
        "model_name": name,
        "champion": describe_version(registry.get_champion(client, name)),
        "challenger": describe_version(registry.get_challenger(client, name)),
        "transitions": list(reversed(read_history(lake)[-limit:])),
        "interrupted": _interrupted(lake),
    }


def _interrupted(lake: Lake) -> dict[str, Any] | None:
    """A transition a killed process left half-written (the next rollout run completes it)."""
    record = pending(lake)
    if record is None:
        return None
    return {"version": record["version"], "transitions": record["transitions"]}


def registry_status(settings: Settings, limit: int = 10) -> dict[str, Any]:
    """``status`` for the configured registry and lake."""
    return status(registry_client(settings), open_lake(settings), settings.model_name, limit)


def status_text(state: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    lines = [f"model {state['model_name']}"]
    for role in ("champion", "challenger"):
        version = state[role]
        if version is None:
            lines.append(f"  {role}: none")
            continue
        paused = " (paused)" if version["paused"] else ""
        lines.append(f"  {role}: v{version['version']} {version['stage']} {version['fraction']:.0%}{paused} "
                     f"- {version['reason'] or ''}")
    if state.get("interrupted"):
        steps = ", ".join(f"v{t['version']} → {t['stage']}" for t in state["interrupted"]["transitions"])
        lines.append(f"  interrupted transition: {steps} (half-written; the next rollout run completes it)")
    if state["transitions"]:
        lines.append("  last transitions:")
    for step in state["transitions"]:
        lines.append(f"    {step['as_of']}  v{step['version']}: {step['previous_stage']} → {step['stage']} "
                     f"{step['fraction']:.0%}  ({step['reason']})")
    return "\n".join(lines)
