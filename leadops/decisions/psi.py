"""Population stability index with bins fixed by the champion's training reference.

Evidently's PSI cuts bins over reference and current together, so its bins move with
every batch and the number is not comparable from one run to the next. Here the
bins are decided once from the reference and every batch is counted into the same
bins: that is what the retrain trigger compares against its threshold.

- numeric: reference quantile edges (10 bins), deduplicated, open-ended outer bins,
  plus a bin for missing values;
- categorical / boolean: the reference's levels (at most ``MAX_LEVELS``) + "other";
- multi-valued: the share of mentions of each reference value + "new value" (any
  value the reference never saw) + "none" (an empty list).

Shares are smoothed by adding half a row to every bin (Jeffreys / add-half):
(count + 0.5) / (rows + 0.5 * bins). An empty bin then weighs what half a lead
would, on the batch's own scale: a 1e-4 floor (Evidently's) made each empty bin of
a 100-row batch cost up to ~0.1 of PSI, so a 30-level categorical showed PSI 0.5
with no drift at all. Whether a PSI is more than noise at the batch's size is
decided by ``leadops.decisions.monitor_decisions.psi_drift_test``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd

from leadops.inputs.contract import Contract

SMOOTHING = 0.5  # rows added to every bin before shares are taken
NUMERIC_BINS = 10
MAX_LEVELS = 50
OTHER, NEW_VALUE, NO_VALUE, MISSING = "other", "new value", "none", "missing"
BIN_ROLES = ("numeric", "categorical", "boolean", "multi_valued")


@dataclass(frozen=True)
class FeatureBins:
    """The fixed bins of one column: interior edges (numeric) or levels (the rest)."""

    name: str
    kind: str  # numeric | categorical | multi_valued
    edges: tuple[float, ...] = ()
    levels: tuple[str, ...] = ()

    @property
    def labels(self) -> list[str]:
        """Human names of the bins, in the order ``shares`` returns them."""
        if self.kind == "numeric":
            bounds = ["-inf", *(f"{e:.4g}" for e in self.edges), "inf"]
            return [f"[{lo}, {hi})" for lo, hi in pairwise(bounds)] + [MISSING]
        if self.kind == "multi_valued":
            return [*self.levels, NEW_VALUE, NO_VALUE]
        return [*self.levels, OTHER]

    def codes(self, values: pd.Series) -> np.ndarray:
        """The bin index of each value (numeric and categorical columns only)."""
        if self.kind == "numeric":
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
            index = np.searchsorted(np.asarray(self.edges), numbers, side="right")
            return np.where(np.isnan(numbers), len(self.edges) + 1, index)  # last bin: missing
        if self.kind == "multi_valued":
            raise ValueError(
                f"{self.name}: a multi-valued row can fall in several bins; use counts()"
            )
        codes = _level_codes(values, self.levels)
        return np.where(codes < 0, len(self.levels), codes)  # not a reference level: "other"

    def counts(self, values: pd.Series) -> np.ndarray:
        """How many of ``values`` fall in each bin (mentions, for multi-valued)."""
        if self.kind == "multi_valued":
            return _mention_counts(values, self.levels)
        return np.bincount(self.codes(values), minlength=len(self.labels)).astype("float64")

    def shares(self, values: pd.Series) -> np.ndarray:
        """Add-half smoothed bin shares (an all-empty column gives equal shares)."""
        return smoothed_shares(self.counts(values))


def _as_text(values: pd.Series) -> pd.Series:
    # Booleans and categories compare as text, so True and "True" are one level.
    if pd.api.types.is_bool_dtype(values):
        return values.map({True: "True", False: "False"}).fillna(MISSING)
    return values.astype("object").where(values.notna(), MISSING).astype(str)


def _level_codes(values: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    """Index of each value's reference level, -1 for a level the reference never saw."""
    # Only plain strings can be matched as they are: object columns holding Python
    # booleans (a bool column with a null) or numbers must go through text too, or
    # True never equals the level "True" and every row lands in "other".
    if not pd.api.types.is_object_dtype(values) or pd.api.types.infer_dtype(values) != "string":
        values = _as_text(values)
    codes = pd.Categorical(values, categories=levels).codes.astype("int64")
    if MISSING in levels:  # strings are used as they are; only nulls need mapping
        codes[values.isna().to_numpy()] = levels.index(MISSING)
    return codes


