"""MLflow model registry access: the client, aliases, stage tags, the version history.

The vocabulary (stages, aliases, tag names) and the typed reader of a version's state
are in ``leadops.models.model_state``; loading a version's model is ``leadops.models.model_loader``.
MLflow aliases are last-writer-wins, so callers that move them hold
``promotion_lock(lake)`` (train, rollout, promote, rollback).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadops.errors import LeadOpsError
from leadops.models.model_state import (
    CHALLENGER,
    CHAMPION,
    FRACTION_TAG,
    METRICS_TAG,
    VersionState,
    stage_tags,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from leadops.settings import Settings
    from leadops.storage.lake import Lake


class NoChampionError(LeadOpsError):
    """No model holds the champion alias: nothing to score or monitor with."""


class TrackingUnavailable(LeadOpsError):
    """The configured MLflow tracking server does not answer."""

    transient = True


_REACHABLE: set[str] = set()


def ensure_reachable(uri: str, attempts: int = 3, timeout: float = 3.0) -> None:
    """Fail fast, in one line, when an MLflow tracking *server* does not answer its health check.

    MLflow's own client retries each request for minutes with backoff; a server that is
    down at the start of a run should stop it before any work, and before anything is
    registered. Checked once per process and URI; local stores (sqlite, files) need no check.
    """
    if not uri.startswith(("http://", "https://")) or uri in _REACHABLE:
        return
    import time
    import urllib.error
    import urllib.request

    cause = ""
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
                _REACHABLE.add(uri)
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:  # it answers (auth, or an older server without /health)
                _REACHABLE.add(uri)
                return
            cause = f"HTTP {exc.code}"
        except OSError as exc:
            cause = str(getattr(exc, "reason", exc))
        time.sleep(min(2.0**attempt, 4.0))
    raise TrackingUnavailable(
        f"MLflow tracking server {uri}: unreachable ({cause}) after "
        f"{attempts} attempts; nothing was trained, registered or scored"
    )


def registry_client(settings: Settings) -> MlflowClient:
    """An MlflowClient on the settings' tracking URI (the registry lives in the same store)."""
    from mlflow import MlflowClient

    ensure_reachable(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


@contextmanager
def promotion_lock(lake: Lake) -> Iterator[None]:
    """Serialise alias moves across processes (MLflow has no compare-and-set)."""
    from leadops.storage.journal import lake_lock

    with lake_lock(lake, "registry"):
        yield


def value_model_name(model_name: str) -> str:
    """The deal-value model's registered name beside the conversion model ``model_name``."""
    return f"{model_name}-value"


def model_uri(name: str, alias: str = CHAMPION) -> str:
    return f"models:/{name}@{alias}"


def get_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version behind ``alias``, or None when the model or the alias does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            return None
        raise


def get_champion(client: MlflowClient, name: str) -> ModelVersion | None:
    return get_alias(client, name, CHAMPION)


def get_challenger(client: MlflowClient, name: str) -> ModelVersion | None:
    return get_alias(client, name, CHALLENGER)


def rollout_challenger(client: MlflowClient, name: str) -> VersionState | None:
    """The challenger while it is in shadow or canary: a retrain would throw its evidence away
    (the monitor holds drift retrains for it; train's gate must beat it on the same rows)."""
    challenger = get_challenger(client, name)
    state = VersionState.from_version(challenger) if challenger is not None else None
    return state if state is not None and state.in_rollout else None


def require_champion(client: MlflowClient, name: str) -> ModelVersion:
    """The version behind the champion alias.

    Raises:
        NoChampionError: none registered yet (the message says to train first).
    """
    champion = get_champion(client, name)
    if champion is None:
        raise NoChampionError(f"no champion model registered for {name}: run `leadops train` first")
    return champion


def move_alias(client: MlflowClient, name: str, alias: str, version: str | int) -> None:
    """Point ``alias`` at ``version`` (hold ``promotion_lock`` while deciding to)."""
    client.set_registered_model_alias(name, alias, str(version))


def set_stage(
    client: MlflowClient,
    name: str,
    version: str | int,
    stage: str,
    fraction: float,
    reason: str,
    metrics: dict[str, Any] | None = None,
) -> None:
    """Record a decision on a version: stage, traffic fraction, why, when, and metrics."""
    for key, value in stage_tags(stage, fraction, reason, metrics).items():
        client.set_model_version_tag(name, str(version), key, value)


def register_version(
    client: MlflowClient,
    name: str,
    source_uri: str,
    run_id: str,
    tags: dict[str, str] | None = None,
    model_id: str | None = None,
) -> ModelVersion:
    """Create a new version of ``name`` (and the registered model on first use).

    ``source_uri`` is the logged model's URI (``models:/m-...``); ``model_id`` links
    the version to that MLflow 3 logged model.
    """
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    return client.create_model_version(
        name, source_uri, run_id=run_id, tags=tags or {}, model_id=model_id
    )


def history(client: MlflowClient, name: str) -> list[dict[str, Any]]:
    """Every version, newest first, with its aliases and decision tags."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name = '{name}'")
        # Search results carry no aliases; the registered model has them all.
        alias_map = client.get_registered_model(name).aliases or {}
    except MlflowException:
        return []
    aliases: dict[int, list[str]] = {}
    for alias, version in alias_map.items():
        aliases.setdefault(int(version), []).append(alias)
    rows = []
    for mv in sorted(versions, key=lambda v: int(v.version), reverse=True):
        tags, state = mv.tags or {}, VersionState.from_version(mv)
        rows.append(
            {
                "version": int(mv.version),
                "aliases": sorted(aliases.get(int(mv.version), [])),
                "run_id": mv.run_id,
                "stage": state.stage and state.stage.value,
                "fraction": state.fraction if FRACTION_TAG in tags else None,
                "reason": state.reason,
                "decided_at": state.decided_at,
                "metrics": state.metrics if METRICS_TAG in tags else None,
                "created_at": datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC).isoformat(
                    timespec="seconds"
                ),
            }
        )
    return rows
