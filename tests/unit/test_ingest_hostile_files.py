"""Files as CRMs export them, and files built to hurt: gzip, UTF-16, ragged and broken
lines, cells nested thousands deep. A bad line is quarantined with its text and line
number and the rest lands; a bad file fails alone in one line; nothing crashes the run."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from leadops.storage import tables
from leadops.storage.lake import Lake
from tests.support.ingest import lead, silver, write_csv


def csv_text(rows: list[dict], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def quarantine(lake: Lake) -> list[dict]:
    return lake.read_table(tables.quarantine("leads")).to_dict("records")


def test_gzipped_csv_and_jsonl_exports_are_read_as_streams(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv.gz").write_bytes(
        gzip.compress(csv_text([lead("A1"), lead("A2")]).encode())
    )
    (tmp_path / "in" / "b.jsonl.gz").write_bytes(gzip.compress(json.dumps(lead("B1")).encode()))
    result = ingest(tmp_path / "in")
    assert [(f.name, f.status, f.silver) for f in result.files] == [
        ("a.csv.gz", "accepted", 2),
        ("b.jsonl.gz", "accepted", 1),
    ]
    assert sorted(silver(lake).index) == ["A1", "A2", "B1"]


def test_a_gzip_that_inflates_past_the_cap_fails_in_one_line(
    tmp_path: Path, ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import leadops.inputs.sources

    monkeypatch.setattr(leadops.inputs.sources, "MAX_DECOMPRESSED_BYTES", 100_000)
    body = csv_text([lead("A1")]) + "\n" * 1_000_000  # ~1 MB of nothing, 1 KB gzipped
    (tmp_path / "bomb.csv.gz").write_bytes(gzip.compress(body.encode()))
    (file,) = ingest(tmp_path / "bomb.csv.gz").files
    assert file.status == "failed"
    assert file.reason == (
        "bomb.csv.gz: decompresses to more than 100,000 bytes (limit); not a lead export"
    )


def test_a_truncated_gzip_fails_in_the_same_one_line_for_ingest_and_score(
    tmp_path: Path, ingest
) -> None:
    from leadops.inputs.sources import UnreadableSource
    from tasks.scoring.batch_file import load_batch_file
    from tests.support.scoring import contract

    whole = gzip.compress(csv_text([lead(f"A{i}") for i in range(200)]).encode())
    path = tmp_path / "truncated.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    (file,) = ingest(path).files
    expected = (
        "truncated.csv.gz: cannot be read "
        "(Compressed file ended before the end-of-stream marker was reached)"
    )
    assert (file.status, file.reason) == ("failed", expected)
    # Scoring the same file said only "Aborted!": an EOFError reached Click.
    with pytest.raises(UnreadableSource) as raised:
        load_batch_file(str(path), contract(), 1000)
    assert str(raised.value) == expected


def test_excel_unicode_text_utf16_with_bom_is_read(tmp_path: Path, ingest, lake: Lake) -> None:
    text = csv_text([lead("Ü1", job_title="Geschäftsführer")], delimiter="\t")
    (tmp_path / "excel.tsv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (file,) = ingest(tmp_path / "excel.tsv").files
    assert (file.status, file.silver) == ("accepted", 1), file.reason
    assert silver(lake).loc["Ü1", "job_title"] == "Geschäftsführer"


def test_a_ragged_csv_line_is_quarantined_with_its_text_and_line(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    path = write_csv(tmp_path / "r.csv", [lead("A1"), lead("A2"), lead("A3")])
    lines = path.read_text().splitlines()
    lines[2] = "A2,2026-01-05,web"  # line 3 of the file: 3 fields, header 17
    path.write_text("\n".join(lines) + "\n")
    (file,) = ingest(path).files
    assert (file.status, file.rows_in, file.silver, file.quarantined) == ("accepted", 3, 2, 1)
    (bad,) = quarantine(lake)
    assert (bad["_raw_line"], bad[tables.ROW_NUMBER]) == ("A2,2026-01-05,web", 3)
    assert list(bad[tables.FAILED_EXPECTATIONS]) == [
        "line:malformed (3 fields where the header has 17)"
    ]


def test_a_broken_json_line_is_quarantined_and_the_rest_lands(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    deep = '{"lead_id": "D", "technographics": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [json.dumps(lead("A1")), '{"lead_id": "A2", ', deep, json.dumps(lead("A3"))]
    (tmp_path / "j.jsonl").write_text("\n".join(lines) + "\n")
    (file,) = ingest(tmp_path / "j.jsonl").files
    assert (file.status, file.silver, file.quarantined) == ("accepted", 2, 2)
    rows = {
        row[tables.ROW_NUMBER]: list(row[tables.FAILED_EXPECTATIONS]) for row in quarantine(lake)
    }
    assert rows[2][0].startswith("line:malformed (is not valid JSON")
    assert rows[3] == ["line:malformed (nests JSON too deeply to be a lead)"]


def test_a_cell_nested_thousands_deep_quarantines_its_row_not_the_run(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    deep = "[" * 5_000 + "]" * 5_000
    (file,) = ingest(
        write_csv(tmp_path / "n.csv", [lead("A1"), lead("A2", technographics=deep)])
    ).files
    assert (file.status, file.silver, file.quarantined) == ("accepted", 1, 1)
    (bad,) = quarantine(lake)
    assert (bad["lead_id"], list(bad[tables.FAILED_EXPECTATIONS])) == (
        "A2",
        ["technographics:list"],
    )
