"""What the service serves right now, and the thread that keeps it current.

The registry is re-read every ``api_reload_seconds``. When the champion alias moves
(promote, rollback) or the challenger's stage, fraction or salt changes, the new
models are loaded first and swapped in with one assignment: a request holds the
state it started with, so none fails or mixes two models.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from leadops.errors import LeadOpsError, one_line
from leadops.inputs.contract import Contract
from leadops.models import registry
from leadops.models.cutpoints import METADATA_KEY, score_cutpoints
from leadops.models.model_state import FRACTION_TAG, SALT_TAG, STAGE_TAG, Stage
from leadops.settings import Settings
from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.scoring.model_access import load_serving_set
from tasks.scoring.scorer import ServingModel, ServingSet

log = logging.getLogger(__name__)

REFERENCE_ROWS = 20_000


@dataclass(frozen=True)
class Serving:
    """Models that answer (champion, canary challenger) and the shadow scored after."""

    answering: ServingSet
    shadow: ServingModel | None
    cutpoints: dict[str, np.ndarray]  # by model version
    cutpoints_from: dict[str, str]  # by model version: "model" | "silver leads"
    fingerprint: tuple
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def describe(self) -> dict[str, Any]:
        """What ``/ready`` reports: each model's role, stage, rollout fraction (as ``leadops
        status`` shows it) and the share of leads it answers here."""
        models = [*self.answering.models, *([self.shadow] if self.shadow else [])]
        return {
            "ready": True,
            "mode": "model",
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "models": [
                {
                    "version": m.version,
                    "role": m.role,
                    "stage": m.stage,
                    "fraction": rollout_fraction(m),
                    "traffic_share": traffic_share(self.answering, m),
                    "cutpoints": self.cutpoints_from[m.version],
                }
                for m in models
            ],
        }


def rollout_fraction(model: ServingModel) -> float:
    """The version's rollout fraction as ``leadops status`` shows it (production is 100%).

    ``ServingModel.fraction`` holds only a canary's share: the champion's stays 0.0.
    """
    return 1.0 if model.stage == Stage.PRODUCTION else model.fraction


def traffic_share(answering: ServingSet, model: ServingModel) -> float:
    """The expected share of leads ``model`` answers: a canary its fraction, the champion
    the rest, a shadow none."""
    canary = answering.canary
    if model is answering.champion:
        # Rounded: 1 - 0.7 is 0.30000000000000004 in floats.
        return round(1.0 - canary.fraction, 6) if canary is not None else 1.0
    return canary.fraction if model is canary else 0.0


@dataclass(frozen=True)
class NotReady:
    reason: str
    fingerprint: tuple | None = None


def registry_fingerprint(settings: Settings) -> tuple:
    """What decides the served state: both aliases and the challenger's rollout tags."""
    client = registry.registry_client(settings)
    champion = registry.get_champion(client, settings.model_name)
    challenger = registry.get_challenger(client, settings.model_name)
    tags = (challenger.tags or {}) if challenger is not None else {}
    value = registry.get_champion(client, registry.value_model_name(settings.model_name))
    return (
        champion.version if champion else None,
        challenger.version if challenger else None,
        tags.get(STAGE_TAG),
        tags.get(FRACTION_TAG),
        tags.get(SALT_TAG),
        value.version if value else None,  # a new deal-value champion reloads too
    )


