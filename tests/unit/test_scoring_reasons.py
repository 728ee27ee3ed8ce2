"""Reasons in the scores: the served model's own SHAP explanation, signed, in log-odds."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tasks.features.reasons import unit_matrix
from tasks.scoring.explain import explain_chunk
from tasks.scoring.scorer import ServingSet, deciles, score_chunk
from tasks.training.model import LeadScoringModel
from tests.support.scoring import (
    contract,
    margins,
    serving_model,
    train_tiny,
    typed_week,
    write_crm,
)

REASON = re.compile(
    r"^.+: (raises|lowers) the score (strongly|clearly|slightly) "
    r"\([+-]\d+\.\d\d log-odds\)$"
)
C = contract()


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory):
    folder = write_crm(tmp_path_factory.mktemp("crm"))
    table = typed_week(folder, 1).slice(0, 600)
    return (
        table,
        train_tiny(typed_week(folder, 1), seed=0),
        train_tiny(typed_week(folder, 1), depth=4, seed=1),
    )


def _serving(week, stage=None, fraction=0.0) -> ServingSet:
    champion = serving_model(*week[1], version="1")
    if stage is None:
        return ServingSet(champion)
    return ServingSet(
        champion,
        serving_model(*week[2], version="2", role="challenger", stage=stage, fraction=fraction),
    )


def _explain(week, serving, mode="exact"):
    scored = score_chunk(week[0], C.entity_id, C.event_time, serving)
    decile = deciles(scored.served, np.sort(scored.served))
    return scored, decile, explain_chunk(scored, decile, serving, mode)


def test_reasons_are_what_the_serving_model_explains(week) -> None:
    scored, _, reasons = _explain(week, _serving(week, "canary", 0.4))
    frame = week[0].to_pandas()
    for version, booster_encoder, rows in (
        ("1", week[1], ~scored.in_canary),
        ("2", week[2], scored.in_canary),
    ):
        expected = LeadScoringModel.from_parts(*booster_encoder).explain(frame[rows])
        for rank in range(3):
            assert list(reasons[rank][rows]) == expected[f"reason_{rank + 1}"].tolist(), version
    assert all(REASON.match(text) for column in reasons for text in column)


def test_served_score_is_the_logged_models_probability(week) -> None:
    scored = score_chunk(week[0], C.entity_id, C.event_time, _serving(week, "canary", 0.4))
    frame = week[0].to_pandas()
    champion = LeadScoringModel.from_parts(*week[1]).predict_proba(frame)
    challenger = LeadScoringModel.from_parts(*week[2]).predict_proba(frame)
    np.testing.assert_allclose(scored.served, np.where(scored.in_canary, challenger, champion))


def test_reason_sizes_are_the_largest_contributions_and_add_up_to_the_margin(week) -> None:
    serving = _serving(week)
    model = serving.champion
    scored, _, reasons = _explain(week, serving)
    encoded = scored.encoded["1"]
    contribs = model.contributions(encoded)
    per_unit = contribs[:, :-1] @ unit_matrix(model.reason_units, encoded.shape[1])
    np.testing.assert_allclose(
        per_unit.sum(axis=1) + contribs[:, -1], margins(model.booster, encoded), atol=1e-4
    )
    strongest = np.sort(np.abs(per_unit), axis=1)[:, ::-1]
    for rank in range(3):
        sizes = np.array([abs(float(t.rsplit("(", 1)[1].split()[0])) for t in reasons[rank]])
        np.testing.assert_allclose(sizes, strongest[:, rank], atol=0.006)


def test_tiered_mode_is_exact_for_the_top_three_deciles(week) -> None:
    serving = _serving(week)
    _, decile, exact = _explain(week, serving, "exact")
    _, _, tiered = _explain(week, serving, "tiered")
    _, _, approx = _explain(week, serving, "approx")
    top = decile <= 3
    assert (tiered[0][top] == exact[0][top]).all()
    assert (tiered[0][~top] == approx[0][~top]).all()
    assert (approx[0] != exact[0]).any()  # approx really is a different computation


def test_a_scored_reason_reads_as_one_sentence_with_one_colon(week) -> None:
    # Issue 34: "page views: 39: raises the score" read as two labels.
    _, _, reasons = _explain(week, _serving(week))
    texts = [text for column in reasons for text in column if text]
    assert any(" = " in text for text in texts)
    assert all(text.count(": ") <= 1 for text in texts), [t for t in texts if t.count(": ") > 1]


def test_unknown_mode_is_refused(week) -> None:
    with pytest.raises(ValueError, match="reasons mode 'fast'"):
        _explain(week, _serving(week), "fast")


def test_reasons_read_as_facts_with_direction_and_size_in_words() -> None:
    from tasks.features.reasons import effect_text, value_text

    assert value_text("created at (weekday)", "weekday", 0.0) == "created on a Monday"
    assert value_text("created at (month)", "month", 3.0) == "created in March"
    assert value_text("form fills per page view", "per page_views", 0.0) == "no form fills yet"
    assert (
        value_text("form fills per page view", "per page_views", 1 / 11)
        == "about 1 form fill per 11 page views"
    )
    assert value_text("page views", None, 0.0) == "no page views yet"
    assert value_text("company size", None, 250.0) == "company size = 250"
    assert value_text("annual revenue", None, 931862.47) == "annual revenue = 931,862"
    assert value_text("lead score", None, 38.5) == "lead score = 38.5"
    assert effect_text(0.81) == "raises the score strongly (+0.81 log-odds)"
    assert effect_text(-0.05) == "lowers the score slightly (-0.05 log-odds)"


def test_a_left_out_value_reads_as_unknown_and_is_never_credited_with_a_push(week) -> None:
    import pyarrow as pa

    from tasks.features.reasons import top_reason_texts

    table = week[0].slice(0, 20)
    for column in ("legacy_lead_score", "lead_source", "marketing_opt_in"):
        index = table.schema.get_field_index(column)
        table = table.set_column(index, column, pa.nulls(20, table.schema.field(column).type))
    model = serving_model(*week[1], version="1")
    encoded = model.encode(table.to_pandas())
    # Every reason of every lead, not only the top three: each unknown one is named once.
    texts = top_reason_texts(
        model.contributions(encoded), encoded, model.reason_units, len(model.reason_units)
    )
    for row in range(20):
        reasons = [rank[row] for rank in texts]
        assert "legacy lead score: unknown (not used)" in reasons
        assert "source: unknown (not used)" in reasons
        assert "marketing opt in: unknown (not used)" in reasons
        assert not [r for r in reasons if "unknown" in r and "log-odds" in r], reasons
