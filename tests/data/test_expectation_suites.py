"""The bundled contract's expectation suites (expectations/) on sample data.

``*_sample.csv`` are clean exports (every row must pass); each row of
``*_defects.csv`` carries, in an extra ``expected_failures`` column, exactly the
expectations it must fail (the pipeline ignores unknown columns).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadops.inputs.contract import load_contract
from leadops.inputs.normalise import parse_frame
from leadops.inputs.readers import read_chunks
from leadops.inputs.sources import SourceFile, fingerprint
from leadops.settings import BUNDLED_CONTRACT
from tasks.ingest.suites import SUITES_DIR, derive_suite, load_suite, regenerate, required_columns
from tasks.ingest.validation import SuiteValidator

DATA = Path(__file__).parent
CONTRACT = load_contract(BUNDLED_CONTRACT)
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def validators() -> dict[str, SuiteValidator]:
    return {kind: SuiteValidator(load_suite(kind), AS_OF) for kind in ("leads", "outcomes")}


def failures_by_row(name: str, kind: str, validator: SuiteValidator) -> tuple[dict, dict]:
    source = SourceFile(str(DATA / name))
    (raw,) = list(read_chunks(source, fingerprint(source), chunk_rows=10_000))
    failed = validator.row_failures(parse_frame(raw, CONTRACT.roles(kind)))
    found = {row: list(failed.get(row, [])) for row in raw.index}
    expected = {
        row: [n for n in (raw.get("expected_failures", {}).get(row) or "").split(";") if n]
        for row in raw.index
    }
    return found, expected


def test_checked_in_suites_match_the_contract(tmp_path: Path) -> None:
    """Regenerating from the contract changes nothing: suites and contract agree."""
    for kind in ("leads", "outcomes"):
        shutil.copy(SUITES_DIR / f"{kind}.json", tmp_path / f"{kind}.json")
    regenerate(CONTRACT, tmp_path)
    for kind in ("leads", "outcomes"):
        regenerated = (tmp_path / f"{kind}.json").read_text()
        assert regenerated == (SUITES_DIR / f"{kind}.json").read_text(), kind


def test_regeneration_keeps_hand_tuned_expectations(tmp_path: Path) -> None:
    shutil.copy(SUITES_DIR / "leads.json", tmp_path / "leads.json")
    regenerate(CONTRACT, tmp_path)
    tuned = [
        e["meta"]["name"]
        for e in load_suite("leads", tmp_path)["expectations"]
        if e["meta"].get("hand_tuned")
    ]
    assert "lead_id:length" in tuned and "email:length" in tuned
    derived = [e["meta"]["name"] for e in derive_suite(CONTRACT, "leads")["expectations"]]
    assert not set(tuned) & set(derived)


@pytest.mark.parametrize("kind", ["leads", "outcomes"])
def test_suites_load_in_great_expectations_with_unique_names(kind: str) -> None:
    import great_expectations as gx

    suite = load_suite(kind)
    names = [e["meta"]["name"] for e in suite["expectations"]]
    assert len(names) == len(set(names))
    assert len(gx.ExpectationSuite(**suite).expectations) == len(names)


def test_every_contract_rule_has_an_expectation() -> None:
    names = {e["meta"]["name"] for e in load_suite("leads")["expectations"]}
    for column in required_columns(CONTRACT, "leads"):
        assert {f"{column}:present", f"{column}:not_null"} <= names
    for column in CONTRACT.by_role("numeric"):
        feature = CONTRACT.feature(column)
        assert f"{column}:numeric" in names
        assert (f"{column}:range" in names) == (feature.min is not None or feature.max is not None)
    assert {
        "created_at:timestamp",
        "created_at:not_future",
        "marketing_opt_in:boolean",
        "technographics:list",
        "email:format",
    } <= names


@pytest.mark.parametrize(
    ("name", "kind"), [("leads_sample.csv", "leads"), ("outcomes_sample.csv", "outcomes")]
)
def test_clean_exports_pass_every_expectation(name: str, kind: str, validators: dict) -> None:
    found, _ = failures_by_row(name, kind, validators[kind])
    assert not any(found.values()), {row: names for row, names in found.items() if names}


@pytest.mark.parametrize(
    ("name", "kind"), [("leads_defects.csv", "leads"), ("outcomes_defects.csv", "outcomes")]
)
def test_each_defect_fails_exactly_its_expectations(name: str, kind: str, validators: dict) -> None:
    found, expected = failures_by_row(name, kind, validators[kind])
    assert found == expected


def test_file_level_expectations_catch_missing_required_columns(validators: dict) -> None:
    leads = validators["leads"]
    assert leads.file_failures(CONTRACT.lead_columns) == []
    without_source = [c for c in CONTRACT.lead_columns if c != "lead_source"]
    assert leads.file_failures(without_source) == ["lead_source:present"]
    assert validators["outcomes"].file_failures([CONTRACT.entity_id]) == [
        f"{CONTRACT.label}:present",
        f"{CONTRACT.label_time}:present",
    ]