def load_serving(
    settings: Settings,
    contract: Contract,
    lake: Lake,
    fingerprint: tuple,
    known: dict[str, tuple[np.ndarray, str]],
) -> Serving:
    """Load the registry's current models and their decile cut-points.

    Raises:
        LeadOpsError: no champion, an unloadable version, or no cut-points for a version.
    """
    loaded = load_serving_set(settings)
    for model in loaded.models:
        # One thread per prediction: a request holds a few rows, and OpenMP threads that
        # spin on a busy 2-core host cost far more than they save (36 ms vs 0.4 ms per lead
        # measured with other work running). Several workers use several cores instead.
        model.booster.set_param({"nthread": 1})
    if loaded.value is not None:
        loaded.value.booster.set_param({"nthread": 1})
    challenger = loaded.challenger
    canary = challenger if challenger is not None and challenger.stage == Stage.CANARY else None
    shadow = challenger if challenger is not None and challenger.stage == Stage.SHADOW else None
    cutpoints, sources = {}, {}
    for model in loaded.models:
        found = known.get(model.version) or model_cutpoints(settings, contract, lake, model)
        cutpoints[model.version], sources[model.version] = found
    answering = ServingSet(loaded.champion, canary, value=loaded.value)
    return Serving(answering, shadow, cutpoints, sources, fingerprint)


def model_cutpoints(
    settings: Settings, contract: Contract, lake: Lake, model: ServingModel
) -> tuple[np.ndarray, str]:
    """The version's logged cut-points; for a model logged without them, cut from silver leads."""
    from mlflow.models import get_model_info

    metadata = get_model_info(f"models:/{settings.model_name}/{model.version}").metadata or {}
    if metadata.get(METADATA_KEY):
        return np.asarray(metadata[METADATA_KEY], dtype=np.float64), "model"
    reference = _silver_sample(lake, contract)
    if reference is None:
        raise NoCutpointsError(
            f"model {settings.model_name} version {model.version}: logged without score "
            f"cut-points and no silver leads to cut them from; retrain or ingest leads"
        )
    log.warning(
        "model v%s has no logged cut-points: cut from %d silver leads",
        model.version,
        len(reference),
    )
    scores = model.predict(model.encode(reference))
    return np.asarray(score_cutpoints(scores)), "silver leads"


class NoCutpointsError(LeadOpsError):
    """A version without decile cut-points and nothing to compute them from."""


def _silver_sample(lake: Lake, contract: Contract) -> Any:
    name = tables.silver("leads")
    if not lake.table_exists(name):
        return None
    dataset = lake._delta(name).to_pyarrow_dataset()
    frame = dataset.head(REFERENCE_ROWS, columns=contract.lead_columns).to_pandas()
    return frame if len(frame) else None


class ServingHolder:
    """The current state and the reload thread (``start``/``stop``)."""

    def __init__(self, settings: Settings, contract: Contract, lake: Lake) -> None:
        self.settings, self.contract, self.lake = settings, contract, lake
        self.current: Serving | NotReady = NotReady("starting: models not loaded yet")
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> bool:
        """Re-read the registry; load and swap when it changed. True when the state changed."""
        try:
            fingerprint = registry_fingerprint(self.settings)
        except Exception as exc:  # noqa: BLE001 (registry down: keep serving what we have)
            self.last_error = f"registry unreadable: {one_line(exc)}"
            log.warning("reload: %s", self.last_error)
            return False
        if fingerprint == self.current.fingerprint:
            return False
        if fingerprint[0] is None:
            self.current = NotReady(
                f"no champion model registered for {self.settings.model_name}: "
                "run `leadops train` first",
                fingerprint,
            )
            return True
        current = self.current
        # Cut-points of a version never change: a version kept across a reload keeps them.
        known = (
            {v: (c, current.cutpoints_from[v]) for v, c in current.cutpoints.items()}
            if isinstance(current, Serving)
            else {}
        )
        try:
            self.current = load_serving(self.settings, self.contract, self.lake, fingerprint, known)
        except Exception as exc:  # noqa: BLE001 (a bad new version must not stop the served one)
            self.last_error = one_line(exc)
            log.error("reload failed: %s", self.last_error)
            if not isinstance(self.current, Serving):
                self.current = NotReady(self.last_error, fingerprint)
            return False
        self.last_error = None
        log.info("serving %s", self.current.describe()["models"])
        return True

    def start(self) -> None:
        self.refresh()
        self._thread = threading.Thread(target=self._loop, name="leadops-api-reload", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.api_reload_seconds):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
