"""The scores actually served, each with its tier, decile and what is known of its outcome.

One row per lead that got a served score (the first served one: a lead rescored later
was already in the sales team's hands). Deciles are cut within the lead's batch, as
batch scoring cuts them; tiers follow the score file's letters (A = decile 1, B = 2-3,
C = 4-6, D = 7-10). Labels come from ``leadops.inputs.maturity.label_so_far``, so a lead
whose outcome window is still open is never counted as a non-conversion.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LABEL, MATURED, label_so_far, outcome_watermark
from leadops.logs import prediction_log as plog
from leadops.models.cutpoints import TIER_BY_DECILE
from leadops.storage.lake import Lake
from leadops.storage.tables import PREDICTION_LOG, silver

# Columns of the frame ``served_outcomes`` returns (beside the contract's outcome columns).
SCORED_AT, SCORE, VERSION, DECILE, TIER, MONTH, WEEK = (
    "scored_at",
    "score",
    "model_version",
    "decile",
    "tier",
    "month",
    "week",
)


def batch_deciles(batch_ids: pd.Series, scores: pd.Series) -> np.ndarray:
    """Decile of each score within its batch (1 = the batch's best 10%; ties by row order)."""
    frame = pd.DataFrame({"batch": batch_ids.to_numpy(), "score": scores.to_numpy()})
    position = frame.groupby("batch")["score"].rank(method="first", ascending=False) - 1
    size = frame.groupby("batch")["score"].transform("size")
    return (position.to_numpy() * 10 // size.to_numpy() + 1).astype(int)


def served_rows(lake: Lake, model_name: str, as_of: datetime) -> pd.DataFrame:
    """The first served score of every lead scored by ``as_of`` under ``model_name``."""
    rows = lake.read_table(
        PREDICTION_LOG,
        columns=[plog.ENTITY_ID, plog.BATCH_ID, plog.SCORED_AT, plog.MODEL_VERSION, plog.SCORE],
        filters=[
            (plog.MODEL_NAME, "==", model_name),
            (plog.SERVED, "==", True),
            (plog.SCORED_AT, "<=", pd.Timestamp(as_of)),
        ],
    )
    if rows.empty:
        return rows
    rows[DECILE] = batch_deciles(rows[plog.BATCH_ID], rows[plog.SCORE])
    rows = rows.sort_values(plog.SCORED_AT, kind="stable").drop_duplicates(plog.ENTITY_ID)
    return rows.rename(columns={plog.MODEL_VERSION: VERSION}).reset_index(drop=True)


def served_outcomes(
    lake: Lake, contract: Contract, model_name: str, as_of: datetime
) -> pd.DataFrame:
    """Served rows with ``TIER``, ``MONTH``/``WEEK`` of scoring, and ``LABEL``/``MATURED``.

    Outcomes are known until ``as_of`` capped at the outcome watermark (the latest outcome
    ingested), as the monitor and rollout decide them.
    """
    rows = served_rows(lake, model_name, as_of)
    if rows.empty:
        return rows
    leads = lake.read_table(silver("leads"), columns=[contract.entity_id, contract.event_time])
    outcomes = lake.read_table(silver("outcomes"), columns=contract.label_columns)
    for frame in (leads, outcomes):
        frame[contract.entity_id] = frame[contract.entity_id].astype(str)
    rows = rows.rename(columns={plog.ENTITY_ID: contract.entity_id})
    joined = rows.merge(leads, on=contract.entity_id, how="inner").merge(
        outcomes, on=contract.entity_id, how="left"
    )
    labelled = label_so_far(joined, contract, as_of, outcome_watermark(outcomes, contract))
    # label_so_far leaves out leads created after outcomes are known: they are still
    # the newest, unmatured ones, which the label-free estimate is for.
    known = joined.merge(
        labelled[[contract.entity_id, LABEL, MATURED]], on=contract.entity_id, how="left"
    )
    known[LABEL] = known[LABEL].fillna(0)
    known[MATURED] = known[MATURED].astype("boolean").fillna(False)
    scored = pd.to_datetime(known[plog.SCORED_AT], utc=True)
    known[TIER] = TIER_BY_DECILE[known[DECILE].to_numpy()]
    known[MONTH] = scored.dt.strftime("%Y-%m")
    known[WEEK] = (scored.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time).dt.date
    known[LABEL] = known[LABEL].astype(int)
    known[MATURED] = known[MATURED].astype(bool)
    return known
