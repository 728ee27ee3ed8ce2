"""SOURCE resolution, the checksum/encoding pass and the chunked readers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from leadops.inputs.readers import FileRejected, read_chunks
from leadops.inputs.sources import SourceError, SourceFile, fingerprint, resolve_sources


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def chunks(path: Path, chunk_rows: int = 1000) -> list[pd.DataFrame]:
    source = SourceFile(str(path))
    return list(read_chunks(source, fingerprint(source), chunk_rows))


def test_folder_glob_and_file_resolve_to_sorted_files(tmp_path: Path) -> None:
    for name in ("b.csv", "a.csv", "sub/c.parquet", ".hidden.csv"):
        write(tmp_path / "landing" / name, "x\n1\n")
    folder = [f.name for f in resolve_sources(str(tmp_path / "landing"))]
    assert folder == ["a.csv", "b.csv", "c.parquet"]
    globbed = resolve_sources(str(tmp_path / "landing" / "*.csv"))
    assert [f.name for f in globbed] == ["a.csv", "b.csv"]
    assert [f.name for f in resolve_sources(str(tmp_path / "landing" / "b.csv"))] == ["b.csv"]


def test_source_naming_nothing_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="nope: no such file or folder"):
        resolve_sources(str(tmp_path / "nope"))
    with pytest.raises(SourceError, match="matched no files"):
        resolve_sources(str(tmp_path / "*.csv"))


def test_checksum_depends_on_content_not_name(tmp_path: Path) -> None:
    a = fingerprint(SourceFile(str(write(tmp_path / "a.csv", "id\n1\n"))))
    b = fingerprint(SourceFile(str(write(tmp_path / "renamed.csv", "id\n1\n"))))
    c = fingerprint(SourceFile(str(write(tmp_path / "c.csv", "id\n2\n"))))
    assert a.checksum == b.checksum != c.checksum


def test_non_utf8_falls_back_to_latin1_and_says_where(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.csv", "id,name\n1,Müller\n".encode("latin-1"))
    fp = fingerprint(SourceFile(str(path)))
    assert fp.encoding == "latin-1" and "offset 11" in fp.note
    assert chunks(path)[0]["name"].tolist() == ["Müller"]


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", "\ufeffid,name\n1,x\n".encode("utf-8"))
    assert list(chunks(path)[0].columns) == ["id", "name"]


def test_csv_is_read_in_chunks_numbered_by_data_row(tmp_path: Path) -> None:
    path = write(tmp_path / "big.csv", "id\n" + "".join(f"{i}\n" for i in range(1, 26)))
    parts = chunks(path, chunk_rows=10)
    assert [len(p) for p in parts] == [10, 10, 5]
    assert parts[2].index.tolist() == [21, 22, 23, 24, 25]
    assert parts[2]["id"].tolist() == ["21", "22", "23", "24", "25"]


def test_csv_keeps_every_value_as_a_string(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "id,size,country,flag\n007,1e3,NA,\n")
    row = chunks(path)[0].iloc[0]
    assert (row["id"], row["size"], row["country"]) == ("007", "1e3", "NA")  # NA is Namibia
    assert pd.isna(row["flag"])


def test_semicolon_csv_from_excel_is_understood(tmp_path: Path) -> None:
    path = write(tmp_path / "excel.csv", "id;technographics\n1;AWS,Slack\n")
    assert chunks(path)[0].iloc[0].to_dict() == {"id": "1", "technographics": "AWS,Slack"}


def test_jsonl_values_read_as_the_text_a_csv_would_hold(tmp_path: Path) -> None:
    lines = [{"id": 1, "flag": True, "tech": ["AWS", "Slack"], "n": None}, {"id": 2, "extra": 1.5}]
    path = write(tmp_path / "a.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    frame = chunks(path)[0]
    assert frame.iloc[0][["id", "flag", "tech"]].tolist() == ["1", "true", '["AWS", "Slack"]']
    assert frame.iloc[1]["extra"] == "1.5" and pd.isna(frame.iloc[0]["n"])


def test_parquet_columns_are_read_as_strings(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pd.DataFrame({"id": ["L1"], "size": [12], "tech": [["AWS"]], "flag": [False]}).to_parquet(path)
    row = chunks(path)[0].iloc[0]
    assert row.tolist() == ["L1", "12", '["AWS"]', "false"]


@pytest.mark.parametrize(
    ("name", "data", "cause"),
    [
        ("empty.csv", b"", "empty file"),
        ("blank.csv", b"\n\n", "no header row"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
        ("fake.parquet", b"id\n1\n", "not a Parquet file"),
        ("bad.jsonl", b'{"id": 1}\n{"id": \n', "line 2 is not valid JSON"),
        ("array.jsonl", b'[{"id": 1}]\n', "line 1 is not a JSON object"),
        ("ragged.csv", b"id,x\n1,2\n3,4,5\n", "malformed csv"),
    ],
)
def test_structurally_unusable_files_are_rejected_naming_file_and_cause(
    tmp_path: Path, name: str, data: bytes, cause: str
) -> None:
    with pytest.raises(FileRejected, match=f"^{name}: .*{cause}"):
        chunks(write(tmp_path / name, data))


def test_header_only_file_yields_its_columns_and_no_rows(tmp_path: Path) -> None:
    parts = chunks(write(tmp_path / "h.csv", "id,name\n"))
    assert len(parts) == 1 and parts[0].empty and list(parts[0].columns) == ["id", "name"]
