"""SHAP contributions → short reasons a sales reader follows.

"uses Salesforce: raises the score strongly (+0.81 log-odds)". Contributions come per
encoded column; a person thinks per feature. One-hot columns of a categorical are
summed into one reason labelled with the lead's own value ("source is referral"); each
technographic item stays its own reason ("uses Salesforce" / "does not use
Salesforce"); numbers read as facts ("created on a Monday", "no form fills yet",
"about 1 form fill per 11 page views"). The direction and size come in words, then
the raw contribution with its unit (log-odds: +0.7 roughly doubles the odds of
converting), which machines and the scores file's metadata keep.
Everything is vectorised over rows, so the cost stays the SHAP computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tasks.features.encoder import EncodedColumn, FeatureEncoder, human


@dataclass(frozen=True)
class ReasonUnit:
    """Encoded columns whose contributions are read as one reason."""

    feature: str
    columns: tuple[int, ...]
    kind: str  # "value": a number; "choice": one-hot group; "flag": on/off indicator
    labels: tuple[str, ...]
    part: str | None = None  # a value's derived part: "weekday", "hour", "month", "per <den>"


def reason_units(encoder: FeatureEncoder) -> list[ReasonUnit]:
    """Group the encoder's columns into reason units, in column order."""
    units: list[ReasonUnit] = []
    groups: dict[str, list[int]] = {}
    for index, column in enumerate(encoder.columns):
        if column.kind == "onehot":
            if column.feature not in groups:
                groups[column.feature] = []
                units.append(ReasonUnit(column.feature, (), "choice", ()))  # filled below
            groups[column.feature].append(index)
        elif column.kind in ("multihot", "boolean"):
            units.append(ReasonUnit(column.feature, (index,), "flag", _flag_labels(column)))
        else:
            units.append(
                ReasonUnit(column.feature, (index,), "value", (column.label,), column.value)
            )
    return [_filled(u, groups, encoder.columns) if u.kind == "choice" else u for u in units]


def _filled(
    unit: ReasonUnit, groups: dict[str, list[int]], columns: list[EncodedColumn]
) -> ReasonUnit:
    indices = tuple(groups[unit.feature])
    # Which column is lit depends on the row; the last label covers "none lit" (missing).
    labels = tuple(columns[i].label for i in indices) + (unknown_text(human(unit.feature)),)
    return ReasonUnit(unit.feature, indices, "choice", labels)


def _flag_labels(column: EncodedColumn) -> tuple[str, str, str]:
    if column.kind == "boolean":
        return column.label, f"no {column.label}", unknown_text(column.label)
    off = (
        column.label.replace("uses ", "does not use ", 1)
        if column.label.startswith("uses ")
        else f"not {column.label}"
    )
    return column.label, off, off


UNKNOWN = "unknown (not used)"


def unknown_text(label: str) -> str:
    """A feature without a value: named as unknown, never credited with a push.

    Its contribution still counts in the score (the model learned a default for it,
    tasks.training.missingness); the reason says there was nothing to read, so a
    sales reader does not take "legacy lead score unknown: raises the score" as a fact
    about the lead.
    """
    return f"{label}: {UNKNOWN}"


def unit_unknown(unit: ReasonUnit, encoded: np.ndarray) -> np.ndarray:
    """Per row, whether ``unit``'s feature had no value (NaN, or no level of a choice lit)."""
    block = encoded[:, list(unit.columns)]
    if unit.kind == "choice":
        return ~(block.max(axis=1) > 0)
    return np.isnan(block[:, 0])


def unit_matrix(units: list[ReasonUnit], width: int) -> np.ndarray:
    """(encoded columns × units) 0/1 matrix: contributions @ matrix sums each unit."""
    matrix = np.zeros((width, len(units)), dtype=np.float32)
    for u, unit in enumerate(units):
        matrix[list(unit.columns), u] = 1.0
    return matrix


