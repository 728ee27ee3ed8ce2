"""The models a score run serves, loaded only from the configured MLflow registry.

The champion alias names the served model; the challenger alias, with its version
state (stage shadow|canary, fraction, salt), names the model scored beside it.
Versions are loaded by number, not by alias, so an alias moved mid-run cannot mix
two models into one batch.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from leadops.models import registry
from leadops.models.model_loader import ModelLoadError, load_model
from leadops.models.model_state import CHALLENGER, CHAMPION, Stage, VersionState
from leadops.settings import Settings
from tasks.scoring.scorer import ServingModel, ServingSet
from tasks.scoring.value import load_value_champion

log = logging.getLogger(__name__)

WATCH_ROLE = "watch"  # the prediction log's role for the previous champion under watch


def load_serving_set(settings: Settings, watch_as_of: datetime | None = None) -> ServingSet:
    """The champion and, when one is in shadow or canary, the challenger; and the deal-value
    champion when one is registered.

    With ``watch_as_of`` (batch scoring), also the previous champion while the champion's
    watch after promotion runs (``watch_days`` since it was promoted): role "watch",
    never served. The online API leaves it out.

    Raises:
        NoChampionError: no champion registered (the message says to train first).
        ModelLoadError: a version to serve cannot be loaded; nothing is served then.
        RegistryTagError: the challenger's fraction tag is not a number in 0..1.
    """
    client = registry.registry_client(settings)
    name = settings.model_name
    champion_version = registry.require_champion(client, name)
    champion = load_version(settings, champion_version, CHAMPION, Stage.PRODUCTION)
    watch = (
        None if watch_as_of is None else load_watch(settings, client, champion_version, watch_as_of)
    )
    value = load_value_champion(settings, client)  # None: outputs without value columns
    challenger_version = registry.get_challenger(client, name)
    if challenger_version is None or str(challenger_version.version) == champion.version:
        return ServingSet(champion, watch=watch, value=value)
    state = VersionState.from_version(challenger_version)
    if not state.in_rollout:
        log.info(
            "challenger v%s is %s: not scored", state.version, state.stage or "without a stage"
        )
        return ServingSet(champion, watch=watch, value=value)
    challenger = load_version(settings, challenger_version, CHALLENGER, state.stage)
    if state.stage == Stage.CANARY:
        challenger.fraction = state.fraction
        challenger.salt = state.salt or state.version
    return ServingSet(champion, challenger, watch, value)


def load_watch(
    settings: Settings, client: Any, champion_version: Any, as_of: datetime
) -> ServingModel | None:
    """The previous champion while the champion's watch runs, else None."""
    champion = VersionState.from_version(champion_version)
    if not champion.watched_at(as_of, settings.watch_days):
        return None
    previous = client.get_model_version(settings.model_name, champion.previous_champion)
    return load_version(settings, previous, WATCH_ROLE, Stage.ARCHIVED)


def load_version(settings: Settings, model_version: Any, role: str, stage: Stage) -> ServingModel:
    """Load one registered version's booster and encoder.

    Raises:
        ModelLoadError: one line naming the model, the version and the cause.
    """
    name, version = settings.model_name, str(model_version.version)
    python_model = load_model(settings, name, version).unwrap_python_model()
    booster, encoder = (
        getattr(python_model, "booster", None),
        getattr(python_model, "encoder", None),
    )
    if booster is None or encoder is None:
        raise ModelLoadError(
            f"model {name} version {version}: not a LeadOps scoring model (no booster/encoder)"
        )
    if booster.num_features() != len(encoder.feature_names):
        raise ModelLoadError(
            f"model {name} version {version}: booster expects {booster.num_features()} features, "
            f"encoder makes {len(encoder.feature_names)} (corrupt artifact)"
        )
    calibrator = getattr(python_model, "calibrator", None)  # a recalibrated version's
    return ServingModel(name, version, role, stage, booster, encoder, calibrator=calibrator)
