"""Serving health of the online scoring service, beside drift in the monitor's report.

Read from the request log (leadops.logs.request_log) for the window: request volume, the
share of requests answered with a server error (5xx: the service failed) and with a
refusal (4xx: the caller sent a bad key, body or lead), latency percentiles over
answered requests, and volume and latency per arm. Facts, not a decision: no rollback
or retrain follows from them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from leadops.logs import request_log as rlog
from leadops.storage.lake import Lake
from leadops.storage.tables import API_REQUESTS

PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class ArmHealth:
    """One arm: requests that answered at least one of its leads, its leads, their latency."""

    arm: str
    requests: int
    leads: int
    latency_ms: dict[str, float]


@dataclass(frozen=True)
class ServingHealth:
    since: datetime
    until: datetime
    requests: int
    server_errors: int
    refused: int
    latency_ms: dict[str, float]  # "p50", "p95", "p99" over answered requests
    arms: list[ArmHealth] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.server_errors / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error_rate": self.error_rate}

    def note(self) -> str:
        """One line: volume, errors, latency, per arm."""
        if not self.requests:
            return "no online requests in the window"
        arms = ", ".join(
            f"{a.arm} {a.leads} leads ({a.requests} requests, p95 {a.latency_ms['p95']:.1f} ms)"
            for a in self.arms
        )
        latency = "/".join(f"{self.latency_ms[f'p{p}']:.1f}" for p in PERCENTILES)
        return (
            f"{self.requests} requests, {self.error_rate:.2%} server errors "
            f"({self.server_errors}), {self.refused} refused (4xx); "
            f"latency p50/p95/p99 {latency} ms" + (f"; {arms}" if arms else "")
        )


def read_serving_health(lake: Lake, since: datetime, until: datetime) -> ServingHealth | None:
    """The window's serving health; None when the service never logged a request."""
    if not lake.table_exists(API_REQUESTS):
        return None
    rows = lake.read_table(
        API_REQUESTS,
        filters=[
            (rlog.RECEIVED_AT, ">", pd.Timestamp(since)),
            (rlog.RECEIVED_AT, "<=", pd.Timestamp(until)),
        ],
    )
    return summarise(rows, since, until)


def summarise(rows: pd.DataFrame, since: datetime, until: datetime) -> ServingHealth:
    """Serving health of request-log rows (one per request and arm)."""
    requests = rows.drop_duplicates(rlog.REQUEST_ID)
    status = requests[rlog.STATUS].to_numpy(dtype=int)
    answered = requests[status < 400]
    arms = []
    for arm, group in rows[(rows[rlog.STATUS] < 400) & (rows[rlog.ARM] != "")].groupby(rlog.ARM):
        arms.append(
            ArmHealth(
                str(arm),
                int(group[rlog.REQUEST_ID].nunique()),
                int(group[rlog.LEADS].sum()),
                _percentiles(group[rlog.LATENCY_MS]),
            )
        )
    return ServingHealth(
        since=since,
        until=until,
        requests=len(requests),
        server_errors=int((status >= 500).sum()),
        refused=int(((status >= 400) & (status < 500)).sum()),
        latency_ms=_percentiles(answered[rlog.LATENCY_MS]),
        arms=arms,
    )


def _percentiles(latency: pd.Series) -> dict[str, float]:
    values = latency.to_numpy(dtype="float64")
    if not len(values):
        return {f"p{p}": float("nan") for p in PERCENTILES}
    return {f"p{p}": float(np.percentile(values, p)) for p in PERCENTILES}
