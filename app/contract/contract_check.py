"""`leadops contract check`: which checks rejected how many quarantined rows, and the
widened contract that would take them.

Reads the rows still in quarantine (replayed ones have left it), groups them by the
expectation they failed, and proposes for each feature column the smallest change that
lets them pass: a boolean that holds counts becomes numeric (contract inference errs
wide: a number stays numeric), a range grows to the values seen, a required column
whose rows came empty becomes optional. Values that are no numbers in a numeric column
are bad data, not a narrow contract: they are shown, not widened for. New values of a
value-set check in the user's own suite are named with the suite to edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from leadops.inputs.contract import Contract
from leadops.inputs.normalise import UNPARSED_SUFFIX
from leadops.storage import tables
from leadops.storage.lake import Lake

SAMPLES = 5


@dataclass
class CheckRejections:
    """One expectation's quarantined rows and, when the contract can take them, the change."""

    check: str
    rows: int
    samples: list[str]
    column: str | None = None
    change: dict[str, Any] = field(default_factory=dict)  # feature keys to set
    proposal: str = ""  # one line, empty when nothing is proposed

    def line(self) -> str:
        shown = ", ".join(repr(s) for s in self.samples) or "no values"
        return f"{self.check} rejected {self.rows:,} rows (e.g. {shown})"


def rejections(lake: Lake, contract: Contract, kind: str, suite: dict) -> list[CheckRejections]:
    """Per failed expectation, the quarantined rows of ``kind``, most rows first."""
    quarantined = lake.read_table(tables.quarantine(kind))
    if quarantined.empty:
        return []
    by_name = {e["meta"]["name"]: e for e in suite.get("expectations", [])}
    failed = quarantined[tables.FAILED_EXPECTATIONS].explode().dropna()
    found = []
    for check, rows in failed.groupby(failed, sort=False):
        expectation = by_name.get(check, {})
        column = str(expectation.get("kwargs", {}).get("column", "")).removesuffix(UNPARSED_SUFFIX)
        values = (
            quarantined.loc[rows.index.unique(), column]
            if column in quarantined.columns
            else pd.Series([], dtype=object)
        )
        found.append(_judged(check, expectation, column, values, contract, len(rows)))
    return sorted(found, key=lambda r: -r.rows)


def _judged(
    check: str,
    expectation: dict,
    column: str,
    values: pd.Series,
    contract: Contract,
    rows: int,
) -> CheckRejections:
    text = values.dropna().astype(str).str.strip()
    samples = list(dict.fromkeys(text))[:SAMPLES]
    found = CheckRejections(check, rows, samples, column or None)
    if column not in contract.feature_names:
        return found
    feature = contract.feature(column)
    kind = expectation.get("type", "")
    numbers = pd.to_numeric(text, errors="coerce")
    if check == f"{column}:boolean" and feature.role == "boolean":
        role = "numeric" if len(numbers) and numbers.notna().all() else "categorical"
        seen = f"{_num(numbers.min())}..{_num(numbers.max())}" if role == "numeric" else samples
        found.change = {"role": role}
        found.proposal = f"{column}: boolean -> {role}: {rows:,} rows had {seen}"
    elif kind == "expect_column_values_to_be_between" and feature.role == "numeric":
        _widen_range(found, feature, numbers)
    elif kind == "expect_column_values_to_not_be_null" and feature.required:
        found.change = {"required": False}
        found.proposal = f"{column}: required -> optional: {rows:,} rows had it empty"
    elif kind == "expect_column_values_to_be_in_set" and not expectation["kwargs"][
        "column"
    ].endswith(UNPARSED_SUFFIX):
        known = {str(v) for v in expectation["kwargs"].get("value_set", [])}
        new = sorted(set(text) - known)
        found.proposal = (
            f"{column}: {len(new)} new value(s) not in the suite's set of {len(known)}: "
            f"{', '.join(new[:SAMPLES])} (add them to {check} in your suite)"
        )
    return found


def _widen_range(found: CheckRejections, feature: Any, numbers: pd.Series) -> None:
    numbers = numbers.dropna()
    parts, change = [], {}
    if feature.max is not None and (above := numbers[numbers > feature.max]).size:
        change["max"] = _plain(above.max())
        parts.append(f"max {_num(feature.max)} -> {_num(above.max())}: {above.size:,} rows above")
    if feature.min is not None and (below := numbers[numbers < feature.min]).size:
        change["min"] = _plain(below.min())
        parts.append(f"min {_num(feature.min)} -> {_num(below.min())}: {below.size:,} rows below")
    if parts:
        found.change = change
        found.proposal = f"{feature.name}: " + "; ".join(parts)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _num(value: float) -> str:
    return f"{_plain(value):,}"


def widened(rejected: list[CheckRejections]) -> dict[str, dict[str, Any]]:
    """Feature name -> the keys to change, over every check (later checks add keys)."""
    changes: dict[str, dict[str, Any]] = {}
    for found in rejected:
        if found.change and found.column:
            changes.setdefault(found.column, {}).update(found.change)
    return changes
