"""What the monitor looks at: the recently scored leads, and matured scored leads for conversion.

The prediction log holds ids and scores; features are joined from silver leads
and outcomes from silver outcomes, by id. Reads are filtered by time so a long
history is not loaded to look at one batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from leadops.contract import Contract
from leadops.errors import LeadOpsError
from leadops.storage import Lake
from leadops.tables import PREDICTION_LOG, silver
from leadops import prediction_log as plog

SCORE = "score"
MODEL_VERSION = "model_version"
_LOG_COLUMNS = [plog.ENTITY_ID, plog.EVENT_TIME, plog.BATCH_ID, plog.SCORED_AT, plog.MODEL_VERSION, plog.SCORE]


class NothingScoredError(LeadOpsError):
    """The prediction log has no served scores in the window the monitor was asked about."""


def served_window(lake: Lake, as_of: datetime, window_days: int | None) -> tuple[pd.DataFrame, str]:
    """Served log rows of the latest batch scored by ``as_of``, or of the last ``window_days``.

    Returns:
        (rows, description of the window) with one row per lead (its latest served score).
    """
    filters = [(plog.SERVED, "==", True), (plog.SCORED_AT, "<=", pd.Timestamp(as_of))]
    if window_days is not None:
        filters.append((plog.SCORED_AT, ">", pd.Timestamp(as_of - timedelta(days=window_days))))
    rows = lake.read_table(PREDICTION_LOG, columns=_LOG_COLUMNS, filters=filters)
    if rows.empty:
        scope = f"in the {window_days} days before" if window_days is not None else "by"
        raise NothingScoredError(
            f"table {PREDICTION_LOG}: no served scores {scope} {as_of.isoformat()}; run `leadops score` first"
        )
    if window_days is None:
        latest = rows.loc[rows[plog.SCORED_AT].idxmax(), plog.BATCH_ID]
        rows = rows[rows[plog.BATCH_ID] == latest]
        description = f"batch {latest}"
    else:
        description = f"leads scored in the {window_days} days before {as_of.isoformat()}"
    rows = rows.sort_values(plog.SCORED_AT).drop_duplicates(plog.ENTITY_ID, keep="last")
    return rows, description


def with_features(rows: pd.DataFrame, lake: Lake, contract: Contract) -> pd.DataFrame:
    """Log rows joined with their silver lead features (contract column names, plus score)."""
    oldest = pd.Timestamp(rows[plog.EVENT_TIME].min())
    leads = lake.read_table(
        silver("leads"), columns=contract.lead_columns, filters=[(contract.event_time, ">=", oldest)]
    )
    scores = rows[[plog.ENTITY_ID, plog.SCORE, plog.MODEL_VERSION]].rename(
        columns={plog.ENTITY_ID: contract.entity_id, plog.SCORE: SCORE, plog.MODEL_VERSION: MODEL_VERSION}
    )
    leads[contract.entity_id] = leads[contract.entity_id].astype(str)
    return leads.merge(scores, on=contract.entity_id, how="inner")


def matured_scored(
    lake: Lake, contract: Contract, as_of: datetime, model_version: str, lookback_weeks: int = 8
) -> pd.DataFrame:
    """Leads ``model_version`` scored, created in the ``lookback_weeks`` before maturity, with outcomes.

    Label decisions (maturity, window) are left to ``label_matured``.
    """
    matured_until = as_of - timedelta(days=contract.outcome_window_days)
    since = matured_until - timedelta(weeks=lookback_weeks)
    rows = lake.read_table(
        PREDICTION_LOG,
        columns=[plog.ENTITY_ID, plog.EVENT_TIME, plog.SCORED_AT, plog.SCORE],
        filters=[
            (plog.MODEL_VERSION, "==", str(model_version)),
            (plog.EVENT_TIME, ">", pd.Timestamp(since)),
            (plog.EVENT_TIME, "<=", pd.Timestamp(matured_until)),
            (plog.SCORED_AT, "<=", pd.Timestamp(as_of)),
        ],
    )
    rows = rows.sort_values(plog.SCORED_AT).drop_duplicates(plog.ENTITY_ID, keep="last")
    frame = rows.rename(columns={plog.ENTITY_ID: contract.entity_id, plog.EVENT_TIME: contract.event_time, plog.SCORE: SCORE})
    frame[contract.entity_id] = frame[contract.entity_id].astype(str)
    outcomes = lake.read_table(silver("outcomes"), columns=contract.outcome_columns)
    outcomes[contract.entity_id] = outcomes[contract.entity_id].astype(str)
    return frame.drop(columns=[plog.SCORED_AT]).merge(outcomes, on=contract.entity_id, how="left")
