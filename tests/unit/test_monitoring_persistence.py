"""A persisting shift whose retrains the gate rejects stops starting one per cooldown."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pandas as pd

from app.cli import status
from leadops.decisions.monitor_state import PERSISTING, read_state
from leadops.decisions.train_reasons import DRIFT, MISCALIBRATION
from leadops.models.transitions import HISTORY_KEY, read_history
from leadops.storage.local import LocalLake
from tasks.monitoring import persistence
from tasks.monitoring.calibration import CalibrationCheck
from tasks.monitoring.steps import recalibrate_instead
from tasks.monitoring.trigger import RetrainDecision, request_retrain

START = datetime(2026, 3, 2, 6, tzinfo=UTC)
DRIFTED = RetrainDecision(True, DRIFT, "PSI of industry 0.41 > 0.25", ["industry"])


def evidence(as_of: datetime, per_week: int = 1000) -> persistence.MaturedEvidence:
    """The champion's matured leads: ``per_week`` a week, evenly, for 40 weeks before as-of."""
    hours = pd.date_range(as_of - timedelta(weeks=40), as_of, periods=40 * per_week)
    return persistence.MaturedEvidence(pd.Series(hours), 7, 14)


def gate(lake: LocalLake, as_of: datetime, version: str, stage: str = "archived") -> None:
    """What the train's gate writes into the rollout history for the retrain of ``as_of``."""
    entry = {
        "version": version,
        "stage": stage,
        "fraction": 0.0,
        "as_of": as_of.isoformat(),
        "reason": "ROC-AUC +0.1% below the required +2.0%",
        "previous_stage": None,
    }
    lake.write_bytes(HISTORY_KEY, json.dumps([*read_history(lake), entry]).encode())


def weekly_runs(lake: LocalLake, weeks: int, stage: str = "archived") -> list[tuple[int, str]]:
    """A drift that never goes away, monitored weekly; every retrain gets ``stage`` at the gate."""
    started, version = [], 1
    for week in range(weeks):
        as_of = START + timedelta(weeks=week)
        found = evidence(as_of)
        review = persistence.review(lake, DRIFT, as_of, found, "1")
        request = request_retrain(lake, DRIFTED, as_of, None, 7, "1", review.hold)
        if review.escalation:
            started.append((week, review.escalation))
        if request.claimed:
            persistence.record_claim(lake, DRIFT, as_of, found, "1")
            version += 1
            gate(lake, as_of, str(version), stage)
            started.append((week, "retrain"))
    return started


def test_rejected_retrains_wait_for_doubling_evidence_instead_of_one_per_cooldown(
    tmp_path,
) -> None:
    lake = LocalLake(tmp_path / "lake")
    started = weekly_runs(lake, 60)
    retrains = [week for week, what in started if what == "retrain"]
    # Before: the 7-day cooldown let a persisting drift retrain every week (52 a year).
    assert retrains == [0, 2, 4, 8, 16, 32, 48]  # then every 16 weeks (8x, the cap)
    record = read_state(lake)[PERSISTING][DRIFT]
    assert record["retrains"][0]["test_leads"] == 2000  # the 14-day test window at 1,000/week


def test_a_held_retrain_says_what_it_waits_for(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    weekly_runs(lake, 1)
    as_of = START + timedelta(weeks=1)
    review = persistence.review(lake, DRIFT, as_of, evidence(as_of), "1")
    assert review.hold is not None and "v2" in review.hold
    assert "waits for 2,000 new matured leads created after 2026-02-23" in review.hold
    assert "1,000 so far" in review.hold


def test_the_monitor_escalates_once_with_the_persisting_cause_and_the_gates_reason(
    tmp_path,
) -> None:
    lake = LocalLake(tmp_path / "lake")
    escalations = [what for _, what in weekly_runs(lake, 20) if what != "retrain"]
    assert len(escalations) == 1
    assert escalations[0].startswith("drift persists since 2026-03-02; 2 retrains did not beat")
    assert "ROC-AUC +0.1% below" in escalations[0]
    # `leadops status` shows it (read from the monitor's state without the monitoring stage).
    assert status.escalations(lake) == escalations
    state = {"model_name": "m", "champion": None, "challenger": None, "escalations": escalations}
    assert f"  ESCALATED: {escalations[0]}" in status.status_text(state).splitlines()


def test_accepted_retrains_and_a_new_champion_do_not_hold(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    started = weekly_runs(lake, 4, stage="shadow")
    assert [week for week, what in started if what == "retrain"] == [0, 1, 2, 3]
    rejected = LocalLake(tmp_path / "other")
    weekly_runs(rejected, 1)
    as_of = START + timedelta(weeks=1)
    assert persistence.review(rejected, DRIFT, as_of, evidence(as_of), "2").hold is None


def miscalibrated(ranking_holds: bool) -> SimpleNamespace:
    """An assessment whose calibration test found the served probabilities off."""
    check = CalibrationCheck(
        decision=None,
        cohorts=["2026-W10"],
        miscalibrated=True,
        note="served 0.12, converted 0.23 (n=250, p < 0.001)",
        ranking={"holds": ranking_holds, "note": "ROC-AUC 0.80 vs 0.79 at training"},
    )
    return SimpleNamespace(calibration=check)


def held_drift(
    tmp_path,
) -> tuple[LocalLake, datetime, persistence.MaturedEvidence, persistence.Review]:
    """A week after a rejected drift retrain: the next drift retrain is held."""
    lake = LocalLake(tmp_path / "lake")
    weekly_runs(lake, 1)
    as_of = START + timedelta(weeks=1)
    found = evidence(as_of)
    held = persistence.review(lake, DRIFT, as_of, found, "1")
    assert held.hold is not None
    return lake, as_of, found, held


def test_a_held_drift_retrain_gives_way_to_a_recalibration_when_only_calibration_is_off(
    tmp_path,
) -> None:
    # Drift wins the trigger; once its retrains are held, a champion serving 0.12 to
    # leads converting at 0.23 must still get the cheap fix (before: it waited for months).
    lake, as_of, found, held = held_drift(tmp_path)
    decision, review = recalibrate_instead(
        miscalibrated(True), DRIFTED, held, lake, as_of, found, "1"
    )
    assert decision.reason == MISCALIBRATION and review.hold is None
    assert "instead of the held drift retrain" in decision.explanation
    claimed = request_retrain(lake, decision, as_of, None, 7, "1", review.hold)
    assert claimed.claimed and "miscalibration" in claimed.why


def test_a_held_drift_retrain_stays_held_when_the_ranking_broke_or_calibration_holds(
    tmp_path,
) -> None:
    lake, as_of, found, held = held_drift(tmp_path)
    for assessment in (miscalibrated(False), SimpleNamespace(calibration=None)):
        decision, review = recalibrate_instead(assessment, DRIFTED, held, lake, as_of, found, "1")
        assert decision is DRIFTED and review is held
