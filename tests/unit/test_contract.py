"""Loading a data contract: the bundled one works, broken ones fail in one line."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from leadops.inputs.contract import ARROW_TYPES, ROLES, ContractError, load_contract
from leadops.settings import BUNDLED_CONTRACT


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(BUNDLED_CONTRACT.read_text())


def test_bundled_contract_names_roles() -> None:
    contract = load_contract(BUNDLED_CONTRACT)
    assert contract.entity_id == "lead_id"
    assert contract.label == "converted"
    assert contract.by_role("multi_valued") == ["technographics"]
    assert contract.by_role("email") == ["email"]
    assert "company_size" in contract.by_role("numeric")
    assert contract.lead_columns[:2] == ["lead_id", "created_at"]
    assert contract.outcome_columns == ["lead_id", "converted", "converted_at", "deal_amount"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["features"].append({"name": "x", "role": "vector"}), "unknown role 'vector'"),
        (lambda r: r["features"].append({"name": "industry", "role": "text"}), "duplicate column"),
        (
            lambda r: r.update(features=r["features"] + [{"name": "lead_id", "role": "numeric"}]),
            "duplicate column",
        ),
        (lambda r: r.pop("entity_id"), "no entity_id"),
        (lambda r: r.pop("label"), "no label"),
        (lambda r: r.update(features=[]), "features must be"),
        (lambda r: r.update(outcome_window_days=0), "outcome_window_days"),
    ],
)
def test_broken_contract_is_one_clear_line(tmp_path: Path, raw: dict, mutate, message: str) -> None:
    mutate(raw)
    path = write(tmp_path, raw)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    text = str(caught.value)
    assert message in text
    assert str(path) in text
    assert "\n" not in text


def test_all_problems_reported_together(tmp_path: Path, raw: dict) -> None:
    raw.pop("label")
    raw["features"].append({"name": "y", "role": "blob"})
    with pytest.raises(
        ContractError, match="no label.*unknown role 'blob'|unknown role 'blob'.*no label"
    ):
        load_contract(write(tmp_path, raw))


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="file not found"):
        load_contract(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("features: [unclosed")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_contract(bad)


def test_roles_and_arrow_types_come_from_one_map() -> None:
    contract = load_contract(BUNDLED_CONTRACT)
    leads = contract.roles("leads")
    assert list(leads) == contract.lead_columns
    assert leads["lead_id"] == "id" and leads["created_at"] == "timestamp"
    assert leads["technographics"] == "multi_valued"
    schema = contract.arrow_schema("leads")
    assert schema.names == contract.lead_columns
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("company_size").type == pa.float64()
    assert schema.field("technographics").type == pa.list_(pa.string())
    assert schema.field("email").type == pa.string()
    outcomes = contract.arrow_schema("outcomes")
    assert outcomes.names == contract.outcome_columns
    assert outcomes.field("converted").type == pa.bool_()
    assert set(ARROW_TYPES) == {*ROLES, "id", "timestamp"}


def test_an_unknown_file_kind_is_one_clear_line() -> None:
    with pytest.raises(ContractError, match="unknown file kind 'deals'; known: leads, outcomes"):
        load_contract(BUNDLED_CONTRACT).roles("deals")


def test_a_named_value_column_is_a_numeric_outcome_column(tmp_path: Path, raw: dict) -> None:
    raw["value"] = "deal_amount"
    contract = load_contract(write(tmp_path, raw))
    assert contract.value == "deal_amount"
    assert contract.outcome_columns[-1] == "deal_amount"
    assert contract.arrow_schema("outcomes").field("deal_amount").type == ARROW_TYPES["numeric"]


def test_a_contract_without_a_value_column_has_the_three_outcome_columns(
    tmp_path: Path, raw: dict
) -> None:
    raw.pop("value", None)
    contract = load_contract(write(tmp_path, raw))
    assert contract.value is None
    assert contract.outcome_columns == [raw["entity_id"], raw["label"], raw["label_time"]]


def test_a_value_column_that_is_also_a_feature_is_refused(tmp_path: Path, raw: dict) -> None:
    raw["value"] = raw["features"][0]["name"]
    with pytest.raises(ContractError, match="duplicate column"):
        load_contract(write(tmp_path, raw))
