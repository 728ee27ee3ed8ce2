"""A score run: pick the batch, rank it, then stream it through score → reasons → write.

The whole run holds the ``score`` lake transaction: choosing the unscored leads,
appending to the prediction log and publishing the output happen under one lock,
so two runs on the same batch cannot both score it, and a run that dies leaves
the prediction log as it was (the next run undoes its partial appends).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from leadops import progress
from leadops.inputs.contract import Contract
from leadops.inputs.lead_checks import DEGRADED_FEATURES
from leadops.logs import prediction_log as plog
from leadops.storage import delivery, tables
from leadops.storage.journal import lake_transaction, note_delivery, note_publish
from leadops.storage.lake import Lake
from tasks.scoring.explain import explain_chunk, explain_value_chunk
from tasks.scoring.output import FORMATS, OutputError, ScoresWriter, resolve_target
from tasks.scoring.results import ScoreResult
from tasks.scoring.scorer import (
    ChunkScores,
    ServingSet,
    chunk_log,
    deciles,
    degraded_features,
    score_chunk,
    tiers,
)
from tasks.scoring.sources import BatchError, FileBatch, SilverBatch
from tasks.scoring.table import output_rows, output_schema

log = logging.getLogger(__name__)

TRANSACTION = plog.WRITE_LOCK


@dataclass(frozen=True)
class RunOptions:
    scored_at: datetime
    reasons_mode: str
    output_format: str = "parquet"
    out: str | None = None
    endpoint_url: str | None = None
    rank_by: str = "probability"  # LEADOPS_RANK_BY: "expected_value" needs a value champion


def run_score(
    lake: Lake,
    contract: Contract,
    serving: ServingSet,
    options: RunOptions,
    chunk_rows: int,
    file_batch: FileBatch | None = None,
    client: Any = None,
) -> ScoreResult:
    """Score the batch (``file_batch``, or silver leads not yet served) end to end.

    With a Dask ``client``, the chunks are partitions mapped over the cluster
    (``tasks.scoring.dask_batch``): same rows, same scores, the output a folder of parts.

    Raises:
        OutputError: unknown output format, or --out in a folder that does not exist
            (checked before any work, so a refused run writes and undoes nothing).
        BatchError: the batch lacks contract columns or holds values of the wrong type.
    """
    if options.output_format not in FORMATS:
        raise OutputError(
            f"output format {options.output_format!r}: choose one of {', '.join(FORMATS)}"
        )
    if options.out is not None:
        resolve_target(options.out, options.out, "batch", options.output_format)
    with lake_transaction(lake, TRANSACTION, [tables.PREDICTION_LOG, tables.SCORED_FILE_LEADS]):
        source = _select(lake, contract, options, chunk_rows, file_batch)
        result = ScoreResult(
            batch_id=source.batch_id,
            model_versions={m.role: m.version for m in serving.models},
            challenger_stage=serving.challenger.stage if serving.challenger else None,
            scored_at=options.scored_at.isoformat(),
            reasons_mode=options.reasons_mode,
            value_model_version=serving.value.version if serving.value else None,
            ranked_by=options.rank_by if serving.value else "probability",
        )
        if file_batch is not None and file_batch.rejected is not None:
            result.rejected, result.rejected_output = _write_rejected(
                lake, options, source, file_batch
            )
        if client is not None:
            from tasks.scoring.dask_batch import rank_on_dask

            ranked = rank_on_dask(client, source.chunks(), contract, serving)
        else:
            # Without reasons the second pass needs no features: pass one's scores serve.
            kept: list[ChunkScores] | None = [] if options.reasons_mode == "none" else None
            ranked = rank_batch(source, contract, serving, kept)
        if len(ranked) == 0:
            result.skipped = "no unscored leads in the batch (already scored, or none yet)"
            return result
        progress.begin("score")
        progress.show("score", leads=f"0/{len(ranked):,}", reasons=options.reasons_mode)
        if isinstance(source, FileBatch):
            keep_file_leads(lake, source)
        if client is not None:
            _score_and_write_on_dask(
                client, lake, contract, serving, options, source, ranked, result
            )
        else:
            _score_and_write(lake, contract, serving, options, source, ranked, result, kept)
    return result


def keep_file_leads(lake: Lake, source: FileBatch) -> None:
    """The scored file's leads, for the monitor: they are in no silver table.

    Written in the run's transaction, so a failed run leaves none behind; a rerun of
    the same file scores (and keeps) only the leads it has not scored yet.
    """
    leads = pa.concat_tables(list(source.chunks()))
    if DEGRADED_FEATURES in leads.schema.names:  # the score file and the log keep it
        leads = leads.drop_columns([DEGRADED_FEATURES])
    batch = pa.array([source.batch_id] * leads.num_rows, pa.string())
    lake.append_table(tables.SCORED_FILE_LEADS, leads.append_column(tables.BATCH_ID, batch))


def _select(
    lake: Lake,
    contract: Contract,
    options: RunOptions,
    chunk_rows: int,
    file_batch: FileBatch | None,
) -> SilverBatch | FileBatch:
    # Chosen under the lock: a concurrent run on the same batch sees our log rows.
    if file_batch is not None:
        served = plog.served_ids(lake, file_batch.batch_id)
        return FileBatch(
            file_batch.name,
            file_batch.checksum,
            file_batch.table,
            chunk_rows,
            served,
            file_batch.rejected,
        )
    version = lake.table_version(tables.silver("leads"))
    if version is None:
        raise BatchError(
            f"table {tables.silver('leads')}: not found in {lake.root}; run `leadops ingest` first"
        )
    return SilverBatch(
        lake,
        contract,
        version,
        options.scored_at,
        plog.served_ids(lake),
        chunk_rows,
        lake.table_version(tables.quarantine("leads")),
    )


def _write_rejected(
    lake: Lake, options: RunOptions, source: FileBatch, file_batch: FileBatch
) -> tuple[int, str]:
    """The unscorable rows (no usable id or creation time), with the reason, beside the scores."""
    fmt = options.output_format
    target = resolve_target(
        options.out, lake.uri(f"{tables.SCORES}/{source.batch_id}.{fmt}"), source.batch_id, fmt
    )
    rejected = file_batch.rejected
    path = target.removesuffix(f".{fmt}") + ".rejected.csv"
    with ScoresWriter(path, "csv", rejected.schema, options.endpoint_url) as writer:
        writer.write(rejected)
        writer.commit()
    return rejected.num_rows, path


def rank_batch(
    source: SilverBatch | FileBatch,
    contract: Contract,
    serving: ServingSet,
    kept: list[ChunkScores] | None = None,
) -> np.ndarray:
    """First pass: every served score of the batch, sorted (what deciles are cut from).

    Args:
        kept: when given, each chunk's scores are appended to it without the encoded
            features (about 20 bytes per lead), for a second pass that needs no reasons.
    """
    parts = []
    for chunk in source.chunks():
        scored = score_chunk(chunk, contract.entity_id, contract.event_time, serving)
        parts.append(scored.served)
        if kept is not None:
            kept.append(
                replace(
                    scored,
                    encoded={},
                    value_encoded=None,
                    ids=_ends(scored.ids),
                    event_times=None,
                    degraded=None,
                )
            )
    return np.sort(np.concatenate(parts)) if parts else np.empty(0)


def _ends(ids: pa.Array) -> pa.Array:
    """First and last id of a chunk: enough to check that a re-read chunk is the same."""
    return pa.concat_arrays([ids.slice(0, 1), ids.slice(len(ids) - 1)]) if len(ids) else ids


def _rescored(
    chunk: pa.Table, contract: Contract, serving: ServingSet, kept: ChunkScores | None
) -> ChunkScores:
    """The chunk's scores: pass one's when kept for this very chunk, else computed again."""
    ids = chunk.column(contract.entity_id).combine_chunks()
    if kept is None or len(kept.served) != len(ids) or not _ends(ids).equals(kept.ids):
        return score_chunk(chunk, contract.entity_id, contract.event_time, serving)
    times = chunk.column(contract.event_time).combine_chunks()
    return replace(kept, ids=ids, event_times=times, degraded=degraded_features(chunk))


def _score_and_write(
    lake: Lake,
    contract: Contract,
    serving: ServingSet,
    options: RunOptions,
    source: SilverBatch | FileBatch,
    ranked: np.ndarray,
    result: ScoreResult,
    kept: list[ChunkScores] | None = None,
) -> None:
    fmt = options.output_format
    default = lake.uri(f"{tables.SCORES}/{source.batch_id}.{fmt}")
    target = resolve_target(options.out, default, source.batch_id, fmt)
    context = plog.LogContext(source.batch_id, options.scored_at, serving.champion.name)
    schema = output_schema(contract, serving.value is not None, options.rank_by)
    with ScoresWriter(target, fmt, schema, options.endpoint_url) as writer:
        for index, chunk in enumerate(source.chunks()):
            if kept is not None:
                scored = _rescored(
                    chunk, contract, serving, kept[index] if index < len(kept) else None
                )
            else:
                scored = score_chunk(chunk, contract.entity_id, contract.event_time, serving)
            decile = deciles(scored.served, ranked)
            reasons = explain_chunk(scored, decile, serving, options.reasons_mode)
            value_reasons = explain_value_chunk(scored, serving, options.reasons_mode)
            writer.write(
                output_rows(
                    contract,
                    scored,
                    decile,
                    tiers(decile),
                    reasons,
                    serving,
                    options.scored_at,
                    options.rank_by,
                    value_reasons,
                )
            )
            log_rows = chunk_log(context, scored, serving)
            plog.append_log(lake, log_rows)
            result.log_rows += log_rows.num_rows
            result.degraded += plog.served_degraded(log_rows)
            for arm, count in zip(*np.unique(scored.arms, return_counts=True), strict=True):
                result.arms[str(arm)] = result.arms.get(str(arm), 0) + int(count)
            log.info("scored %d leads (%d so far)", len(scored.served), writer.rows)
            progress.show("score", leads=f"{writer.rows:,}/{len(ranked):,}")
        # Publishing the file delivers the batch, so it is the run's commit point: a run
        # killed right after it must be kept, not undone (leadops.storage.delivery).
        if target.startswith("s3://"):
            note_delivery(
                lake, TRANSACTION, delivery.s3(target, writer.delivery_token, options.endpoint_url)
            )
        else:
            note_publish(lake, TRANSACTION, writer.pending_file, target)
        result.output = writer.commit()
    result.rows = writer.rows


def _append_counted(lake: Lake, rows: pa.Table, result: ScoreResult) -> None:
    result.degraded += plog.served_degraded(rows)
    plog.append_log(lake, rows)


def _score_and_write_on_dask(
    client: Any,
    lake: Lake,
    contract: Contract,
    serving: ServingSet,
    options: RunOptions,
    source: SilverBatch | FileBatch,
    ranked: np.ndarray,
    result: ScoreResult,
) -> None:
    from tasks.scoring.dask_batch import score_and_write_on_dask

    fmt = options.output_format
    target = resolve_target(
        options.out, lake.uri(f"{tables.SCORES}/{source.batch_id}.{fmt}"), source.batch_id, fmt
    )
    context = plog.LogContext(source.batch_id, options.scored_at, serving.champion.name)
    result.rows, result.log_rows, result.arms = score_and_write_on_dask(
        client,
        source.chunks(),
        ranked,
        contract,
        serving,
        options.reasons_mode,
        fmt,
        target,
        context,
        options.endpoint_url,
        lambda rows: _append_counted(lake, rows, result),
        lambda output: note_delivery(lake, TRANSACTION, output),
    )
    result.output = target
