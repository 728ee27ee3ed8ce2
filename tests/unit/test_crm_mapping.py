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
