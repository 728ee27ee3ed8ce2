"""The deal-value challenger's rollout step: promoted, archived or kept waiting on the won
deals created after it entered shadow, judged paired against the value champion."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from leadops import registry
from leadops.app import deal_value, synthetic
from leadops.contract import load_contract
from leadops.model_state import STAGE_SINCE_TAG
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage import open_lake
from leadops.tables import silver
from tasks.features.encoder import FeatureEncoder
from tasks.rollout.value_step import value_rollout_step
from tasks.training import tracking
from tasks.training.value import fit_value
from tasks.training.value_model import DealValueModel, log_value_model
from tests.support.gold import typed_leads

PARAMS = {"objective": "reg:gamma", "max_depth": 3, "learning_rate": 0.1}
SHADOW_SINCE = datetime(2026, 1, 19, tzinfo=UTC)  # week 3 of the generator's default start
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def history():
    leads, outcomes = synthetic.generate(synthetic.GeneratorConfig(weeks=6, leads_per_week=600))
    contract = load_contract(BUNDLED_CONTRACT)
    typed = typed_leads(leads, contract)
    won = typed.merge(outcomes[outcomes[contract.label]], on=contract.entity_id)
    old = won[won[contract.event_time] < pd.Timestamp(SHADOW_SINCE)]
    encoder = FeatureEncoder.fit(typed, contract, 20)
    amounts = old[deal_value.DEAL_COLUMN].to_numpy()
    good = fit_value(encoder.transform(old), amounts, PARAMS)
    shuffled = np.random.default_rng(0).permutation(amounts)  # sizes right, ranks by chance
    bad = fit_value(encoder.transform(old), shuffled, PARAMS)
    return typed, outcomes, encoder, good, bad


def _setup(settings, history, champion_fit, challenger_fit, since=SHADOW_SINCE):
    typed, outcomes, encoder, *_ = history
    contract, lake = load_contract(settings.contract_path), open_lake(settings)
    lake.overwrite_table(silver("leads"), typed)
    lake.overwrite_table(silver("outcomes"), outcomes.astype({contract.entity_id: str}))
    client = registry.registry_client(settings)
    name = registry.value_model_name(settings.model_name)
    versions = []
    for fit, alias, stage in (
        (champion_fit, "champion", "production"),
        (challenger_fit, "challenger", "shadow"),
    ):
        run_id = tracking.start_run(settings, "manual", {})
        tracking.configure_mlflow(settings)
        info = log_value_model(
            run_id, DealValueModel.from_fit(fit, encoder), contract, typed.head(2), list(range(9))
        )
        version = registry.register_version(client, name, info.model_uri, run_id).version
        registry.set_stage(
            client, name, version, stage, 1.0 if alias == "champion" else 0.0, "test"
        )
        client.set_model_version_tag(name, str(version), STAGE_SINCE_TAG, since.isoformat())
        registry.move_alias(client, name, alias, version)
        versions.append(str(version))
    return client, name, lake, contract, versions


def test_a_better_value_challenger_is_promoted_on_new_won_deals(
    settings, registry_db, history
) -> None:
    *_, good, bad = history
    client, name, lake, contract, (old, new) = _setup(settings, history, bad, good)
    done = value_rollout_step(settings, lake, contract, AS_OF)
    assert done.decision == "promoted", done.reason
    assert "paired bootstrap on n=" in done.reason and "vs value champion v1" in done.reason
    assert str(registry.get_champion(client, name).version) == new
    assert registry.get_challenger(client, name) is None
    assert client.get_model_version(name, old).tags["stage"] == "archived"


def test_a_value_challenger_that_ranks_worse_is_archived(settings, registry_db, history) -> None:
    *_, good, bad = history
    client, name, lake, contract, (old, new) = _setup(settings, history, good, bad)
    done = value_rollout_step(settings, lake, contract, AS_OF)
    assert done.decision == "archived" and "may rank deals worse" in done.reason
    assert str(registry.get_champion(client, name).version) == old
    assert client.get_model_version(name, new).tags["stage"] == "archived"


def test_without_enough_new_won_deals_it_waits(settings, registry_db, history) -> None:
    *_, good, bad = history
    client, name, lake, contract, (old, new) = _setup(settings, history, bad, good, since=AS_OF)
    done = value_rollout_step(settings, lake, contract, AS_OF)
    assert (done.decision, done.reason) == ("wait", "0 won deals since 2026-03-01, need 30")
    assert str(registry.get_challenger(client, name).version) == new
