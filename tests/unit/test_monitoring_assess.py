"""The monitor's decision on realistic synthetic weeks: stable, covariate drift, conversion drop."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from app.demo import synthetic
from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import LABEL, label_matured
from leadops.settings import BUNDLED_CONTRACT
from tasks.monitoring.assess import Thresholds, assess
from tests.support.gold import gold_frame

CONTRACT = load_contract(BUNDLED_CONTRACT)
START = datetime.combine(synthetic.DEFAULT_START, datetime.min.time(), tzinfo=UTC)
THRESHOLDS = Thresholds(psi=0.25, conversion_drop=0.10, capacity=0.10, sample_rows=5_000)
TRAIN_WEEKS, WEEKS = 8, 11


def week_start(week: int) -> pd.Timestamp:
    return pd.Timestamp(START) + pd.Timedelta(weeks=week - 1)


def fake_log_odds(frame: pd.DataFrame) -> np.ndarray:
    """A stand-in model: engagement says something about conversion."""
    return (frame["page_views"] / 10 + frame["form_fills"] - 3).to_numpy(dtype="float64")


def calibrated_scores(gold: pd.DataFrame, trained_at: pd.Timestamp) -> np.ndarray:
    """The stand-in's log-odds, Platt-scaled on its training weeks, as a trained model's are
    (the monitor now checks the served probabilities against what the leads did)."""
    from tasks.training.calibrate import fit_platt

    train = gold[gold[CONTRACT.event_time] < week_start(TRAIN_WEEKS + 1)]
    matured = label_matured(train, CONTRACT, trained_at)
    platt = fit_platt(fake_log_odds(matured), matured[LABEL])
    return platt.apply(fake_log_odds(gold))


def timeline(scenario: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, datetime]:
    """(reference = weeks 1-8 as trained, current = week 11 scored,
    matured scored weeks 9-11, as-of)."""
    config = synthetic.GeneratorConfig(
        weeks=WEEKS, leads_per_week=2000, seed=5, scenario=scenario, drift_week=9
    )
    gold = gold_frame(*synthetic.generate(config), CONTRACT)
    trained_at = week_start(TRAIN_WEEKS + 1) + pd.Timedelta(days=CONTRACT.outcome_window_days)
    gold["score"] = calibrated_scores(gold, trained_at)
    reference = label_matured(
        gold[gold[CONTRACT.event_time] < week_start(TRAIN_WEEKS + 1)], CONTRACT, trained_at
    )
    as_of = (
        week_start(WEEKS + 1) + pd.Timedelta(days=CONTRACT.outcome_window_days)
    ).to_pydatetime()
    current = gold[gold[CONTRACT.event_time] >= week_start(WEEKS)]
    matured = gold[gold[CONTRACT.event_time] >= week_start(TRAIN_WEEKS + 1)]
    return reference, current, matured, as_of


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [("stable", None), ("covariate-drift", "drift"), ("conversion-drop", "conversion-drop")],
)
def test_decision_follows_the_scenario(scenario: str, expected: str | None) -> None:
    reference, current, matured, as_of = timeline(scenario)
    result = assess(reference, current, matured, CONTRACT, as_of, THRESHOLDS, with_report=False)
    assert result.decision.reason == expected, result.decision.explanation
    assert result.decision.retrain is (expected is not None)
    if expected is None:
        assert max(result.psi.values()) < 0.1 and not result.conversion.dropped
    if expected == "conversion-drop":
        assert max(result.psi.values()) <= 0.25  # same leads, worse market
        assert result.conversion.relative_change < -0.10
        assert len(result.conversion.cohorts) >= 1


@pytest.fixture(scope="module")
def drifted_report():
    """One assessment with its Evidently report (the slow part), shared by the tests below."""
    reference, current, matured, as_of = timeline("covariate-drift")
    return assess(reference, current, matured, CONTRACT, as_of, THRESHOLDS, with_report=True), as_of


def test_report_states_the_rule_and_the_trigger_numbers(drifted_report) -> None:
    result, _ = drifted_report
    html = result.html
    assert (
        "retrain when any feature&#x27;s PSI &gt; 0.25" in html
        or "retrain when any feature's PSI > 0.25" in html
    )
    for name, value in result.psi.items():
        assert (
            f"<td>{name}</td><td>{value:.4f}</td>" in html
        )  # the trigger's numbers, not Evidently's
    assert "seeded samples of 2,000 current and 5,000 reference rows" in html
    assert (
        "lead_source" in result.evidently["psi"] and result.evidently["drifted_share"] is not None
    )
    assert result.score_psi is not None


def test_saved_reports_share_one_evidently_bundle_and_read_back_whole(
    drifted_report, tmp_path
) -> None:
    from datetime import timedelta
    from pathlib import Path

    from leadops.storage.local import LocalLake
    from tasks.monitoring.publish import save_report

    result, as_of = drifted_report
    html = result.html
    lake = LocalLake(tmp_path / "lake")
    links = [save_report(lake, html, as_of + timedelta(days=d)) for d in range(2)]

    folder = tmp_path / "lake" / "reports" / "drift"
    [bundle] = folder.glob("evidently-*.js")  # written once, for both reports
    page = Path(links[1].removeprefix("file://")).read_text()
    assert len(page) < 0.4 * len(html)  # the bundle was most of the page
    tag = f'<script src="{bundle.name}" charset="utf-8"></script>'
    assert page.replace(tag, f"<script>{bundle.read_text()}</script>") == html


def test_nothing_to_count_names_the_conversion_window_and_the_as_of() -> None:
    reference, current, matured, as_of = timeline("stable")
    later = datetime(2027, 6, 1, tzinfo=UTC)  # a historical export monitored at today's date
    window = matured[matured[CONTRACT.event_time] > later]  # what the lake read would return
    result = assess(reference, current, window, CONTRACT, later, THRESHOLDS, with_report=False)
    note = result.conversion.note
    assert not result.conversion.dropped and "2027-06-01" in note, note
    assert f"LEADOPS_CONVERSION_LOOKBACK_WEEKS={THRESHOLDS.lookback_weeks}" in note
    assert "--as-of" in note and note in result.decision.explanation


def test_only_maturing_leads_in_the_window_names_the_window_too() -> None:
    # A historical export monitored at today's date: its matured cohorts are outside
    # the lookback, and the window holds only a few fresh (online) leads still maturing.
    reference, current, matured, as_of = timeline("stable")
    fresh = matured.tail(7).copy()
    fresh[CONTRACT.event_time] = pd.Timestamp(as_of) - pd.Timedelta(hours=1)
    fresh[[CONTRACT.label, CONTRACT.label_time]] = None
    result = assess(reference, current, fresh, CONTRACT, as_of, THRESHOLDS, with_report=False)
    note = result.conversion.note
    assert note.startswith("no complete matured cohort yet among the leads the champion"), note
    assert f"LEADOPS_CONVERSION_LOOKBACK_WEEKS={THRESHOLDS.lookback_weeks}" in note
    assert "--as-of" in note and note in result.decision.explanation
