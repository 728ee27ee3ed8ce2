"""Checking each distinct value once (and remembering verdicts across chunks) fails the
same rows with the same expectation names as GX run on every row of the chunk."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from leadops.normalise import parse_frame
from tasks.ingest.suites import load_suite
from tasks.ingest.validation import ROW_RESULT_FORMAT, SuiteValidator
from tests.support.ingest import AS_OF, CONTRACT, lead

BAD = [
    ("company_size", "abc"),
    ("company_size", "-5"),
    ("created_at", "2030-01-01"),
    ("created_at", ""),
    ("email", "no-at-sign"),
    ("lead_id", ""),
    ("page_views", "-1"),
    ("legacy_lead_score", "101"),
    ("lead_source", ""),
    ("marketing_opt_in", "maybe"),
    ("job_title", "t" * 300),
    ("annual_revenue", "-3"),
]


def chunk(first_row: int, bad: list[tuple[str, str]]) -> pd.DataFrame:
    rows = [lead(f"L{first_row + i}", company_size=str(10 + i % 7)) for i in range(60)]
    for i, (column, value) in enumerate(bad):
        rows[3 * i + 1][column] = value
        rows[3 * i + 2][column] = value  # the same bad value twice: both rows fail
    raw = pd.DataFrame(rows, dtype=object)
    raw.index = pd.RangeIndex(first_row, first_row + len(raw), name="row")
    return parse_frame(raw, CONTRACT.roles("leads"))


def every_row(validator: SuiteValidator, typed: pd.DataFrame) -> dict[int, list[str]]:
    """Reference: the whole row suite run by GX on every row (no distinct values)."""
    frame = typed[[c for c in validator._row_columns if c in typed.columns]].rename_axis(None)
    failed: dict[int, list[str]] = defaultdict(list)
    for name, result in validator._run(validator._row_suite, frame, ROW_RESULT_FORMAT):
        for label in result.result.get("unexpected_index_list") or []:
            failed[label].append(name)
    return failed


def test_distinct_values_fail_the_same_rows_as_every_row() -> None:
    validator = SuiteValidator(load_suite("leads"), AS_OF)
    typed = chunk(2, BAD)
    failures = validator.row_failures(typed)
    reference = every_row(validator, typed)
    assert list(failures.index) == sorted(reference)
    for row, names in failures.items():
        # row_failures drops "not null" where the parse check on the column explains it
        assert set(names) <= set(reference[row]) and names
    assert failures.loc[3] == ["company_size:numeric"]
    assert failures.loc[4] == ["company_size:numeric"]
    assert failures.loc[6] == ["company_size:range"]


def test_remembered_verdicts_give_the_same_rows_as_a_fresh_validator() -> None:
    validator = SuiteValidator(load_suite("leads"), AS_OF)
    validator.row_failures(chunk(2, BAD))
    later = chunk(1000, BAD[::-1] + [("company_size", "9999999")])
    remembered = validator.row_failures(later)
    fresh = SuiteValidator(load_suite("leads"), AS_OF).row_failures(later)
    assert list(remembered.index) == list(fresh.index)
    assert list(remembered) == list(fresh)
    assert len(remembered) == 2 * (len(BAD) + 1)
