"""Labels, keys, timestamps and headers as CRMs write them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from leadops.inputs.contract import ContractError, load_contract, parse_contract
from leadops.inputs.normalise import parse_frame
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage import tables
from leadops.storage.lake import Lake
from tests.support.ingest import AS_OF, lead, silver, write_csv


def contract_with(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(BUNDLED_CONTRACT.read_text() + extra)
    return path


def test_the_label_is_read_with_the_contract_positive_values(
    tmp_path: Path, settings, lake: Lake
) -> None:
    from tasks.ingest import ingest_files

    contract = load_contract(contract_with(tmp_path, 'positive_values: [Won, "Closed Won"]\n'))
    rows = [
        {"lead_id": lead_id, "converted": label, "converted_at": "2026-01-20"}
        for lead_id, label in [
            ("L1", "Won"),
            ("L2", "closed won"),
            ("L3", "Lost"),
            ("L4", "Closed Lost"),
        ]
    ]
    result = ingest_files(
        settings,
        lake,
        contract,
        [write_csv(tmp_path / "o.csv", rows)],
        kind="outcomes",
        as_of=AS_OF,
    )
    assert result.total("silver") == 4
    labels = silver(lake, "outcomes")["converted"].to_dict()
    assert labels == {"L1": True, "L2": True, "L3": False, "L4": False}


def test_with_negative_values_an_unknown_label_is_quarantined() -> None:
    contract = parse_contract({**_raw(), "positive_values": ["Won"], "negative_values": ["Lost"]})
    raw = pd.DataFrame(
        {
            "lead_id": ["1", "2", "3"],
            "converted": ["Won", "Lost", "Open"],
            "converted_at": ["2026-01-01"] * 3,
        },
        index=[1, 2, 3],
    )
    typed = parse_frame(raw, contract.roles("outcomes"), **contract.parse_options("outcomes"))
    assert typed["converted"].tolist()[:2] == [True, False]
    assert typed["converted__unparsed"].tolist() == [False, False, True]


def test_yaml_yes_and_one_are_label_spellings_and_bad_keys_fail_in_one_line() -> None:
    import yaml

    contract = parse_contract({**_raw(), **yaml.safe_load("positive_values: [yes, 1]")})
    assert {"yes", "true", "1"} <= set(contract.positive_values)
    with pytest.raises(ContractError, match=r"positive_values must be a list.*thousands_separator"):
        parse_contract({**_raw(), "positive_values": "Won", "thousands_separator": "x"})


def _raw() -> dict:
    import yaml

    return yaml.safe_load(BUNDLED_CONTRACT.read_text())


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-01-05", "2026-01-05T00:00:00+00:00"),
        ("2026-01-05T10:00:00", "2026-01-05T10:00:00+00:00"),
        ("2026-01-05T10:00:00+02:00", "2026-01-05T08:00:00+00:00"),
        ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00+00:00"),
        ("1767607200", "2026-01-05T10:00:00+00:00"),
        ("1767607200000", "2026-01-05T10:00:00+00:00"),
        ("1767607200.5", "2026-01-05T10:00:00.500000+00:00"),
    ],
)
def test_timestamps_in_every_crm_spelling_parse_to_utc(written: str, expected: str) -> None:
    # An offset-bearing value first: pandas would apply its offset to the naive ones.
    raw = pd.DataFrame({"created_at": ["2026-01-01T00:00:00+05:00", written]}, index=[1, 2])
    typed = parse_frame(raw, {"created_at": "timestamp"})
    assert not typed["created_at__unparsed"].any()
    assert typed["created_at"].iloc[1] == pd.Timestamp(expected)


def test_upper_case_padded_headers_and_integer_ids_ingest(
    tmp_path: Path, ingest, lake: Lake
) -> None:
    rows = [{f" {k.upper()} ": v for k, v in lead(str(n)).items()} for n in (101, 102)]
    (file,) = ingest(write_csv(tmp_path / "upper.csv", rows)).files
    assert (file.status, file.silver) == ("accepted", 2), file.reason
    records = [{**lead("x"), "lead_id": 7, "company_size": 50} for _ in range(1)]
    (tmp_path / "ids.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    (file,) = ingest(tmp_path / "ids.jsonl").files
    assert file.silver == 1
    assert sorted(silver(lake).index) == ["101", "102", "7"]


def test_thousands_separators_parse_when_the_contract_says_so(
    tmp_path: Path, settings, lake: Lake
) -> None:
    from tasks.ingest import ingest_files

    contract = load_contract(contract_with(tmp_path, 'thousands_separator: ","\n'))
    source = write_csv(tmp_path / "t.csv", [lead("A1", annual_revenue="1,250,000")])
    ingest_files(settings, lake, contract, [source], as_of=AS_OF)
    assert silver(lake).loc["A1", "annual_revenue"] == 1_250_000
    assert lake.table_exists(tables.silver("leads"))
