"""Test helpers for the deal-value model (no tests here): generator history with won deals,
fitted value models, and registering them as the train stage logs them."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from app.demo import deal_value, synthetic
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.models.model_state import STAGE_SINCE_TAG
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage.local import open_lake
from leadops.storage.tables import silver
from tasks.features.encoder import FeatureEncoder
from tasks.training import tracking
from tasks.training.value import fit_value
from tasks.training.value_model import DealValueModel, log_value_model
from tests.support.gold import typed_leads

PARAMS = {"objective": "reg:gamma", "max_depth": 3, "learning_rate": 0.1}


def value_history(fit_before: datetime, weeks: int = 6, leads_per_week: int = 600):
    """(typed leads, outcomes, encoder, fit on won deals created before ``fit_before``,
    the same fit on shuffled amounts: right on average, ranking by chance)."""
    config = synthetic.GeneratorConfig(weeks=weeks, leads_per_week=leads_per_week)
    leads, outcomes = synthetic.generate(config)
    contract = load_contract(BUNDLED_CONTRACT)
    typed = typed_leads(leads, contract)
    won = typed.merge(outcomes[outcomes[contract.label]], on=contract.entity_id)
    old = won[won[contract.event_time] < pd.Timestamp(fit_before)]
    encoder = FeatureEncoder.fit(typed, contract, 20)
    amounts = old[deal_value.DEAL_COLUMN].to_numpy()
    good = fit_value(encoder.transform(old), amounts, PARAMS)
    shuffled = np.random.default_rng(0).permutation(amounts)
    return typed, outcomes, encoder, good, fit_value(encoder.transform(old), shuffled, PARAMS)


def write_silver_history(settings, typed: pd.DataFrame, outcomes: pd.DataFrame) -> None:
    contract, lake = load_contract(settings.contract_path), open_lake(settings)
    lake.overwrite_table(silver("leads"), typed)
    lake.overwrite_table(silver("outcomes"), outcomes.astype({contract.entity_id: str}))


def register_value(settings, fit, encoder, alias: str, stage: str, since: datetime, example):
    """Log ``fit`` as train logs a value model, register it under <model name>-value with
    ``alias`` and ``stage`` from ``since``; the version."""
    contract, client = load_contract(settings.contract_path), registry.registry_client(settings)
    name = registry.value_model_name(settings.model_name)
    run_id = tracking.start_run(settings, "manual", {})
    tracking.configure_mlflow(settings)
    model = DealValueModel.from_fit(fit, encoder)
    info = log_value_model(run_id, model, contract, example, list(range(9)))
    version = registry.register_version(client, name, info.model_uri, run_id).version
    fraction = 1.0 if stage == "production" else 0.0
    registry.set_stage(client, name, version, stage, fraction, "test")
    client.set_model_version_tag(name, str(version), STAGE_SINCE_TAG, since.isoformat())
    registry.move_alias(client, name, alias, version)
    return str(version)
