"""The score flow's delivery step: a thin @task over tasks.scoring.sinks.deliver.

No Prefect retries: each part already retries with backoff inside, and a sink that
stays down must fail the run (the failed-run alert) while the batch stays owed.
"""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from leadops.inputs.contract import load_contract
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.scoring.sinks.deliver import configured_sinks, deliver_pending, owe_batch


@task(name="deliver-scores", cache_policy=NO_CACHE)
def deliver_scores(batch_id: str, output: str | None, rows: int, send: bool = True) -> list[dict]:
    """Owe the batch to every configured sink, then (with ``send``) deliver all owed batches."""
    settings = get_settings()
    sinks = configured_sinks(settings)
    if not sinks or not output or not rows:
        return []
    lake = open_lake(settings)
    owe_batch(lake, sinks, batch_id, output, rows)
    if not send:
        get_run_logger().info(
            "batch %s owed to %d sink(s): `leadops deliver`", batch_id, len(sinks)
        )
        return []
    reports = deliver_pending(settings, lake, load_contract(settings.contract_path), sinks)
    for report in reports:
        get_run_logger().info(
            "%s: %d part(s) sent, %d already delivered",
            report.sink,
            report.parts_sent,
            report.parts_skipped,
        )
    return [report.as_dict() for report in reports]
