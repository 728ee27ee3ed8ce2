"""What the monitor looks at: the recently scored leads, and matured scored leads for conversion.

The prediction log holds ids and scores; features are joined from silver leads
and outcomes from silver outcomes, by id. Reads are filtered by time so a long
history is not loaded to look at one batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from leadops.decisions.monitor_decisions import batches_to_pool
from leadops.errors import LeadOpsError
from leadops.inputs.contract import Contract
from leadops.logs import prediction_log as plog
from leadops.settings import get_settings
from leadops.storage.lake import Lake
from leadops.storage.tables import BATCH_ID, PREDICTION_LOG, SCORED_FILE_LEADS, silver
from tasks.monitoring.conversion import conversion_window

SCORE = "score"
MODEL_VERSION = "model_version"
_LOG_COLUMNS = [
    plog.ENTITY_ID,
    plog.EVENT_TIME,
    plog.BATCH_ID,
    plog.SCORED_AT,
    plog.MODEL_VERSION,
    plog.SCORE,
]


class NothingScoredError(LeadOpsError):
    """The prediction log has no served scores in the window the monitor was asked about."""


def served_window(
    lake: Lake, as_of: datetime, window_days: int | None, min_rows: int | None = None
) -> tuple[pd.DataFrame, str]:
    """Served log rows of the latest batch scored by ``as_of``, or of the last ``window_days``.

    A latest batch smaller than ``min_rows`` (default: settings.drift_min_batch_rows) is
    pooled with the batches scored before it until the pool reaches ``min_rows``: a
    drift test on a few dozen leads cannot tell drift from chance.

    Returns:
        (rows, description of the window) with one row per lead (its latest served score).
    """
    filters = [(plog.SERVED, "==", True), (plog.SCORED_AT, "<=", pd.Timestamp(as_of))]
    if window_days is not None:
        filters.append((plog.SCORED_AT, ">", pd.Timestamp(as_of - timedelta(days=window_days))))
    # Log rows written before the degraded column existed read without it (none degraded).
    degraded = [plog.DEGRADED] if plog.DEGRADED in lake.table_columns(PREDICTION_LOG) else []
    rows = lake.read_table(PREDICTION_LOG, columns=_LOG_COLUMNS + degraded, filters=filters)
    if rows.empty:
        scope = f"in the {window_days} days before" if window_days is not None else "by"
        raise NothingScoredError(
            f"table {PREDICTION_LOG}: no served scores {scope} {as_of.isoformat()}; "
            "run `leadops score` first"
        )
    if window_days is None:
        wanted = get_settings().drift_min_batch_rows if min_rows is None else min_rows
        rows, description = _latest_batches(rows, wanted)
    else:
        description = f"leads scored in the {window_days} days before {as_of.isoformat()}"
    rows = rows.sort_values(plog.SCORED_AT).drop_duplicates(plog.ENTITY_ID, keep="last")
    return rows, description


def degraded_leads(rows: pd.DataFrame) -> int:
    """Leads of the window served a degraded score (failing features scored as unknown)."""
    return int(rows[plog.DEGRADED].notna().sum()) if plog.DEGRADED in rows.columns else 0


def _latest_batches(rows: pd.DataFrame, min_rows: int) -> tuple[pd.DataFrame, str]:
    """The latest batch, pooled with earlier ones (newest first) until ``min_rows`` leads."""
    batches = rows.groupby(plog.BATCH_ID)[plog.SCORED_AT].max().sort_values()
    sizes = rows.drop_duplicates([plog.BATCH_ID, plog.ENTITY_ID])[plog.BATCH_ID].value_counts()
    take = batches_to_pool([int(sizes[b]) for b in batches.index], min_rows)
    chosen = list(batches.index[-take:])
    pooled = rows[rows[plog.BATCH_ID].isin(chosen)]
    if take == 1:
        return pooled, f"batch {chosen[0]}"
    leads = pooled[plog.ENTITY_ID].nunique()
    return pooled, (
        f"batches {', '.join(map(str, chosen))} pooled ({leads} leads; "
        f"the latest batch has "
        f"{int(sizes[chosen[-1]])} < {min_rows} rows)"
    )


def with_features(rows: pd.DataFrame, lake: Lake, contract: Contract) -> pd.DataFrame:
    """Log rows joined with their lead features (contract column names, plus score).

    Features come from silver leads, and for a batch file scored without being ingested
    (``leadops score FILE``) from that file's own leads, kept by the score stage.
    """
    oldest = pd.Timestamp(rows[plog.EVENT_TIME].min())
    leads = lake.read_table(
        silver("leads"),
        columns=contract.lead_columns,
        filters=[(contract.event_time, ">=", oldest)],
    )
    leads[contract.entity_id] = leads[contract.entity_id].astype(str)
    unknown = set(rows[plog.ENTITY_ID].astype(str)) - set(leads[contract.entity_id])
    if unknown and plog.BATCH_ID in rows.columns and lake.table_exists(SCORED_FILE_LEADS):
        batches = sorted(map(str, rows[plog.BATCH_ID].unique()))
        from_files = lake.read_table(
            SCORED_FILE_LEADS,
            columns=[*contract.lead_columns, BATCH_ID],
            filters=[(BATCH_ID, "in", batches)],
        )
        from_files[contract.entity_id] = from_files[contract.entity_id].astype(str)
        from_files = from_files[from_files[contract.entity_id].isin(unknown)]
        leads = pd.concat(
            [leads, from_files.drop(columns=[BATCH_ID]).drop_duplicates(contract.entity_id)],
            ignore_index=True,
        )
    scores = rows[[plog.ENTITY_ID, plog.SCORE, plog.MODEL_VERSION]].rename(
        columns={
            plog.ENTITY_ID: contract.entity_id,
            plog.SCORE: SCORE,
            plog.MODEL_VERSION: MODEL_VERSION,
        }
    )
    joined = leads.merge(scores, on=contract.entity_id, how="inner")
    if joined.empty:
        batches = (
            ", ".join(sorted(map(str, rows[plog.BATCH_ID].unique())))
            if plog.BATCH_ID in rows.columns
            else "the window"
        )
        raise NothingScoredError(
            f"{batches}: none of its {rows[plog.ENTITY_ID].nunique()} scored leads has features "
            f"in {silver('leads')} or {SCORED_FILE_LEADS} (scored before LeadOps kept a scored "
            "file's leads?): ingest that file with `leadops ingest`, then run `leadops monitor` "
            "again"
        )
    return joined


def matured_scored(
    lake: Lake,
    contract: Contract,
    as_of: datetime,
    model_version: str,
    lookback_weeks: int | None = None,
) -> pd.DataFrame:
    """Leads ``model_version`` scored, created in the ``lookback_weeks`` before maturity
    (and, with settings.conversion_early_outcomes, the maturing ones after), with outcomes.

    Label decisions (maturity, window) are left to ``label_matured`` / ``label_so_far``.
    ``lookback_weeks`` defaults to settings.conversion_lookback_weeks: a 10% drop of a
    7% rate needs tens of thousands of leads to be seen, so the test may pool that far.
    """
    settings = get_settings()
    if lookback_weeks is None:
        lookback_weeks = settings.conversion_lookback_weeks
    since, until = conversion_window(
        contract, as_of, lookback_weeks, settings.conversion_early_outcomes
    )
    rows = lake.read_table(
        PREDICTION_LOG,
        columns=[plog.ENTITY_ID, plog.EVENT_TIME, plog.SCORED_AT, plog.SCORE],
        filters=[
            (plog.MODEL_VERSION, "==", str(model_version)),
            (plog.EVENT_TIME, ">", pd.Timestamp(since)),
            (plog.EVENT_TIME, "<=", pd.Timestamp(until)),
            (plog.SCORED_AT, "<=", pd.Timestamp(as_of)),
        ],
    )
    rows = rows.sort_values(plog.SCORED_AT).drop_duplicates(plog.ENTITY_ID, keep="last")
    frame = rows.rename(
        columns={
            plog.ENTITY_ID: contract.entity_id,
            plog.EVENT_TIME: contract.event_time,
            plog.SCORE: SCORE,
        }
    )
    frame[contract.entity_id] = frame[contract.entity_id].astype(str)
    outcomes = lake.read_table(silver("outcomes"), columns=contract.label_columns)
    outcomes[contract.entity_id] = outcomes[contract.entity_id].astype(str)
    return frame.drop(columns=[plog.SCORED_AT]).merge(outcomes, on=contract.entity_id, how="left")
