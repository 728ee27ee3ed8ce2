"""Ask for a retrain: a Prefect event, and the train flow itself where nobody listens.

The event ``leadops.retrain.requested`` (resource ``leadops.model.<name>``, payload
``reason`` and ``as_of``) is what a deployment trigger on the train deployment
reacts to. The embedded default (no PREFECT_API_URL: an ephemeral API) runs no
automations, and a server may have no deployment listening either; in both cases
the monitor starts the train flow itself, so a retrain is never silently dropped
and never started twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from leadops.models import events

log = logging.getLogger(__name__)

RETRAIN_EVENT = events.RETRAIN_REQUESTED


def emit_retrain_requested(
    model_name: str, reason: str, as_of: datetime, version: str | None = None
) -> str | None:
    """Emit the retrain event (payload ``reason``, ``as_of``); its id, None when not sent."""
    return events.retrain_requested(model_name, reason, as_of, version=version)


def _expects(trigger: Any, event_name: str) -> bool:
    """Whether a (possibly compound) automation trigger waits for ``event_name``."""
    expected = getattr(trigger, "expect", None) or set()
    if any(
        pattern == event_name or (pattern.endswith("*") and event_name.startswith(pattern[:-1]))
        for pattern in expected
    ):
        return True
    return any(_expects(child, event_name) for child in getattr(trigger, "triggers", None) or [])


def event_listener_exists(event_name: str = RETRAIN_EVENT) -> bool:
    """True when a Prefect server is configured and an enabled automation waits for the event.

    Without PREFECT_API_URL, Prefect runs an ephemeral API that runs no automations,
    so nothing would react to the event.
    """
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return False
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            automations = events.read_automations(client)
    except Exception as exc:  # an unreachable API must not stop the retrain
        log.warning(
            "could not list Prefect automations (%s); the monitor will start train itself", exc
        )
        return False
    return any(a.enabled and _expects(a.trigger, event_name) for a in automations)
