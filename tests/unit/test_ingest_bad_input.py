"""Bad input, one case per test: rows go to quarantine with named reasons, unusable
files fail alone with one line naming file and cause, nothing crashes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadops.storage import tables
from leadops.storage.lake import Lake
from tests.support.ingest import lead, silver, write_csv


def quarantined(lake: Lake, kind: str = "leads") -> dict[str, list[str]]:
    rows = lake.read_table(tables.quarantine(kind))
    return {row["lead_id"]: list(row[tables.FAILED_EXPECTATIONS]) for _, row in rows.iterrows()}


@pytest.mark.parametrize(
    ("name", "data", "cause"),
    [
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", "binary content"),
        ("empty.csv", b"", "empty file"),
        ("broken.parquet", b"PAR1 not really", "malformed parquet"),
    ],
)
def test_unusable_file_fails_alone_and_the_others_still_ingest(
    tmp_path: Path, ingest, lake: Lake, name: str, data: bytes, cause: str
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_bytes(data)
    write_csv(tmp_path / "in" / "zz_good.csv", [lead("G1")])
    result = ingest(tmp_path / "in")
    bad, good = result.files
    assert (bad.status, good.status) == ("failed", "accepted")
    assert bad.reason.startswith(f"{name}: ") and cause in bad.reason and "\n" not in bad.reason
    assert silver(lake).index.tolist() == ["G1"]


def test_header_only_file_is_accepted_with_no_rows_and_says_so(tmp_path: Path, ingest) -> None:
    path = tmp_path / "h.csv"
    path.write_text(",".join(lead()) + "\n")
    (file,) = ingest(path).files
    assert (file.status, file.rows_in, file.reason) == ("accepted", 0, "header only: no rows")


def test_missing_required_column_fails_the_file_naming_the_column(tmp_path: Path, ingest) -> None:
    row = lead()
    del row["lead_source"]
    (file,) = ingest(write_csv(tmp_path / "a.csv", [row])).files
    assert file.status == "failed"
    assert file.reason.startswith("a.csv: missing required column(s) lead_source")
    assert "lead_source:present" in file.reason


def test_extra_unknown_columns_are_kept_in_bronze_and_ignored_after(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    ingest(write_csv(tmp_path / "a.csv", [lead(**{"Favourite Colour": "teal"})]))
    assert lake.read_table(tables.bronze("leads"))["Favourite Colour"].tolist() == ["teal"]
    assert "Favourite Colour" not in lake.read_table(tables.silver("leads")).columns


def test_an_extra_column_spelled_in_another_case_joins_the_stored_one(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    # Delta refuses two names that differ only in case: this used to fail the whole run.
    (tmp_path / "in").mkdir()
    write_csv(tmp_path / "in" / "a.csv", [lead("A1", **{"Lead Owner": "ann"})])
    write_csv(tmp_path / "in" / "b.csv", [lead("B1", **{"LEAD OWNER": "bob"})])
    result = ingest(tmp_path / "in")
    assert [f.status for f in result.files] == ["accepted", "accepted"]
    bronze = lake.read_table(tables.bronze("leads")).set_index("lead_id")
    assert bronze["Lead Owner"].to_dict() == {"A1": "ann", "B1": "bob"}
    assert sorted(silver(lake).index) == ["A1", "B1"]


def test_columns_clashing_by_case_in_one_file_or_with_bookkeeping_are_kept_apart(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    row = lead("A1", **{"Owner": "ann", "OWNER": "bob", tables.RUN_ID: "theirs"})
    (file,) = ingest(write_csv(tmp_path / "a.csv", [row])).files
    assert file.status == "accepted"
    bronze = lake.read_table(tables.bronze("leads")).iloc[0]
    assert (bronze["Owner"], bronze["OWNER.1"], bronze[f"{tables.RUN_ID}.1"]) == (
        "ann",
        "bob",
        "theirs",
    )
    assert bronze[tables.RUN_ID] != "theirs"


def test_wrong_types_are_quarantined_as_received_with_the_check_named(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    rows = [
        lead("L1", company_size="abc"),
        lead("L2", marketing_opt_in="maybe"),
        lead("L3", created_at="next tuesday"),
        lead("L4"),
    ]
    result = ingest(write_csv(tmp_path / "a.csv", rows))
    assert (result.total("silver"), result.total("quarantined")) == (1, 3)
    assert quarantined(lake) == {
        "L1": ["company_size:numeric"],
        "L2": ["marketing_opt_in:boolean"],
        "L3": ["created_at:timestamp"],
    }
    raw = lake.read_table(tables.quarantine("leads")).set_index("lead_id")
    assert raw.loc["L1", "company_size"] == "abc" and raw.loc["L1", tables.ROW_NUMBER] == 1


def test_nulls_in_required_fields_are_quarantined(tmp_path: Path, ingest, lake: Lake) -> None:
    rows = [
        lead("", lead_source="web"),
        lead("L2", lead_source=" "),
        lead("L3", created_at=""),
        lead("L4", industry=""),
    ]  # industry is optional: a null is fine
    result = ingest(write_csv(tmp_path / "a.csv", rows))
    assert result.failed_expectations == {
        "lead_id:not_null": 1,
        "lead_source:not_null": 1,
        "created_at:not_null": 1,
    }
    assert silver(lake).index.tolist() == ["L4"]


def test_out_of_range_values_are_quarantined(tmp_path: Path, ingest, lake: Lake) -> None:
    rows = [
        lead("L1", company_size="-5"),
        lead("L2", legacy_lead_score="101"),
        lead("L3", page_views="-1"),
        lead("L4", company_size="1"),
    ]
    ingest(write_csv(tmp_path / "a.csv", rows))
    assert quarantined(lake) == {
        "L1": ["company_size:range"],
        "L2": ["legacy_lead_score:range"],
        "L3": ["page_views:range"],
    }


def test_future_is_judged_against_as_of_not_the_wall_clock(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    path = write_csv(tmp_path / "a.csv", [lead("L1", created_at="2026-02-10T00:00:00")])
    early = ingest(path, as_of=datetime(2026, 2, 1, tzinfo=UTC))
    assert early.failed_expectations == {"created_at:not_future": 1}
    # The same lead in next week's export, ingested on the simulated clock's next day.
    again = lead("L1", created_at="2026-02-10T00:00:00", page_views="7")
    next_week = write_csv(tmp_path / "b.csv", [again])
    later = ingest(next_week, as_of=datetime(2026, 2, 11))  # a naive as-of means UTC
    assert later.total("silver") == 1 and silver(lake).loc["L1", "page_views"] == 7.0


def test_malformed_technographic_lists_are_quarantined(tmp_path: Path, ingest, lake: Lake) -> None:
    rows = [
        lead("L1", technographics='["Salesforce", "Hub'),
        lead("L2", technographics="AWS||Slack"),
        lead("L3", technographics="AWS|Slack"),
        lead("L4", technographics=""),
    ]
    ingest(write_csv(tmp_path / "a.csv", rows))
    assert quarantined(lake) == {"L1": ["technographics:list"], "L2": ["technographics:list"]}
    stored = silver(lake)["technographics"]
    assert list(stored["L3"]) == ["AWS", "Slack"] and stored["L4"] is None


def test_non_utf8_file_is_read_and_the_fallback_reported(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    path = write_csv(tmp_path / "a.csv", [lead("L1", job_title="Geschäftsführer")])
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    (file,) = ingest(path).files
    assert file.status == "accepted"
    assert "not valid UTF-8" in file.reason and "latin-1" in file.reason
    assert silver(lake).loc["L1", "job_title"] == "Geschäftsführer"


def test_formula_strings_are_stored_inert_and_neutralised_in_exports(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    formula = '=HYPERLINK("http://evil.example","click")'
    rows = [lead("L1", job_title=formula), lead("L2", job_title="+cmd", email="@SUM(1+1)")]
    result = ingest(write_csv(tmp_path / "a.csv", rows))
    assert silver(lake).loc["L1", "job_title"] == formula  # data, never evaluated
    report = json.loads(lake.read_bytes(result.report_key))
    sample = report["quarantine_sample"][0]
    assert (sample["job_title"], sample["email"]) == ("'+cmd", "'@SUM(1+1)")
    sample_csv = lake.read_bytes(result.report_key.replace(".json", "-quarantine-sample.csv"))
    assert b"'+cmd" in sample_csv and b",+cmd" not in sample_csv


def test_non_data_files_in_a_folder_are_skipped_not_failed(tmp_path: Path, ingest) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "README.txt").write_text("exported by the CRM")
    write_csv(tmp_path / "in" / "a.csv", [lead()])
    readme = next(f for f in ingest(tmp_path / "in").files if f.name == "README.txt")
    assert readme.status == "skipped" and readme.reason.startswith("not a data file")


def test_bad_outcome_rows_are_quarantined_by_their_own_suite(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    rows = [
        {"lead_id": "L1", "converted": "yes", "converted_at": "2026-01-20"},
        {"lead_id": "L2", "converted": "", "converted_at": "2026-01-20"},
        {"lead_id": "L3", "converted": "no", "converted_at": "whenever"},
        {"lead_id": "L4", "converted": "no", "converted_at": ""},
    ]
    result = ingest(write_csv(tmp_path / "o.csv", rows), kind="outcomes")
    assert quarantined(lake, "outcomes") == {
        "L2": ["converted:not_null"],
        "L3": ["converted_at:timestamp"],
    }
    assert result.total("silver") == 2


def test_ten_thousand_columns_fail_the_file_with_one_line(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    (tmp_path / "in").mkdir()
    header = list(lead()) + [f"extra_{i}" for i in range(10_000)]
    (tmp_path / "in" / "wide.csv").write_text(
        ",".join(header) + "\n" + ",".join(["1"] * len(header)) + "\n"
    )
    write_csv(tmp_path / "in" / "zz_good.csv", [lead("G1")])
    header = list(lead()) + [f"x{i}" for i in range(1_500)]  # short names: the header fits the head
    (tmp_path / "in" / "wider.csv").write_text(
        ",".join(header) + "\n" + ",".join(["1"] * len(header)) + "\n"
    )
    wide, wider, good = ingest(tmp_path / "in").files
    assert wider.status == "failed" and "columns in the header (limit 1,000)" in wider.reason
    assert (wide.status, good.status) == ("failed", "accepted")
    # 10,000 columns: the header line alone is longer than the bytes sniffed from the file head.
    assert wide.reason.startswith("wide.csv: header line longer than") and "\n" not in wide.reason
    assert silver(lake).index.tolist() == ["G1"]


def test_a_one_megabyte_cell_fails_the_file_naming_the_column(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    rows = [lead("A1"), lead("A2", job_title="x" * 1_000_000), lead("A3")]
    (file,) = ingest(write_csv(tmp_path / "big.csv", rows)).files
    assert file.status == "failed" and "\n" not in file.reason
    assert file.reason.startswith(
        "big.csv: a value in column 'job_title' is 1,000,000 characters (limit 65,536)"
    )
    assert not lake.table_exists(tables.silver("leads")) or silver(lake).empty


def _contract_with_id(tmp_path: Path, column: str) -> Path:
    from leadops.settings import BUNDLED_CONTRACT

    path = tmp_path / "contract.yaml"
    path.write_text(
        BUNDLED_CONTRACT.read_text().replace("entity_id: lead_id", f"entity_id: {column}")
    )
    return path


def test_suites_of_another_contract_fail_before_any_write(
    tmp_path: Path, settings, lake: Lake
) -> None:
    from leadops.inputs.contract import load_contract
    from tasks.ingest import ingest_files
    from tasks.ingest.suites import SUITES_DIR, SuiteError

    contract = load_contract(_contract_with_id(tmp_path, "leadid"))
    source = write_csv(tmp_path / "in" / "a.csv", [lead("A1"), lead("A2")])
    with pytest.raises(
        SuiteError,
        match=r"leads\.json: column\(s\) lead_id are not in the contract"
        r".*`leadops suites --out DIR`",
    ):
        ingest_files(settings, lake, contract, [source], kind="leads", suites_dir=SUITES_DIR)
    assert not any(
        lake.table_exists(name)
        for name in (
            tables.bronze("leads"),
            tables.silver("leads"),
            tables.MANIFEST,
            tables.GOLD_LEADS,
        )
    )


def test_suites_regenerated_for_that_contract_fail_each_file_naming_the_key_column(
    tmp_path: Path, settings, lake: Lake
) -> None:
    from leadops.inputs.contract import load_contract
    from tasks.ingest import ingest_files
    from tasks.ingest.suites import regenerate

    contract = load_contract(_contract_with_id(tmp_path, "leadid"))
    regenerate(contract, tmp_path / "suites")
    source = write_csv(tmp_path / "in" / "a.csv", [lead("A1"), lead("A2")])
    result = ingest_files(
        settings, lake, contract, [source], kind="leads", suites_dir=tmp_path / "suites"
    )
    (file,) = result.files
    assert file.status == "failed"
    assert (
        file.reason
        == "a.csv: no column(s) leadid, which the contract 'synthetic-crm' names as key columns"
    )
    assert not lake.table_exists(tables.silver("leads")) and not lake.table_exists(
        tables.bronze("leads")
    )
