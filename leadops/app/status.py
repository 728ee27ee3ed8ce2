"""Registry and rollout state for people: who serves, who is being tried, what happened.

The history merges the registry (when each version was trained, and for versions from
before the gate wrote history, the decision its tags still hold) with the lake's rollout
history (every gate result, rollout step, rollback and manual override), oldest first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadops import registry
from leadops.model_state import CHALLENGER, CHAMPION
from leadops.registry import registry_client
from leadops.settings import Settings, home_is_new
from leadops.storage import Lake, open_lake
from leadops.transitions import pending, read_history
from tasks.rollout.run import rollout_state


def status(client: Any, lake: Lake, name: str, limit: int = 10) -> dict[str, Any]:
    """Champion, challenger, the last ``limit`` rollout transitions (newest first) and the
    last ``limit`` decisions of the whole history (oldest first).

    An interrupted transition is reported, not completed (``rollout_state`` without the lake).
    """
    transitions = read_history(lake)
    return {
        "model_name": name,
        **rollout_state(client, name).as_dict(),
        "transitions": list(reversed(transitions[-limit:])),
        "history": decision_history(registry.history(client, name), transitions)[-limit:],
        "interrupted": _interrupted(lake),
    }


def decision_history(versions: list[dict[str, Any]],
                     transitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every decision on every version in the order it was made.

    Args:
        versions: ``leadops.registry.history`` rows (one per registered version).
        transitions: the lake's rollout history, oldest first.
    """
    events = [{"event": "trained", "version": str(v["version"]), "at": v["created_at"],
               "as_of": v["created_at"], "run_id": v["run_id"]} for v in versions]
    for step in transitions:
        kind = "gate" if step.get("previous_stage") is None else "rollout"
        events.append({**step, "event": kind, "at": step.get("recorded_at") or step["as_of"]})
    recorded = {(str(s["version"]), s["reason"]) for s in transitions}
    for v in versions:  # a decision only the tags hold (written before the gate kept history)
        if v["stage"] and (str(v["version"]), v["reason"]) not in recorded:
            events.append({"event": "gate", "version": str(v["version"]), "stage": v["stage"],
                           "fraction": v["fraction"] or 0.0, "reason": v["reason"],
                           "as_of": v["decided_at"], "at": v["decided_at"] or v["created_at"],
                           "previous_stage": None, "metrics": v["metrics"] or {}})
    # Versions registered in the same second keep their number order; the lake's
    # history keeps its own order (a stable sort).
    return sorted(events, key=lambda e: (_instant(e["at"]), e["event"] != "trained",
                                         int(e["version"]) if e["event"] == "trained" else 0))


def _instant(text: str | None) -> datetime:
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _interrupted(lake: Lake) -> dict[str, Any] | None:
    """A transition a killed process left half-written (the next rollout run completes it)."""
    record = pending(lake)
    if record is None:
        return None
    return {"version": record["version"], "transitions": record["transitions"]}


def registry_status(settings: Settings, limit: int = 10) -> dict[str, Any]:
    """``status`` for the configured registry and lake, naming the home it read.

    A home that does not exist yet (or is empty) is reported as new, not created: a
    ``leadops status`` from the wrong folder must not leave an empty home behind.
    """
    home = str(settings.home.expanduser().resolve())
    if settings.mlflow_tracking_uri is None and home_is_new(settings.home):
        return {"model_name": settings.model_name, "home": home, "home_new": True,
                CHAMPION: None, CHALLENGER: None, "transitions": [], "history": [],
                "interrupted": None}
    state = status(registry_client(settings), open_lake(settings), settings.model_name, limit)
    return {"home": home, "home_new": False, **state}


def status_text(state: dict[str, Any]) -> str:
    """A few lines for the terminal: the home, the roles, then the history in order."""
    where = f" (LEADOPS_HOME {state['home']})" if state.get("home") else ""
    lines = [f"model {state['model_name']}{where}"]
    if state.get("home_new"):
        lines.append("  this home is new or empty: nothing ingested or trained here yet "
                     "(run from the folder that holds your home, or set LEADOPS_HOME)")
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
    if state.get("history"):
        lines.append("  history (oldest first):")
    lines += [f"    {event_text(event)}" for event in state.get("history", [])]
    return "\n".join(lines)


def event_text(event: dict[str, Any]) -> str:
    """One decision as a line: when, which version, what happened and why."""
    when = (event.get("as_of") or "")[:19].replace("T", " ")
    version = f"v{event['version']}"
    if event["event"] == "trained":
        run = f" (MLflow run {event['run_id']})" if event.get("run_id") else ""
        return f"{when}  {version}: trained{run}"
    auc = (event.get("metrics") or {}).get("roc_auc")
    scored = f", test ROC-AUC {auc:.3f}" if isinstance(auc, float) and event["event"] == "gate" \
        else ""
    if event["event"] == "gate":
        return (f"{when}  {version}: gate → {event['stage']} {event['fraction']:.0%}{scored}  "
                f"({event['reason']})")
    return (f"{when}  {version}: {event['previous_stage']} → {event['stage']} "
            f"{event['fraction']:.0%}  ({event['reason']})")
