"""The report people read: formula text neutralised, counts and reasons visible."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadops.storage import tables
from tasks.ingest.report import inert, sample_csv, summary_markdown
from tasks.ingest.results import AccountingError, FileResult, IngestResult


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-12.5", "-12.5"),  # a negative number is data, not a formula
        ("VP of Sales", "VP of Sales"),
        (None, None),
    ],
)
def test_formula_like_text_is_prefixed_with_a_quote(value: str | None, shown: str | None) -> None:
    assert inert(value) == shown


def run_result() -> IngestResult:
    when = datetime(2026, 3, 1, tzinfo=UTC)
    result = IngestResult("run1", "leads", as_of=when, started_at=when)
    good = FileResult("week_01.csv", "/x/week_01.csv")
    good.count(rows_in=10, silver=7, quarantined=2, duplicates=1)
    good.failed_expectations.update({"company_size:numeric": 2})
    bad = FileResult("week|02.csv", "/x/week|02.csv")
    bad.fail("week|02.csv: empty file (0 bytes)")
    result.files = [good, bad]
    result.quarantine_sample = [
        {
            tables.SOURCE_FILE: "/x/week_01.csv",
            tables.ROW_NUMBER: 4,
            tables.FAILED_EXPECTATIONS: ["company_size:numeric"],
            "lead_id": "L4",
            "job_title": "=cmd()",
        }
    ]
    return result


def test_markdown_summary_shows_files_failures_and_a_safe_sample() -> None:
    markdown = summary_markdown(run_result())
    assert (
        "**10** rows in → **7** silver (7 new, 0 updated), **2** quarantined, **1** duplicates"
        in markdown
    )
    assert "| week_01.csv | accepted | 10 | 7 | 2 | 1 |" in markdown
    assert "week\\|02.csv: empty file" in markdown  # a pipe cannot break the table
    assert "| `company_size:numeric` | 2 |" in markdown
    assert "'=cmd()" in markdown and '"=cmd()' not in markdown


def test_counts_that_do_not_add_up_are_refused() -> None:
    file = FileResult("a.csv", "/a.csv")
    with pytest.raises(AccountingError, match="a.csv: 5 rows in but 3 silver"):
        file.count(rows_in=5, silver=3, quarantined=1, duplicates=0)
    result = run_result()
    result.files[0].silver += 1  # a bug elsewhere
    with pytest.raises(AccountingError, match="run1"):
        result.check_accounting()


def test_to_dict_carries_what_the_cli_promises() -> None:
    summary = run_result().as_dict()
    assert {"files", "rows_in", "silver", "quarantined", "duplicates"} <= set(summary)
    assert summary["files"][1]["status"] == "failed" and summary["failed_files"] == 1
    assert {"name", "status", "reason"} <= set(summary["files"][0])
    assert summary["failed_expectations"] == {"company_size:numeric": 2}


def test_sample_csv_joins_failed_expectations() -> None:
    text = sample_csv([{"lead_id": "L1", "_failed_expectations": ["a:b", "c:d"]}])
    assert text == "lead_id,_failed_expectations\nL1,a:b; c:d\n"


def test_the_ingest_line_gives_full_paths_and_why_rows_were_quarantined(tmp_path) -> None:
    from leadops.storage.local import LocalLake
    from tasks.ingest.report import ingest_summary, write_report

    lake = LocalLake(tmp_path / "lake")
    result = run_result()
    write_report(lake, result)
    text = ingest_summary(result.as_dict(), "leads")
    report = (tmp_path / "lake" / "reports" / "ingest" / "run1.json").resolve()
    sample = report.with_name("run1-quarantine-sample.csv")
    assert f"report: {report}" in text and report.exists()
    assert f"quarantine sample: {sample}" in text and sample.exists()
    assert "quarantined because: company_size:numeric (2 rows)" in text
    assert result.as_dict()["report_path"] == str(report)


def test_a_file_of_the_other_kind_gets_a_hint() -> None:
    from leadops.inputs.contract import load_contract
    from leadops.settings import BUNDLED_CONTRACT
    from tasks.ingest.report import other_kind_hint

    contract = load_contract(BUNDLED_CONTRACT)
    outcomes_header = contract.outcome_columns
    assert (
        other_kind_hint(contract, "leads", outcomes_header)
        == "; this looks like an outcomes file: add --kind outcomes"
    )
    assert (
        other_kind_hint(contract, "outcomes", contract.lead_columns)
        == "; this looks like a leads file: add --kind leads"
    )
    assert other_kind_hint(contract, "leads", ["something_else"]) == ""


def test_an_outcomes_file_ingested_as_leads_fails_with_the_hint(tmp_path, ingest) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "outcomes.csv").write_text(
        "lead_id,converted,converted_at\nL1,true,2026-03-01T00:00:00Z\n"
    )
    (file,) = ingest(folder).files
    assert file.status == "failed"
    assert file.reason.endswith("this looks like an outcomes file: add --kind outcomes")


def test_the_ingest_line_says_when_more_checks_failed_than_it_lists() -> None:
    from tasks.ingest.report import ingest_summary

    result = run_result().as_dict()
    result["quarantined"] = 6
    result["failed_expectations"] = {f"c{i}:numeric": 1 for i in range(5)}
    text = ingest_summary(result, "leads")
    assert "c0:numeric (1 rows); c1:numeric (1 rows); c2:numeric (1 rows); and 2 more" in text
