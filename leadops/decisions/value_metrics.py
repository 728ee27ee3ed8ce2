"""How well predicted deal values rank and size the realised ones (won deals only).

Shared by training (gate and logged metrics), the value benchmark and, later, the
monitor: a value prediction is judged on won deals whose amount is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _gini(actual: np.ndarray, ranking: np.ndarray) -> float:
    # Share of the total value gathered as rows are taken in ``ranking`` order, against
    # a random order (the Lorenz-curve area; ties keep the input order).
    order = np.argsort(-ranking, kind="stable")
    gathered = np.cumsum(actual[order]) / actual.sum()
    n = len(actual)
    return float(gathered.sum() / n - (n + 1) / (2 * n))


def normalised_gini(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Gini of ``predicted`` over the Gini of the perfect ranking: 1 = ranks deals as
    their amounts do, 0 = no better than random. Needs a positive total."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    return _gini(actual, predicted) / _gini(actual, actual)


def mae_log(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error of log amounts: a factor-of-e miss costs 1, whatever the size."""
    return float(np.mean(np.abs(np.log(actual) - np.log(predicted))))


def decile_calibration(actual: np.ndarray, predicted: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs mean realised amount per predicted-value decile (1 = lowest)."""
    frame = pd.DataFrame({"predicted": predicted, "actual": actual})
    frame["decile"] = pd.qcut(frame["predicted"].rank(method="first"), bins, labels=False) + 1
    table = frame.groupby("decile").agg(
        n=("actual", "size"), mean_predicted=("predicted", "mean"), mean_actual=("actual", "mean")
    )
    return table.reset_index()
