"""The one tiny-model builder and the one register helper every test layer uses.

``tiny_model`` fits the real feature encoder and a small XGBoost booster in well under a
second; ``register`` logs it as the train stage does (tasks.training.tracking) and
registers it with its stage tags, so scoring, monitoring and rollout load it the real way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from leadops.inputs.contract import Contract, load_contract
from leadops.settings import Settings

# Overridden per caller (rounds, depth, eta, nthread, seed, subsample...): each keeps the
# model its assertions were written against.
DEFAULT_PARAMS = {
    "objective": "binary:logistic",
    "max_depth": 3,
    "eta": 0.3,
    "nthread": 2,
    "seed": 0,
}


def tiny_model(
    frame: pd.DataFrame,
    labels: Sequence[Any],
    contract: Contract,
    rounds: int = 20,
    cap: int = 20,
    **params: Any,
) -> tuple[Any, Any]:
    """(booster, encoder) fitted on typed lead rows ``frame`` and 0/1 ``labels``.

    Args:
        cap: technographics kept by the encoder.
        params: XGBoost parameters over DEFAULT_PARAMS (``max_depth``, ``eta``, ``seed``...).
    """
    import xgboost as xgb

    from tasks.features.encoder import FeatureEncoder

    encoder = FeatureEncoder.fit(frame, contract, cap=cap)
    matrix = xgb.DMatrix(
        encoder.transform(frame), label=labels, feature_names=encoder.feature_names
    )
    return xgb.train({**DEFAULT_PARAMS, **params}, matrix, num_boost_round=rounds), encoder


def register(
    settings: Settings,
    booster: Any,
    encoder: Any,
    alias: str | None = "champion",
    stage: str = "production",
    fraction: float = 0.0,
    salt: str | None = None,
    run_tags: dict[str, str] | None = None,
    input_example: Any = None,
) -> str:
    """Log ``booster`` and ``encoder`` as the train stage does and register them; the version.

    Args:
        alias: the registry alias to point at the version (None: no alias).
        stage / fraction: the stage tags a rollout decision would have written.
        salt: the canary routing salt tag.
        run_tags: tags of the MLflow run (lineage: ``leadops.gold_version``, ``leadops.as_of``).
    """
    from leadops.models import registry
    from tasks.training import tracking

    contract = load_contract(settings.contract_path)
    run_id = tracking.start_run(settings, "manual", run_tags or {})
    info = tracking.log_model(settings, run_id, booster, encoder, contract, input_example)
    client = registry.registry_client(settings)
    version = str(
        registry.register_version(
            client, settings.model_name, info.model_uri, run_id, model_id=info.model_id
        ).version
    )
    if alias:
        registry.move_alias(client, settings.model_name, alias, version)
    registry.set_stage(client, settings.model_name, version, stage, fraction, f"test: {stage}")
    if salt:
        client.set_model_version_tag(settings.model_name, version, "salt", salt)
    return version
