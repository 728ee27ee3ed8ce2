"""How much labelled history training needs, and what train says when it is short.

The minimums follow the vendors' stated floors for a lead-scoring model (Dynamics 365:
40 qualified and 40 disqualified leads; Salesforce Einstein: 120 conversions), applied
to both the training side and the gate's test window, so no model is trained or
judged on a handful of conversions.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadops.errors import LeadOpsError
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LABEL, LateWins, late_win_mask
from leadops.settings import Settings
from leadops.storage.tables import GOLD_LEADS

log = logging.getLogger(__name__)


class TrainingDataError(LeadOpsError):
    """The lake does not hold enough labelled leads to train."""


@dataclass(frozen=True)
class HistoryMinimums:
    """Converted and not-converted leads each part must hold (LEADOPS_MIN_* settings)."""

    train_converted: int = 40
    train_not_converted: int = 40
    test_converted: int = 40
    test_not_converted: int = 40

    @classmethod
    def from_settings(cls, settings: Settings) -> HistoryMinimums:
        return cls(
            settings.min_train_converted,
            settings.min_train_not_converted,
            settings.min_test_converted,
            settings.min_test_not_converted,
        )


def class_counts(labels: pd.Series | np.ndarray) -> tuple[int, int]:
    """(converted, not converted) among 0/1 labels."""
    values = np.asarray(labels, dtype=bool)
    return int(values.sum()), int((~values).sum())


def shortfall(
    labels: pd.Series | np.ndarray, need_converted: int, need_not: int, setting: str
) -> str | None:
    """ "have 31 converted, need 40 (LEADOPS_MIN_TRAIN_CONVERTED)"; None when both suffice."""
    converted, not_converted = class_counts(labels)
    missing = []
    if converted < need_converted:
        missing.append(
            f"have {converted} converted, need {need_converted} (LEADOPS_MIN_{setting}_CONVERTED)"
        )
    if not_converted < need_not:
        missing.append(
            f"have {not_converted} not converted, need {need_not} "
            f"(LEADOPS_MIN_{setting}_NOT_CONVERTED)"
        )
    return "; ".join(missing) or None


def more_history_hint(pool: pd.DataFrame, contract: Contract, minimums: HistoryMinimums) -> str:
    """How much more history would likely do, from the weekly rates seen so far.

    A lower bound: it counts the two parts' minimums against the whole history and
    ignores the leads whose outcome is not yet known when the test window starts.
    """
    events = pd.to_datetime(pool[contract.event_time], utc=True)
    weeks = max((events.max() - events.min()) / pd.Timedelta(days=7), 1.0)
    converted, not_converted = class_counts(pool[LABEL])
    needs = (
        (minimums.train_converted + minimums.test_converted - converted, converted, "converted"),
        (
            minimums.train_not_converted + minimums.test_not_converted - not_converted,
            not_converted,
            "not converted",
        ),
    )
    estimates = []
    for missing, seen, name in needs:
        if missing > 0 and seen > 0:
            rate = seen / weeks
            estimates.append((math.ceil(missing / rate), rate, name))
    if not estimates:
        return "ingest more weeks of leads and their outcomes"
    more, rate, name = max(estimates)
    return (
        f"at the {rate:.1f} {name} leads a week seen so far, at least {more} more week(s) "
        f"of leads and outcomes (about {math.ceil(more * len(pool) / weeks):,} leads)"
    )


def test_window_start(
    matured: pd.DataFrame,
    labelled: pd.DataFrame,
    contract: Contract,
    test_window_days: int,
    minimums: HistoryMinimums,
) -> pd.Timestamp:
    """Start of the test window: ``test_window_days`` back, or further for the minimums.

    ``matured`` leads in event order (the test window's candidates); ``labelled``, all
    leads with a known outcome (for the hint of how much more history would do).
    """
    if matured.empty:
        raise TrainingDataError(
            f"{GOLD_LEADS}: no matured leads yet (outcome window {contract.outcome_window_days} "
            "days): the test window holds only leads whose window has closed; ingest older "
            "leads and their outcomes, or pass a later --as-of"
        )
    newest_first = matured.iloc[::-1]
    newest = newest_first[contract.event_time].iloc[0]
    labels = newest_first[LABEL].to_numpy(bool)
    enough = (np.cumsum(labels) >= minimums.test_converted) & (
        np.cumsum(~labels) >= minimums.test_not_converted
    )
    if not enough.any():
        missing = shortfall(labels, minimums.test_converted, minimums.test_not_converted, "TEST")
        raise TrainingDataError(
            f"{GOLD_LEADS}: all {len(matured)} matured leads are too few for the test window: "
            f"{missing}; " + more_history_hint(labelled, contract, minimums)
        )
    reach = newest - newest_first[contract.event_time].iloc[int(np.argmax(enough))]
    days = max(test_window_days, int(reach / pd.Timedelta(days=1)) + 1)
    if days > test_window_days:
        log.info(
            "test window: %d days instead of %d (LEADOPS_TEST_WINDOW_DAYS) to hold %d converted "
            "and %d not-converted matured leads",
            days,
            test_window_days,
            minimums.test_converted,
            minimums.test_not_converted,
        )
    return newest - pd.Timedelta(days=days)


def late_wins(labelled: pd.DataFrame, contract: Contract, as_of: pd.Timestamp) -> LateWins:
    """Among the leads with a known outcome, the wins seen by ``as_of`` and the late ones."""
    label_times = pd.to_datetime(labelled[contract.label_time], utc=True)
    converted = labelled[contract.label].astype("boolean").fillna(False).astype(bool)
    won = converted & label_times.notna() & (label_times <= as_of)
    late = late_win_mask(
        won, labelled[contract.event_time], label_times, contract.outcome_window_days
    )
    return LateWins(int(late.sum()), int(won.sum()), contract.outcome_window_days)
