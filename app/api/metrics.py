"""Prometheus metrics of the scoring service (``prometheus_client``), served at /metrics.

Each app has its own registry, so two apps in one process (tests) do not collide.
With several uvicorn workers, each worker counts its own requests: a scrape reaches
one of them (set PROMETHEUS_MULTIPROC_DIR and use prometheus_client's multiprocess
collector to aggregate, see the README).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# Milliseconds matter here: most answers take 2-30 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ApiMetrics:
    """Latency per route and arm, leads per arm, errors per route and status, served versions."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "leadops_api_request_seconds",
            "Request latency by route and arm",
            ["route", "arm"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.leads = Counter(
            "leadops_api_leads", "Leads answered by arm", ["arm"], registry=self.registry
        )
        self.errors = Counter(
            "leadops_api_errors",
            "Requests answered with an error status",
            ["route", "status"],
            registry=self.registry,
        )
        self.served = Gauge(
            "leadops_api_served_model_version",
            "1 for each model version served now",
            ["role", "stage", "version"],
            registry=self.registry,
        )
        self.log_pending = Gauge(
            "leadops_api_log_pending_rows",
            "Prediction-log rows not yet flushed",
            registry=self.registry,
        )

    def observe(self, route: str, arms: list[str], seconds: float) -> None:
        distinct = set(arms)
        self.latency.labels(route, distinct.pop() if len(distinct) == 1 else "mixed").observe(
            seconds
        )
        for arm in set(arms):
            self.leads.labels(arm).inc(arms.count(arm))

    def error(self, route: str, status: int) -> None:
        self.errors.labels(route, str(status)).inc()

    def serving(self, models: list[tuple[str, str, str]]) -> None:
        """Replace the served-version gauge with (role, stage, version) of each model now served."""
        self.served.clear()
        for role, stage, version in models:
            self.served.labels(role, stage, version).set(1)

    def render(self, pending_rows: int) -> bytes:
        self.log_pending.set(pending_rows)
        return generate_latest(self.registry)
