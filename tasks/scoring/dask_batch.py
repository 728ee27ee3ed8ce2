"""A score run's two passes mapped over partitions of the batch on a Dask cluster.

The driver (the process holding the ``score`` lake transaction) reads the batch
in partitions of ``chunk_rows`` leads, as the local path does, and ships each to a
worker. Pass one brings back only the served scores, from which the batch's
deciles are cut; pass two scores, explains and writes each partition on its
worker. Each partition's output is one file published atomically
(``<target>/part-00000.parquet``, ...), and its prediction-log rows go back to the
driver, which appends them in one Delta commit per partition: a single writer
keeps the log's commits serial and inside the transaction that undoes a failed run.

At most ``IN_FLIGHT_PER_WORKER`` partitions per worker are out at once, so the
driver's memory stays a few partitions whatever the batch size.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from leadops.errors import one_line
from leadops.inputs.contract import Contract
from leadops.logs import prediction_log as plog
from leadops.runners import worker_count
from leadops.storage import delivery
from tasks.scoring.explain import explain_chunk, explain_value_chunk
from tasks.scoring.output import OutputError, ScoresWriter
from tasks.scoring.scorer import ServingSet, chunk_log, deciles, score_chunk, tiers
from tasks.scoring.table import output_rows, output_schema

log = logging.getLogger(__name__)

IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class PartitionResult:
    """What a worker sends back for one partition: its log rows and counts."""

    index: int
    rows: int
    log_rows: pa.Table
    arms: dict[str, int]


def part_name(index: int, output_format: str) -> str:
    return f"part-{index:05d}.{output_format}"


def served_scores(chunk: pa.Table, contract: Contract, serving: ServingSet) -> np.ndarray:
    """Pass one on a worker: the served score of each lead of the partition."""
    return score_chunk(chunk, contract.entity_id, contract.event_time, serving).served


def score_partition(
    index: int,
    chunk: pa.Table,
    ranked: np.ndarray,
    contract: Contract,
    serving: ServingSet,
    reasons_mode: str,
    output_format: str,
    folder: str,
    context: plog.LogContext,
    endpoint_url: str | None,
    token: str | None = None,
) -> PartitionResult:
    """Pass two on a worker: score, explain and write one partition; return its log rows."""
    scored = score_chunk(chunk, contract.entity_id, contract.event_time, serving)
    decile = deciles(scored.served, ranked)
    reasons = explain_chunk(scored, decile, serving, reasons_mode)
    value_reasons = explain_value_chunk(scored, serving, reasons_mode)
    target = f"{folder.rstrip('/')}/{part_name(index, output_format)}"
    # Parts are each sorted by score; LEADOPS_RANK_BY orders the single-file output only.
    schema = output_schema(contract, serving.value is not None)
    with ScoresWriter(target, output_format, schema, endpoint_url, token) as writer:
        writer.write(
            output_rows(
                contract,
                scored,
                decile,
                tiers(decile),
                reasons,
                serving,
                context.scored_at,
                value_reasons=value_reasons,
            )
        )
        writer.commit()
    arms = {
        str(arm): int(count)
        for arm, count in zip(*np.unique(scored.arms, return_counts=True), strict=True)
    }
    return PartitionResult(index, len(scored.served), chunk_log(context, scored, serving), arms)


def _bounded(
    client: Any, chunks: Iterable[pa.Table], submit: Callable[[int, Any], Any]
) -> Iterator[Any]:
    """Submit one call per partition, yielding results in partition order, a few in flight."""
    limit = IN_FLIGHT_PER_WORKER * worker_count(client)
    pending: deque = deque()
    for index, chunk in enumerate(chunks):
        # Scattered, not embedded: a partition is too big to travel inside the task graph.
        pending.append(submit(index, client.scatter(chunk, hash=False)))
        if len(pending) >= limit:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def rank_on_dask(
    client: Any, chunks: Iterable[pa.Table], contract: Contract, serving: ServingSet
) -> np.ndarray:
    """Every served score of the batch, sorted (what deciles are cut from)."""
    shared = client.scatter([contract, serving], broadcast=True, hash=False)
    parts = list(
        _bounded(
            client,
            chunks,
            lambda _i, chunk: client.submit(served_scores, chunk, *shared, pure=False),
        )
    )
    return np.sort(np.concatenate(parts)) if parts else np.empty(0)


def _stage(target: str) -> str:
    """Where the workers write the parts: the target itself on S3 (each object
    appears whole), a hidden sibling folder renamed onto the target locally."""
    if target.startswith("s3://"):
        return target
    parent = Path(target).parent
    parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(dir=parent, prefix=f".tmp-scores-{uuid.uuid4().hex[:6]}-")


def _publish(stage: str, target: str, token: str, endpoint_url: str | None) -> None:
    if stage == target:  # S3: the parts are there, ``_SUCCESS`` makes them delivered
        try:
            delivery.mark_parts_delivered(target, token, endpoint_url)
        except Exception as exc:  # boto3 raises several unrelated types
            raise OutputError(f"output {target}: write failed ({one_line(exc)})") from exc
        return
    try:
        if os.path.isdir(target):
            shutil.rmtree(target)
        elif os.path.exists(target):
            os.unlink(target)
        os.replace(stage, target)
    except OSError as exc:
        raise OutputError(f"output {target}: write failed ({one_line(exc)})") from exc


def score_and_write_on_dask(
    client: Any,
    chunks: Iterable[pa.Table],
    ranked: np.ndarray,
    contract: Contract,
    serving: ServingSet,
    reasons_mode: str,
    output_format: str,
    target: str,
    context: plog.LogContext,
    endpoint_url: str | None,
    append_log: Callable[[pa.Table], Any],
    note_delivery: Callable[[dict], Any],
) -> tuple[int, int, dict[str, int]]:
    """Pass two over the cluster; returns (rows, log rows, leads per arm).
    ``target`` becomes a folder.

    ``note_delivery`` records, before any part is written, how to recognise the folder
    once delivered (``leadops.storage.delivery``): the run's commit point is its publication.
    """
    stage, token = _stage(target), delivery.new_token()
    note_delivery(
        delivery.s3(target, token, endpoint_url, parts=True)
        if stage == target
        else delivery.local(stage, target)
    )
    shared = client.scatter([ranked, contract, serving], broadcast=True, hash=False)
    rows = log_rows = 0
    arms: dict[str, int] = {}
    try:
        for part in _bounded(
            client,
            chunks,
            lambda i, chunk: client.submit(
                score_partition,
                i,
                chunk,
                *shared,
                reasons_mode,
                output_format,
                stage,
                context,
                endpoint_url,
                token,
                pure=False,
            ),
        ):
            append_log(part.log_rows)
            rows += part.rows
            log_rows += part.log_rows.num_rows
            for arm, count in part.arms.items():
                arms[arm] = arms.get(arm, 0) + count
            log.info("scored partition %d: %d leads (%d so far)", part.index, part.rows, rows)
        _publish(stage, target, token, endpoint_url)
    finally:
        if stage != target:
            shutil.rmtree(stage, ignore_errors=True)
    return rows, log_rows, arms
