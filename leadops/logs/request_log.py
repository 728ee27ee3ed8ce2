"""The online service's request log: what serving health in the monitor is computed from.

One row per (request, arm) to the score route: a request answering two champion leads
and one canary lead is two rows, each with the request's status and latency. A request
answered with an error (401, 413, 422, 429, 503, 500) is one row with an empty arm.
Latency runs until the answer's last byte was sent: shadow scoring after it is not
the caller's wait, so it is not counted.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pyarrow as pa

from leadops.storage import tables
from leadops.storage.lake import Lake

RECEIVED_AT = "received_at"
REQUEST_ID = "request_id"
STATUS = "status"
LATENCY_MS = "latency_ms"
ARM = "arm"
LEADS = "leads"

REQUEST_SCHEMA = pa.schema(
    [
        (RECEIVED_AT, pa.timestamp("us", tz="UTC")),
        (REQUEST_ID, pa.string()),
        (STATUS, pa.int32()),
        (LATENCY_MS, pa.float64()),
        (ARM, pa.string()),
        (LEADS, pa.int32()),
    ]
)


def request_rows(
    request_id: str, received_at: datetime, status: int, latency_ms: float, arms: list[str]
) -> pa.Table:
    """The rows of one request; ``arms``: the arm of each lead answered (empty on an error)."""
    per_arm = Counter(arms) or Counter({"": 0})
    n = len(per_arm)
    return pa.table(
        {
            RECEIVED_AT: pa.array([received_at] * n, REQUEST_SCHEMA.field(RECEIVED_AT).type),
            REQUEST_ID: pa.array([request_id] * n, pa.string()),
            STATUS: pa.array([status] * n, pa.int32()),
            LATENCY_MS: pa.array([latency_ms] * n, pa.float64()),
            ARM: pa.array(list(per_arm), pa.string()),
            LEADS: pa.array(list(per_arm.values()), pa.int32()),
        },
        schema=REQUEST_SCHEMA,
    )


def append_requests(lake: Lake, rows: pa.Table) -> int:
    """Append in one Delta commit; returns the new table version."""
    return lake.append_table(tables.API_REQUESTS, rows)
