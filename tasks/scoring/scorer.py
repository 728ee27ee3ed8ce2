"""Scoring one chunk of leads: every model's score, the canary split, deciles and tiers.

Pure numpy/Arrow on an in-memory chunk; ``tasks.scoring.batch`` streams chunks
through these functions and writes what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa

from leadops.inputs.lead_checks import DEGRADED_FEATURES
from leadops.logs import prediction_log as plog
from leadops.models.calibrator import probabilities
from leadops.models.cutpoints import TIER_BY_DECILE
from leadops.models.model_state import CANARY_ARM, CHAMPION_ARM, Stage
from tasks.scoring.reason_grouping import ReasonGrouping
from tasks.scoring.routing import route_to_canary


@dataclass
class ServingModel(ReasonGrouping):
    """One registered model version, ready to score: its scorer, its fitted encoder and,
    when the version was recalibrated, its calibrator (applied to the scorer's log-odds).

    ``booster`` is an XGBoost booster or a ``tasks.features.linear.LogisticScorer`` (the
    logistic family): both answer ``inplace_predict``, ``feature_names``, ``num_features``.
    """

    name: str
    version: str
    role: str  # champion | challenger
    stage: Stage  # production | shadow | canary
    booster: Any
    encoder: Any
    fraction: float = 0.0  # canary share (challenger in canary only)
    salt: str = ""
    calibrator: Any = None  # leadops.models.calibrator.Calibrator, or None

    @cached_property
    def _names_match(self) -> bool:
        names = self.booster.feature_names
        if names and list(names) != list(self.encoder.feature_names):
            raise ValueError(
                f"model version {self.version}: the booster's features are not its encoder's"
            )
        return True

    def encode(self, frame: Any) -> np.ndarray:
        return self.encoder.transform(frame)

    def predict(self, encoded: np.ndarray) -> np.ndarray:
        """Conversion probabilities as float64, exactly as the logged model's ``predict_proba``.

        Encoding once per chunk and predicting here (rather than calling the model's
        ``predict_proba``) lets the reasons reuse the same encoded rows.
        """
        return probabilities(self.booster, encoded, self.calibrator)

    def contributions(self, encoded: np.ndarray, approx: bool = False) -> np.ndarray:
        """Contributions in log-odds (rows × (columns + 1), bias last): TreeSHAP for a
        booster, coef x standardised deviation for the logistic family (its own method)."""
        if hasattr(self.booster, "contributions"):  # tasks.features.linear.LogisticScorer
            return self.booster.contributions(encoded, approx)
        import xgboost as xgb

        # The encoder saved with this booster names its columns (checked once, not per call:
        # the check decodes every feature name from C, ~1 ms of a one-lead request).
        _ = self._names_match
        return self.booster.predict(
            xgb.DMatrix(encoded),
            pred_contribs=True,
            approx_contribs=approx,
            validate_features=False,
        )


@dataclass(frozen=True)
class ServingSet:
    """The champion and, when one is in shadow or canary, the challenger."""

    champion: ServingModel
    challenger: ServingModel | None = None
    # The previous champion during the watch after a promotion: scored and logged, never served.
    watch: ServingModel | None = None
    # The deal-value champion (tasks.scoring.value.ValueServing), or None: no value columns.
    value: Any = None

    @property
    def canary(self) -> ServingModel | None:
        """The challenger when it serves a share of leads."""
        c = self.challenger
        return c if c is not None and c.stage == Stage.CANARY and c.fraction > 0 else None

    @property
    def models(self) -> list[ServingModel]:
        return [self.champion, *(m for m in (self.challenger, self.watch) if m is not None)]


@dataclass
class ChunkScores:
    """Every model's scores for one chunk, and which arm each lead is served from."""

    ids: pa.Array
    event_times: pa.Array
    encoded: dict[str, np.ndarray]  # by model version
    scores: dict[str, np.ndarray]  # by model version
    in_canary: np.ndarray  # bool per lead
    served: np.ndarray  # the delivered score per lead
    # Per lead, the features scored as missing because they failed the contract (null: none).
    degraded: pa.Array | None = None
    # With a value champion: its encoded rows and E[value | won] per lead.
    value_encoded: np.ndarray | None = None
    predicted_value: np.ndarray | None = None

    @property
    def expected_value(self) -> np.ndarray | None:
        """Served probability x E[value | won]; None without a value champion."""
        return None if self.predicted_value is None else self.served * self.predicted_value

    @property
    def arms(self) -> np.ndarray:
        return np.where(self.in_canary, CANARY_ARM, CHAMPION_ARM)


def score_chunk(
    chunk: pa.Table, id_column: str, time_column: str, serving: ServingSet
) -> ChunkScores:
    """Score a chunk with every model and route each lead to its arm."""
    # Encoded straight from Arrow (pandas only for a chunk not typed as silver): the same
    # matrix bit for bit as the pandas path, at about half its cost on a 100k-lead chunk.
    ids = chunk.column(id_column).combine_chunks()
    encoded: dict[str, np.ndarray] = {}
    scores: dict[str, np.ndarray] = {}
    for model in serving.models:
        encoded[model.version] = model.encoder.transform_table(chunk)
        scores[model.version] = model.predict(encoded[model.version])
    served = scores[serving.champion.version]
    in_canary = np.zeros(len(ids), dtype=bool)
    canary = serving.canary
    if canary is not None:
        in_canary = route_to_canary(ids.to_pylist(), canary.salt, canary.fraction)
        served = np.where(in_canary, scores[canary.version], served)
    value_encoded = predicted_value = None
    if serving.value is not None:
        value_encoded = serving.value.encoder.transform_table(chunk)
        predicted_value = serving.value.predict(value_encoded)
    return ChunkScores(
        ids,
        chunk.column(time_column).combine_chunks(),
        encoded,
        scores,
        in_canary,
        served,
        degraded_features(chunk),
        value_encoded,
        predicted_value,
    )


def degraded_features(chunk: pa.Table) -> pa.Array:
    """The chunk's degraded-feature names per lead (all null for leads that passed ingest)."""
    if DEGRADED_FEATURES in chunk.schema.names:
        return chunk.column(DEGRADED_FEATURES).combine_chunks().cast(pa.string())
    return pa.nulls(chunk.num_rows, pa.string())


def deciles(scores: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """Decile of each score within the batch (1 = the best 10%).

    Args:
        scores: the scores to place.
        ranked: every served score of the batch, sorted ascending.
    """
    if len(ranked) == 0:
        return np.ones(len(scores), dtype=np.int8)
    better = len(ranked) - np.searchsorted(ranked, scores, side="right")
    return np.clip(1 + (10 * better) // len(ranked), 1, 10).astype(np.int8)


def tiers(decile: np.ndarray) -> np.ndarray:
    """Tier letters: A = decile 1, B = 2-3, C = 4-6, D = 7-10."""
    return TIER_BY_DECILE[decile]


def chunk_log(context: plog.LogContext, scored: ChunkScores, serving: ServingSet) -> pa.Table:
    """Log rows of one chunk: one per lead per model that scored it."""
    arms = scored.arms
    value = None
    if serving.value is not None and scored.predicted_value is not None:
        value = plog.ValueColumns(serving.value.version, scored.predicted_value)
    parts = []
    for model in serving.models:
        if model is serving.champion:
            served = ~scored.in_canary
        elif model is serving.canary:
            served = scored.in_canary
        else:  # shadow (or a canary at fraction 0): logged, never delivered
            served = np.zeros(len(arms), dtype=bool)
        parts.append(
            plog.log_rows(
                context,
                scored.ids,
                scored.event_times,
                model.version,
                model.role,
                model.stage,
                arms,
                served,
                scored.scores[model.version],
                scored.degraded,
                value,
            )
        )
    return pa.concat_tables(parts)
