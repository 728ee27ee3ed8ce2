"""The scores output: one row per lead, in the contract's id column name, best score first.

What each column means travels with the file: as Parquet key-value metadata, and for
CSV as a ``<file>.about.txt`` sidecar (``tasks.scoring.output``), the same text as the
README's "Score file" section.
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pyarrow as pa

from leadops.inputs.contract import ARROW_TYPES, Contract
from leadops.logs import prediction_log as plog
from tasks.scoring.explain import TOP_K
from tasks.scoring.scorer import ChunkScores, ServingSet

SCORE, DECILE, TIER = "score", "decile", "tier"
MODEL_VERSION, ARM, SCORED_AT = "model_version", "arm", "scored_at"
DEGRADED = plog.DEGRADED
REASONS = tuple(f"reason_{rank}" for rank in range(1, TOP_K + 1))
# With a deal-value champion (tasks.scoring.value) only; without one the file is as before.
EXPECTED_VALUE, PREDICTED_VALUE, VALUE_TIER = "expected_value", "predicted_value", "value_tier"
VALUE_MODEL_VERSION = "value_model_version"
VALUE_REASONS = tuple(f"value_{name}" for name in REASONS)
RANK_BY_EXPECTED_VALUE = "expected_value"


SORT_KEY, COLUMNS_KEY, ABOUT_KEY = b"leadops.sort_by", b"leadops.columns", b"leadops.about"
ABOUT = (
    "One row per lead, sorted by score, best first. Call decile 1 / tier A first. "
    "Reasons: the three things that moved this lead's score most, strongest first, in "
    "words, then the raw SHAP contribution in log-odds (+0.7 roughly doubles the odds "
    "of converting, -0.7 halves them)."
)


ABOUT_VALUE = (
    " Expected value = score x predicted value (E[deal amount | won], from the deal-value "
    "model); value tier A-D cuts it at the value model's own test-window deciles. Value "
    "reasons: what moved the predicted deal value most, in log value (+0.7 roughly doubles it)."
)


def value_meanings(sorted_by_value: bool) -> dict[str, str]:
    """The value columns' meanings (a value champion serves)."""
    return {
        EXPECTED_VALUE: "score x predicted_value: what the lead is worth in expectation"
        + ("; the file is sorted by it" if sorted_by_value else ""),
        PREDICTED_VALUE: "the deal-value model's E[deal amount | won] (the contract's currency)",
        VALUE_TIER: "A-D like tier, for expected_value: A = its top 10% on the value model's "
        "test window",
        VALUE_MODEL_VERSION: "the registered deal-value model version (<model name>-value)",
        **{
            name: f"value reason {rank}: what moved the predicted deal value, strongest first"
            for rank, name in enumerate(VALUE_REASONS, start=1)
        },
    }


def column_meanings(contract: Contract) -> dict[str, str]:
    """What each column of the scores file means, for the file's metadata and the README."""
    return {
        contract.entity_id: "the lead's id in your CRM export",
        SCORE: "the model's probability (0-1) that the lead converts; the file is sorted by it",
        DECILE: "1 = the best 10% of this batch's scores, 2 = the next 10%, ... 10 = the lowest",
        TIER: "A = decile 1 (call first), B = deciles 2-3, C = deciles 4-6, D = deciles 7-10",
        MODEL_VERSION: "the registered model version that scored the lead",
        ARM: "champion, or canary when the lead was routed to the challenger on trial",
        **{
            name: f"reason {rank}: what moved the score, strongest first, with its effect"
            for rank, name in enumerate(REASONS, start=1)
        },
        DEGRADED: "features that failed the contract and were scored as unknown "
        "(e.g. company_size); empty when none",
        SCORED_AT: "when the batch was scored (UTC)",
    }


