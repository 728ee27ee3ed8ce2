"""Conversion monitoring: matured cohorts, maturing leads by the delay curve, and a drop must
be real to count."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from app.demo import synthetic
from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import (
    AGE_DAYS,
    LABEL,
    MATURED,
    MIN_DELAY_CURVE,
    DelayCurve,
    label_matured,
    label_so_far,
)
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


def test_label_so_far_keeps_maturing_leads_apart_and_agrees_with_label_matured() -> None:
    frame = scored_gold("stable", weeks=4)
    as_of = START + pd.Timedelta(weeks=3, days=2).to_pytimedelta()
    so_far = label_so_far(frame, CONTRACT, as_of)
    matured = label_matured(frame, CONTRACT, as_of)
    done = so_far[so_far[MATURED]]
    assert done[CONTRACT.entity_id].tolist() == matured[CONTRACT.entity_id].tolist()
    assert done[LABEL].tolist() == matured[LABEL].tolist()
    young = so_far[~so_far[MATURED]]
    assert len(young) and (young[AGE_DAYS] < CONTRACT.outcome_window_days).all()
    assert young[CONTRACT.event_time].max() <= as_of  # nothing from after as-of
    # A maturing lead counts a conversion only once it has happened.
    later = pd.to_datetime(young[CONTRACT.label_time], utc=True) > as_of
    assert not young.loc[later.to_numpy(), LABEL].any()
    # The outcome watermark caps what is known: an earlier one leaves leads younger.
    cap = as_of - pd.Timedelta(days=1)
    capped = label_so_far(frame, CONTRACT, as_of, watermark=cap)
    assert capped[CONTRACT.event_time].max() <= cap
    still_maturing = set(capped.loc[~capped[MATURED], CONTRACT.entity_id])
    assert still_maturing & set(done[CONTRACT.entity_id])


def test_the_delay_curve_is_the_converters_arrival_times() -> None:
    frame = scored_gold("stable", weeks=8)
    curve = DelayCurve.fit(label_matured(frame, CONTRACT, as_of_for_week(6)), CONTRACT)
    assert curve is not None and curve.conversions > 500
    shares = curve.seen_share(np.array([0.0, 1.0, 2.0, 4.0, 6.9, 7.0, 30.0]))
    assert shares[0] == 0.0 and shares[-2] == shares[-1] == 1.0
    assert np.all(np.diff(shares) >= 0)
    # The generator draws conversions 2 h + Beta(1.6, 3) x (7 d - 3 h) after creation:
    # about half have arrived by day 2.3.
    assert curve.seen_share(np.array([2.3]))[0] == pytest.approx(0.5, abs=0.06)
    few = label_matured(frame, CONTRACT, as_of_for_week(6)).head(200)
    assert int(few[LABEL].sum()) < MIN_DELAY_CURVE and DelayCurve.fit(few, CONTRACT) is None


def test_a_drop_shows_in_maturing_leads_before_its_cohort_has_matured() -> None:
    dropped, stable = scored_gold("conversion-drop"), scored_gold("stable")
    curve = DelayCurve.fit(label_matured(dropped, CONTRACT, as_of_for_week(8)), CONTRACT)
    baseline = baseline_rate(dropped, 8)
    # Week 9's leads (the first of the drop) are 5 to 12 days old: not one complete cohort.
    as_of = START + pd.Timedelta(weeks=9, days=5).to_pytimedelta()
    matured_only = weekly_cohorts(label_matured(dropped, CONTRACT, as_of), CONTRACT, as_of, 0.1)
    assert not conversion_check(matured_only, baseline, 0.10).dropped
    cohorts = weekly_cohorts(
        label_so_far(dropped, CONTRACT, as_of), CONTRACT, as_of, 0.1, curve=curve
    )
    assert cohorts["maturing"].iloc[-1] > 0 and not cohorts["complete"].iloc[-1]
    check = conversion_check(cohorts, baseline, 0.10)
    assert check.dropped and check.relative_change < -0.10, check.note
    assert "maturing leads" in check.note and "matured-lead equivalents" in check.note
    # The same as-of on a stable funnel: the maturing leads convert as the curve expects.
    calm = weekly_cohorts(label_so_far(stable, CONTRACT, as_of), CONTRACT, as_of, 0.1, curve=curve)
    check = conversion_check(calm, baseline_rate(stable, 8), 0.10)
    assert not check.dropped and abs(check.relative_change) < 0.10, check.note
    # Without a curve, maturing leads are shown but not counted.
    blind = weekly_cohorts(label_so_far(dropped, CONTRACT, as_of), CONTRACT, as_of, 0.1)
    assert not conversion_check(blind, baseline, 0.10).dropped
