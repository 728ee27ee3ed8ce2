"""The ``score`` flow: champion (and shadow / canary challenger) → scores with reasons.

Wiring only; the logic is in tasks/scoring. Run locally with
``python -m flows.score [BATCH]`` or ``leadops score [BATCH]``.
"""

from __future__ import annotations

import sys
from datetime import datetime

from prefect import flow

from leadops.clock import utc
from leadops.settings import ReasonsMode
from tasks.scoring.results import ScoreResult
from tasks.scoring.sinks.steps import deliver_scores
from tasks.scoring.steps import (
    find_batch_file,
    load_models,
    publish_summary,
    read_batch_file,
    score_batch,
)


@flow(name="score")
def score(
    batch: str | None = None,
    out: str | None = None,
    output_format: str = "parquet",
    as_of: datetime | None = None,
    reasons: ReasonsMode | None = None,
    deliver: bool = True,
) -> ScoreResult:
    """Score a batch of leads and log every score.

    Args:
        batch: a leads file (CSV / Parquet / JSON lines, local or s3://) in the
            contract's columns; default: the silver leads not yet scored.
        out: output file, folder or s3:// URI; default ``<lake>/scores/<batch_id>.<format>``.
        output_format: parquet or csv.
        as_of: the scoring time written as scored_at (the demo's simulated clock);
            default now. Silver leads created after it wait for a later run.
        reasons: exact, approx, tiered or none (fastest: no reasons); default
            LEADOPS_REASONS_MODE.
        deliver: send the scores to the configured CRM sinks now (False: they stay owed
            in the lake until `leadops deliver`).

    Returns:
        The ScoreResult: rows, output, arms (leads per arm), model_versions, batch_id,
        log_rows, skipped, and the sinks' deliveries when sent now.
    """
    scored_at = utc(as_of)
    serving = load_models(scored_at)
    file_batch = read_batch_file(find_batch_file(batch), scored_at) if batch else None
    result = score_batch(serving, file_batch, out, output_format, scored_at, reasons)
    publish_summary(result)
    delivered = deliver_scores(result.batch_id, result.output, result.rows, send=deliver)
    result.delivered = delivered
    return result


if __name__ == "__main__":
    score(*sys.argv[1:2])
