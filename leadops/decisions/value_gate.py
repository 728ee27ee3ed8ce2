"""The deal-value gate: a new value model against what serves now, on the same won deals.

In the core because three stages use it: training judges on the test window's deals, the
rollout on won deals created after the challenger entered shadow, and the monitor checks
the value champion's calibration on the won deals since it began serving.

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

from leadops.decisions.stats import Interval
from leadops.decisions.value_metrics import mae_log, normalised_gini
from leadops.models.model_loader import load_model

if TYPE_CHECKING:
    from datetime import datetime

    from leadops.inputs.contract import Contract
    from leadops.settings import Settings
    from leadops.storage.lake import Lake


# Below ~30 won deals a paired Gini interval spans most of its range: training, rollout and
# the monitor all wait for at least this many before they judge a value model.
MIN_DEALS = 30


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


def won_deals_since(
    lake: Lake, contract: Contract, since: datetime, as_of: datetime
) -> pd.DataFrame:
    """Silver lead rows (+ the amount) of deals created at or after ``since`` and won, with
    an amount, by ``as_of``."""
    from leadops.storage.tables import silver

    outcomes = lake.read_table(silver("outcomes"))
    if contract.value not in outcomes.columns:
        return pd.DataFrame(columns=[*contract.lead_columns, contract.value])
    won = outcomes[outcomes[contract.label].astype("boolean").fillna(False).astype(bool)]
    decided = pd.to_datetime(won[contract.label_time], utc=True) <= pd.Timestamp(as_of)
    won = won.loc[decided & (pd.to_numeric(won[contract.value]) > 0)]
    won = won[[contract.entity_id, contract.value]].astype({contract.entity_id: str})
    leads = lake.read_table(silver("leads"), columns=contract.lead_columns)
    leads = leads[pd.to_datetime(leads[contract.event_time], utc=True) >= pd.Timestamp(since)]
    leads = leads.astype({contract.entity_id: str})
    return leads.merge(won.drop_duplicates(contract.entity_id, keep="last"), on=contract.entity_id)
