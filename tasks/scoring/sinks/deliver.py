"""Deliver what each configured sink owes: every pending batch, part by part, with retries.

A sink that stays down after LEADOPS_CRM_DELIVERY_ATTEMPTS tries fails the run with one
line; its batches stay owed in the lake ledger for the next run or ``leadops deliver``.
One deliverer at a time per lake (a lake lock): two would race for the same parts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from leadops.errors import LeadOpsError, is_transient, one_line
from leadops.inputs.contract import Contract
from leadops.settings import Settings
from leadops.storage.lake import Lake
from leadops.storage.locks import lake_lock
from tasks.scoring.sinks import ledger
from tasks.scoring.sinks.records import parts, read_scores

log = logging.getLogger(__name__)


class DeliveryFailed(LeadOpsError):
    """A sink did not take a part after every retry; the message names sink, part and cause."""


@dataclass
class SinkReport:
    sink: str
    batches: int = 0
    parts_sent: int = 0
    parts_skipped: int = 0  # acknowledged by an earlier (maybe killed) run: not sent again
    rows_sent: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def configured_sinks(settings: Settings) -> list[Any]:
    """The sinks the settings turn on: PostgreSQL (a mapping file and the CRM database URL)
    and the webhook (its URL)."""
    sinks: list[Any] = []
    if settings.crm_scores_mapping and settings.crm_database_url:
        from tasks.scoring.sinks.mapping import load_mapping
        from tasks.scoring.sinks.postgres import PostgresSink

        mapping = load_mapping(settings.crm_scores_mapping)
        sinks.append(
            PostgresSink(
                settings.crm_database_url,
                settings.crm_password,
                mapping,
                settings.crm_connect_timeout_seconds,
            )
        )
    if settings.crm_webhook_url:
        from tasks.scoring.sinks.webhook import WebhookSink

        url = settings.crm_webhook_url.get_secret_value()
        sinks.append(WebhookSink(url, settings.crm_webhook_secret, timeout=30.0))
    return sinks


def owe_batch(lake: Lake, sinks: list[Any], batch_id: str, output: str, rows: int) -> None:
    """Register a scored batch for delivery by every sink."""
    if sinks and output:
        ledger.owe(lake, [sink.name for sink in sinks], batch_id, output, rows)


def deliver_pending(
    settings: Settings,
    lake: Lake,
    contract: Contract,
    sinks: list[Any],
    sleep: Callable[[float], None] = time.sleep,
) -> list[SinkReport]:
    """Send every owed batch to its sink; see the module docstring.

    Raises:
        DeliveryFailed: a sink still failing after its retries (or refusing the data).
    """
    reports = []
    with lake_lock(lake, "deliver"):
        try:
            for sink in sinks:
                report = SinkReport(sink.name)
                for batch_id, output in ledger.pending(lake, sink.name):
                    _deliver_batch(settings, lake, contract, sink, batch_id, output, report, sleep)
                reports.append(report)
        finally:
            for sink in sinks:
                sink.close()
    return reports


def _deliver_batch(
    settings: Settings,
    lake: Lake,
    contract: Contract,
    sink: Any,
    batch_id: str,
    output: str,
    report: SinkReport,
    sleep: Callable[[float], None],
) -> None:
    records = read_scores(output, contract, settings.s3_endpoint_url)
    acked = set() if sink.acks_in_target else ledger.acked_parts(lake, sink.name, batch_id)
    for part in parts(batch_id, records, settings.crm_delivery_part_rows):
        if part.number in acked or not _send(settings, sink, part, sleep, lake):
            report.parts_skipped += 1
            continue
        if not sink.acks_in_target:
            entry = {"sink": sink.name, "batch_id": batch_id, "part": part.number}
            ledger.record(lake, [entry | {"status": ledger.ACKED, "rows": part.rows.num_rows}])
        report.parts_sent += 1
        report.rows_sent += part.rows.num_rows
    done = {"sink": sink.name, "batch_id": batch_id, "part": ledger.BATCH, "status": ledger.DONE}
    ledger.record(lake, [done | {"output": output, "rows": records.num_rows}])
    report.batches += 1
    log.info("delivered batch %s to %s (%d rows)", batch_id, sink.label, records.num_rows)


def _send(
    settings: Settings, sink: Any, part: Any, sleep: Callable[[float], None], lake: Lake
) -> bool:
    attempts, delay = settings.crm_delivery_attempts, settings.crm_delivery_backoff_seconds
    for attempt in range(1, attempts + 1):
        try:
            return sink.send(part)
        except Exception as exc:  # noqa: BLE001 (sorted into transient or not just below)
            if not is_transient(exc) or attempt == attempts:
                owed = len(ledger.pending(lake, sink.name))
                tries = f"after {attempt} attempt(s)" if attempt > 1 else "at once"
                raise DeliveryFailed(
                    f"{sink.label}: part {part.key} not delivered {tries} ({one_line(exc)}); "
                    f"{owed} batch(es) stay owed in the lake: `leadops deliver` sends them"
                ) from exc
            log.warning("%s: part %s, attempt %d failed: %s", sink.label, part.key, attempt, exc)
            sleep(delay * 2 ** (attempt - 1))
    return False
