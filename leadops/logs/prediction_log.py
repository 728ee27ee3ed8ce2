"""The prediction log: every score any model gave any lead, served or shadow.

Layout and column meaning are agreed in ``leadops.storage.tables`` (PREDICTION_LOG); the
monitor and rollout stages read this table. Column names here are the log's own,
not the contract's: the log is the same shape whatever the CRM calls its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa

from leadops.storage import tables
from leadops.storage.lake import Lake

ENTITY_ID = "entity_id"
EVENT_TIME = "event_time"
BATCH_ID = "batch_id"
SCORED_AT = "scored_at"
MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
ROLE = "role"
STAGE = "stage"
ARM = "arm"
SERVED = "served"
SCORE = "score"
# The features a degraded lead was scored without ("company_size, country"), null when none:
# the monitor counts them; older log rows (before the column) read as null.
DEGRADED = "degraded"
# With a deal-value champion: its version, its E[value | won] for the lead and this row's
# score x that value; null without one. Older log rows (before the columns) read as null
# (Delta appends merge the schema).
PREDICTED_VALUE, EXPECTED_VALUE = "predicted_value", "expected_value"
VALUE_MODEL_VERSION = "value_model_version"

UTC_TIME = pa.timestamp("us", tz="UTC")
LOG_SCHEMA = pa.schema(
    [
        (ENTITY_ID, pa.string()),
        (EVENT_TIME, UTC_TIME),
        (BATCH_ID, pa.string()),
        (SCORED_AT, UTC_TIME),
        (MODEL_NAME, pa.string()),
        (MODEL_VERSION, pa.string()),
        (ROLE, pa.string()),
        (STAGE, pa.string()),
        (ARM, pa.string()),
        (SERVED, pa.bool_()),
        (SCORE, pa.float64()),
        (DEGRADED, pa.string()),
        (PREDICTED_VALUE, pa.float64()),
        (EXPECTED_VALUE, pa.float64()),
        (VALUE_MODEL_VERSION, pa.string()),
    ]
)


@dataclass(frozen=True)
class LogContext:
    """What every row of one run shares."""

    batch_id: str
    scored_at: datetime
    model_name: str


@dataclass(frozen=True)
class ValueColumns:
    """The deal-value champion's prediction for each lead of a chunk."""

    version: str
    predicted: np.ndarray  # E[value | won] per lead


def log_rows(
    context: LogContext,
    entity_ids: pa.Array,
    event_times: pa.Array,
    model_version: str,
    role: str,
    stage: str,
    arms: np.ndarray,
    served: np.ndarray,
    scores: np.ndarray,
    degraded: pa.Array | None = None,
    value: ValueColumns | None = None,
) -> pa.Table:
    """One model's log rows for one chunk of leads (arrays aligned with ``entity_ids``).

    Args:
        degraded: per lead, the features scored as missing because they failed the
            contract (leadops.inputs.lead_checks); None: no lead was degraded.
        value: the deal-value champion's predictions; None: no value champion (nulls).
    """
    n = len(entity_ids)
    if value is None:
        predicted = expected = pa.nulls(n, pa.float64())
        version = pa.nulls(n, pa.string())
    else:
        predicted = pa.array(value.predicted, pa.float64())
        expected = pa.array(np.asarray(scores) * value.predicted, pa.float64())
        version = constant(value.version, pa.string(), n)
    return pa.table(
        {
            ENTITY_ID: entity_ids.cast(pa.string()),
            EVENT_TIME: event_times.cast(UTC_TIME),
            BATCH_ID: constant(context.batch_id, pa.string(), n),
            SCORED_AT: constant(context.scored_at, UTC_TIME, n),
            MODEL_NAME: constant(context.model_name, pa.string(), n),
            MODEL_VERSION: constant(model_version, pa.string(), n),
            ROLE: constant(role, pa.string(), n),
            STAGE: constant(stage, pa.string(), n),
            ARM: pa.array(arms, pa.string()),
            SERVED: pa.array(served, pa.bool_()),
            SCORE: pa.array(scores, pa.float64()),
            DEGRADED: pa.nulls(n, pa.string()) if degraded is None else degraded.cast(pa.string()),
            PREDICTED_VALUE: predicted,
            EXPECTED_VALUE: expected,
            VALUE_MODEL_VERSION: version,
        },
        schema=LOG_SCHEMA,
    )


def constant(value: object, type_: pa.DataType, n: int) -> pa.Array:
    """``n`` copies of one value (a Python list of them costs ~0.5 us a row for timestamps)."""
    return pa.repeat(pa.scalar(value, type_), n)


def served_degraded(rows: pa.Table) -> int:
    """How many leads of these log rows were served a degraded score."""
    import pyarrow.compute as pc

    served = rows.column(SERVED)
    degraded = pc.is_valid(rows.column(DEGRADED))
    return int(pc.sum(pc.and_(served, degraded)).as_py() or 0)


def served_ids(lake: Lake, batch_id: str | None = None) -> pa.Array:
    """Ids that already have a served score (in ``batch_id`` only, when given)."""
    if not lake.table_exists(tables.PREDICTION_LOG):
        return pa.array([], pa.string())
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    delta = DeltaTable(lake.table_uri(tables.PREDICTION_LOG), storage_options=lake.storage_options)
    expression = pc.field(SERVED) == True  # noqa: E712 (an arrow expression, not a bool)
    if batch_id is not None:
        expression = expression & (pc.field(BATCH_ID) == batch_id)
    ids = delta.to_pyarrow_dataset().to_table(columns=[ENTITY_ID], filter=expression)
    return pc.unique(ids.column(ENTITY_ID).combine_chunks()).cast(pa.string())


def append_log(lake: Lake, rows: pa.Table) -> int:
    """Append rows in one Delta commit; returns the new table version."""
    return lake.append_table(tables.PREDICTION_LOG, rows)


# The lock every writer of the log holds: a batch score run (its undo restores the version
# before it, which must not drop rows others appended meanwhile), the API's flushes and
# the monitor's compaction.
WRITE_LOCK = "score"