def unit_text(unit: ReasonUnit, encoded: np.ndarray) -> np.ndarray:
    """The reason text of ``unit`` for each row of the encoded matrix."""
    block = encoded[:, list(unit.columns)]
    if unit.kind == "choice":
        lit = np.where(block.max(axis=1) > 0, block.argmax(axis=1), len(unit.columns))
        return np.asarray(unit.labels, dtype=object)[lit]
    if unit.kind == "flag":
        state = np.where(np.isnan(block[:, 0]), 2, np.where(block[:, 0] > 0, 0, 1))
        return np.asarray(unit.labels, dtype=object)[state]
    return np.asarray([value_text(unit.labels[0], unit.part, v) for v in block[:, 0]], dtype=object)


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def value_text(label: str, part: str | None, value: float) -> str:
    """A number as a fact about the lead: "created on a Monday", "no form fills yet"."""
    if part in ("weekday", "hour", "month"):
        done = label.split(" (")[0].removesuffix(" at").removesuffix(" on")  # "created"
        if np.isnan(value):
            return unknown_text(f"{done} date")
        if part == "weekday":
            return f"{done} on a {_DAYS[int(value) % 7]}"
        if part == "hour":
            return f"{done} at {int(value):02d}:00 UTC"
        return f"{done} in {_MONTHS[(int(value) - 1) % 12]}"
    if np.isnan(value):
        return unknown_text(label)
    if part and part.startswith("per ") and " per " in label:
        things, per = label.split(" per ", 1)  # "form fills", "page view"
        if value == 0:
            return f"no {things} yet"
        if value < 1:
            return f"about 1 {things.removesuffix('s')} per {round(1 / value)} {per}s"
        return f"{value:.2g} {things} per {per}"
    if value == 0 and label.endswith("s"):
        return f"no {label} yet"
    # Whole numbers and large ones with digit groups (931,862, not 9.32e+05). "=" and not
    # ":" because the reason adds ": raises ..." after it ("page views: 39: raises" read badly).
    whole = float(value).is_integer() or abs(value) >= 1000
    return f"{label} = {value:,.0f}" if whole else f"{label} = {value:.3g}"


# The deal-value model's contributions are in log amount (its log link or log target):
# the same words and strengths read right, since +0.7 roughly doubles either quantity.
CONVERSION_SCALE = ("the score", "log-odds")
VALUE_SCALE = ("the deal value", "log value")


def effect_text(value: float, scale: tuple[str, str] = CONVERSION_SCALE) -> str:
    """Direction and size in words, then the raw contribution with its unit."""
    size = abs(value)
    strength = "strongly" if size >= 0.7 else "clearly" if size >= 0.3 else "slightly"
    direction = "raises" if value >= 0 else "lowers"
    subject, unit = scale
    return f"{direction} {subject} {strength} ({value:+.2f} {unit})"


def top_reasons(
    contributions: np.ndarray,
    encoded: np.ndarray,
    units: list[ReasonUnit],
    top_k: int = 3,
    scale: tuple[str, str] = CONVERSION_SCALE,
) -> pd.DataFrame:
    """The ``top_k`` reasons per row by absolute contribution (log-odds), as text.

    Args:
        contributions: (rows × encoded columns [+ bias]) SHAP values; a trailing bias
            column is ignored.
        encoded: the encoded rows the contributions were computed on.
        units: from ``reason_units``.
        top_k: reasons per row.

    Returns:
        Columns ``reason_1`` … ``reason_k``, e.g.
        "uses Salesforce: raises the score slightly (+0.12 log-odds)".
    """
    texts = top_reason_texts(contributions, encoded, units, top_k, scale=scale)
    return pd.DataFrame({f"reason_{rank + 1}": column for rank, column in enumerate(texts)})


def top_reason_texts(
    contributions: np.ndarray,
    encoded: np.ndarray,
    units: list[ReasonUnit],
    top_k: int = 3,
    matrix: np.ndarray | None = None,
    scale: tuple[str, str] = CONVERSION_SCALE,
) -> list[np.ndarray]:
    """``top_reasons`` as one object array per rank (no DataFrame: an online request's reasons).

    Args:
        matrix: ``unit_matrix(units, width)`` when the caller keeps it (it depends only on units).
    """
    width = encoded.shape[1]
    per_unit = contributions[:, :width] @ (unit_matrix(units, width) if matrix is None else matrix)
    k = min(top_k, len(units))
    order = np.argsort(-np.abs(per_unit), axis=1, kind="stable")[:, :k]
    result = []
    for rank in range(k):
        texts = np.empty(len(encoded), dtype=object)
        for u in np.unique(order[:, rank]):
            rows = np.flatnonzero(order[:, rank] == u)
            values = per_unit[rows, u]
            labels = unit_text(units[u], encoded[rows])
            unknown = unit_unknown(units[u], encoded[rows])
            texts[rows] = [
                label if blank else f"{label}: {effect_text(value, scale)}"
                for label, value, blank in zip(labels, values, unknown, strict=True)
            ]
        result.append(texts)
    return result
