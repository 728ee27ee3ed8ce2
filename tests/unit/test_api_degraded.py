"""Online scoring answers a lead whose feature values fail the contract, as batch does.

It used to answer 422 naming the field; now only a lead without a usable id or creation
time is refused, and the rest is scored with the failing features treated as missing and
named in the answer's ``degraded`` list and the prediction log.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from app.api.answer import score_leads, typed_leads, with_degraded
from app.api.models import field_names, lead_model, leads_body
from leadops.logs import prediction_log as plog
from leadops.models.cutpoints import score_cutpoints
from tasks.scoring.scorer import ServingSet
from tests.support.scoring import contract, serving_model, train_tiny, typed_week, write_crm

C = contract()
NOW = datetime(2026, 2, 1, tzinfo=UTC)
LEAD = {
    "lead_id": "L-1",
    "created_at": "2026-01-20T10:00:00Z",
    "lead_source": "referral",
    "company_size": 250,
    "page_views": 12,
    "legacy_lead_score": 40,
    "technographics": ["Salesforce", "Slack"],
    "email": "ann@acme.com",
}


@pytest.fixture(scope="module")
def answering(tmp_path_factory: pytest.TempPathFactory):
    week = typed_week(write_crm(tmp_path_factory.mktemp("crm")), 1)
    model = serving_model(*train_tiny(week, seed=0), version="1")
    cutpoints = np.asarray(score_cutpoints(model.predict(model.encoder.transform_table(week))))
    return ServingSet(model), {"1": cutpoints}


def _answer(answering, leads: list[dict]):
    body = leads_body(lead_model(C), max_leads=10).model_validate(leads)
    names = field_names(C)
    table = typed_leads(C, {c: [getattr(r, n) for r in body.root] for c, n in names.items()}, NOW)
    table = with_degraded(table, [r.degraded for r in body.root])
    answer, _ = score_leads(C, answering[0], answering[1], table, NOW, "exact")
    return answer


def test_a_lead_with_failing_features_is_scored_as_if_they_were_left_out(answering) -> None:
    broken = {**LEAD, "lead_source": None, "page_views": "lots", "legacy_lead_score": 140}
    left_out = {k: v for k, v in LEAD.items() if k not in ("lead_source", "page_views")}
    left_out["legacy_lead_score"] = None
    answer = _answer(answering, [broken, left_out, LEAD])
    degraded, missing, clean = answer.results
    assert degraded["degraded"] == ["lead_source", "page_views", "legacy_lead_score"]
    assert degraded["score"] == missing["score"] != clean["score"]
    assert missing["degraded"] == ["lead_source"]  # required by the contract, and absent
    assert clean["degraded"] == []
    logged = answer.log_rows.column(plog.DEGRADED).to_pylist()
    assert logged == ["lead_source, page_views, legacy_lead_score", "lead_source", None]
