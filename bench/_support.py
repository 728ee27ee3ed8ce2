"""Inputs the benchmarks build: synthetic leads typed as silver types them, gold rows and a
registered champion. Built on leadops/ and tasks/ only: bench imports nothing from tests/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from app.demo import synthetic
from leadops.inputs.contract import load_contract
from leadops.inputs.normalise import parse_frame
from leadops.settings import BUNDLED_CONTRACT, Settings
from leadops.storage.lake import Lake
from leadops.storage.tables import GOLD_LEADS

CONTRACT = load_contract(BUNDLED_CONTRACT)


def typed_leads(leads: pd.DataFrame) -> pd.DataFrame:
    """Generator lead rows typed by the ingest stage's own parser (as silver holds them)."""
    roles = CONTRACT.roles("leads")
    return parse_frame(leads.astype(str), roles)[list(roles)]


def gold_frame(leads: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Typed leads left-joined with their outcome; a lead without one has a null label."""
    outcome = outcomes[CONTRACT.outcome_columns].copy()
    outcome[CONTRACT.entity_id] = outcome[CONTRACT.entity_id].astype(str)
    outcome[CONTRACT.label_time] = pd.to_datetime(outcome[CONTRACT.label_time], utc=True)
    joined = typed_leads(leads).merge(outcome, on=CONTRACT.entity_id, how="left")
    joined[CONTRACT.label] = joined[CONTRACT.label].astype("boolean")
    return joined


def write_gold(lake: Lake, weeks: int, leads_per_week: int, seed: int = 7) -> pd.DataFrame:
    """``weeks`` of synthetic leads written as gold/leads; returns the frame."""
    config = synthetic.GeneratorConfig(weeks=weeks, leads_per_week=leads_per_week, seed=seed)
    frame = gold_frame(*synthetic.generate(config))
    lake.overwrite_table(GOLD_LEADS, frame)
    return frame


def as_of_after(frame: pd.DataFrame, days: float = 60) -> datetime:
    """An as-of late enough that every lead in ``frame`` has matured."""
    newest = frame[CONTRACT.event_time].max()
    return (newest + pd.Timedelta(days=days)).to_pydatetime().astimezone(UTC)


def register_champion(
    settings: Settings, frame: pd.DataFrame, as_of: datetime, gold_version: int | None
) -> str:
    """A small XGBoost model on the matured rows, logged and registered as the train stage
    does (with its lineage tags) and made champion; returns the version."""
    import xgboost as xgb

    from leadops.inputs.maturity import LABEL, label_matured
    from leadops.models import registry
    from tasks.features.encoder import FeatureEncoder
    from tasks.training import tracking

    train = label_matured(frame, CONTRACT, as_of)
    encoder = FeatureEncoder.fit(train, CONTRACT, cap=5)
    params: dict[str, Any] = {"objective": "binary:logistic", "max_depth": 3, "nthread": 2}
    booster = xgb.train(
        params,
        xgb.DMatrix(
            encoder.transform(train), label=train[LABEL], feature_names=encoder.feature_names
        ),
        10,
    )
    tags = {"leadops.gold_version": str(gold_version), "leadops.as_of": as_of.isoformat()}
    run_id = tracking.start_run(settings, "manual", tags)
    info = tracking.log_model(
        settings, run_id, booster, encoder, CONTRACT, train[CONTRACT.lead_columns].head(3)
    )
    client = registry.registry_client(settings)
    version = registry.register_version(
        client, settings.model_name, info.model_uri, run_id, model_id=info.model_id
    )
    registry.set_stage(
        client, settings.model_name, version.version, "production", 1.0, "bench: first model"
    )
    registry.move_alias(client, settings.model_name, "champion", version.version)
    return str(version.version)
