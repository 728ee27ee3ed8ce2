"""Loading a data contract: the bundled one works, broken ones fail in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from leadops.contract import ContractError, load_contract
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
    assert contract.outcome_columns == ["lead_id", "converted", "converted_at"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["features"].append({"name": "x", "role": "vector"}), "unknown role 'vector'"),
        (lambda r: r["features"].append({"name": "industry", "role": "text"}), "duplicate column"),
        (lambda r: r.update(features=r["features"] + [{"name": "lead_id", "role": "numeric"}]), "duplicate column"),
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
    with pytest.raises(ContractError, match="no label.*unknown role 'blob'|unknown role 'blob'.*no label"):
        load_contract(write(tmp_path, raw))


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="file not found"):
        load_contract(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("features: [unclosed")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_contract(bad)