def output_schema(
    contract: Contract, with_value: bool = False, rank_by: str = "probability"
) -> pa.Schema:
    """Columns of the scores file, the lead id first; the metadata says what they mean and
    that the writer sorts the rows by score, or by expected value when a value champion
    serves and ``rank_by`` (LEADOPS_RANK_BY) asks for it (``tasks.scoring.output``)."""
    by_value = with_value and rank_by == RANK_BY_EXPECTED_VALUE
    meanings = column_meanings(contract)
    if with_value:
        meanings = {**meanings, **value_meanings(by_value)}
    if by_value:
        meanings[SCORE] = meanings[SCORE].replace("; the file is sorted by it", "")
    about = ABOUT + ABOUT_VALUE if with_value else ABOUT
    metadata = {
        SORT_KEY: (EXPECTED_VALUE if by_value else SCORE).encode(),
        ABOUT_KEY: (
            about.replace("sorted by score", "sorted by expected value") if by_value else about
        ).encode(),
        COLUMNS_KEY: json.dumps(meanings).encode(),
    }
    value_fields = [
        (EXPECTED_VALUE, pa.float64()),
        (PREDICTED_VALUE, pa.float64()),
        (VALUE_TIER, pa.string()),
        (VALUE_MODEL_VERSION, pa.string()),
        *((name, pa.string()) for name in VALUE_REASONS),
    ]
    return pa.schema(
        [
            (contract.entity_id, ARROW_TYPES["id"]),
            (SCORE, pa.float64()),
            (DECILE, pa.int8()),
            (TIER, pa.string()),
            (MODEL_VERSION, pa.string()),
            (ARM, pa.string()),
            *((name, pa.string()) for name in REASONS),
            *(value_fields if with_value else []),
            (DEGRADED, pa.string()),
            (SCORED_AT, pa.timestamp("us", "UTC")),
        ],
        metadata=metadata,
    )


def output_rows(
    contract: Contract,
    scored: ChunkScores,
    decile: np.ndarray,
    tier: np.ndarray,
    reasons: list[np.ndarray],
    serving: ServingSet,
    scored_at: datetime,
    rank_by: str = "probability",
    value_reasons: list[np.ndarray] | None = None,
) -> pa.Table:
    """One chunk's output rows (with the value columns when a value champion serves)."""
    n = len(scored.served)
    versions = plog.constant(serving.champion.version, pa.string(), n)
    if serving.canary is not None:
        choice = pa.array([serving.champion.version, serving.canary.version], pa.string())
        versions = choice.take(pa.array(scored.in_canary.astype(np.int8)))
    columns = {
        contract.entity_id: scored.ids.cast(ARROW_TYPES["id"]),
        SCORE: pa.array(scored.served, pa.float64()),
        DECILE: pa.array(decile, pa.int8()),
        TIER: pa.array(tier, pa.string()),
        MODEL_VERSION: versions,
        ARM: pa.array(scored.arms, pa.string()),
        **{name: pa.array(reasons[i], pa.string()) for i, name in enumerate(REASONS)},
        **_value_columns(serving, scored, value_reasons),
        DEGRADED: pa.nulls(n, pa.string()) if scored.degraded is None else scored.degraded,
        SCORED_AT: plog.constant(scored_at, pa.timestamp("us", "UTC"), n),
    }
    return pa.table(columns, schema=output_schema(contract, serving.value is not None, rank_by))


def _value_columns(
    serving: ServingSet, scored: ChunkScores, reasons: list[np.ndarray] | None
) -> dict[str, pa.Array]:
    if serving.value is None:
        return {}
    n, expected = len(scored.served), scored.expected_value
    reasons = reasons or [np.full(n, None, dtype=object)] * len(VALUE_REASONS)
    return {
        EXPECTED_VALUE: pa.array(expected, pa.float64()),
        PREDICTED_VALUE: pa.array(scored.predicted_value, pa.float64()),
        VALUE_TIER: pa.array(serving.value.tiers(expected), pa.string()),
        VALUE_MODEL_VERSION: plog.constant(serving.value.version, pa.string(), n),
        **{name: pa.array(reasons[i], pa.string()) for i, name in enumerate(VALUE_REASONS)},
    }
