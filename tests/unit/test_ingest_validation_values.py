"""Checking each distinct value once (and remembering verdicts across chunks) fails the
same rows with the same expectation names as GX run on every row of the chunk."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from leadops.inputs.normalise import parse_frame
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
    return parse_frame(raw, CONTRACT.roles("leads"), arrow_strings=True)


def every_row(validator: SuiteValidator, typed: pd.DataFrame) -> dict[int, list[str]]:
    """Reference: the whole row suite run by GX on every row (no distinct values)."""
    frame = typed[[c for c in validator._row_columns if c in typed.columns]].rename_axis(None)
    failed: dict[int, list[str]] = defaultdict(list)
    for name, result in validator._run(validator._row_suite, frame, ROW_RESULT_FORMAT):
        for label in result.result.get("unexpected_index_list") or []:
            failed[label].append(name)
    return failed


def same_rows_as_every_row(validator: SuiteValidator, typed: pd.DataFrame) -> pd.Series:
    failures = validator.row_failures(typed)
    reference = every_row(validator, typed)
    assert list(failures.index) == sorted(reference)
    for row, names in failures.items():
        # row_failures drops "not null" where the parse check on the column explains it
        assert set(names) <= set(reference[row]) and names
    return failures


def test_distinct_values_fail_the_same_rows_as_every_row() -> None:
    validator = SuiteValidator(load_suite("leads"), AS_OF)
    failures = same_rows_as_every_row(validator, chunk(2, BAD))
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


def varied_chunk(first_row: int, n: int, bad: list[tuple[str, str]]) -> pd.DataFrame:
    """Leads whose ids, times, amounts, emails and titles are all different (no repeats
    to lean on), with ``bad`` values placed once each."""
    rows = [
        lead(
            f"L{first_row + i:0{1 + i % 9}d}",
            created_at=f"2026-0{1 + i % 2}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00",
            annual_revenue=f"{1000 + 37.5 * i}",
            company_size=str(1 + i),
            email=f"person{i}@firm{i % 13}.com",
            job_title="x" * (1 + i % 255),
        )
        for i in range(n)
    ]
    for i, (column, value) in enumerate(bad):
        rows[7 * i + 3][column] = value
    raw = pd.DataFrame(rows, dtype=object)
    raw.index = pd.RangeIndex(first_row, first_row + len(raw), name="row")
    return parse_frame(raw, CONTRACT.roles("leads"), arrow_strings=True)


def test_null_length_and_range_checks_on_distinct_columns_fail_the_same_rows() -> None:
    # Each check whose outcome depends on less than the value (null, length, range)
    # is decided on one value per key or on the column's extremes: still exact.
    validator = SuiteValidator(load_suite("leads"), AS_OF)
    clean = same_rows_as_every_row(validator, varied_chunk(1, 400, []))
    assert clean.empty
    bad = [
        ("created_at", "2031-05-01T00:00:00"),  # above the range: the largest value
        ("annual_revenue", "-0.5"),  # below it: the smallest
        ("company_size", "1000001"),
        ("lead_id", "L" * 65),  # the longest id
        ("job_title", "y" * 256),
        ("email", "a" * 250 + "@b.com"),
        ("lead_id", " "),  # blank: null after trimming
        ("legacy_lead_score", "100"),  # on the bound: passes
    ]
    failures = same_rows_as_every_row(validator, varied_chunk(1000, 400, bad))
    assert len(failures) == len(bad) - 1
    assert failures.loc[1003] == ["created_at:not_future"]
    assert failures.loc[1010] == ["annual_revenue:range"]


def test_a_clean_chunk_of_distinct_values_sends_gx_one_value_per_key(monkeypatch) -> None:
    validator = SuiteValidator(load_suite("leads"), AS_OF)
    sizes: list[int] = []
    run = validator._run

    def counting(suite, frame, result_format):
        sizes.append(len(frame))
        return run(suite, frame, result_format)

    monkeypatch.setattr(validator, "_run", counting)
    typed = varied_chunk(1, 2_000, [])
    assert validator.row_failures(typed).empty
    # Only the email pattern sees every distinct email; ids, times and amounts are
    # checked through their keys (null, length) and extremes.
    assert max(sizes) == typed["email"].nunique()
    assert sum(sizes) < typed["email"].nunique() + 300


def test_verdicts_remembered_from_clean_chunks_still_fail_later_bad_values() -> None:
    # A clean chunk teaches the validator passing keys (lengths, nulls) and a passing
    # range per column; values outside either in a later chunk must still fail.
    validator = SuiteValidator(load_suite("leads"), AS_OF)
    assert validator.row_failures(varied_chunk(1, 400, [])).empty
    assert validator.row_failures(varied_chunk(500, 300, [])).empty  # inside: nothing new
    bad = [
        ("created_at", "2031-05-01T00:00:00"),
        ("annual_revenue", "-0.5"),
        ("lead_id", "L" * 65),
        ("lead_id", ""),
        ("legacy_lead_score", "101"),
    ]
    later = varied_chunk(1000, 400, bad)
    remembered = validator.row_failures(later)
    fresh = SuiteValidator(load_suite("leads"), AS_OF).row_failures(later)
    assert list(remembered.index) == list(fresh.index) and list(remembered) == list(fresh)
    assert len(remembered) == len(bad)
