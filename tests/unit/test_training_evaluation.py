"""Test-window metrics, capacity, and the paired bootstrap the gate relies on."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from leadops.decisions import metrics as E


def test_precision_and_lift_at_capacity_count_the_top_share() -> None:
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.4, 0.5, 0.05, 0.01])
    # Capacity 30% → the 3 best-scored leads, of which 2 converted.
    assert E.capacity_rows(10, 0.3) == 3
    metrics = E.score_metrics(labels, scores, capacity_fraction=0.3)
    assert metrics["precision_at_capacity"] == pytest.approx(2 / 3)
    assert metrics["lift_at_capacity"] == pytest.approx((2 / 3) / 0.3)
    assert set(E.METRIC_NAMES) <= set(metrics)
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(labels, scores))


def test_a_random_model_has_no_lift_and_a_perfect_one_full_auc() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random(5000) < 0.1
    random = E.score_metrics(labels, rng.random(5000), 0.1)
    perfect = E.score_metrics(labels, labels * 0.8 + 0.1, 0.1)
    assert random["lift_at_capacity"] == pytest.approx(1.0, abs=0.25)
    assert perfect["roc_auc"] == 1.0 and perfect["lift_at_capacity"] > 9


def test_rank_auc_matches_sklearn_including_ties() -> None:
    rng = np.random.default_rng(1)
    labels = rng.random(500) < 0.3
    scores = np.round(rng.random(500) + labels * 0.3, 1)  # many ties
    assert E.rank_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    assert np.isnan(E.rank_auc(np.zeros(5), np.arange(5)))


def test_calibration_and_lift_tables_cover_every_lead() -> None:
    rng = np.random.default_rng(4)
    scores = rng.random(1000)
    labels = rng.random(1000) < scores  # calibrated by construction
    calibration = E.calibration_table(labels, scores)
    assert calibration["leads"].sum() == 1000
    assert E.expected_calibration_error(labels, scores) < 0.06
    lift = E.lift_table(labels, scores)
    assert lift["leads"].sum() == 1000 and lift["decile"].tolist() == list(range(1, 11))
    assert lift["lift"].iloc[0] > lift["lift"].iloc[-1]
    assert lift["cumulative_capture"].iloc[-1] == pytest.approx(1.0)
