"""Wins decided after the outcome window: counted at ingest, said in its line.

Training labels a lead converted only when its win came within the contract's
outcome_window_days; a later win silently becomes a negative. Ingest is where the
user first sees the outcomes, so it says how many wins that window throws away.
A win whose lead is not in silver yet cannot be timed and is not counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LateWins, late_win_mask

if TYPE_CHECKING:
    from tasks.ingest.results import FileResult


def count(outcome: FileResult, contract: Contract, typed: pd.DataFrame, created: pd.Series) -> None:
    """Add the accepted wins of ``typed`` whose lead creation time is known (``created``,
    NaT where not) to ``outcome``, and those of them decided after the window."""
    won = typed[contract.label].astype("boolean").fillna(False) & created.notna()
    late = late_win_mask(won, created, typed[contract.label_time], contract.outcome_window_days)
    outcome.wins += int(won.sum())
    outcome.late_wins += int(late.sum())


def late_wins_line(result: dict[str, Any]) -> str | None:
    """ "45% of wins (545 of 1,210) came after 14 days ..." for an outcomes run with late wins."""
    late = LateWins(
        result.get("late_wins", 0), result.get("wins", 0), result.get("outcome_window_days")
    )
    return f"  {late.warning}" if late.warning else None
