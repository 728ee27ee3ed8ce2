"""Fixed decile cut-points of a model version: a lead's decile without its neighbours.

Batch scoring ranks a lead within its batch. An online request holds one lead, so
its decile comes from the serving version's own score distribution instead: the
nine score quantiles of the model on its test window, stored with the logged
model at training time (``score_cutpoints`` in the MLmodel metadata).
"""

from __future__ import annotations

import numpy as np

METADATA_KEY = "score_cutpoints"
# The deal-value model's own: deciles of P x E[value | won] over its test window's leads.
EXPECTED_VALUE_KEY = "expected_value_cutpoints"
# Tier A is the top decile (the sales team's default capacity of 10%), B the next two,
# C deciles 4-6, D 7-10: indexed by decile (1..10), batch and online scores alike.
TIER_BY_DECILE = np.array(["", "A", "B", "B", "C", "C", "C", "D", "D", "D", "D"], dtype=object)
TIERS = ("A", "B", "C", "D")
# Upper edges of deciles 10..2: decile 1 is the top 10% of the reference scores.
DECILE_QUANTILES = tuple(k / 10 for k in range(1, 10))


def score_cutpoints(scores: np.ndarray) -> list[float]:
    """The nine decile cut-points (ascending) of a model's reference scores.

    Raises:
        ValueError: no finite score to cut from.
    """
    finite = np.asarray(scores, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if len(finite) == 0:
        raise ValueError("score cut-points: no finite reference score")
    return [float(q) for q in np.quantile(finite, DECILE_QUANTILES)]


def deciles_at(scores: np.ndarray, cutpoints: list[float] | np.ndarray) -> np.ndarray:
    """Decile of each score against fixed cut-points (1 = the reference's best 10%).

    A score at or above the 90% cut-point is decile 1, below the 10% one decile 10;
    ties go to the better decile, as batch ranking does.
    """
    cuts = np.asarray(cutpoints, dtype=np.float64)
    if cuts.shape != (len(DECILE_QUANTILES),) or np.any(np.diff(cuts) < 0):
        raise ValueError(
            f"score cut-points {cuts.tolist()}: need {len(DECILE_QUANTILES)} ascending values"
        )
    above = np.searchsorted(cuts, np.asarray(scores, dtype=np.float64), side="right")
    return (len(DECILE_QUANTILES) + 1 - above).astype(np.int8)
