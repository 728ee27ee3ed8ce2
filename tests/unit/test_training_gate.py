"""The promotion gate as a pure function: champion, challenger or archived, and why."""

from __future__ import annotations

from tasks.training.gate import decide

CHAMPION = {"roc_auc": 0.75, "precision_at_capacity": 0.30}
CLEAR_GAIN = {"low": 0.01, "high": 0.05}


def test_first_model_becomes_champion_in_production() -> None:
    result = decide({"roc_auc": 0.6, "precision_at_capacity": 0.1}, None, None, 0.02)
    assert (result.decision, result.stage, result.fraction) == ("champion", "production", 1.0)
    assert "no champion" in result.reason


def test_clearly_better_model_becomes_shadow_challenger() -> None:
    new = {"roc_auc": 0.80, "precision_at_capacity": 0.35}
    result = decide(new, CHAMPION, CLEAR_GAIN, 0.02, champion_version="3")
    assert (result.decision, result.stage, result.fraction) == ("challenger", "shadow", 0.0)
    assert "champion v3" in result.reason
    assert result.relative_auc_gain == (0.80 - 0.75) / 0.75


def test_small_gain_is_archived_with_the_reason() -> None:
    new = {"roc_auc": 0.755, "precision_at_capacity": 0.31}
    result = decide(new, CHAMPION, CLEAR_GAIN, 0.02)
    assert (result.decision, result.stage) == ("rejected", "archived")
    assert "below the required +2.0%" in result.reason


def test_every_failed_check_is_named() -> None:
    new = {"roc_auc": 0.76, "precision_at_capacity": 0.25}
    result = decide(new, CHAMPION, {"low": -0.01, "high": 0.03}, 0.02)
    assert result.decision == "rejected"
    assert "below the required" in result.reason
    assert "does not exclude no gain" in result.reason
    assert "precision at capacity drops from 0.300 to 0.250" in result.reason


def test_gain_without_a_confident_interval_or_with_lost_precision_is_not_enough() -> None:
    better_auc = {"roc_auc": 0.80, "precision_at_capacity": 0.35}
    unsure = decide(better_auc, CHAMPION, {"low": -0.002, "high": 0.09}, 0.02)
    assert unsure.decision == "rejected" and "CI" in unsure.reason
    lost = decide({"roc_auc": 0.80, "precision_at_capacity": 0.29}, CHAMPION, CLEAR_GAIN, 0.02)
    assert lost.decision == "rejected" and "precision at capacity drops" in lost.reason
