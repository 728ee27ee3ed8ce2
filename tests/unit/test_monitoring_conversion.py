"""Conversion monitoring: matured cohorts only, and a drop must be real to count."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from leadops.app import synthetic
from leadops.contract import load_contract
from leadops.maturity import label_matured
from leadops.settings import BUNDLED_CONTRACT
from tasks.monitoring.conversion import conversion_check, weekly_cohorts
from tests.support.gold import gold_frame

CONTRACT = load_contract(BUNDLED_CONTRACT)
START = datetime.combine(synthetic.DEFAULT_START, datetime.min.time(), tzinfo=UTC)


def scored_gold(scenario: str, weeks: int = 12, seed: int = 7) -> pd.DataFrame:
    config = synthetic.GeneratorConfig(
        weeks=weeks, leads_per_week=2000, seed=seed, scenario=scenario, drift_week=9
    )
    frame = gold_frame(*synthetic.generate(config), CONTRACT)
    frame["score"] = np.random.default_rng(0).random(len(frame))
    return frame


def as_of_for_week(week: int) -> datetime:
    """An as-of at which week ``week``'s cohort (1-based) has just fully matured."""
    return START + pd.Timedelta(days=7 * week + CONTRACT.outcome_window_days).to_pytimedelta()


def baseline_rate(frame: pd.DataFrame, weeks: int) -> float:
    early = frame[frame[CONTRACT.event_time] < START + pd.Timedelta(weeks=weeks)]
    return float(label_matured(early, CONTRACT, as_of_for_week(weeks))["_label"].mean())


def test_immature_leads_are_left_out_not_counted_as_negatives() -> None:
    frame = scored_gold("stable", weeks=10)
    as_of = START + pd.Timedelta(weeks=10).to_pytimedelta()  # the end of week 10
    cutoff = as_of - pd.Timedelta(days=CONTRACT.outcome_window_days)
    matured = label_matured(frame, CONTRACT, as_of)
    assert matured[CONTRACT.event_time].max() <= cutoff
    cohorts = weekly_cohorts(matured, CONTRACT, as_of, capacity=0.1)
    assert cohorts["complete"].sum() == (cutoff - START).days // 7
    # Counting the youngest leads, whose outcomes have not arrived, as lost would look
    # like a collapse:
    young = frame[frame[CONTRACT.event_time] > as_of - pd.Timedelta(days=2)]
    naive_rate = (
        young[CONTRACT.label].fillna(False) & (young[CONTRACT.label_time] <= as_of)
    ).mean()
    check = conversion_check(cohorts, baseline_rate(frame, 4), drop_threshold=0.10)
    assert naive_rate < 0.5 * check.baseline_rate
    assert not check.dropped and check.current_rate is not None


def test_stable_funnel_does_not_drop() -> None:
    frame = scored_gold("stable")
    as_of = as_of_for_week(11)
    check = conversion_check(
        weekly_cohorts(label_matured(frame, CONTRACT, as_of), CONTRACT, as_of, 0.1),
        baseline_rate(frame, 8),
        0.10,
    )
    assert check.current_rate is not None and not check.dropped, check.note


def test_conversion_drop_scenario_is_detected_once_its_cohorts_mature() -> None:
    frame = scored_gold("conversion-drop")
    baseline = baseline_rate(frame, 8)
    before = as_of_for_week(8)  # drift starts in week 9: nothing to see yet
    cohorts = weekly_cohorts(label_matured(frame, CONTRACT, before), CONTRACT, before, 0.1)
    assert not conversion_check(cohorts, baseline, 0.10).dropped
    after = as_of_for_week(10)
    cohorts = weekly_cohorts(label_matured(frame, CONTRACT, after), CONTRACT, after, 0.1)
    check = conversion_check(cohorts, baseline, 0.10)
    assert check.dropped and check.relative_change < -0.10
    assert check.cohorts[-1] == str((START + pd.Timedelta(weeks=9)).date())


def test_small_drop_on_few_leads_is_not_called_a_drop() -> None:
    cohorts = pd.DataFrame(
        {
            "cohort": [datetime(2026, 3, 2).date()],
            "leads": [300],
            "conversions": [30],
            "rate": [0.10],
            "complete": [True],
        }
    )
    check = conversion_check(cohorts, baseline_rate=0.12, drop_threshold=0.10)  # -17%, z≈1.1
    assert check.relative_change == pytest.approx(-1 / 6) and not check.dropped
    big = cohorts.assign(leads=[3000], conversions=[300])
    assert conversion_check(big, baseline_rate=0.12, drop_threshold=0.10).dropped


def test_cohort_quality_uses_the_scores() -> None:
    frame = scored_gold("stable", weeks=9)
    as_of = as_of_for_week(9)
    matured = label_matured(frame, CONTRACT, as_of)
    matured["score"] = matured["_label"] + np.random.default_rng(1).normal(0, 0.5, len(matured))
    cohorts = weekly_cohorts(matured, CONTRACT, as_of, capacity=0.1)
    assert (cohorts["auc"] > 0.8).all()
    assert (cohorts["precision_at_capacity"] > cohorts["rate"]).all()
