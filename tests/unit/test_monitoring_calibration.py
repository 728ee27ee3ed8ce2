"""Calibration watched both ways: predicted vs observed conversions of served scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from leadops.decisions.train_reasons import MISCALIBRATION, RANKING_LOSS
from leadops.decisions.verdict import Verdict
from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import label_matured
from leadops.settings import BUNDLED_CONTRACT
from tasks.monitoring.assess import retrain_decision
from tasks.monitoring.calibration import calibration_check, calibration_cohorts
from tasks.monitoring.conversion import ConversionCheck, week_of
from tasks.monitoring.ranking import RankingBaseline, ranking_check

CONTRACT = load_contract(BUNDLED_CONTRACT)
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
NO_DROP = ConversionCheck(0.1, 0.1, 0.0, [], 0, None, False, "no drop")


def scored_leads(
    weeks: int, per_week: int, truth_scale: float = 1.0, served_scale: float = 1.0, seed: int = 1
) -> pd.DataFrame:
    """Matured leads whose true conversion probability is ``truth_scale`` x a served-score base
    (served as ``served_scale`` x it): 1 and 1 is a calibrated model."""
    rng = np.random.default_rng(seed)
    n = weeks * per_week
    base = 1 / (1 + np.exp(-(rng.normal(size=n) - 2.5)))  # ~10% conversion
    converted = rng.random(n) < np.clip(truth_scale * base, 0, 1)
    created = (
        AS_OF
        - timedelta(days=CONTRACT.outcome_window_days + 1)
        - pd.to_timedelta(rng.uniform(0, weeks * 7, n), unit="D")
    )
    return pd.DataFrame(
        {
            CONTRACT.entity_id: [f"l{i}" for i in range(n)],
            CONTRACT.event_time: created,
            CONTRACT.label: converted,
            CONTRACT.label_time: created + timedelta(days=1),
            "score": np.clip(served_scale * base, 0, 1),
        }
    )


def check(frame: pd.DataFrame, miss: float = 0.25, alpha: float = 0.002):
    labelled = label_matured(frame, CONTRACT, AS_OF)
    return calibration_check(calibration_cohorts(labelled, CONTRACT), miss, alpha), labelled


def test_served_a_tenth_of_the_real_rate_is_found_as_under_predicting() -> None:
    # The real history: ~0.04 served while 40-60% converted; the conversion monitor,
    # looking only for drops, saw nothing.
    found, _ = check(scored_leads(4, 300, truth_scale=4.0, served_scale=0.4))
    assert found.miscalibrated and found.decision.verdict is Verdict.FAIL
    details = found.decision.details
    assert details["direction"] == "under-predicting"
    assert details["observed"] > 5 * details["expected"]
    assert found.decision.ci_low > 0.25  # the whole interval of the miss is beyond threshold
    assert "conversions vs" in found.note and "predicted" in found.note


def test_over_predicting_twice_the_rate_is_found_too() -> None:
    found, _ = check(scored_leads(4, 500, served_scale=2.0))
    assert found.miscalibrated and found.decision.details["direction"] == "over-predicting"
    assert found.decision.estimate < -0.25


def test_a_calibrated_model_passes_and_says_what_it_could_have_seen() -> None:
    found, labelled = check(scored_leads(8, 1000))
    assert found.decision.verdict is Verdict.PASS and not found.miscalibrated
    weeks = week_of(labelled[CONTRACT.event_time]).astype(str)
    assert found.decision.mde <= 0.25 and found.decision.n == weeks.isin(found.cohorts).sum()


def test_a_small_significant_miss_at_high_volume_starts_nothing() -> None:
    # 15% more conversions than predicted at 20,000 leads a week: significant, not a trigger.
    found, _ = check(scored_leads(2, 20_000, truth_scale=1.15, seed=3))
    assert abs(found.decision.details["z"]) > found.decision.details["critical_z"]
    assert not found.miscalibrated and found.decision.verdict is Verdict.PASS


def test_too_few_leads_waits_and_names_the_leads_needed() -> None:
    found, _ = check(scored_leads(1, 40))
    assert found.decision.verdict is Verdict.WAIT
    assert found.decision.details["leads_needed"] > 40 and "n needed" in found.note


def test_miscalibration_retrains_as_recalibration_only_when_the_ranking_holds() -> None:
    found, labelled = check(scored_leads(4, 500, truth_scale=3.0, served_scale=0.5))
    labels, scores = labelled["_label"].to_numpy(), labelled["score"].to_numpy()
    auc = ranking_check(labels, scores, None)
    assert auc.holds is None  # no baseline: not checked, so no cheap answer
    base = RankingBaseline(auc=0.72, leads=4000, conversions=400)
    holds = ranking_check(labels, scores, base)
    assert holds.holds, holds.note
    shuffled = ranking_check(labels, np.random.default_rng(0).permutation(scores), base)
    assert shuffled.holds is False and "degraded" in shuffled.note

    def decide(ranking):
        return retrain_decision(
            [], NO_DROP, found.__class__(**{**found.__dict__, "ranking": ranking.as_dict()})
        )

    assert decide(holds).reason == MISCALIBRATION
    assert decide(shuffled).reason == RANKING_LOSS
    assert decide(auc).reason == RANKING_LOSS


@pytest.mark.parametrize("per_week", [100, 1000])
def test_false_alarms_on_calibrated_data_stay_under_alpha(per_week: int) -> None:
    # Stable, calibrated scores: 400 monitor runs at alpha 5% (the default 0.2% would need
    # tens of thousands of runs to see; bench/bench_calibration.py measures it).
    alarms = sum(
        check(scored_leads(6, per_week, seed=seed), miss=0.0, alpha=0.05)[0].miscalibrated
        for seed in range(400)
    )
    assert alarms / 400 <= 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / 400)
