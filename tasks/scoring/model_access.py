"""The models a score run serves, loaded only from the configured MLflow registry.

The champion alias names the served model; the challenger alias, with its version
tags (``stage`` shadow|canary, ``fraction``, ``salt``), names the model scored
beside it. Versions are loaded by number (``models:/<name>/<version>``), not by
alias, so an alias moved mid-run cannot mix two models into one batch.
"""

from __future__ import annotations

import logging
from typing import Any

from leadops import registry
from leadops.errors import LeadOpsError, one_line
from leadops.settings import Settings
from tasks.scoring.scorer import CANARY, CHALLENGER, CHAMPION, PRODUCTION, SHADOW, ServingModel, ServingSet

log = logging.getLogger(__name__)

SALT_TAG = "salt"


class NoChampionError(LeadOpsError):
    """No model holds the champion alias: nothing to score with."""


class ModelLoadError(LeadOpsError):
    """A registered version whose artifact is missing, corrupt or not a LeadOps model."""


def load_serving_set(settings: Settings) -> ServingSet:
    """The champion and, when one is in shadow or canary, the challenger.

    Raises:
        NoChampionError: no champion registered (the message says to train first).
        ModelLoadError: a version to serve cannot be loaded; nothing is served then.
    """
    client = registry.registry_client(settings)
    name = settings.model_name
    champion_version = registry.get_champion(client, name)
    if champion_version is None:
        raise NoChampionError(f"no champion model registered for {name}: run `leadops train` first")
    champion = load_version(settings, champion_version, CHAMPION, PRODUCTION)
    challenger_version = registry.get_challenger(client, name)
    if challenger_version is None or str(challenger_version.version) == champion.version:
        return ServingSet(champion)
    tags = challenger_version.tags or {}
    stage = tags.get(registry.STAGE_TAG)
    if stage not in (SHADOW, CANARY):
        log.info("challenger v%s is %s: not scored", challenger_version.version, stage or "without a stage")
        return ServingSet(champion)
    challenger = load_version(settings, challenger_version, CHALLENGER, stage)
    if stage == CANARY:
        challenger.fraction = _fraction(tags, name, challenger.version)
        challenger.salt = tags.get(SALT_TAG) or challenger.version
    return ServingSet(champion, challenger)


def load_version(settings: Settings, model_version: Any, role: str, stage: str) -> ServingModel:
    """Load one registered version's booster and encoder.

    Raises:
        ModelLoadError: one line naming the model, the version and the cause.
    """
    import mlflow

    name, version = settings.model_name, str(model_version.version)
    # The pyfunc loader resolves models:/ URIs through the global URIs; set them to
    # the configured registry so no other store is ever consulted.
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    try:
        python_model = mlflow.pyfunc.load_model(f"models:/{name}/{version}").unwrap_python_model()
    except Exception as exc:  # missing files, bad JSON, unpickling: all mean "cannot serve"
        raise ModelLoadError(
            f"model {name} version {version}: artifact missing or unreadable ({one_line(exc)})"
        ) from exc
    booster, encoder = getattr(python_model, "booster", None), getattr(python_model, "encoder", None)
    if booster is None or encoder is None:
        raise ModelLoadError(f"model {name} version {version}: not a LeadOps scoring model (no booster/encoder)")
    if booster.num_features() != len(encoder.feature_names):
        raise ModelLoadError(
            f"model {name} version {version}: booster expects {booster.num_features()} features, "
            f"encoder makes {len(encoder.feature_names)} (corrupt artifact)"
        )
    return ServingModel(name, version, role, stage, booster, encoder)


def _fraction(tags: dict[str, str], name: str, version: str) -> float:
    try:
        fraction = float(tags.get(registry.FRACTION_TAG) or 0.0)
    except ValueError:
        raise ModelLoadError(f"model {name} version {version}: fraction tag {tags.get('fraction')!r} is not a number") from None
    if not 0.0 <= fraction <= 1.0:
        raise ModelLoadError(f"model {name} version {version}: fraction tag {fraction} is outside 0..1")
    return fraction
