"""Label maturity capped at the outcome watermark, the same for training, monitoring and rollout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import LABEL, label_matured, outcome_watermark
from leadops.models import registry
from leadops.storage.local import open_lake
from leadops.storage.tables import silver
from tasks.rollout.evidence import paired_scores, read_outcomes, read_step_log
from tests.support.rollout import add_version, leads, log_scores, model_scores, write_outcomes

WEEK0 = datetime(2026, 3, 2, tzinfo=UTC)


def test_a_lead_whose_window_closed_after_the_last_outcome_ingested_is_not_matured(
    settings,
) -> None:
    """Old rule: maturity by the clock only, so a late outcome export made converters negatives."""
    contract = load_contract(settings.contract_path)
    window = timedelta(days=contract.outcome_window_days)
    leads_ = pd.DataFrame(
        {
            contract.entity_id: ["early", "late"],
            contract.event_time: [WEEK0, WEEK0 + timedelta(days=20)],
            contract.label: [True, None],  # "late" converted, but that export is not ingested yet
            contract.label_time: [WEEK0 + timedelta(days=2), None],
        }
    )
    as_of = (
        WEEK0 + timedelta(days=20) + window + timedelta(days=5)
    )  # both windows closed by the clock
    watermark = outcome_watermark(leads_, contract)
    assert watermark == WEEK0 + timedelta(days=2)
    by_clock = label_matured(leads_, contract, as_of)
    assert list(by_clock[contract.entity_id]) == ["early", "late"]  # the old behaviour
    capped = label_matured(leads_, contract, as_of, watermark=watermark)
    assert capped.empty  # early's window closed after the watermark too
    later = label_matured(leads_, contract, as_of, watermark=WEEK0 + window + timedelta(days=1))
    assert list(later[contract.entity_id]) == ["early"] and list(later[LABEL]) == [1]


def test_rollout_evidence_waits_for_outcomes_not_yet_ingested(settings, registry_db) -> None:
    client, lake = registry.registry_client(settings), open_lake(settings)
    contract = load_contract(settings.contract_path)
    champion = add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "shadow", 0.0, alias="challenger")
    frame = leads(400, WEEK0, seed=3)
    scored_at = WEEK0 + timedelta(weeks=1)
    log_scores(
        lake,
        frame,
        scored_at,
        champion,
        challenger,
        model_scores(frame, 1.0, 1),
        model_scores(frame, 0.5, 2),
    )
    write_outcomes(lake, contract, frame[frame["event_time"] < WEEK0 + timedelta(days=3)])
    as_of = scored_at + timedelta(days=contract.outcome_window_days + 1)
    log = read_step_log(lake, champion, challenger, None)
    paired = paired_scores(
        log, read_outcomes(lake, contract), contract, champion, challenger, as_of
    )
    newest = pd.to_datetime(
        lake.read_table(silver("outcomes"))[contract.label_time], utc=True
    ).max()
    matured = paired[paired["matured"]]
    assert (
        len(matured)
        and (
            matured[contract.event_time] <= newest - timedelta(days=contract.outcome_window_days)
        ).all()
    )
    assert len(matured) < len(paired)  # leads after the watermark wait, never count as negatives
