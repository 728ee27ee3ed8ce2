"""Batch scores with a deal-value champion: expected value, its tier and value reasons,
ranked as LEADOPS_RANK_BY says; without one the file is as it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from leadops.storage.local import LocalLake
from tasks.scoring.batch import RunOptions, run_score
from tasks.scoring.scorer import ServingSet
from tests.support.scoring import (
    contract,
    serving_model,
    tiny_value,
    train_tiny,
    typed_week,
    write_crm,
)

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)
C = contract()
VALUE_COLUMNS = ["expected_value", "predicted_value", "value_tier", "value_model_version"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory):
    week = typed_week(write_crm(tmp_path_factory.mktemp("crm")), 1)
    champion = serving_model(*train_tiny(week, rounds=15, depth=3, seed=0))
    return week, champion, tiny_value(week, champion)


def _score(tmp_path: Path, week, serving: ServingSet, rank_by: str) -> pd.DataFrame:
    lake = LocalLake(tmp_path / "lake")
    lake.overwrite_table("silver/leads", week)
    options = RunOptions(scored_at=AS_OF, reasons_mode="tiered", rank_by=rank_by)
    result = run_score(lake, C, serving, options, 1000)
    assert result.value_model_version == (serving.value.version if serving.value else None)
    return pd.read_parquet(result.output), pq.read_schema(result.output)


def test_ranked_by_expected_value_the_file_leads_with_what_leads_are_worth(
    tmp_path, models
) -> None:
    week, champion, value = models
    out, schema = _score(tmp_path, week, ServingSet(champion, value=value), "expected_value")
    assert np.allclose(out["expected_value"], out["score"] * out["predicted_value"])
    assert out["expected_value"].is_monotonic_decreasing  # best first, by expected value
    assert not out["score"].is_monotonic_decreasing  # a likelier small deal ranks lower
    assert (out["predicted_value"] > 0).all() and (out["value_model_version"] == "4").all()
    assert set(out["value_tier"]) == {"A", "B", "C", "D"}
    assert (out.head(50)["value_tier"] == "A").all()
    reason = out["value_reason_1"].dropna()
    assert len(reason) == len(out) and reason.str.contains("the deal value").all()
    assert reason.str.contains("log value").all()
    meanings = json.loads(schema.metadata[b"leadops.columns"])
    assert "sorted by it" in meanings["expected_value"] and "sorted" not in meanings["score"]
    assert schema.metadata[b"leadops.sort_by"] == b"expected_value"


def test_ranked_by_probability_the_value_columns_ride_along(tmp_path, models) -> None:
    week, champion, value = models
    out, schema = _score(tmp_path, week, ServingSet(champion, value=value), "probability")
    assert out["score"].is_monotonic_decreasing and set(VALUE_COLUMNS) <= set(out.columns)
    assert "sorted by it" in json.loads(schema.metadata[b"leadops.columns"])["score"]


def test_without_a_value_champion_the_file_is_unchanged(tmp_path, models) -> None:
    week, champion, _ = models
    out, schema = _score(tmp_path, week, ServingSet(champion), "expected_value")
    assert not set(VALUE_COLUMNS) & set(out.columns)
    assert not any(c.startswith("value_reason") for c in out.columns)
    assert out["score"].is_monotonic_decreasing
    assert schema.metadata[b"leadops.sort_by"] == b"score"


def test_an_online_answer_carries_the_same_value_columns_in_request_order(models) -> None:
    from app.api.answer import score_leads
    from leadops.models.cutpoints import score_cutpoints

    week, champion, value = models
    leads = week.slice(0, 20)
    cuts = {"1": score_cutpoints(champion.predict(champion.encoder.transform_table(week)))}
    answer, scored = score_leads(C, ServingSet(champion, value=value), cuts, leads, AS_OF, "exact")
    first = answer.results[0]
    assert [r[C.entity_id] for r in answer.results] == leads.column(C.entity_id).to_pylist()
    assert first["expected_value"] == pytest.approx(first["score"] * first["predicted_value"])
    assert first["value_tier"] in "ABCD" and first["value_model_version"] == "4"
    assert len(first["value_reasons"]) == 3 and "the deal value" in first["value_reasons"][0]
    plain, _ = score_leads(C, ServingSet(champion), cuts, leads, AS_OF, "exact")
    assert "expected_value" not in plain.results[0] and "value_reasons" not in plain.results[0]


def test_the_prediction_log_keeps_each_leads_value_and_old_rows_read_null(tmp_path, models) -> None:
    import pyarrow as pa

    from leadops.logs import prediction_log as plog
    from leadops.storage.tables import PREDICTION_LOG

    week, champion, value = models
    lake = LocalLake(tmp_path / "lake")
    old_columns = [n for n in plog.LOG_SCHEMA.names if "value" not in n]  # a log from before
    old = pa.table({n: pa.nulls(1, plog.LOG_SCHEMA.field(n).type) for n in old_columns})
    lake.append_table(PREDICTION_LOG, old.set_column(0, "entity_id", pa.array(["old-1"])))
    lake.overwrite_table("silver/leads", week)
    options = RunOptions(scored_at=AS_OF, reasons_mode="none", rank_by="probability")
    out = pd.read_parquet(
        run_score(lake, C, ServingSet(champion, value=value), options, 1000).output
    )
    log = lake.read_table(PREDICTION_LOG).set_index("entity_id")
    assert (
        log.loc["old-1", ["predicted_value", "expected_value", "value_model_version"]].isna().all()
    )
    served = log[log["served"].fillna(False).astype(bool)].loc[out["lead_id"]]
    assert (served["value_model_version"] == "4").all()
    assert np.allclose(served["predicted_value"], out["predicted_value"])
    assert np.allclose(served["expected_value"], out["expected_value"])
