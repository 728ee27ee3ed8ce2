"""Great Expectations 1.x validation of whole chunks, routed back to rows.

One ephemeral context per run. Column-map expectations run with ``result_format``
COMPLETE so ``unexpected_index_list`` tells which rows failed which expectation;
those whose outcome depends on one value alone run on each chunk's distinct values
(``tasks.ingest.distinct``) and fail the rows holding a failing value, the others
on the whole chunk. Table-level ones (a required column exists) run once per file
on its header and fail the file.

GX costs seconds to import, so it is imported here, lazily, on first use.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from leadops.errors import one_line
from leadops.inputs.normalise import UNPARSED_SUFFIX
from tasks.ingest.distinct import (
    KEYED_TYPES,
    LENGTH_TYPES,
    PER_VALUE_TYPES,
    RANGE_TYPES,
    DistinctColumn,
    PassingRange,
    ValueMemo,
    extremes,
    groups,
    keyed,
)
from tasks.ingest.suites import AS_OF_PARAMETER, FILE_LEVEL_TYPES, SuiteError

ROW_RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 0}


def _gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    # GX pins this module's logger at INFO, which prints a temp-folder line per context.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    return gx


class SuiteValidator:
    """Runs one expectation suite against files and chunks of one ingest run."""

    def __init__(self, suite: dict[str, Any], as_of: datetime) -> None:
        gx = _gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.name = suite.get("name", "suite")
        self.as_of = pd.Timestamp(as_of)
        self.seconds = 0.0
        context = gx.get_context(mode="ephemeral")
        # Progress bars would interleave with Prefect's log lines on every chunk.
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("ingest").add_dataframe_asset(self.name)
        self._batches = asset.add_batch_definition_whole_dataframe("chunk")
        items = suite.get("expectations", [])
        file_items = [e for e in items if e["type"] in FILE_LEVEL_TYPES]
        row_items = [e for e in items if e["type"] not in FILE_LEVEL_TYPES]
        self._row_columns = _columns_read(row_items)
        self._implied = _implied_by_parse_failure(row_items)
        # A conditional expectation reads two columns: it cannot be decided per value.
        self._per_value = [
            e
            for e in row_items
            if e["type"] in PER_VALUE_TYPES
            and "column" in e.get("kwargs", {})
            and not e["kwargs"].get("row_condition")
        ]
        self._by_column: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in self._per_value:
            self._by_column[item["kwargs"]["column"]].append(item)
        self._suites: dict[tuple[str, ...], Any] = {}
        self._memo = ValueMemo()
        self._ranges = PassingRange()
        self._file_suite = self._suite("file", file_items)
        self._row_suite = self._suite("rows", row_items)
        self._whole_suite = self._suite("whole", [e for e in row_items if e not in self._per_value])

    def _suite(self, part: str, items: list[dict[str, Any]]) -> Any:
        try:
            return _gx().ExpectationSuite(name=f"{self.name}-{part}", expectations=items)
        except Exception as exc:  # GX raises its own validation errors for bad configs
            raise SuiteError(
                f"expectation suite {self.name}: cannot be loaded ({one_line(exc)})"
            ) from exc

    def _value_suite(self, items: list[dict[str, Any]]) -> Any:
        """A suite of these per-value expectations (kept: chunks ask for the same ones)."""
        key = tuple(e["meta"]["name"] for e in items)
        if key not in self._suites:
            self._suites[key] = self._suite("values", items)
        return self._suites[key]

    def file_failures(self, columns: list[str]) -> list[str]:
        """Names of the file-level expectations a file with these columns fails."""
        header = pd.DataFrame(columns=list(columns), dtype=object)
        results = self._run(self._file_suite, header, "BOOLEAN_ONLY")
        return [name for name, result in results if not result.success]

    def row_failures(self, typed: pd.DataFrame) -> pd.Series:
        """Failed expectation names for each failing row of a typed chunk.

        Returns:
            A Series indexed by the failing rows' index labels, each value a list of
            expectation names in suite order; rows that pass are absent.
        """
        started, spent_before = time.perf_counter(), self.seconds
        failed: dict[Any, list[str]] = defaultdict(list)
        # An unnamed index: GX reports a named one as {name: label} dicts instead of labels.
        frame = typed[[c for c in self._row_columns if c in typed.columns]].rename_axis(None)
        by_value = len(frame) > 0 and all(
            e["kwargs"]["column"] in frame.columns for e in self._per_value
        )
        # A column the frame lacks makes GX raise (a suite bug): the whole suite shows it.
        whole = self._whole_suite if by_value else self._row_suite
        if whole.expectations:
            for name, result in self._run(whole, frame, ROW_RESULT_FORMAT):
                for label in result.result.get("unexpected_index_list") or []:
                    failed[label].append(name)
        for position, name in self._value_failures(frame) if by_value else []:
            failed[frame.index[position]].append(name)
        for names in failed.values():
            # "abc" in a required column fails its parse check; "not null" would be
            # true but noise, so the more specific reason stands alone.
            for implied in [self._implied[n] for n in names if n in self._implied]:
                if implied in names:
                    names.remove(implied)
        order = {name: i for i, name in enumerate(self.row_expectation_names)}
        labels = typed.index[typed.index.isin(list(failed))]
        named = pd.Series(
            [sorted(failed[label], key=order.__getitem__) for label in labels],
            index=labels,
            dtype=object,
        )
        # The whole step counts as validation, finding distinct values included.
        self.seconds = spent_before + time.perf_counter() - started
        return named

    def _value_failures(self, frame: pd.DataFrame) -> list[tuple[int, str]]:
        """(row position, expectation name) for every per-value check a row fails.

        First each column's few telling values (one per key for null and length
        checks, the extremes for range checks), all columns in one small frame and
        only those without a remembered verdict; then the distinct values, for the
        other checks and for range checks whose extremes failed
        (``tasks.ingest.distinct``).
        """
        short = {unit.column.name: unit for unit in self._short_units(frame)}
        types = {e["meta"]["name"]: e["type"] for e in self._per_value}
        widened: set[str] = set()
        for values, group in groups([unit.column for unit in short.values()]):
            items = [e for column in group for e in short[column.name].checked]
            for name, result in self._run(self._value_suite(items), values, ROW_RESULT_FORMAT):
                positions = result.result.get("unexpected_index_list") or []
                unit = short[result.expectation_config.kwargs["column"]]
                if types[name] in RANGE_TYPES:
                    if positions:
                        widened.add(unit.column.name)
                else:  # past the keys come the extremes and padding: the keys' verdicts suffice
                    unit.column.fail([p for p in positions if p < unit.keys], name)
        found = []
        for unit in short.values():
            if unit.ends is not None and unit.column.name not in widened:
                self._ranges.widen(unit.column.name, unit.ends)
            self._memo.remember(unit.column)
            found += unit.column.failures()
        by_value = []
        for column, items in self._by_column.items():
            decided = short[column].decided if column in short else []
            value_items = [
                e
                for e in items
                if e not in decided or (e["type"] in RANGE_TYPES and column in widened)
            ]
            if value_items:
                memo = "|".join([column, *(e["meta"]["name"] for e in value_items)])
                by_value.append((self._memo.distinct(frame, column, memo), value_items))
        return found + self._checked(by_value)

    def _short_units(self, frame: pd.DataFrame) -> list[ShortUnit]:
        """Per column, the checks decided without its distinct values (see ShortUnit)."""
        units = []
        for column, items in self._by_column.items():
            keyed_items = [e for e in items if e["type"] in KEYED_TYPES]
            range_items = [e for e in items if e["type"] in RANGE_TYPES]
            lengths = any(e["type"] in LENGTH_TYPES for e in keyed_items)
            memo = "|".join([column, "keys", *(e["meta"]["name"] for e in keyed_items)])
            unit = keyed(frame, column, lengths, self._memo, memo) if keyed_items else None
            ends = extremes(frame, column) if range_items else None
            known = ends is not None and self._ranges.covers(column, ends)
            decided = (keyed_items if unit is not None else []) + (
                range_items if ends is not None else []
            )
            if not decided:
                continue
            checked = (keyed_items if unit is not None else []) + (
                range_items if ends is not None and not known else []
            )
            if unit is None:
                no_rows = np.zeros(len(frame), np.int64)
                unit = DistinctColumn(column, 0, no_rows, ends.iloc[:0], np.zeros(0, np.int64))
            keys = len(unit.values)
            if ends is not None and not known:
                unit.values = pd.concat([unit.values, ends], ignore_index=True)
            units.append(ShortUnit(unit, keys, decided, checked, None if known else ends))
        return units

    def _checked(
        self, units: list[tuple[DistinctColumn, list[dict[str, Any]]]]
    ) -> list[tuple[int, str]]:
        """Run each unit's expectations on its values; the rows holding failing ones."""
        items_of = {unit.name: items for unit, items in units}
        for values, group in groups([unit for unit, _ in units]):
            suite = self._value_suite([e for unit in group for e in items_of[unit.name]])
            by_name = {unit.name: unit for unit in group}
            for name, result in self._run(suite, values, ROW_RESULT_FORMAT):
                positions = result.result.get("unexpected_index_list") or []
                if positions:
                    by_name[result.expectation_config.kwargs["column"]].fail(positions, name)
        found = []
        for unit, _ in units:
            self._memo.remember(unit)
            found += unit.failures()
        return found

    @property
    def row_expectation_names(self) -> list[str]:
        return [e.meta["name"] for e in self._row_suite.expectations]

    def _run(self, suite: Any, frame: pd.DataFrame, result_format: Any) -> list[tuple[str, Any]]:
        started = time.perf_counter()
        batch = self._batches.get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(
            suite, result_format=result_format, expectation_parameters={AS_OF_PARAMETER: self.as_of}
        )
        self.seconds += time.perf_counter() - started
        named = []
        for result in outcome.results:
            name = result.expectation_config.meta["name"]
            if (result.exception_info or {}).get("raised_exception"):
                # The typed frame's dtypes are fixed, so this is a suite bug, not bad data.
                message = result.exception_info.get("exception_message") or "error"
                raise SuiteError(
                    f"expectation {name} in suite {self.name}: could not run ({message})"
                )
            named.append((name, result))
        return named


