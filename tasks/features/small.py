"""The encoder path for a small typed Arrow chunk: an online request of one to a few hundred leads.

``FeatureEncoder.transform`` reads a pandas frame and builds a few pandas objects per
column; on a one-lead request that costs 8-19 ms against ~1 ms for the prediction. Here
every column goes from its Arrow array to its block of the matrix with pyarrow.compute
and numpy only. The values are the same float32s bit for bit (tests/unit/test_features.py
compares both paths on random leads), so online and batch scores cannot drift apart.

Only silver's own Arrow types take this path (those of ``leadops.inputs.contract.ARROW_TYPES``,
integers for numbers); a table typed otherwise (raw text cells, say) returns None and the
caller uses the pandas path, which parses anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tasks.features import rows as F

Fill = Callable[[np.ndarray], None]
FEW_ROWS = 32
_TYPES: dict[str, Callable[[pa.DataType], bool]] = {
    "numeric": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "boolean": pa.types.is_boolean,
    "categorical": pa.types.is_string,
    "multi_valued": lambda t: pa.types.is_list(t) and pa.types.is_string(t.value_type),
    "email": pa.types.is_string,
    "text": pa.types.is_string,
    "event_time": pa.types.is_timestamp,
}
_NULL_TYPES = {
    "numeric": pa.float64(),
    "boolean": pa.bool_(),
    "categorical": pa.string(),
    "multi_valued": pa.list_(pa.string()),
    "email": pa.string(),
    "text": pa.string(),
    "event_time": pa.timestamp("us", tz="UTC"),
}


def encode_table(spec: dict[str, Any], table: pa.Table, width: int) -> np.ndarray | None:
    """The encoded matrix of ``table`` (rows × ``width``, float32), or None if its types differ.

    Args:
        spec: the fitted encoder's spec (column order as ``FeatureEncoder.columns``).
        table: typed lead rows; missing columns read as all-null, as in the pandas path.
        width: number of encoded columns.
    """
    columns = _columns(spec, table)
    if columns is None:
        return None
    matrix = np.zeros((table.num_rows, width), dtype=np.float32)
    start = 0
    for block_width, fill in _blocks(spec, columns):
        fill(matrix[:, start : start + block_width])
        start += block_width
    return matrix


def _columns(spec: dict[str, Any], table: pa.Table) -> dict[str, pa.Array] | None:
    """Each column the spec reads as one Arrow array; None when a present one is typed otherwise."""
    wanted = [(c, "numeric") for c in spec["numeric"]] + [(c, "boolean") for c in spec["boolean"]]
    wanted += [(c, "categorical") for c in spec["categorical"]]
    wanted += [(c, "multi_valued") for c in spec["multi_valued"]]
    wanted += [(c, "email") for c in spec["email"]] + [(c, "text") for c in spec["text"]]
    wanted += [(spec["event_time"], "event_time")] if spec["event_time"] else []
    wanted += [(c, "numeric") for pair in spec["ratios"] for c in pair]
    present = dict(zip(table.schema.names, table.columns, strict=True))
    columns: dict[str, pa.Array] = {}
    for name, role in wanted:
        if name in columns:
            continue
        if name in present:
            column = present[name]
            if not _TYPES[role](column.type):
                return None
            column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        else:
            column = pa.nulls(table.num_rows, _NULL_TYPES[role])
        columns[name] = column
    return columns


def _blocks(spec: dict[str, Any], columns: dict[str, pa.Array]) -> Iterable[tuple[int, Fill]]:
    """(width, fill(block)) per feature, in the order of ``encoder._columns_of``."""
    for col in spec["numeric"]:
        yield 1, _assign(_floats(columns[col]))
    for col in spec["boolean"]:
        yield 1, _assign(_floats(columns[col]))  # true 1.0, false 0.0, null NaN: as the pandas path
    for col, levels in spec["categorical"].items():
        yield len(levels) + 1, _one_hot(columns[col], levels)
    for col, items in spec["multi_valued"].items():
        yield len(items) + 1, _multi_hot(columns[col], items)
    for col in spec["email"]:
        yield len(F.EMAIL_DOMAIN_TYPES), _lit(F.email_kinds(columns[col]), F.EMAIL_DOMAIN_TYPES)
    for col in spec["text"]:
        yield len(F.SENIORITY_LEVELS), _lit(_seniority(columns[col]), F.SENIORITY_LEVELS)
    if spec["event_time"]:
        for part in _date_parts(columns[spec["event_time"]]):
            yield 1, _assign(part)
    for num, den in spec["ratios"]:
        yield 1, _assign(F.ratio_of(_floats(columns[num]), _floats(columns[den])))


def _floats(column: pa.Array) -> np.ndarray:
    """float64 values, NaN for null (silver's numbers are float64 already: no cast)."""
    if column.type != pa.float64():
        # safe=False: an integer beyond 2**53 rounds, as pandas' to_numpy(float64) rounds it.
        column = pc.cast(column, pa.float64(), safe=False)
    return column.to_numpy(zero_copy_only=False)


def _assign(values: np.ndarray) -> Fill:
    def fill(block: np.ndarray) -> None:
        block[:, 0] = values

    return fill


def _one_hot(column: pa.Array, levels: list[str]) -> Fill:
    def fill(block: np.ndarray) -> None:
        codes = _codes(column, levels)
        rows = np.flatnonzero(codes >= 0)
        block[rows, codes[rows]] = 1.0
        # An unseen or rare level lights "(other)"; a missing one lights nothing.
        present = column.is_valid().to_numpy(zero_copy_only=False)
        block[np.flatnonzero((codes < 0) & present), len(levels)] = 1.0

    return fill


def _multi_hot(column: pa.Array, items: list[str]) -> Fill:
    def fill(block: np.ndarray) -> None:
        rows, values = F.list_items(column)
        codes = _codes(pa.array(values, pa.string()), items)  # values: the trimmed items
        block[rows, np.where(codes < 0, len(items), codes)] = 1.0  # not in the vocabulary → other

    return fill


def _codes(values: pa.Array, levels: list[str]) -> np.ndarray:
    """Index of each value in ``levels``; -1 for a value not there or missing.

    A dict lookup per value for a few rows (cheaper than one Arrow kernel call), the
    kernel for more; both match exactly equal strings only.
    """
    if len(values) <= FEW_ROWS:
        position = {level: i for i, level in enumerate(levels)}
        return np.fromiter((position.get(v, -1) for v in values.to_pylist()), np.int64, len(values))
    found = pc.index_in(values, value_set=pa.array(levels, pa.string()))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False)


def _lit(kinds: np.ndarray, levels: tuple[str, ...]) -> Fill:
    """One-hot of values that are always one of ``levels`` (email kinds, seniority levels)."""
    position = {level: i for i, level in enumerate(levels)}

    def fill(block: np.ndarray) -> None:
        block[np.arange(len(kinds)), [position[k] for k in kinds]] = 1.0

    return fill


def _seniority(titles: pa.Array) -> np.ndarray:
    encoded = titles.dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return F.title_levels(encoded.dictionary.to_pylist(), codes)


def _date_parts(times: pa.Array) -> list[np.ndarray]:
    """Weekday (Monday=0), hour and month in UTC, in the order of ``rows.DATE_PARTS``."""
    if times.type.tz is not None:  # the same instant in UTC; a naive time already reads as UTC
        times = pc.cast(times, pa.timestamp(times.type.unit, tz="UTC"))
    parts = {"weekday": pc.day_of_week(times), "hour": pc.hour(times), "month": pc.month(times)}
    return [_floats(parts[part]) for part in F.DATE_PARTS]
