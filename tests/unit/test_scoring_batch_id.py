"""A scored file's batch id (and default output name) is its name without format suffixes."""

from __future__ import annotations

import pytest

from tasks.scoring.sources import data_stem


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        (
            "new-leads.csv.gz",
            "new-leads",
        ),  # was "new-leads.csv": new-leads.csv-e5326ffc1f68.parquet
        ("new-leads.csv", "new-leads"),
        ("week.07.jsonl.gz", "week.07"),
        ("export.parquet", "export"),
        ("leads.2026-03", "leads.2026-03"),  # not a format suffix: kept
    ],
)
def test_the_batch_id_drops_the_format_and_compression(name: str, stem: str) -> None:
    assert data_stem(name) == stem
