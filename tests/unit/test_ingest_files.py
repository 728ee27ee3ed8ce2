"""The ingest run end to end on a local lake, called as a plain function (no Prefect)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.demo import synthetic
from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.ingest import run as ingest_run
from tasks.ingest.report import ingest_summary
from tests.support.ingest import AS_OF, CONTRACT, lead, silver, write_csv


def test_synthetic_export_lands_typed_in_silver_and_joined_in_gold(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    config = synthetic.GeneratorConfig(weeks=2, leads_per_week=150)
    synthetic.write_dataset(config, tmp_path / "crm")
    leads = ingest(tmp_path / "crm" / "leads")
    outcomes = ingest(tmp_path / "crm" / "outcomes", kind="outcomes")
    counts = (leads.total("rows_in"), leads.total("silver"), leads.total("quarantined"))
    assert counts == (300, 300, 0)
    assert outcomes.total("silver") == outcomes.total("rows_in") > 0
    rows = silver(lake)
    assert str(rows["created_at"].dtype) == "datetime64[us, UTC]"
    assert rows["company_size"].dtype == "float64" and rows["marketing_opt_in"].dtype == "bool"
    bronze = lake.read_table(tables.bronze("leads")).set_index("lead_id")
    assert len(bronze) == 300 and bronze["company_size"].map(type).eq(str).all()
    assert {
        tables.SOURCE_FILE,
        tables.ROW_NUMBER,
        tables.INGESTED_AT,
        tables.FILE_CHECKSUM,
        tables.RUN_ID,
    } <= set(bronze.columns)
    for lead_id in rows.index[:20]:
        as_received = json.loads(bronze.loc[lead_id, "technographics"])
        assert list(rows.loc[lead_id, "technographics"]) == as_received
    gold = lake.read_table(tables.GOLD_LEADS)
    assert len(gold) == 300 and gold["lead_id"].is_unique
    labelled = gold.dropna(subset=["converted"])
    assert 0 < len(labelled) < 300  # some outcomes are still to come, and gold says so with nulls
    assert list(gold.columns) == [*CONTRACT.lead_columns, CONTRACT.label, CONTRACT.label_time]


def test_reingesting_the_same_content_adds_nothing_and_says_when(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    first = write_csv(tmp_path / "a.csv", [lead("L1"), lead("L2")])
    ingest(first)
    versions = {
        t: lake.table_version(t)
        for t in (
            tables.bronze("leads"),
            tables.silver("leads"),
            tables.MANIFEST,
            tables.GOLD_LEADS,
        )
    }
    renamed = tmp_path / "copy" / "renamed.csv"
    renamed.parent.mkdir()
    renamed.write_bytes(first.read_bytes())
    again = ingest(first, renamed)
    assert [f.status for f in again.files] == ["skipped", "skipped"]
    assert all(f.reason.startswith("already ingested 20") for f in again.files)
    assert again.total("rows_in") == 0
    assert versions == {t: lake.table_version(t) for t in versions}


def test_duplicate_ids_within_a_run_keep_the_last_row(tmp_path: Path, ingest, lake: Lake) -> None:
    a = write_csv(
        tmp_path / "a.csv", [lead("L1", page_views="1"), lead("L2"), lead("L1", page_views="2")]
    )
    b = write_csv(tmp_path / "b.csv", [lead("L1", page_views="3"), lead("L3")])
    result = ingest(a, b)
    counts = (result.total("rows_in"), result.total("silver"), result.total("duplicates"))
    assert counts == (5, 3, 2)
    assert silver(lake).loc["L1", "page_views"] == 3.0
    assert (result.as_dict()["new"], result.as_dict()["updated"]) == (3, 0)  # all new leads


def test_known_ids_count_as_duplicates_when_identical_and_update_when_changed(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    ingest(write_csv(tmp_path / "week1.csv", [lead("L1"), lead("L2")]))
    week2 = [lead("L1"), lead("L2", form_fills="9"), lead("L3")]
    result = ingest(write_csv(tmp_path / "week2.csv", week2))
    assert (result.total("silver"), result.total("duplicates")) == (2, 1)
    # An export that reuses a known id says so: one new lead, one updated.
    assert (result.as_dict()["new"], result.as_dict()["updated"]) == (1, 1)
    line = ingest_summary(result.as_dict(), "leads").splitlines()[0]
    assert "-> 2 silver (1 new, 1 updated), 0 quarantined, 1 duplicates" in line
    rows = silver(lake)
    assert len(rows) == 3 and rows.loc["L2", "form_fills"] == 9.0
    assert len(lake.read_table(tables.GOLD_LEADS)) == 3


def test_an_update_followed_by_more_chunks_in_one_run_reads_back(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    # A merge writes the id column as string_view; later chunks' filtered reads must still work.
    ingest(write_csv(tmp_path / "week1.csv", [lead("L1"), lead("L2")]))
    week2 = [
        lead("L2", form_fills="9"),
        lead("L3"),
        lead("L1"),
        lead("L4"),
        lead("L2", form_fills="7"),
    ]
    result = ingest(write_csv(tmp_path / "week2.csv", week2), chunk_rows=1)
    rows = silver(lake)
    assert sorted(rows.index) == ["L1", "L2", "L3", "L4"] and rows.loc["L2", "form_fills"] == 7.0
    assert (result.total("silver"), result.total("duplicates")) == (3, 2)


def test_silver_is_normalised(tmp_path: Path, ingest, lake: Lake) -> None:
    row = lead(
        " L1 ",
        email=" Anna.Smith@ACME.com ",
        lead_source=" web ",
        technographics="AWS;Slack",
        marketing_opt_in="no",
        created_at="2026-01-05T10:00:00+02:00",
    )
    ingest(write_csv(tmp_path / "a.csv", [row]))
    stored = silver(lake).loc["L1"]
    assert (stored["email"], stored["lead_source"]) == ("anna.smith@acme.com", "web")
    assert list(stored["technographics"]) == ["AWS", "Slack"]
    assert not stored["marketing_opt_in"]
    assert stored["created_at"] == pd.Timestamp("2026-01-05T08:00:00", tz="UTC")


def test_parquet_and_json_lines_land_like_csv(tmp_path: Path, ingest, lake: Lake) -> None:
    write_csv(tmp_path / "in" / "a.csv", [lead("C1")])
    pd.DataFrame([lead("P1")]).to_parquet(tmp_path / "in" / "b.parquet")
    (tmp_path / "in" / "c.jsonl").write_text(
        json.dumps(
            {
                **lead("J1"),
                "company_size": 50,
                "technographics": ["Salesforce", "Slack"],
                "marketing_opt_in": True,
            }
        )
        + "\n"
    )
    result = ingest(tmp_path / "in")
    assert [f.status for f in result.files] == ["accepted"] * 3
    rows = silver(lake).drop(columns=[c for c in silver(lake).columns if c.startswith("_")])
    assert rows.loc["P1"].equals(rows.loc["C1"]) and rows.loc["J1"].equals(rows.loc["C1"])


def test_chunked_file_dedups_and_counts_across_chunks(tmp_path: Path, ingest, lake: Lake) -> None:
    rows = [lead(f"L{i % 40}", page_views=str(i)) for i in range(50)]  # L0..L9 repeat in chunk 3
    rows[45]["company_size"] = "abc"
    result = ingest(write_csv(tmp_path / "big.csv", rows), chunk_rows=20)
    counts = (result.total("silver"), result.total("quarantined"), result.total("duplicates"))
    assert counts == (40, 1, 9)
    stored = silver(lake)
    assert stored.loc["L1", "page_views"] == 41.0 and stored.loc["L5", "page_views"] == 5.0
    assert lake.read_table(tables.quarantine("leads"))[tables.ROW_NUMBER].tolist() == [46]


def test_a_failure_mid_run_leaves_every_table_as_before(
    tmp_path: Path, ingest, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(write_csv(tmp_path / "a.csv", [lead("L1")]))
    names = (tables.bronze("leads"), tables.silver("leads"), tables.MANIFEST, tables.GOLD_LEADS)
    before = {name: lake.read_table(name) for name in names}

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_run, "update_gold", crash)  # after bronze, silver, manifest writes
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(write_csv(tmp_path / "b.csv", [lead("L2"), lead("L3", company_size="-1")]))
    for name, frame in before.items():
        assert lake.read_table(name).equals(frame), name
    assert lake.read_table(tables.quarantine("leads")).empty
    monkeypatch.undo()
    assert ingest(tmp_path / "b.csv").files[0].status == "accepted"  # not marked as ingested


def test_file_malformed_in_a_later_chunk_is_undone_alone(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    good = write_csv(tmp_path / "a_good.csv", [lead("G1")])
    # A ragged line is quarantined (test_ingest_hostile_files); an oversized cell fails the file.
    rows = [lead(f"B{i}") for i in range(30)] + [lead("B99", job_title="x" * 70_000)]
    bad = write_csv(tmp_path / "b_bad.csv", rows)
    result = ingest(good, bad, chunk_rows=10)
    assert [f.status for f in result.files] == ["accepted", "failed"]
    assert result.files[1].reason.startswith("b_bad.csv: a value in column 'job_title'")
    assert result.total("rows_in") == 1
    assert set(lake.read_table(tables.bronze("leads"))["lead_id"]) == {"G1"}
    assert silver(lake).index.tolist() == ["G1"]


def test_outcomes_are_upserted_by_id_and_reach_gold(tmp_path: Path, ingest, lake: Lake) -> None:
    ingest(write_csv(tmp_path / "leads.csv", [lead("L1"), lead("L2")]))
    first = [{"lead_id": "L1", "converted": "false", "converted_at": "2026-01-20T00:00:00"}]
    ingest(write_csv(tmp_path / "o1.csv", first), kind="outcomes")
    update = [
        {"lead_id": "L1", "converted": "true", "converted_at": "2026-01-25T00:00:00"},
        {"lead_id": "L2", "converted": "maybe", "converted_at": "2026-01-25T00:00:00"},
    ]
    result = ingest(write_csv(tmp_path / "o2.csv", update), kind="outcomes")
    assert (result.total("silver"), result.total("quarantined")) == (1, 1)
    assert result.failed_expectations == {"converted:boolean": 1}
    gold = lake.read_table(tables.GOLD_LEADS).set_index("lead_id")
    assert gold.loc["L1", "converted"] == True  # noqa: E712 (numpy bool)
    assert pd.isna(gold.loc["L2", "converted"]) and pd.isna(gold.loc["L2", "converted_at"])


def test_report_is_kept_beside_the_data(tmp_path: Path, ingest, lake: Lake) -> None:
    rows = [
        lead("L1", company_size="abc"),
        lead("L2", job_title='=HYPERLINK("http://x","y")', email="bad"),
    ]
    result = ingest(write_csv(tmp_path / "a.csv", rows))
    report = json.loads(lake.read_bytes(result.report_key))
    assert report["quarantined"] == 2 and report["failed_expectations"] == {
        "company_size:numeric": 1,
        "email:format": 1,
    }
    assert report["versions"][tables.silver("leads")] == lake.table_version(tables.silver("leads"))
    assert [r[tables.ROW_NUMBER] for r in report["quarantine_sample"]] == [1, 2]
    sample_key = result.report_key.replace(".json", "-quarantine-sample.csv")
    sample_csv = lake.read_bytes(sample_key).decode()
    assert "'=HYPERLINK" in sample_csv and "\n=HYPERLINK" not in sample_csv


def test_a_feature_added_to_the_contract_arrives_with_the_next_export(
    tmp_path: Path, settings, lake: Lake
) -> None:
    # What the training error about a missing column tells the user to do works.
    from dataclasses import replace

    from tasks.ingest import ingest_files

    older = replace(
        CONTRACT,
        features=tuple(f for f in CONTRACT.features if f.name != "legacy_lead_score"),
        source="<memory>",  # its suites derived from it, not the bundled files
    )
    first = write_csv(tmp_path / "a.csv", [lead("A1", legacy_lead_score="10")])
    ingest_files(settings, lake, older, [first], kind="leads", as_of=AS_OF)
    gold = lake.read_table(tables.GOLD_LEADS)
    assert CONTRACT.absent_from("gold/leads", gold.columns) is not None
    second = write_csv(tmp_path / "b.csv", [lead("B1", legacy_lead_score="20")])
    ingest_files(settings, lake, CONTRACT, [second], kind="leads", as_of=AS_OF)
    gold = lake.read_table(tables.GOLD_LEADS).set_index("lead_id")
    assert CONTRACT.absent_from("gold/leads", gold.reset_index().columns) is None
    assert gold.loc["B1", "legacy_lead_score"] == 20 and pd.isna(
        gold.loc["A1", "legacy_lead_score"]
    )
