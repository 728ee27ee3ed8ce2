"""The outcome window a contract proposes, from the label delays seen in the samples.

A window shorter than the delays turns late wins into negatives; a much longer one
makes every lead wait to mature. The proposal is the first round number of days at or
above the 99th percentile of the delays of wins (outcome time minus creation time,
leads and outcomes joined by id), with the count it rests on.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from leadops.inputs.normalise import parse_frame

DEFAULT_WINDOW_DAYS = 30  # the contract's own default when no delay can be measured
ROUND_DAYS = (7, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365)
QUANTILE = 0.99
# Below this many wins the 99th percentile is the largest delay seen, or near it.
FEW_WINS = 100


def _times(frame: pd.DataFrame, column: str) -> pd.Series:
    return parse_frame(frame[[column]], {column: "timestamp"})[column]


def win_delays(
    leads: pd.DataFrame,
    outcomes: pd.DataFrame,
    keys: tuple[str, str, str, str],
    positive: set[str],
) -> pd.Series:
    """Days from each won lead's creation to its outcome, for wins whose lead is in the
    leads sample.

    Args:
        keys: (entity id, event time, label, label time) column names.
        positive: casefolded spellings of a win.
    """
    entity_id, event_time, label, label_time = keys
    won = outcomes[outcomes[label].astype(str).str.strip().str.casefold().isin(positive)]
    decided = pd.Series(
        _times(won, label_time).to_numpy(), index=won[entity_id].astype(str).str.strip()
    )
    created = pd.Series(
        _times(leads, event_time).to_numpy(), index=leads[entity_id].astype(str).str.strip()
    )
    created = created[~created.index.duplicated(keep="last")]
    delays = (decided - created.reindex(decided.index).array) / pd.Timedelta(days=1)
    return delays.dropna()


def proposed_window(delays: pd.Series) -> tuple[int, str]:
    """outcome_window_days for these delays (days), and the reason to print."""
    usable = delays[delays >= 0]
    if usable.empty:
        return DEFAULT_WINDOW_DAYS, (
            f"outcome_window_days: {DEFAULT_WINDOW_DAYS} (the default: no win in the samples "
            "could be joined to its lead's creation time; give a leads sample and an outcomes "
            "sample that share ids to have it measured)"
        )
    within = float(np.quantile(usable.to_numpy(), QUANTILE, method="higher"))
    days = next((d for d in ROUND_DAYS if d >= within), math.ceil(within))
    late = int((usable > days).sum())
    few = (
        f"; only {len(usable)} wins, so this is close to the longest delay seen: "
        "check it against a longer sample"
        if len(usable) < FEW_WINS
        else ""
    )
    early = int((delays < 0).sum())
    before = f"; {early} wins dated before their lead's creation left out" if early else ""
    return days, (
        f"outcome_window_days: {days} (99% of {len(usable):,} wins came within "
        f"{_days(within)} days of the lead's creation; {late} came later{few}{before})"
    )


def _days(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
