"""Value metrics: the ranking and sizing figures the value model is judged by."""

from __future__ import annotations

import numpy as np

from leadops.decisions.value_metrics import decile_calibration, mae_log, normalised_gini


def test_normalised_gini_is_one_for_the_true_order_and_near_zero_for_noise() -> None:
    rng = np.random.default_rng(0)
    amounts = rng.lognormal(9, 1, 5000)
    assert normalised_gini(amounts, amounts) == 1.0
    assert abs(normalised_gini(amounts, rng.random(5000))) < 0.05
    assert normalised_gini(amounts, -amounts) < -0.9
    noisy = amounts * rng.lognormal(0, 0.5, 5000)
    assert 0.5 < normalised_gini(amounts, noisy) < 1.0


def test_mae_log_counts_factors_not_euros() -> None:
    assert mae_log(np.array([100.0, 1e6]), np.array([100.0, 1e6])) == 0.0
    assert np.isclose(mae_log(np.array([100.0, 1e6]), np.array([100 * np.e, 1e6 / np.e])), 1.0)


def test_decile_calibration_shows_a_biased_prediction() -> None:
    rng = np.random.default_rng(1)
    amounts = rng.lognormal(9, 1, 2000)
    table = decile_calibration(amounts, 2 * amounts)
    assert list(table["decile"]) == list(range(1, 11)) and table["n"].sum() == 2000
    assert np.allclose(table["mean_predicted"], 2 * table["mean_actual"])
    assert table["mean_actual"].is_monotonic_increasing