@dataclass
class ShortUnit:
    """One column's checks decided on a few values: the values of its keys not seen
    before (``keys`` of them), then its extremes unless a passing range covers them."""

    column: DistinctColumn
    keys: int
    decided: list[dict[str, Any]]  # no need for the distinct values (unless widened)
    checked: list[dict[str, Any]]  # of those, the ones GX runs on this chunk's values
    ends: pd.Series | None  # the extremes checked, if any


CONDITION_NAME = r"`([^`]+)`|\b([A-Za-z_]\w*)\b"


def _columns_read(items: list[dict[str, Any]]) -> list[str]:
    # GX copies the batch frame per metric: handing it only the columns the suite
    # reads (not e.g. the list column) cuts validation time by about half.
    read = []
    for item in items:
        kwargs = item.get("kwargs", {})
        if "column" in kwargs:
            read.append(kwargs["column"])
        # A row condition names its columns in backticks (or bare, when they are identifiers);
        # names that are not columns (True) are dropped where the frame is cut to its columns.
        for quoted, bare in re.findall(CONDITION_NAME, kwargs.get("row_condition") or ""):
            read.append(quoted or bare)
    return list(dict.fromkeys(read))


def _implied_by_parse_failure(items: list[dict[str, Any]]) -> dict[str, str]:
    """Parse-check name → the not-null check on the same column that it implies."""
    not_null = {
        e["kwargs"]["column"]: e["meta"]["name"]
        for e in items
        if e["type"] == "expect_column_values_to_not_be_null"
    }
    implied = {}
    for item in items:
        column = item.get("kwargs", {}).get("column", "")
        base = column.removesuffix(UNPARSED_SUFFIX)
        if column.endswith(UNPARSED_SUFFIX) and base in not_null:
            implied[item["meta"]["name"]] = not_null[base]
    return implied
