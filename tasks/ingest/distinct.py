"""Distinct values per column, grouped so GX checks each value once, not once per row.

Every row expectation of the suites is a single-column map check: whether a row
passes depends only on that row's value in one column. Checking each distinct
value once and mapping the failing values back to the rows holding them gives the
same failing rows as checking every row, at a fraction of the cost (a chunk of
200k leads holds 6 lead sources, 11 unparsed flags of one value each, a few
thousand company sizes). Columns whose counts of distinct values are close go into
one frame (shorter columns padded by repeating a value), so GX runs a few small
frames per chunk rather than one frame per column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Checks whose outcome for a row is a function of that row's value alone (GX 1.x
# names). Anything else (unique, increasing, multi-column, ...) sees the full chunk.
PER_VALUE_TYPES = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between", "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex", "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list", "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal", "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern",
})
# A column joins a group when its distinct count is at least this share of the group's
# largest: padding then costs at most this factor in rows checked.
GROUP_SPREAD = 16


@dataclass
class DistinctColumn:
    """One column's distinct values and, per row, the position of its value among them."""

    name: str
    values: pd.Series
    codes: np.ndarray

    def rows_with(self, positions: list[int]) -> np.ndarray:
        """Row positions whose value sits at one of ``positions`` of a padded group frame."""
        # Padding repeats the last distinct value, so a position past the end stands for it.
        failing = np.minimum(np.asarray(positions, dtype=np.int64), len(self.values) - 1)
        return np.flatnonzero(np.isin(self.codes, failing))


def distinct(frame: pd.DataFrame, name: str) -> DistinctColumn:
    """The distinct values of one column (nulls kept, as one value) and each row's code."""
    column = frame[name].reset_index(drop=True)
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
    except TypeError:  # unhashable values (lists): every row is its own value
        return DistinctColumn(name, column, np.arange(len(column)))
    values = pd.Series(uniques, dtype=column.dtype) if len(uniques) else column.iloc[:0]
    return DistinctColumn(name, values.reset_index(drop=True), codes)


def groups(columns: list[DistinctColumn]) -> Iterator[tuple[pd.DataFrame, list[DistinctColumn]]]:
    """Frames of distinct values, columns of similar counts together (largest first)."""
    pending = sorted((c for c in columns if len(c.values)), key=lambda c: -len(c.values))
    while pending:
        longest = len(pending[0].values)
        group = [c for c in pending if len(c.values) * GROUP_SPREAD >= longest]
        pending = pending[len(group):]
        positions = np.arange(longest)
        frame = pd.DataFrame({c.name: c.values.take(np.minimum(positions, len(c.values) - 1))
                              .reset_index(drop=True) for c in group})
        yield frame, group
