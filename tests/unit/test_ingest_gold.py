"""Gold kept up to date run by run: each run touches only the ids it wrote, in any order
of leads and outcomes, and the result always equals silver leads left-joined with outcomes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from deltalake import DeltaTable

from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.ingest import gold as gold_module
from tests.support.ingest import CONTRACT, lead, write_csv


def outcome(lead_id: str, converted: str, at: str = "2026-01-20T00:00:00") -> dict[str, str]:
    return {"lead_id": lead_id, "converted": converted, "converted_at": at}


def gold(lake: Lake) -> pd.DataFrame:
    return lake.read_table(tables.GOLD_LEADS).set_index("lead_id").sort_index()


def joined_from_scratch(lake: Lake) -> pd.DataFrame:
    """What gold must equal: every silver lead with its silver outcome, if any."""
    leads = lake.read_table(tables.silver("leads"), columns=CONTRACT.lead_columns)
    outcomes = lake.read_table(
        tables.silver("outcomes"), columns=[CONTRACT.entity_id, CONTRACT.label, CONTRACT.label_time]
    )
    if outcomes.empty:
        outcomes = pd.DataFrame(columns=[CONTRACT.entity_id, CONTRACT.label, CONTRACT.label_time])
    return (
        leads.merge(outcomes, on=CONTRACT.entity_id, how="left").set_index("lead_id").sort_index()
    )


def assert_gold_is_the_join(lake: Lake) -> None:
    expected, actual = joined_from_scratch(lake), gold(lake)
    assert list(actual.columns) == list(expected.columns)
    assert actual.index.tolist() == expected.index.tolist()
    for name in expected.columns:
        assert text(actual[name]) == text(expected[name]), name


def text(column: pd.Series) -> list[str | None]:
    """Values as text, every kind of missing as None (pandas says None or nan by dtype)."""
    return [
        None if missing else str(value)
        for value, missing in zip(column, column.isna(), strict=True)
    ]


def test_an_outcome_that_arrives_before_its_lead_is_joined_when_the_lead_lands(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    ingest(write_csv(tmp_path / "l1.csv", [lead("L1")]))
    ingest(write_csv(tmp_path / "o1.csv", [outcome("L2", "true")]), kind="outcomes")
    assert gold(lake).index.tolist() == ["L1"]  # gold is lead-driven: no row for L2 yet
    ingest(write_csv(tmp_path / "l2.csv", [lead("L2")]))
    assert gold(lake).loc["L2", "converted"] == True  # noqa: E712 (numpy bool)
    assert_gold_is_the_join(lake)


def test_a_changed_lead_keeps_its_outcome_and_a_changed_outcome_reaches_gold(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    ingest(write_csv(tmp_path / "l1.csv", [lead("L1"), lead("L2")]))
    ingest(write_csv(tmp_path / "o1.csv", [outcome("L1", "false")]), kind="outcomes")
    ingest(write_csv(tmp_path / "l2.csv", [lead("L1", page_views="99")]))
    rows = gold(lake)
    assert rows.loc["L1", "page_views"] == 99.0 and rows.loc["L1", "converted"] == False  # noqa: E712
    ingest(
        write_csv(tmp_path / "o2.csv", [outcome("L1", "true", "2026-01-22T00:00:00")]),
        kind="outcomes",
    )
    rows = gold(lake)
    assert rows.loc["L1", "converted"] == True and rows.loc["L1", "page_views"] == 99.0  # noqa: E712
    assert pd.isna(rows.loc["L2", "converted"])
    assert_gold_is_the_join(lake)


def test_a_run_writes_only_the_ids_it_touched(tmp_path: Path, ingest, lake: Lake) -> None:
    ingest(write_csv(tmp_path / "l1.csv", [lead(f"L{i}") for i in range(50)]))
    before = lake.table_version(tables.GOLD_LEADS)
    ingest(write_csv(tmp_path / "l2.csv", [lead("L1", page_views="7"), lead("L99")]))
    uri = lake.table_uri(tables.GOLD_LEADS)
    newer = sorted(
        (h for h in DeltaTable(uri).history() if h["version"] > before), key=lambda h: h["version"]
    )
    append, merge = newer  # the new lead appended, the changed one merged: nothing else rewritten
    rows = {
        v: DeltaTable(uri, version=v).to_pyarrow_dataset().count_rows()
        for v in (before, append["version"])
    }
    assert rows[append["version"]] - rows[before] == 1
    assert (
        merge["operation"] == "MERGE"
        and int(merge["operationMetrics"]["num_target_rows_updated"]) == 1
    )
    assert len(gold(lake)) == 51
    assert_gold_is_the_join(lake)


def test_a_lake_without_gold_gets_it_built_from_all_of_silver(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    ingest(write_csv(tmp_path / "l1.csv", [lead("L1"), lead("L2")]))
    ingest(write_csv(tmp_path / "o1.csv", [outcome("L1", "true")]), kind="outcomes")
    shutil.rmtree(Path(lake.table_uri(tables.GOLD_LEADS)))  # dropped by hand
    ingest(write_csv(tmp_path / "l2.csv", [lead("L3")]))
    assert gold(lake).index.tolist() == ["L1", "L2", "L3"]
    assert_gold_is_the_join(lake)


def test_gold_streams_in_batches(tmp_path: Path, ingest, lake: Lake, monkeypatch) -> None:
    """Many batches, several per commit: the same gold as one batch would give."""
    monkeypatch.setattr(gold_module, "BATCH_ROWS", 7)
    ingest(write_csv(tmp_path / "l1.csv", [lead(f"L{i:03d}") for i in range(40)]))
    outcomes = [outcome(f"L{i:03d}", "true" if i % 3 else "false") for i in range(0, 60, 2)]
    ingest(write_csv(tmp_path / "o1.csv", outcomes), kind="outcomes")
    ingest(
        write_csv(tmp_path / "l2.csv", [lead(f"L{i:03d}", page_views="5") for i in range(30, 60)])
    )
    assert len(gold(lake)) == 60 and gold(lake)["converted"].notna().sum() == 30
    assert_gold_is_the_join(lake)


def test_gold_streamed_chunk_by_chunk_keeps_the_last_row_and_forgets_an_undone_file(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    # Gold rows of new leads are written as each chunk lands: a lead written again later
    # in the same run must end with its last content, and a file undone part-way
    # (an oversized cell in its last chunk) must leave none of its leads in gold.
    ingest(write_csv(tmp_path / "l0.csv", [lead("L0")]))
    rows = [lead(f"L{i}") for i in range(1, 6)] + [lead("L2", page_views="99")]
    good = write_csv(tmp_path / "a_good.csv", rows)
    bad = write_csv(
        tmp_path / "b_bad.csv",
        [lead(f"B{i}") for i in range(5)] + [lead("B9", job_title="x" * 70_000)],
    )
    result = ingest(good, bad, chunk_rows=2)
    assert [f.status for f in result.files] == ["accepted", "failed"]
    assert gold(lake).index.tolist() == ["L0", "L1", "L2", "L3", "L4", "L5"]
    assert gold(lake).loc["L2", "page_views"] == 99
    assert_gold_is_the_join(lake)
    # Merges leave replaced files behind until a vacuum; the undone file's own are deleted.
    stray = [
        path.name
        for path in (lake.path / "tables" / tables.GOLD_LEADS).glob("*.parquet")
        if any(
            i.startswith("B")
            for i in pq.read_table(path, columns=["lead_id"])["lead_id"].to_pylist()
        )
    ]
    assert stray == []
