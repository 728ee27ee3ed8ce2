"""The scores output: one row per lead, in the contract's id column name."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from leadops.contract import ARROW_TYPES, Contract
from tasks.scoring.explain import TOP_K
from tasks.scoring.scorer import ChunkScores, ServingSet

SCORE, DECILE, TIER = "score", "decile", "tier"
MODEL_VERSION, ARM, SCORED_AT = "model_version", "arm", "scored_at"
REASONS = tuple(f"reason_{rank}" for rank in range(1, TOP_K + 1))


def output_schema(contract: Contract) -> pa.Schema:
    """Columns of the scores file, the lead id first."""
    return pa.schema(
        [
            (contract.entity_id, ARROW_TYPES["id"]),
            (SCORE, pa.float64()),
            (DECILE, pa.int8()),
            (TIER, pa.string()),
            (MODEL_VERSION, pa.string()),
            (ARM, pa.string()),
            *((name, pa.string()) for name in REASONS),
            (SCORED_AT, pa.timestamp("us", "UTC")),
        ]
    )


def output_rows(
    contract: Contract,
    scored: ChunkScores,
    decile: np.ndarray,
    tier: np.ndarray,
    reasons: list[np.ndarray],
    serving: ServingSet,
    scored_at: datetime,
) -> pa.Table:
    """One chunk's output rows."""
    n = len(scored.served)
    versions = np.full(n, serving.champion.version, dtype=object)
    if serving.canary is not None:
        versions[scored.in_canary] = serving.canary.version
    columns = {
        contract.entity_id: scored.ids.cast(ARROW_TYPES["id"]),
        SCORE: pa.array(scored.served, pa.float64()),
        DECILE: pa.array(decile, pa.int8()),
        TIER: pa.array(tier, pa.string()),
        MODEL_VERSION: pa.array(versions, pa.string()),
        ARM: pa.array(scored.arms, pa.string()),
        **{name: pa.array(reasons[i], pa.string()) for i, name in enumerate(REASONS)},
        SCORED_AT: pa.array([scored_at] * n, pa.timestamp("us", "UTC")),
    }
    return pa.table(columns, schema=output_schema(contract))
