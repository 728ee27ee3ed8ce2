"""Online answers delivered to the CRM sinks, like a batch score run's scores.

Answers are buffered (the prediction log's flush interval and size), then each flush
writes them to the lake as a scores file (``scores/online-<time>-<id>.parquet``, the
batch file's columns), owes it to every configured sink and delivers what is owed, in
the flusher thread, off the request path. A sink that is down costs a warning: the
file stays owed, and the next flush, score run or ``leadops deliver`` sends it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import pyarrow as pa

from app.api.log_buffer import LogBuffer
from leadops.errors import one_line
from leadops.inputs.contract import Contract
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.scoring.sinks.deliver import configured_sinks, deliver_pending, owe_batch
from tasks.scoring.table import DEGRADED, REASONS, SCORED_AT, output_schema

log = logging.getLogger(__name__)


class CrmOutbox:
    """``add`` answers; ``start`` / ``close`` as the log buffers (close flushes and delivers)."""

    def __init__(self, settings: Settings, lake: Lake, contract: Contract) -> None:
        self.settings, self.lake, self.contract = settings, lake, contract
        self.buffer = LogBuffer(
            lake,
            settings.api_log_flush_seconds,
            settings.api_log_flush_rows,
            append=self._owe_and_deliver,
            what="CRM outbox",
        )

    @classmethod
    def configured(cls, settings: Settings, lake: Lake, contract: Contract) -> CrmOutbox | None:
        """An outbox when a sink is configured, else None (answers go to the log only)."""
        return cls(settings, lake, contract) if configured_sinks(settings) else None

    def add(self, results: list[dict[str, Any]], now: datetime) -> None:
        self.buffer.add(answer_rows(self.contract, results, now))

    def start(self) -> None:
        self.buffer.start()

    def close(self) -> None:
        self.buffer.close()

    def _owe_and_deliver(self, lake: Lake, rows: pa.Table) -> None:
        batch_id = (
            f"online-{rows.column(SCORED_AT)[0].as_py():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        )
        key = f"scores/{batch_id}.parquet"
        lake.write_bytes(key, _parquet(rows))
        sinks = configured_sinks(self.settings)
        owe_batch(lake, sinks, batch_id, lake.uri(key), rows.num_rows)
        try:  # owed is the commitment; a failed delivery must not write the answers twice
            deliver_pending(self.settings, lake, self.contract, sinks)
        except Exception as exc:  # noqa: BLE001 (a sink down: the batch stays owed)
            log.warning("CRM outbox: %s stays owed (%s)", batch_id, one_line(exc))


def answer_rows(contract: Contract, results: list[dict[str, Any]], now: datetime) -> pa.Table:
    """An answer's leads in the batch scores file's columns."""
    reasons = [r.get("reasons") or [] for r in results]
    columns = {
        contract.entity_id: [r[contract.entity_id] for r in results],
        **{name: [r[name] for r in results] for name in ("score", "decile", "tier")},
        "model_version": [r["model_version"] for r in results],
        "arm": [r["arm"] for r in results],
        **{
            name: [texts[rank] if rank < len(texts) else None for texts in reasons]
            for rank, name in enumerate(REASONS)
        },
        SCORED_AT: [now] * len(results),
        # As in the batch file: the failing features' names, one string; None when none.
        DEGRADED: [", ".join(r.get("degraded") or []) or None for r in results],
    }
    with_value = bool(results) and "expected_value" in results[0]  # a value champion answered
    if with_value:
        columns.update(_value_columns(results))
    return pa.table(columns, schema=output_schema(contract, with_value=with_value))


def _value_columns(results: list[dict[str, Any]]) -> dict[str, list]:
    """The deal-value champion's columns of an answer, as the batch file has them."""
    names = ("expected_value", "predicted_value", "value_tier", "value_model_version")
    reasons = [r.get("value_reasons") or [] for r in results]
    return {
        **{name: [r[name] for r in results] for name in names},
        **{
            f"value_{name}": [texts[rank] if rank < len(texts) else None for texts in reasons]
            for rank, name in enumerate(REASONS)
        },
    }


def _parquet(rows: pa.Table) -> bytes:
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(rows, sink)
    return sink.getvalue().to_pybytes()
