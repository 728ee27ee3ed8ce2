"""Time and label maturity: when a lead's outcome is known, and what its label is.

A lead's outcome is only known once its outcome window has passed, so a lead
younger than the window is *immature*: it is left out, never counted as a
negative (that would teach the model that fresh leads do not convert). Training,
monitoring and rollout all decide labels here, the same way.

Maturity is also capped at the outcome *watermark*: the latest outcome time actually
ingested. A lead whose window closed after it may have converted in an export not
ingested yet, so it is not matured either: a late export never turns converters
into negatives.
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


def outcome_watermark(outcomes: pd.DataFrame, contract: Contract) -> datetime | None:
    """The latest outcome time ingested (None: no outcome time at all, so no cap)."""
    if contract.label_time not in outcomes.columns or outcomes.empty:
        return None
    latest = pd.to_datetime(outcomes[contract.label_time], utc=True).max()
    return None if pd.isna(latest) else latest.to_pydatetime()


def known_until(as_of: datetime, watermark: datetime | None) -> datetime:
    """Until when outcomes are known: ``as_of``, capped at the outcome watermark."""
    moment = utc(as_of)
    return min(moment, utc(watermark)) if watermark is not None else moment


def label_matured(
    gold: pd.DataFrame,
    contract: Contract,
    as_of: datetime,
    training_window_days: int | None = None,
    watermark: datetime | None = None,
) -> pd.DataFrame:
    """Keep leads whose outcome window has closed by ``as_of`` and decide their label.

    Label 1 iff the outcome says converted and it arrived within the window (and
    by ``as_of``); otherwise 0. Rows come back sorted by event time, then id.

    Args:
        watermark: ``outcome_watermark`` of the outcomes ingested; a lead whose window
            closed after it is not matured (its outcome may still be on its way).
    """
    window = pd.Timedelta(days=contract.outcome_window_days)
    cutoff = pd.Timestamp(known_until(as_of, watermark)) - window
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
    return frame.sort_values([contract.event_time, contract.entity_id], kind="stable").reset_index(
        drop=True
    )
