"""The champion's training reference: rebuilt from lineage by Delta time travel, scored, cached."""

from __future__ import annotations

import pandas as pd

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import label_matured, outcome_watermark
from leadops.models import registry
from leadops.storage.local import open_lake
from tasks.monitoring.champion import current_champion, predictor
from tasks.monitoring.reference import lineage_of, load_reference, reference_key
from tests.support.gold import as_of_after, write_gold
from tests.support.rollout import NAME, register_real_model


def test_reference_is_the_training_data_of_the_champions_gold_version(
    settings, registry_db
) -> None:
    lake, contract = open_lake(settings), load_contract(settings.contract_path)
    trained_on = write_gold(lake, weeks=6, leads_per_week=200)
    gold_version = lake.table_version("gold/leads")
    trained_at = as_of_after(trained_on, contract, days=10)
    version = register_real_model(settings, contract, trained_on, trained_at, gold_version)
    write_gold(lake, weeks=9, leads_per_week=200)  # gold moves on after training

    client = registry.registry_client(settings)
    champion = current_champion(client, settings)
    lineage = lineage_of(client, champion.model_version)
    assert (lineage.gold_version, lineage.as_of) == (gold_version, trained_at)
    reference, cached = load_reference(
        lake, contract, NAME, version, lineage, predictor(settings, NAME, version)
    )
    assert not cached and lake.exists(reference_key(NAME, version))
    # Six weeks as trained, not the nine gold holds now (matured by the outcome watermark of
    # those six weeks); every row labelled and scored.
    matured = label_matured(
        trained_on, contract, trained_at, watermark=outcome_watermark(trained_on, contract)
    )
    assert len(reference) == len(matured) > 5 * 200
    assert reference[contract.event_time].max() <= pd.Timestamp(
        trained_on[contract.event_time].max()
    )
    assert reference["score"].between(0, 1).all() and set(reference["_label"].unique()) <= {0, 1}

    def must_not_run(*_):
        raise AssertionError("a cached reference needs neither lineage nor the model")

    again, cached = load_reference(lake, contract, NAME, version, must_not_run, must_not_run)
    assert cached and len(again) == len(reference)
    pd.testing.assert_series_equal(
        again["score"], reference["score"].reset_index(drop=True), check_names=False
    )
