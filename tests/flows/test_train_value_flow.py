"""The train flow with a value column: a deal-value model beside the conversion model."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pytest
from mlflow import MlflowClient

from app.demo import deal_value, synthetic
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.storage.local import open_lake
from leadops.storage.tables import GOLD_LEADS, silver
from tasks.scoring.model_access import load_serving_set
from tests.support.gold import as_of_after, gold_frame


@pytest.mark.slow
def test_train_registers_a_value_champion_and_an_identical_retrain_does_not_replace_it(
    settings,
) -> None:
    from flows.train import train

    contract, lake = load_contract(settings.contract_path), open_lake(settings)
    leads, outcomes = synthetic.generate(synthetic.GeneratorConfig(weeks=8, leads_per_week=500))
    frame = gold_frame(leads, outcomes, contract)
    lake.overwrite_table(GOLD_LEADS, frame.drop(columns=[contract.value]))  # as ingest writes it
    lake.overwrite_table(silver("outcomes"), outcomes.astype({contract.entity_id: str}))
    as_of = as_of_after(frame, contract)

    first = train(trials=2, as_of=as_of)
    value = first.value_model
    assert (value["decision"], value["version"]) == ("champion", "1"), value["line"]
    assert "vs baseline (" in value["line"] and "95% CI" in value["line"]
    name = registry.value_model_name(settings.model_name)
    client = MlflowClient(settings.tracking_uri)
    assert str(registry.get_champion(client, name).version) == "1"
    # The registered value champion sizes won deals from raw rows: near the true mean.
    model = mlflow.pyfunc.load_model(registry.model_uri(name))
    won = leads.merge(outcomes[outcomes[contract.label]], on=contract.entity_id).tail(300)
    predicted = np.asarray(
        model.predict(
            frame.loc[
                frame[contract.entity_id].isin(won[contract.entity_id].astype(str)),
                contract.lead_columns,
            ]
        )
    )
    assert (predicted > 0).all()
    assert abs(predicted.mean() / deal_value.expected_value(won).mean() - 1) < 0.3
    # The score stage serves it beside the conversion champion.
    serving = load_serving_set(settings)
    assert serving.value.version == "1" and len(serving.value.cutpoints) == 9

    second = train(trials=2, as_of=as_of)
    assert second.value_model["decision"] == "archived"
    assert "vs value champion v1" in second.value_model["line"]
    assert str(registry.get_champion(client, name).version) == "1"
    assert client.get_model_version(name, "2").tags["stage"] == "archived"
