"""The encoder's Arrow path for small chunks (online requests) gives the pandas path's matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from app.demo.synthetic import GeneratorConfig, generate_week
from leadops.inputs.contract import load_contract
from leadops.inputs.normalise import parse_frame
from leadops.settings import BUNDLED_CONTRACT
from tasks.features.encoder import FeatureEncoder
from tasks.features.small import encode_table

CONTRACT = load_contract(BUNDLED_CONTRACT)


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    """Typed synthetic leads, a fifth with a CRM-export defect (nulls after parsing)."""
    raw, _ = generate_week(GeneratorConfig(leads_per_week=1500, seed=11, defect_share=0.2), 1)
    return parse_frame(raw.astype(str), CONTRACT.roles("leads"))[CONTRACT.lead_columns]


def _odd_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Nulls in every column, unseen levels, empty and blank item lists, non-UTC times."""
    frame = frame.copy().reset_index(drop=True)
    rng = np.random.default_rng(3)
    for column in CONTRACT.feature_names:
        frame.loc[rng.random(len(frame)) < 0.1, column] = None
    frame.loc[::7, "lead_source"] = "carrier pigeon"
    frame.loc[::11, "country"] = ""
    frame["technographics"] = frame["technographics"].astype(object)
    for row, items in ((3, []), (4, ["  "]), (5, [" Slack ", "Quantum CRM", None]), (6, None)):
        frame.at[row, "technographics"] = items
    frame.loc[::13, "email"] = "Ana@GMAIL.com "
    frame.loc[::17, "job_title"] = "  "
    return frame


def _table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, schema=CONTRACT.arrow_schema("leads"), preserve_index=False)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("rows", [1, 2, 100, 1000])
def test_arrow_path_gives_the_pandas_matrix_bit_for_bit(leads: pd.DataFrame, rows: int) -> None:
    # Fitted on few rows with a small cap: later rows bring unseen levels and items.
    encoder = FeatureEncoder.fit(leads.head(150), CONTRACT, cap=5)
    table = _table(_odd_cells(leads)).slice(len(leads) - rows)
    expected = encoder.transform(table.to_pandas())
    assert _same_bits(encoder.transform_table(table), expected)
    if rows >= 100:  # the rows do carry missing numbers and unseen levels
        assert np.isnan(expected).any()
        assert expected[:, encoder.feature_names.index("lead_source=(other)")].any()


def test_missing_columns_read_as_null_in_both_paths(leads: pd.DataFrame) -> None:
    encoder = FeatureEncoder.fit(leads.head(150), CONTRACT, cap=5)
    table = _table(leads.head(20)).drop_columns(
        ["technographics", "email", "page_views", "created_at"]
    )
    assert _same_bits(encoder.transform_table(table), encoder.transform(table.to_pandas()))


def test_times_in_another_zone_read_in_utc(leads: pd.DataFrame) -> None:
    encoder = FeatureEncoder.fit(leads.head(150), CONTRACT, cap=5)
    table = _table(leads.head(30))
    at = CONTRACT.arrow_schema("leads").get_field_index(CONTRACT.event_time)
    berlin = table.column(at).cast(pa.timestamp("us", tz="Europe/Berlin"))
    table = table.set_column(at, pa.field(CONTRACT.event_time, berlin.type), berlin)
    assert _same_bits(encoder.transform_table(table), encoder.transform(table.to_pandas()))


def test_raw_text_cells_take_the_pandas_path(leads: pd.DataFrame) -> None:
    encoder = FeatureEncoder.fit(leads.head(150), CONTRACT, cap=5)
    text = pa.table(
        {"lead_source": ["referral"], "page_views": ["12"], "technographics": ["AWS|Slack"]}
    )
    assert encode_table(encoder.spec, text, len(encoder.feature_names)) is None
    assert _same_bits(encoder.transform_table(text), encoder.transform(text.to_pandas()))
    row = dict(zip(encoder.feature_names, encoder.transform_table(text)[0], strict=True))
    assert (
        row["page_views"] == 12.0 and row["technographics=AWS"] + row["technographics=(other)"] >= 1
    )
