"""Reasons for the served score of every lead, in the configured mode.

The text of a reason comes from the training stage's ``tasks.features.reasons``
(the logged model's own ``explain``), so a lead's reasons in the scores file are
what ``load_model(...).unwrap_python_model().explain(rows)`` says: SHAP
contributions in log-odds, the one-hot columns of a categorical summed into one
"source is referral", each technology its own "uses Salesforce".

Only the model that served a lead explains it, so a canary run costs one TreeSHAP
pass, not two. Modes (``settings.reasons_mode``):

- ``exact``: TreeSHAP (``pred_contribs``) for every lead.
- ``approx``: XGBoost's ``approx_contribs`` (Saabas), about 100x cheaper, less exact.
- ``tiered``: exact for deciles 1-3 (the leads sales will call), approx for the rest.
- ``none``: no reasons (the reason columns stay empty): a fast rescoring of many leads.
"""

from __future__ import annotations

from typing import get_args

import numpy as np

from leadops.settings import ReasonsMode
from tasks.scoring.scorer import ChunkScores, ServingSet

MODES = get_args(ReasonsMode)
TOP_K = 3
EXACT_DECILES = 3


def explain_chunk(
    scored: ChunkScores, decile: np.ndarray, serving: ServingSet, mode: str
) -> list[np.ndarray]:
    """``TOP_K`` arrays of reason strings (reason 1 first), one string per lead."""
    from tasks.features.reasons import top_reason_texts

    if mode not in MODES:
        raise ValueError(f"reasons mode {mode!r}: choose one of {', '.join(MODES)}")
    n = len(scored.served)
    reasons = [np.full(n, None, dtype=object) for _ in range(TOP_K)]
    if mode == "none":
        return reasons
    arms = [(serving.champion, ~scored.in_canary)]
    if serving.canary is not None:
        arms.append((serving.canary, scored.in_canary))
    for model, in_arm in arms:
        exact = (
            in_arm & (decile <= EXACT_DECILES) if mode == "tiered" else in_arm & (mode == "exact")
        )
        for rows, approx in (
            (np.flatnonzero(exact), False),
            (np.flatnonzero(in_arm & ~exact), True),
        ):
            if len(rows) == 0:
                continue
            encoded = scored.encoded[model.version][rows]
            texts = top_reason_texts(
                model.contributions(encoded, approx=approx),
                encoded,
                model.reason_units,
                TOP_K,
                model.reason_matrix,
            )
            for rank, column in enumerate(texts):
                reasons[rank][rows] = column
    return reasons


def explain_value_chunk(scored: ChunkScores, serving: ServingSet, mode: str) -> list[np.ndarray]:
    """``TOP_K`` arrays of value reasons (SHAP of the value model, in log value); empty
    without a value champion or with mode ``none``. ``tiered``: exact for value tiers A-B."""
    from tasks.features.reasons import VALUE_SCALE, top_reason_texts

    n, value = len(scored.served), serving.value
    reasons = [np.full(n, None, dtype=object) for _ in range(TOP_K)]
    if value is None or mode == "none" or n == 0:
        return reasons
    exact = np.full(n, mode == "exact")
    if mode == "tiered":
        exact = np.isin(value.tiers(scored.expected_value), ("A", "B"))
    for rows, approx in ((np.flatnonzero(exact), False), (np.flatnonzero(~exact), True)):
        if len(rows) == 0:
            continue
        encoded = scored.value_encoded[rows]
        texts = top_reason_texts(
            value.contributions(encoded, approx=approx),
            encoded,
            value.reason_units,
            TOP_K,
            value.reason_matrix,
            scale=VALUE_SCALE,
        )
        for rank, column in enumerate(texts):
            reasons[rank][rows] = column
    return reasons
