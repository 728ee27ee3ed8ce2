"""``leadops deliver``: send what the CRM sinks still owe, without starting Prefect."""

from __future__ import annotations

from typing import Any

from leadops.errors import LeadOpsError
from leadops.inputs.contract import load_contract
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.scoring.sinks.deliver import configured_sinks, deliver_pending, owe_batch


def deliver_owed(batch: str | None = None) -> dict[str, Any]:
    """Deliver every owed batch (after owing ``batch`` when given); a summary for the CLI.

    Raises:
        LeadOpsError: no sink configured, the batch's scores are not in the lake, or a sink
            failed (DeliveryFailed): one line each.
    """
    settings = get_settings()
    sinks = configured_sinks(settings)
    if not sinks:
        raise LeadOpsError(
            "no CRM sink configured: set LEADOPS_CRM_SCORES_MAPPING with "
            "LEADOPS_CRM_DATABASE_URL, or LEADOPS_CRM_WEBHOOK_URL"
        )
    lake = open_lake(settings)
    contract = load_contract(settings.contract_path)
    if batch:
        key = f"scores/{batch}.parquet"
        if not lake.exists(key) and not lake.list(key):
            raise LeadOpsError(f"--batch {batch}: no scores at {lake.uri(key)}")
        from tasks.scoring.sinks.records import read_scores

        output = lake.uri(key)
        owe_batch(lake, sinks, batch, output, read_scores(output, contract).num_rows)
    reports = deliver_pending(settings, lake, contract, sinks)
    lines = [
        f"  {r.sink}: {r.batches} batch(es), {r.rows_sent} scores in {r.parts_sent} part(s)"
        + (
            f"; {r.parts_skipped} part(s) delivered before, not sent again"
            if r.parts_skipped
            else ""
        )
        for r in reports
    ]
    return {"sinks": [r.as_dict() for r in reports], "summary": "\n".join(["delivered:", *lines])}
