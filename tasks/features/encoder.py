"""The fitted feature encoder: raw silver lead rows → a float32 matrix for XGBoost.

Fitting learns only vocabularies (categorical levels, the capped technographic
items); everything row-wise comes from ``tasks.features``. The encoder is plain
JSON, saved inside the logged model, and remembers for every encoded column the
contract feature and value it stands for, so SHAP contributions become reasons
("uses Salesforce", "source is referral").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from leadops.inputs.contract import Contract
from tasks.features import rows as F
from tasks.features.small import encode_table

OTHER = "(other)"
MAX_CATEGORY_LEVELS = 50
_LEVEL_TEXT = {
    "c_level": "C-level",
    "vp": "VP",
    "director": "director",
    "manager": "manager",
    "senior": "senior",
    "ic": "individual-contributor",
    "intern": "intern",
    "unknown": "unknown",
}
_EMAIL_TEXT = {
    "free": "free email domain",
    "corporate": "corporate email domain",
    "edu": "edu email domain",
    "invalid": "invalid or missing email address",
}


@dataclass(frozen=True)
class EncodedColumn:
    """One column of the encoded matrix and the human feature it stands for."""

    name: str  # XGBoost-safe, unique
    feature: str  # the contract column it derives from: the reason group
    value: str | None  # level, item or derived part; None for a plain number
    label: str  # reason text when the column is "on", e.g. "uses Salesforce"
    kind: str  # numeric | boolean | onehot | multihot


def human(name: str) -> str:
    """``lead_source`` → ``source``: every feature describes a lead, so the prefix adds nothing."""
    text = name.replace("_", " ").strip()
    return text[5:] if text.startswith("lead ") and len(text) > 5 else text


class FeatureEncoder:
    """Fitted vocabularies plus the contract roles; ``transform`` is pure numpy/Arrow."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.columns: list[EncodedColumn] = list(_columns_of(spec))
        self.feature_names: list[str] = _safe_names(self.columns)
        self._group = {
            name: c.feature for name, c in zip(self.feature_names, self.columns, strict=True)
        }

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        contract: Contract,
        cap: int,
        ratio_pairs: Iterable[tuple[str, str]] = F.DEFAULT_RATIO_PAIRS,
    ) -> FeatureEncoder:
        """Learn category levels and the ``cap`` most frequent multi-valued items."""
        spec = {
            "event_time": contract.event_time,
            "numeric": contract.by_role("numeric"),
            "boolean": contract.by_role("boolean"),
            "categorical": {
                c: _top_values(frame[c].dropna().astype(str), MAX_CATEGORY_LEVELS)
                for c in contract.by_role("categorical")
            },
            "multi_valued": {
                c: _top_values(pd.Series(F.multi_valued_items(frame[c])[1]), cap)
                for c in contract.by_role("multi_valued")
            },
            "email": contract.by_role("email"),
            "text": contract.by_role("text"),
            "ratios": [list(p) for p in F.ratio_pairs(contract.by_role("numeric"), ratio_pairs)],
            "date_parts": list(F.DATE_PARTS),
        }
        return cls(spec)

    @property
    def reason_labels(self) -> dict[tuple[str, str | None], str]:
        """(feature, value) → human text: ("technographics", "Salesforce") → "uses Salesforce"."""
        return {(c.feature, c.value): c.label for c in self.columns}

    def group_of(self, column: str) -> str:
        """The contract feature an encoded column (by name) belongs to."""
        return self._group[column]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode raw lead rows; missing columns and unseen values never fail.

        Returns:
            float32 array (rows × len(feature_names)); NaN marks a missing number.
        """
        n = len(frame)
        # Column-major while filling (each feature is one contiguous write), then
        # row-major for XGBoost, which copies non-C-contiguous input anyway.
        matrix = np.zeros((n, len(self.columns)), dtype=np.float32, order="F")
        start = 0
        for width, fill in _blocks(self.spec, frame, n):
            fill(matrix[:, start : start + width])
            start += width
        return np.ascontiguousarray(matrix)

    def transform_table(self, table: pa.Table) -> np.ndarray:
        """Encode a small typed Arrow chunk (an online request) without pandas.

        The same matrix as ``transform(table.to_pandas())``, bit for bit, in a fraction
        of the time for a few rows (see ``tasks.features.small``); a table not typed
        as silver types it takes the pandas path.
        """
        encoded = encode_table(self.spec, table, len(self.columns))
        return encoded if encoded is not None else self.transform(table.to_pandas())

    def to_json(self) -> str:
        return json.dumps(self.spec)  # key order is column order: never sort

    @classmethod
    def from_json(cls, text: str) -> FeatureEncoder:
        return cls(json.loads(text))


def _top_values(values: pd.Series, cap: int) -> list[str]:
    counts = values.astype(str).value_counts()
    # Ties broken by name so the same data always gives the same columns.
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [str(v) for v, _ in ordered[:cap]]


def _columns_of(spec: dict[str, Any]) -> Iterable[EncodedColumn]:
    for col in spec["numeric"]:
        yield EncodedColumn(col, col, None, human(col), "numeric")
    for col in spec["boolean"]:
        yield EncodedColumn(col, col, None, human(col), "boolean")
    for col, levels in spec["categorical"].items():
        for level in [*levels, OTHER]:
            text = "another value" if level == OTHER else level
            yield EncodedColumn(f"{col}={level}", col, level, f"{human(col)} is {text}", "onehot")
    for col, items in spec["multi_valued"].items():
        for item in items:
            yield EncodedColumn(f"{col}={item}", col, item, f"uses {item}", "multihot")
        yield EncodedColumn(f"{col}={OTHER}", col, OTHER, f"uses other {human(col)}", "multihot")
    for col in spec["email"]:
        for kind in F.EMAIL_DOMAIN_TYPES:
            yield EncodedColumn(f"{col}:domain={kind}", col, kind, _EMAIL_TEXT[kind], "onehot")
    for col in spec["text"]:
        for level in F.SENIORITY_LEVELS:
            label = f"{_LEVEL_TEXT[level]} {human(col)}"
            yield EncodedColumn(f"{col}:seniority={level}", col, level, label, "onehot")
    if spec["event_time"]:
        for part in spec.get("date_parts", F.LEGACY_DATE_PARTS):
            col = spec["event_time"]
            yield EncodedColumn(f"{col}:{part}", col, part, f"{human(col)} ({part})", "numeric")
    for num, den in spec["ratios"]:
        label = f"{human(num)} per {human(den).removesuffix('s')}"
        yield EncodedColumn(f"{num}_per_{den}", num, f"per {den}", label, "numeric")


def _safe_names(columns: list[EncodedColumn]) -> list[str]:
    """XGBoost refuses '[', ']' and '<' in feature names; names must also be unique."""
    names, seen = [], set()
    for column in columns:
        name = "".join("_" if ch in "[]<," or ch.isspace() else ch for ch in column.name)
        base, k = name, 1
        while name in seen:
            k += 1
            name = f"{base}#{k}"
        seen.add(name)
        names.append(name)
    return names


def _column(frame: pd.DataFrame, name: str, n: int) -> pd.Series:
    """A column of the frame, or all-null when the input lacks it (tolerant scoring)."""
    if name in frame.columns:
        return frame[name].reset_index(drop=True)
    return pd.Series([None] * n, dtype=object)


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _blocks(spec: dict[str, Any], frame: pd.DataFrame, n: int) -> Iterable[tuple[int, Any]]:
    """(width, fill(block)) per feature, in the same order as ``_columns_of``."""
    for col in spec["numeric"]:
        yield 1, _assign(_numbers(_column(frame, col, n)))
    for col in spec["boolean"]:
        yield 1, _assign(_booleans(_column(frame, col, n)))
    for col, levels in spec["categorical"].items():
        yield len(levels) + 1, _one_hot(_column(frame, col, n), levels, other=True)
    for col, items in spec["multi_valued"].items():
        yield len(items) + 1, _multi_hot(_column(frame, col, n), items)
    for col in spec["email"]:
        kinds = F.email_domain_type(_column(frame, col, n))
        yield len(F.EMAIL_DOMAIN_TYPES), _one_hot(pd.Series(kinds), list(F.EMAIL_DOMAIN_TYPES))
    for col in spec["text"]:
        levels = F.title_seniority(_column(frame, col, n))
        yield len(F.SENIORITY_LEVELS), _one_hot(pd.Series(levels), list(F.SENIORITY_LEVELS))
    if spec["event_time"]:
        parts = F.date_parts(_column(frame, spec["event_time"], n))
        for part in spec.get("date_parts", F.LEGACY_DATE_PARTS):
            yield 1, _assign(parts[part])
    for num, den in spec["ratios"]:
        yield 1, _assign(F.engagement_ratio(_column(frame, num, n), _column(frame, den, n)))


def _assign(values: np.ndarray) -> Any:
    def fill(block: np.ndarray) -> None:
        block[:, 0] = values

    return fill


def _booleans(series: pd.Series) -> np.ndarray:
    if series.dtype == bool:
        return series.to_numpy(dtype="float64")
    mapped = series.map(
        lambda v: _TRUTH.get(str(v).strip().lower(), np.nan) if v is not None else np.nan
    )
    return mapped.to_numpy(dtype="float64", na_value=np.nan)


_TRUTH = {
    "true": 1.0,
    "1": 1.0,
    "yes": 1.0,
    "t": 1.0,
    "1.0": 1.0,
    "false": 0.0,
    "0": 0.0,
    "no": 0.0,
    "f": 0.0,
    "0.0": 0.0,
}


def _one_hot(series: pd.Series, levels: list[str], other: bool = False) -> Any:
    def fill(block: np.ndarray) -> None:
        present = series.notna().to_numpy()
        values = (
            series if pd.api.types.is_string_dtype(series) else series.astype(str).where(present)
        )
        codes = pd.Categorical(values, categories=levels).codes
        rows = np.flatnonzero(codes >= 0)
        block[rows, codes[rows]] = 1.0
        if other:  # an unseen or rare level lights "(other)"; a missing one lights nothing
            block[np.flatnonzero((codes < 0) & present), len(levels)] = 1.0

    return fill


def _multi_hot(series: pd.Series, items: list[str]) -> Any:
    def fill(block: np.ndarray) -> None:
        rows, values = F.multi_valued_items(series)
        codes = pd.Categorical(values, categories=items).codes
        codes = np.where(codes < 0, len(items), codes)  # not in the capped vocabulary → other
        block[rows, codes] = 1.0

    return fill
