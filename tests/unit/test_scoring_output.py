"""Scores output: streamed, published whole or not at all, locally and on S3."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tasks.scoring.output import OutputError, ScoresWriter, resolve_target

SCHEMA = pa.schema([("lead_id", pa.string()), ("score", pa.float64())])


def _part(start: int, n: int) -> pa.Table:
    return pa.table(
        {
            "lead_id": [f"L{i}" for i in range(start, start + n)],
            "score": [i / 1000 for i in range(start, start + n)],
        },
        schema=SCHEMA,
    )


def test_parquet_written_in_parts_is_one_file(tmp_path: Path) -> None:
    target = str(tmp_path / "out" / "scores.parquet")
    with ScoresWriter(target, "parquet", SCHEMA) as writer:
        for start in (0, 100, 200):
            writer.write(_part(start, 100))
        assert not Path(target).exists()  # nothing visible before the commit
        writer.commit()
    table = pq.read_table(target)
    assert table.num_rows == 300 and table.column("lead_id")[299].as_py() == "L299"
    assert [p.name for p in Path(target).parent.iterdir()] == ["scores.parquet"]


def test_csv_on_request(tmp_path: Path) -> None:
    target = str(tmp_path / "scores.csv")
    with ScoresWriter(target, "csv", SCHEMA) as writer:
        writer.write(_part(0, 5))
        writer.commit()
    assert pacsv.read_csv(target).num_rows == 5


def test_a_failed_run_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "scores.parquet"
    target.write_bytes(b"previous scores")
    with pytest.raises(RuntimeError), ScoresWriter(str(target), "parquet", SCHEMA) as writer:
        writer.write(_part(0, 10))
        raise RuntimeError("killed mid-batch")
    assert target.read_bytes() == b"previous scores"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]


def test_target_resolution(tmp_path: Path) -> None:
    assert (
        resolve_target(None, "/lake/scores/b1.parquet", "b1", "parquet")
        == "/lake/scores/b1.parquet"
    )
    assert resolve_target(str(tmp_path), "-", "b1", "csv") == str(tmp_path / "b1.csv")
    assert (
        resolve_target("s3://bucket/scores/", "-", "b1", "parquet")
        == "s3://bucket/scores/b1.parquet"
    )
    assert resolve_target(str(tmp_path / "x.pq"), "-", "b1", "parquet") == str(tmp_path / "x.pq")
    with pytest.raises(OutputError, match="format 'xlsx'"):
        resolve_target(None, "-", "b1", "xlsx")


@pytest.mark.integration
def test_s3_target_appears_only_when_complete(s3_bucket: str, s3_endpoint: str) -> None:
    import boto3

    target = f"s3://{s3_bucket}/exports/scores.parquet"
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    with ScoresWriter(target, "parquet", SCHEMA, endpoint_url=s3_endpoint) as writer:
        writer.write(_part(0, 50))
        assert client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0
        writer.commit()
    body = client.get_object(Bucket=s3_bucket, Key="exports/scores.parquet")["Body"].read()
    assert pq.read_table(pa.BufferReader(body)).num_rows == 50


def _documented_schema() -> pa.Schema:
    from tasks.scoring.table import output_schema
    from tests.support.scoring import contract

    return output_schema(contract())


def _unsorted(schema: pa.Schema, n: int = 50) -> pa.Table:
    import random
    from datetime import UTC, datetime

    scores = [random.Random(i).random() for i in range(n)]
    columns = {name: [None] * n for name in schema.names}
    columns[schema.names[0]] = [f"L{i:03d}" for i in range(n)]
    columns["score"], columns["decile"], columns["tier"] = scores, [5] * n, ["C"] * n
    columns["scored_at"] = [datetime(2026, 4, 6, tzinfo=UTC)] * n
    return pa.table(columns, schema=schema)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_score_file_is_sorted_best_first_and_says_what_its_columns_mean(
    tmp_path: Path, fmt: str
) -> None:
    import json

    schema = _documented_schema()
    target = str(tmp_path / f"scores.{fmt}")
    with ScoresWriter(target, fmt, schema) as writer:
        writer.write(_unsorted(schema).slice(0, 25))
        writer.write(_unsorted(schema).slice(25))
        writer.commit()
    if fmt == "parquet":
        written = pq.read_table(target)
        meanings = json.loads(pq.read_schema(target).metadata[b"leadops.columns"])
        assert meanings["decile"].startswith("1 = the best 10%")
        assert "A = decile 1" in meanings["tier"]
    else:
        written = pacsv.read_csv(target)
        about = Path(target + ".about.txt").read_text()
        assert "sorted by score, best first" in about and "tier: A = decile 1" in about
    scores = written.column("score").to_pylist()
    assert scores == sorted(scores, reverse=True) and written.num_rows == 50
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")) == []


def test_every_score_column_has_a_meaning() -> None:
    import json

    schema = _documented_schema()
    assert set(json.loads(schema.metadata[b"leadops.columns"])) == set(schema.names)
