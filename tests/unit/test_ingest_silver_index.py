"""Silver's content hash and id index: faster paths that must give the same answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadops.inputs.normalise import parse_frame
from tasks.ingest.silver import IdIndex, content_hash, id_hashes
from tests.support.ingest import CONTRACT, lead


def typed_leads(arrow_strings: bool) -> pd.DataFrame:
    rows = [
        lead(f"L{i}", country=["US", "DE", "", "FR"][i % 4], email=f"p{i % 5}@x.com")
        for i in range(40)
    ]
    rows[3]["technographics"] = ""
    rows[5]["lead_source"] = ""
    rows[7]["technographics"] = "a|b"
    raw = pd.DataFrame(rows, dtype=object)
    return parse_frame(raw, CONTRACT.roles("leads"), arrow_strings=arrow_strings)


@pytest.mark.parametrize("arrow_strings", [False, True])
def test_content_hash_is_pandas_row_hash_of_the_contract_columns(arrow_strings: bool) -> None:
    roles = CONTRACT.roles("leads")
    typed = typed_leads(arrow_strings)
    reference = typed[list(roles)].copy()
    reference["technographics"] = typed["technographics"].map(
        lambda v: "\x1f".join(v), na_action="ignore"
    )
    expected = pd.util.hash_pandas_object(reference, index=False)
    assert (content_hash(typed, roles).to_numpy() == expected.to_numpy().view("int64")).all()
    # Object and Arrow-backed strings give the same hashes: silver rows written either
    # way compare equal.
    other = content_hash(typed_leads(not arrow_strings), roles)
    assert content_hash(typed, roles).equals(other)


def test_id_index_finds_exactly_the_ids_added() -> None:
    index = IdIndex.of(pd.Series([f"L{i}" for i in range(0, 1000, 2)]))
    asked = pd.Series([f"L{i}" for i in range(1000)])
    assert (index.contains(id_hashes(asked)) == (np.arange(1000) % 2 == 0)).all()
    index.add(id_hashes(pd.Series(["L1", "L3", "L3", "L0"])))
    found = index.contains(id_hashes(pd.Series(["L1", "L3", "L5", "L0"])))
    assert found.tolist() == [True, True, False, True]
    assert len(index.hashes) == 502 and (np.diff(index.hashes.astype(np.float64)) >= 0).all()
    assert not IdIndex.of(pd.Series([], dtype=object)).contains(id_hashes(asked)).any()
