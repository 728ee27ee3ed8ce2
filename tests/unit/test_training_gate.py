"""The promotion gate as a pure function: champion, challenger or archived, and why."""

from __future__ import annotations

import numpy as np
import pytest

from leadops.settings import Settings
from tasks.training.gate import GateRules, decide
from tasks.training.gate_checks import PairedIntervals
from tasks.training.promotion import paired_intervals
from tasks.training.report import intervals_table, metrics_table

CHAMPION = {"roc_auc": 0.75, "precision_at_capacity": 0.30, "brier": 0.060}
BASELINE = {"roc_auc": 0.70, "precision_at_capacity": 0.25, "brier": 0.065}
RULES = GateRules(min_relative_gain=0.02)
CLEAR = PairedIntervals(
    auc={"diff": 0.03, "low": 0.01, "high": 0.05},
    precision={"diff": 0.05, "low": -0.01, "high": 0.11},
    brier={"diff": -0.002, "low": -0.004, "high": 0.0},
)


def test_first_model_becomes_champion_in_production() -> None:
    new = {"roc_auc": 0.72, "precision_at_capacity": 0.1, "brier": 0.07}
    result = decide(new, None, None, RULES, baseline=BASELINE)
    assert (result.decision, result.stage, result.fraction) == ("champion", "production", 1.0)
    assert "no champion" in result.reason and "logistic baseline ROC-AUC 0.7000" in result.reason


def test_a_model_that_loses_to_the_logistic_baseline_says_so_loudly() -> None:
    """Old rule: the first model became champion silently when the baseline beside it was
    better; then a later challenger the baseline beat went to shadow with a WARNING. Now the
    first model serves warned, and a later one the baseline beats by more than the gate's
    AUC margin is archived for it; within the margin it is test-window noise (the family
    was chosen on CV) and the model goes on to the champion comparison."""
    new = {"roc_auc": 0.778, "precision_at_capacity": 0.3, "brier": 0.06}
    first = decide(new, None, None, RULES, baseline={**BASELINE, "roc_auc": 0.804})
    assert first.decision == "champion" and "WARNING" in first.reason
    assert (
        "does not beat the logistic baseline" in first.reason and "0.7780 vs 0.8040" in first.reason
    )
    later = decide(
        {**new, "roc_auc": 0.78}, CHAMPION, CLEAR, RULES, baseline={**BASELINE, "roc_auc": 0.81}
    )
    assert (later.decision, later.stage) == ("rejected", "archived")
    assert "archived: it does not beat the logistic baseline" in later.reason
    assert "0.7800 vs 0.8100" in later.reason
    close = decide(
        {**new, "roc_auc": 0.80}, CHAMPION, CLEAR, RULES, baseline={**BASELINE, "roc_auc": 0.81}
    )
    assert "logistic baseline trained" not in close.reason


def test_clearly_better_model_becomes_shadow_challenger() -> None:
    new = {"roc_auc": 0.80, "precision_at_capacity": 0.35, "brier": 0.058}
    result = decide(new, CHAMPION, CLEAR, RULES, champion_version="3", baseline=BASELINE)
    assert (result.decision, result.stage, result.fraction) == ("challenger", "shadow", 0.0)
    assert "champion v3" in result.reason
    assert result.relative_auc_gain == (0.80 - 0.75) / 0.75


def test_small_gain_is_archived_with_the_reason() -> None:
    new = {"roc_auc": 0.755, "precision_at_capacity": 0.31, "brier": 0.06}
    result = decide(new, CHAMPION, CLEAR, RULES)
    assert (result.decision, result.stage) == ("rejected", "archived")
    assert "below the required +2.0%" in result.reason


def test_every_failed_check_is_named() -> None:
    new = {"roc_auc": 0.76, "precision_at_capacity": 0.25, "brier": 0.07}
    worse = PairedIntervals(
        auc={"diff": 0.01, "low": -0.01, "high": 0.03},
        precision={"diff": -0.05, "low": -0.09, "high": -0.01},
        brier={"diff": 0.01, "low": 0.005, "high": 0.015},
    )
    result = decide(new, CHAMPION, worse, RULES)
    assert result.decision == "rejected"
    assert "below the required" in result.reason
    assert "does not exclude no gain" in result.reason
    assert "precision at capacity significantly lower: 0.250 vs 0.300" in result.reason
    assert "Brier score not non-inferior" in result.reason


def test_a_precision_drop_within_noise_no_longer_rejects() -> None:
    """Old rule: any point-estimate drop of precision at capacity rejected the model."""
    new = {"roc_auc": 0.80, "precision_at_capacity": 0.29, "brier": 0.059}
    noisy = PairedIntervals(
        auc=CLEAR.auc, precision={"diff": -0.01, "low": -0.06, "high": 0.04}, brier=CLEAR.brier
    )
    assert decide(new, CHAMPION, noisy, RULES).decision == "challenger"
    unsure = decide(
        new,
        CHAMPION,
        PairedIntervals(
            auc={"diff": 0.05, "low": -0.002, "high": 0.09},
            precision=noisy.precision,
            brier=CLEAR.brier,
        ),
        RULES,
    )
    assert unsure.decision == "rejected" and "CI" in unsure.reason


def test_gate_intervals_use_at_least_a_thousand_paired_resamples_and_report_ece() -> None:
    """Old default: 300 resamples, so the 2.5th percentile rested on ~7 of them."""
    with pytest.raises(ValueError):
        Settings(gate_bootstrap_samples=300)
    rng = np.random.default_rng(0)
    signal = rng.normal(size=1500)
    labels = (rng.random(1500) < 1 / (1 + np.exp(-(signal - 2.5)))).astype(int)
    good, weak = signal + rng.normal(0, 0.3, 1500), signal + rng.normal(0, 2.0, 1500)
    scores = [1 / (1 + np.exp(-(s - 2.5))) for s in (good, weak)]
    found = paired_intervals(labels, *scores, Settings())
    assert found.auc["samples"] >= 1000 and found.auc["low"] > 0
    assert found.precision["low"] < found.precision["diff"] < found.precision["high"]
    assert found.brier["high"] < 0.05 * np.mean((scores[1] - labels) ** 2) or found.brier["low"] < 0
    table = intervals_table({"auc": found.auc, "precision": found.precision})
    assert "| auc |" in table and "| 1000 |" in table
    result = {
        "model_version": "2",
        "champion_version": None,
        "champion_metrics": None,
        "metrics": {"calibration_error": 0.012},
        "baseline_metrics": {},
    }
    assert "| calibration_error (ECE, 10 quantile bins) | 0.0120 |" in metrics_table(result)
