"""Time and label maturity: when a lead's outcome is known, and what its label is.

A lead's outcome is only known once its outcome window has passed, so a lead
younger than the window is *immature*: it is left out, never counted as a
negative (that would teach the model that fresh leads do not convert). Training,
monitoring and rollout all decide labels here, the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from leadops.contract import Contract

LABEL = "_label"  # the decided 0/1 target, kept beside the raw columns


def utc(moment: datetime | None) -> datetime:
    """``moment`` as an aware UTC datetime (naive means UTC); now when None."""
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def label_matured(gold: pd.DataFrame, contract: Contract, as_of: datetime,
                  training_window_days: int | None = None) -> pd.DataFrame:
    """Keep leads whose outcome window has closed by ``as_of`` and decide their label.

    Label 1 iff the outcome says converted and it arrived within the window (and
    by ``as_of``); otherwise 0. Rows come back sorted by event time, then id.
    """
    window = pd.Timedelta(days=contract.outcome_window_days)
    cutoff = pd.Timestamp(utc(as_of)) - window
    events = pd.to_datetime(gold[contract.event_time], utc=True)
    keep = events <= cutoff
    if training_window_days is not None:
        keep &= events > cutoff - pd.Timedelta(days=training_window_days)
    frame = gold.loc[keep].copy()
    events = events[keep]
    label_times = pd.to_datetime(frame[contract.label_time], utc=True)
    converted = frame[contract.label].astype("boolean").fillna(False).astype(bool)
    in_time = (label_times <= events + window) & (label_times <= pd.Timestamp(utc(as_of)))
    frame[LABEL] = (converted & in_time.fillna(False)).astype(np.int8)
    frame[contract.event_time] = events
    return frame.sort_values([contract.event_time, contract.entity_id], kind="stable").reset_index(drop=True)