def _mention_table(values: pd.Series) -> tuple[pd.Series, int]:
    """How often each listed value occurs, and how many rows list nothing (nulls included)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        lists = pa.array(
            values.to_numpy(dtype=object), type=pa.list_(pa.string()), from_pandas=True
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Not list-like (e.g. a delimited string per row): treat each row as one value.
        lists = pa.array(
            [[str(v)] if pd.notna(v) else [] for v in values], type=pa.list_(pa.string())
        )
    empty = int(pc.sum(pc.fill_null(pc.equal(pc.list_value_length(lists), 0), True)).as_py() or 0)
    counted = pc.value_counts(pc.drop_null(pc.list_flatten(lists)))
    mentions = pd.Series(
        counted.field("counts").to_numpy(),
        index=counted.field("values").to_pylist(),
        dtype="float64",
    )
    return mentions, empty


def _mention_counts(values: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    mentions, empty = _mention_table(values)
    known = mentions.reindex(list(levels), fill_value=0.0).to_numpy()
    return np.concatenate([known, [mentions.sum() - known.sum(), float(empty)]])


def fit_bins(name: str, values: pd.Series, role: str) -> FeatureBins:
    """Fix one column's bins from its reference values."""
    if role == "numeric":
        numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype="float64")
        if len(numbers) == 0:
            return FeatureBins(name, "numeric")
        quantiles = np.quantile(numbers, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1])
        return FeatureBins(name, "numeric", edges=tuple(float(q) for q in np.unique(quantiles)))
    if role == "multi_valued":
        mentions, _ = _mention_table(values)
        top = mentions.sort_values(ascending=False, kind="stable").index[:MAX_LEVELS]
        return FeatureBins(name, "multi_valued", levels=tuple(sorted(map(str, top))))
    top = _as_text(values).value_counts().index[:MAX_LEVELS]
    if role == "boolean":
        top = sorted(set(top) | {"True", "False"})
    return FeatureBins(name, "categorical", levels=tuple(sorted(map(str, top))))


def smoothed_shares(counts: np.ndarray) -> np.ndarray:
    """Counts as shares with ``SMOOTHING`` rows added to every bin (never 0, sums to 1)."""
    counts = np.asarray(counts, dtype="float64") + SMOOTHING
    return counts / counts.sum()


def psi_value(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """sum((current - reference) * ln(current / reference)) over the bins."""
    return float(
        np.sum((current_shares - reference_shares) * np.log(current_shares / reference_shares))
    )


@dataclass(frozen=True)
class PsiBaseline:
    """Fixed bins, reference shares and counts for every monitored column."""

    bins: dict[str, FeatureBins]
    reference_shares: dict[str, np.ndarray]
    reference_counts: dict[str, np.ndarray] = field(default_factory=dict)
    reference_rows: int = 0

    def counts(self, current: pd.DataFrame) -> dict[str, np.ndarray]:
        """Bin counts of every monitored column of ``current`` (batches pool by adding them)."""
        return {
            name: bins.counts(current[name]) for name, bins in self.bins.items() if name in current
        }

    def psi_of_counts(self, counts: dict[str, np.ndarray]) -> dict[str, float]:
        """PSI of each column from its current bin counts."""
        return {
            name: psi_value(self.reference_shares[name], smoothed_shares(c))
            for name, c in counts.items()
        }

    def psi(self, current: pd.DataFrame) -> dict[str, float]:
        """PSI of every monitored column of ``current`` against the reference."""
        return self.psi_of_counts(self.counts(current))

    def occupied_bins(self, name: str, counts: np.ndarray) -> int:
        """Bins with rows in the reference or in ``counts``: the test's degrees of freedom + 1."""
        return int(((self.reference_counts[name] > 0) | (np.asarray(counts) > 0)).sum())


def monitored_columns(contract: Contract) -> dict[str, str]:
    """Column → role for every feature whose distribution PSI can watch.

    Free text and emails are left out: nearly every value is unique, so their
    bins would be noise.
    """
    return {f.name: f.role for f in contract.features if f.role in BIN_ROLES}


def fit_baseline(reference: pd.DataFrame, columns: dict[str, str]) -> PsiBaseline:
    """Fix bins for ``columns`` (name → role) from the reference frame."""
    bins = {
        name: fit_bins(name, reference[name], role)
        for name, role in columns.items()
        if name in reference
    }
    counts = {name: b.counts(reference[name]) for name, b in bins.items()}
    shares = {name: smoothed_shares(c) for name, c in counts.items()}
    return PsiBaseline(
        bins=bins, reference_shares=shares, reference_counts=counts, reference_rows=len(reference)
    )
