"""The logged pyfunc model scores raw silver rows and explains its scores."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import label_matured
from leadops.settings import Settings
from leadops.storage.local import LocalLake
from tasks.training import dataset as D
from tasks.training import tracking
from tasks.training.model import LeadScoringModel
from tests.support.gold import as_of_after, small_model, typed_leads, write_gold


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("model-home")
    settings = Settings(home=home)
    contract = load_contract(settings.contract_path)
    frame = write_gold(LocalLake(home / "lake"), weeks=6, leads_per_week=200)
    rows = label_matured(frame, contract, as_of_after(frame, contract))
    booster, encoder = small_model(rows, contract, D.LABEL)
    run_id = tracking.start_run(settings, "manual", {})
    info = tracking.log_model(
        settings, run_id, booster, encoder, contract, rows[contract.lead_columns].head(3)
    )
    cut_info = tracking.log_model(
        settings,
        run_id,
        booster,
        encoder,
        contract,
        None,
        score_cutpoints=[k / 10 for k in range(1, 10)],
    )
    return {
        "info": info,
        "rows": rows,
        "contract": contract,
        "booster": booster,
        "encoder": encoder,
        "cut_info": cut_info,
    }


def test_pyfunc_predict_returns_probabilities_for_raw_silver_rows(logged: dict) -> None:
    model = mlflow.pyfunc.load_model(logged["info"].model_uri)
    rows = logged["rows"][logged["contract"].lead_columns].head(200)
    scores = np.asarray(model.predict(rows))
    assert scores.shape == (200,) and ((scores > 0) & (scores < 1)).all()
    expected = logged["booster"].inplace_predict(logged["encoder"].transform(rows))
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_rows_with_gaps_still_score(logged: dict) -> None:
    model = mlflow.pyfunc.load_model(logged["info"].model_uri)
    rows = (
        logged["rows"][logged["contract"].lead_columns]
        .head(3)
        .drop(columns=["country", "technographics"])
    )
    rows.loc[rows.index[0], "industry"] = "space-mining"  # never seen
    rows.loc[rows.index[1], "page_views"] = np.nan
    assert np.isfinite(np.asarray(model.predict(rows))).all()


def test_unwrapped_model_scores_csv_typed_rows_like_silver_rows(logged: dict) -> None:
    scorer: LeadScoringModel = mlflow.pyfunc.load_model(
        logged["info"].model_uri
    ).unwrap_python_model()
    silver = logged["rows"][logged["contract"].lead_columns].head(50)
    raw = silver.copy()
    raw["technographics"] = [json.dumps(list(v)) for v in raw["technographics"]]
    raw["created_at"] = raw["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    np.testing.assert_allclose(scorer.predict_proba(raw), scorer.predict_proba(silver), rtol=1e-6)
    np.testing.assert_allclose(
        scorer.predict_proba(typed_leads(raw, logged["contract"])),
        scorer.predict_proba(silver),
        rtol=1e-6,
    )


def test_explain_gives_top_reasons_in_words_with_signed_contributions(logged: dict) -> None:
    scorer = mlflow.pyfunc.load_model(logged["info"].model_uri).unwrap_python_model()
    rows = logged["rows"][logged["contract"].lead_columns].head(20)
    reasons = scorer.explain(rows, top_k=3)
    assert list(reasons.columns) == ["reason_1", "reason_2", "reason_3"] and len(reasons) == 20
    assert reasons.index.equals(rows.index)
    first = reasons.iloc[0].tolist()
    assert all(text.endswith(")") and ("(+" in text or "(-" in text) for text in first)
    # Contributions of a row plus the bias add up to its log-odds.
    encoded, contribs = scorer.contributions(rows)
    logit = np.log(scorer.predict_proba(rows) / (1 - scorer.predict_proba(rows)))
    np.testing.assert_allclose(contribs.sum(axis=1), logit, rtol=1e-4, atol=1e-4)
    # Each reason is phrased for a sales reader: what, which way, how much, then the raw
    # contribution with its unit; the words agree with the sign.
    for text in reasons.to_numpy().ravel():
        what, effect = text.rsplit(": ", 1)
        assert what and effect.split()[0] in ("raises", "lowers"), text
        assert (effect.startswith("raises") == ("(+" in effect)) and effect.endswith(
            " log-odds)"
        ), text


def test_model_is_logged_with_signature_and_input_example(logged: dict, tmp_path: Path) -> None:
    from mlflow.models import Model

    meta = Model.load(logged["info"].model_uri)
    inputs = {spec.name: spec for spec in meta.signature.inputs.inputs}
    contract = logged["contract"]
    assert set(contract.lead_columns) <= set(inputs)
    assert inputs[contract.event_time].required and not inputs["country"].required
    assert meta.saved_input_example_info is not None
    assert isinstance(pd.DataFrame(meta.load_input_example(meta.artifact_path)), pd.DataFrame)


def test_champion_pyfunc_accepts_frames_read_from_csv_and_json_records(
    logged: dict, tmp_path: Path
) -> None:
    # CSV readers and JSON decoders give int64 columns for whole numbers; MLflow refuses
    # int64 -> double, so a double-typed signature made both callers fail.
    model = mlflow.pyfunc.load_model(logged["info"].model_uri)
    contract = logged["contract"]
    silver = logged["rows"][contract.lead_columns].head(30).copy()
    for name in contract.by_role("numeric"):
        silver[name] = silver[name].fillna(0).round().astype("int64")
    raw = silver.copy()
    raw["technographics"] = ["|".join(v) for v in raw["technographics"]]
    path = tmp_path / "leads.csv"
    raw.to_csv(path, index=False)
    from_csv = pd.read_csv(path)
    assert from_csv["page_views"].dtype == np.int64
    records = pd.DataFrame(
        json.loads(
            silver.assign(created_at=silver["created_at"].astype(str)).to_json(orient="records")
        )
    )
    assert records["page_views"].dtype == np.int64
    expected = logged["booster"].inplace_predict(logged["encoder"].transform(silver))
    np.testing.assert_allclose(np.asarray(model.predict(from_csv)), expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(model.predict(records)), expected, rtol=1e-6)


def test_pyfunc_refuses_a_numeric_column_holding_text(logged: dict) -> None:
    model = mlflow.pyfunc.load_model(logged["info"].model_uri)
    rows = logged["rows"][logged["contract"].lead_columns].head(3).copy()
    rows["page_views"] = ["12", "abc", None]
    with pytest.raises(Exception, match="page_views.*'abc'"):
        model.predict(rows)


def test_score_cutpoints_travel_in_the_logged_model(logged: dict) -> None:
    from mlflow.models import get_model_info

    from leadops.models.cutpoints import METADATA_KEY, deciles_at, score_cutpoints

    scores = np.linspace(0.0, 1.0, 1001)
    cuts = score_cutpoints(scores)
    info = logged["cut_info"]
    assert get_model_info(info.model_uri).metadata[METADATA_KEY] == pytest.approx(cuts)
    # Fixed cut-points place a lead alone as the whole reference would: 10% per decile.
    assert np.bincount(deciles_at(scores[:-1], cuts), minlength=11)[1:].tolist() == [100] * 10
