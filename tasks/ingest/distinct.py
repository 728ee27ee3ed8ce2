"""Distinct values per column, grouped so GX checks each value once, not once per row.

Every row expectation of the suites is a single-column map check: whether a row
passes depends only on that row's value in one column. Checking each distinct
value once and mapping the failing values back to the rows holding them gives the
same failing rows as checking every row, at a fraction of the cost (a chunk of
200k leads holds 6 lead sources, 11 unparsed flags of one value each, a few
thousand company sizes). The verdicts on the values of low-cardinality columns
are remembered for the run (``ValueMemo``), so later chunks check only values not
seen before. Columns whose counts of values to check are close go into one frame
(shorter columns padded by repeating a value): GX runs a few small frames per chunk.

Some checks depend on less than the value, which matters for columns where nearly
every value is distinct (ids, times, amounts): a null check depends on whether the
value is null, a length check on its length (``keyed``: one value per key is
checked), and a range check is monotone, so when a column's smallest and largest
values pass, every value between them does (``extremes``; otherwise the range
check runs on the distinct values). Each is exact, not a sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Checks whose outcome for a row is a function of that row's value alone (GX 1.x
# names). Anything else (unique, increasing, multi-column, ...) sees the full chunk.
PER_VALUE_TYPES = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
    }
)
# Checks whose outcome for a value depends only on whether it is null, or on its length.
KEYED_TYPES = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
    }
)
LENGTH_TYPES = frozenset(
    {"expect_column_value_lengths_to_be_between", "expect_column_value_lengths_to_equal"}
)
# Checks that pass for every value between two values that pass (an interval).
RANGE_TYPES = frozenset({"expect_column_values_to_be_between"})
# A column joins a group when its count of values is at least this share of the group's
# largest: padding then costs at most this factor in values checked.
GROUP_SPREAD = 16
# Verdicts are remembered for columns with at most this many values in a chunk, and at
# most MEMO_LIMIT per column (ids, emails and timestamps are checked chunk by chunk).
MEMO_PER_CHUNK = 5_000
MEMO_LIMIT = 50_000
# Frames of at most this many values are grouped whatever their spread: padding is free.
SMALL_GROUP = 1_000


@dataclass
class DistinctColumn:
    """One column of a chunk: its distinct values, the ones GX must check, the verdicts."""

    name: str
    count: int  # distinct values in the chunk (null counted as one)
    codes: np.ndarray  # per row: its value's index among the distinct values
    values: pd.Series  # the values to check (not seen before), typed as the column
    unseen: np.ndarray  # per entry of ``values``: its index among the distinct values
    keys: list[Any] | None = None  # per distinct value (null as None), when remembered
    failed: dict[int, list[str]] = field(default_factory=dict)  # distinct value → names
    memo: str | None = None  # where ValueMemo keeps its verdicts

    def fail(self, positions: list[int], name: str) -> None:
        """Record that the checked values at ``positions`` of a padded group frame fail ``name``."""
        # Padding repeats the last value, so a position past the end stands for it.
        last = len(self.values) - 1
        for index in {int(self.unseen[min(p, last)]) for p in positions}:
            self.failed.setdefault(index, []).append(name)

    def failures(self) -> list[tuple[int, str]]:
        """(row position, expectation name) for every check a row of the chunk fails."""
        if not self.failed:
            return []
        bad = np.zeros(self.count, dtype=bool)
        bad[list(self.failed)] = True
        rows = np.flatnonzero(bad[self.codes])
        return [(int(row), name) for row in rows for name in self.failed[int(self.codes[row])]]


@dataclass
class ValueMemo:
    """Verdicts already given in this run, per column: value → failed expectation names."""

    verdicts: dict[str, dict[Any, tuple[str, ...]]] = field(default_factory=dict)

    def distinct(self, frame: pd.DataFrame, name: str, memo: str | None = None) -> DistinctColumn:
        """The column's distinct values (nulls as one value), verdicts known so far filled in.

        Args:
            memo: the name the verdicts are kept under (default the column's): a column
                checked against different sets of expectations keeps one memo per set.
        """
        column = frame[name].reset_index(drop=True)
        try:
            codes, uniques = pd.factorize(column, use_na_sentinel=False)
        except TypeError:  # unhashable values (lists): every row is its own value
            codes, uniques = np.arange(len(column)), column
        uniques = pd.Series(uniques, dtype=column.dtype)
        memo = memo or name
        if len(uniques) > MEMO_PER_CHUNK or len(self.verdicts.get(memo, {})) >= MEMO_LIMIT:
            # Too many values to remember: all of them are checked in this chunk.
            return DistinctColumn(
                name, len(uniques), codes, uniques, np.arange(len(uniques), dtype=np.int64)
            )
        keys = [
            None if null else value
            for value, null in zip(uniques.tolist(), uniques.isna(), strict=True)
        ]
        return self.select(name, memo, codes, uniques, keys)

    def select(
        self, name: str, memo: str, codes: np.ndarray, values: pd.Series, keys: list[Any]
    ) -> DistinctColumn:
        """``values[i]`` stands for the rows of code i, whose verdicts are those of
        ``keys[i]``; values whose key has a remembered verdict are not checked again."""
        known = self.verdicts.get(memo, {})
        unseen = np.array([i for i, key in enumerate(keys) if key not in known], dtype=np.int64)
        failed = {i: list(known[key]) for i, key in enumerate(keys) if known.get(key)}
        return DistinctColumn(
            name,
            len(values),
            codes,
            values.take(unseen).reset_index(drop=True),
            unseen,
            keys,
            failed,
            memo,
        )

    def remember(self, column: DistinctColumn) -> None:
        """Keep the verdicts of a low-cardinality column for later chunks."""
        if column.keys is None:
            return
        known = self.verdicts.setdefault(column.memo or column.name, {})
        for index in column.unseen:
            known[column.keys[index]] = tuple(column.failed.get(int(index), ()))


def keyed(
    frame: pd.DataFrame, name: str, lengths: bool, memo: ValueMemo, memo_name: str
) -> DistinctColumn | None:
    """One value per key of the column: null or not, and its length when ``lengths``;
    keys whose verdicts ``memo`` holds are not checked again.

    None when a length cannot be taken of every non-null value (not text): then the
    checks run on the distinct values.
    """
    column = frame[name].reset_index(drop=True)
    null = column.isna().to_numpy()
    key = null.astype(np.int64)
    if lengths:
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            return None
        try:
            size = column.str.len()
        except AttributeError:  # a column of other objects
            return None
        if not np.array_equal(size.isna().to_numpy(), null):
            return None
        key = np.where(null, -1, size.fillna(-1).to_numpy(dtype=np.int64))
    codes, uniques = pd.factorize(key)
    _, first = np.unique(codes, return_index=True)
    values = column.take(first).reset_index(drop=True)
    return memo.select(name, memo_name, codes, values, [int(k) for k in uniques])


@dataclass
class PassingRange:
    """Per column, the lowest and highest values that passed its range checks: every
    value between two passing values passes too, so a later chunk whose extremes lie
    inside needs no check."""

    bounds: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def covers(self, name: str, ends: pd.Series) -> bool:
        if ends.isna().any():
            return bool(ends.isna().all())  # no values: nothing to check
        low, high = self.bounds.get(name, (None, None))
        return low is not None and low <= ends.iloc[0] and ends.iloc[1] <= high

    def widen(self, name: str, ends: pd.Series) -> None:
        """``ends`` passed: the range known to pass grows to include them."""
        if ends.isna().any():
            return
        low, high = self.bounds.get(name, (ends.iloc[0], ends.iloc[1]))
        self.bounds[name] = (min(low, ends.iloc[0]), max(high, ends.iloc[1]))


def extremes(frame: pd.DataFrame, name: str) -> pd.Series | None:
    """The column's smallest and largest non-null values (two nulls when it has none);
    None when its values have no order (then its range checks see every value)."""
    column = frame[name]
    try:
        low, high = column.min(), column.max()  # nulls skipped
    except TypeError:
        return None
    if pd.isna(low):
        return pd.Series([None, None], dtype=column.dtype)
    return pd.Series([low, high], dtype=column.dtype)


def groups(columns: list[DistinctColumn]) -> Iterator[tuple[pd.DataFrame, list[DistinctColumn]]]:
    """Frames of values to check, columns of similar counts together (largest first)."""
    pending = sorted((c for c in columns if len(c.values)), key=lambda c: -len(c.values))
    while pending:
        longest = len(pending[0].values)
        group = [
            c for c in pending if len(c.values) * GROUP_SPREAD >= longest or longest <= SMALL_GROUP
        ]
        pending = pending[len(group) :]
        positions = np.arange(longest)
        frame = pd.DataFrame(
            {
                c.name: c.values.take(np.minimum(positions, len(c.values) - 1)).reset_index(
                    drop=True
                )
                for c in group
            }
        )
        yield frame, group
