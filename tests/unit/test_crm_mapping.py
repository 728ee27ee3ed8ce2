"""The score mapping file and `leadops deliver` without a sink: one line naming what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadops.errors import LeadOpsError
from tasks.scoring.sinks.mapping import MappingError, load_mapping


def test_unmapped_fields_keep_their_own_names(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("table: sales.lead_scores\ncolumns:\n  id: lead_ref\n")
    mapping = load_mapping(path)
    assert mapping.table == "sales.lead_scores" and mapping.columns["id"] == "lead_ref"
    assert mapping.columns["score"] == "score" and mapping.ledger_table == "leadops_deliveries"


def test_an_unknown_field_is_named_with_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("table: t\ncolumns:\n  probability: p\n")
    with pytest.raises(MappingError, match=r"unknown field\(s\) probability \(known: id, score"):
        load_mapping(path)


def test_deliver_without_a_sink_says_which_settings_turn_one_on(settings) -> None:
    from app.cli.deliver import deliver_owed

    with pytest.raises(LeadOpsError, match="LEADOPS_CRM_SCORES_MAPPING .* LEADOPS_CRM_WEBHOOK_URL"):
        deliver_owed()


def test_a_batch_sized_by_a_value_champion_writes_its_value_back(tmp_path: Path) -> None:
    import json

    from leadops.storage.local import LocalLake
    from tasks.scoring.sinks.records import parts, read_scores
    from tasks.scoring.sinks.webhook import body
    from tests.support.crm import CRM_CONTRACT, write_scores

    lake = LocalLake(tmp_path / "lake")
    sized = read_scores(write_scores(lake, "b1", 4, value_version="2"), CRM_CONTRACT)
    plain = read_scores(write_scores(lake, "b2", 4), CRM_CONTRACT)
    assert "expected_value" not in plain.schema.names  # no value champion: nothing new sent
    s2 = json.loads(body(next(parts("b1", sized, 10))))["scores"][1]
    assert s2["id"] == "S2" and s2["predicted_value"] == 2000.0
    assert (s2["value_tier"], s2["value_model_version"]) == ("C", "2")
    assert s2["expected_value"] == s2["score"] * 2000.0


def test_online_answers_sized_by_a_value_champion_reach_the_crm_with_their_value() -> None:
    from datetime import UTC, datetime

    from app.api.crm_outbox import answer_rows
    from tasks.scoring.sinks.records import _records
    from tests.support.crm import CRM_CONTRACT

    answer = {"lead_id": "L1", "score": 0.5, "decile": 1, "tier": "A", "model_version": "3"}
    answer |= {"arm": "champion", "reasons": ["uses Salesforce (+0.41)"], "degraded": []}
    valued = answer | {"expected_value": 900.0, "predicted_value": 1800.0, "value_tier": "B"}
    valued |= {"value_model_version": "2", "value_reasons": ["industry = finance: raises"]}
    now = datetime(2026, 3, 2, tzinfo=UTC)
    sent = _records(answer_rows(CRM_CONTRACT, [valued], now), CRM_CONTRACT).to_pylist()[0]
    assert (sent["expected_value"], sent["value_tier"], sent["value_model_version"]) == (
        900.0,
        "B",
        "2",
    )
    plain = _records(answer_rows(CRM_CONTRACT, [answer], now), CRM_CONTRACT)
    assert "expected_value" not in plain.schema.names
