"""Teach the model what "unknown" means for features that are never missing in training.

XGBoost learns a default direction for missing values at every split, but only from
rows that have them. A feature that was never missing in training gets whatever
direction the split's gain happened to favour, so a lead sent without it (an online
request that leaves out ``legacy_lead_score``, a value nulled because it failed the
contract) was pushed hard one way by a value nobody gave: +1.38 log-odds, tier A, in
the README's own example.

Two cures were weighed. Replacing an absent value at scoring time by an expectation
over its training distribution is exact but costs one prediction per sampled value
per missing feature, on every request, and needs that distribution inside the model.
Masking a small seeded share of each never-missing value while fitting costs nothing
at scoring time and lets XGBoost learn every default direction from data: a value
missing completely at random carries no information, so the learned direction sends
it where the average lead goes. Features that are missing in the data keep their own
missingness, which may be real signal ("missing means learned where the data has it").

Only roles whose absence the encoder keeps apart from every real value are masked:
numbers and booleans (NaN) and categoricals (no level lit). An absent email, title or
technology list encodes as a real level ("invalid or missing email", "unknown"
seniority, "uses none"), so masking those would blur a real value with "unknown".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MASKED_ROLES = ("numeric", "boolean", "categorical")


def never_missing(frame: pd.DataFrame, spec: dict[str, Any]) -> list[str]:
    """Encoder features (of the masked roles) that have a value on every training row."""
    columns = [*spec["numeric"], *spec["boolean"], *spec["categorical"]]
    return [c for c in columns if c in frame.columns and not frame[c].isna().any()]


def mask_never_missing(
    frame: pd.DataFrame, spec: dict[str, Any], share: float, seed: int
) -> pd.DataFrame:
    """A copy of the training rows with ``share`` of each never-missing feature blanked.

    Each feature draws its own seeded mask, so the same rows and seed give the same
    training matrix (and the same model) every time. Masking the raw value, not its
    encoded column, keeps derived columns consistent: a blanked page view count also
    blanks the "form fills per page view" ratio built from it.

    Args:
        frame: typed training lead rows (not modified).
        spec: the fitted encoder's spec (which columns are numeric, boolean, categorical).
        share: fraction of rows blanked per feature; 0 returns the rows unchanged.
        seed: the training seed.
    """
    if share <= 0 or frame.empty:
        return frame
    rng = np.random.default_rng(seed)
    masked = frame.copy()
    for column in never_missing(frame, spec):
        rows = rng.random(len(frame)) < share
        masked[column] = masked[column].mask(rows)
    return masked
