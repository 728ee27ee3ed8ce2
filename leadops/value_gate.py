"""The deal-value gate: a new value model against what serves now, on the same won deals.

In the core because two stages judge with it: training (on the test window's deals) and
the rollout (on won deals created after the challenger entered shadow).

The same principles as the conversion gate: a paired bootstrap on the test window's rows
(both predictions resampled together), every line stating the test, n and the 95%
interval. It passes when it ranks deals no worse (normalised Gini above -margin at the
interval's low end) and sizes them better (MAE on log value lower at the interval's high
end), or when it ranks them clearly better (Gini interval above 0) whatever its sizing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leadops.model_loader import load_model
from leadops.stats import Interval
from leadops.value_metrics import mae_log, normalised_gini

if TYPE_CHECKING:
    from leadops.settings import Settings


@dataclass(frozen=True)
class ValueVerdict:
    passed: bool
    reason: str
    gini: Interval
    mae_log: Interval


def paired_value_intervals(
    amounts: np.ndarray, new: np.ndarray, old: np.ndarray, samples: int, seed: int
) -> tuple[Interval, Interval]:
    """95% percentile intervals of new - old: normalised Gini, MAE on log value."""
    rng = np.random.default_rng(seed)
    gini, mae = [], []
    for rows in rng.integers(0, len(amounts), size=(samples, len(amounts))):
        picked = amounts[rows]
        gini.append(normalised_gini(picked, new[rows]) - normalised_gini(picked, old[rows]))
        mae.append(mae_log(picked, new[rows]) - mae_log(picked, old[rows]))

    def interval(estimate: float, resampled: list[float]) -> Interval:
        low, high = np.percentile(resampled, [2.5, 97.5])
        return Interval(estimate, float(low), float(high), samples)

    return (
        interval(normalised_gini(amounts, new) - normalised_gini(amounts, old), gini),
        interval(mae_log(amounts, new) - mae_log(amounts, old), mae),
    )


def judge_value(
    amounts: np.ndarray,
    new: np.ndarray,
    old: np.ndarray,
    versus: str,
    margin: float,
    samples: int,
    seed: int,
) -> ValueVerdict:
    """Pass or not against ``versus`` (e.g. "value champion v2"), with the reason line."""
    gini, mae = paired_value_intervals(amounts, new, old, samples, seed)
    clearly_better = gini.low > 0
    passed = clearly_better or (gini.low > -margin and mae.high < 0)
    if clearly_better:
        why = "ranks deals better (Gini interval above 0)"
    elif passed:
        why = (
            f"ranks no worse (Gini low end above -{margin:g}) "
            "and sizes better (MAE interval below 0)"
        )
    elif gini.low <= -margin:
        why = f"may rank deals worse: Gini low end {gini.low:+.3f} not above -{margin:g}"
    else:
        why = "ranks no better and does not size deals better: MAE interval reaches 0"
    gini_new, gini_old = normalised_gini(amounts, new), normalised_gini(amounts, old)
    evidence = (
        f"vs {versus}, paired bootstrap on n={len(amounts):,} won deals of the test window: "
        f"normalised Gini {gini_new:.3f} vs {gini_old:.3f} "
        f"({gini.estimate:+.3f}, 95% CI [{gini.low:+.3f}, {gini.high:+.3f}]), MAE log value "
        f"{mae_log(amounts, new):.3f} vs {mae_log(amounts, old):.3f} "
        f"({mae.estimate:+.3f}, 95% CI [{mae.low:+.3f}, {mae.high:+.3f}])"
    )
    return ValueVerdict(passed, f"{why}; {evidence}", gini, mae)


def value_scores(settings: Settings, name: str, version: str, frame: pd.DataFrame) -> np.ndarray:
    """A registered deal-value version's E[amount | won] for raw lead rows."""
    model = load_model(settings, name, version).unwrap_python_model()
    return np.asarray(model.predict_value(frame), dtype=np.float64)
