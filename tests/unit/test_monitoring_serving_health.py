"""Serving health from the request log: volume, errors, latency percentiles, per arm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from leadops.logs.request_log import append_requests, request_rows
from tasks.monitoring.serving_health import read_serving_health, summarise

AT = datetime(2026, 5, 4, 12, tzinfo=UTC)


def requests(rows: list[tuple]) -> pa.Table:
    return pa.concat_tables([request_rows(*row) for row in rows])


def test_percentiles_errors_and_arms_are_counted_per_request() -> None:
    latency = np.arange(1, 101, dtype=float)  # 1..100 ms over 100 answered requests
    rows = [(f"a{i}", AT, 200, ms, ["champion"]) for i, ms in enumerate(latency[:90])]
    # Ten requests answered leads of both arms: one row per arm, counted once as a request.
    rows += [
        (f"m{i}", AT, 200, ms, ["champion", "canary", "canary"])
        for i, ms in enumerate(latency[90:])
    ]
    rows += [("e1", AT, 500, 3.0, []), ("e2", AT, 503, 2.0, []), ("k1", AT, 401, 0.2, [])]
    health = summarise(requests(rows).to_pandas(), AT - timedelta(days=1), AT)

    assert (health.requests, health.server_errors, health.refused) == (103, 2, 1)
    assert health.error_rate == pytest.approx(2 / 103)
    assert health.latency_ms["p50"] == pytest.approx(np.percentile(latency, 50))
    assert health.latency_ms["p99"] == pytest.approx(np.percentile(latency, 99))
    arms = {a.arm: a for a in health.arms}
    assert (arms["champion"].requests, arms["champion"].leads) == (100, 100)
    assert (arms["canary"].requests, arms["canary"].leads) == (10, 20)
    assert arms["canary"].latency_ms["p50"] == pytest.approx(95.5)
    assert "103 requests, 1.94% server errors (2), 1 refused (4xx)" in health.note()


def test_only_the_window_is_read_and_no_service_means_none(lake) -> None:
    assert read_serving_health(lake, AT - timedelta(days=7), AT) is None
    append_requests(lake, requests([("old", AT - timedelta(days=8), 200, 9.0, ["champion"])]))
    append_requests(lake, requests([("new", AT - timedelta(days=1), 200, 4.0, ["champion"])]))
    health = read_serving_health(lake, AT - timedelta(days=7), AT)
    assert health.requests == 1 and health.latency_ms["p50"] == 4.0
    empty = read_serving_health(lake, AT + timedelta(days=1), AT + timedelta(days=2))
    assert empty.requests == 0 and empty.note() == "no online requests in the window"
