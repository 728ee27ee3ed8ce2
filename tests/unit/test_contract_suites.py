"""Suites belong to a contract: derived at run time, or the user's own (LEADOPS_EXPECTATIONS_DIR
or beside the contract); `leadops suites --out DIR` writes them, never into the project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadops.inputs.contract import load_contract
from leadops.settings import BUNDLED_CONTRACT, get_settings
from leadops.storage import tables
from leadops.storage.lake import Lake
from tests.support.ingest import AS_OF, lead, write_csv


def renamed_contract(folder: Path, **renames: str) -> Path:
    """The bundled contract with columns renamed (old=new) and the email feature dropped."""
    text = BUNDLED_CONTRACT.read_text()
    for old, new in renames.items():
        text = text.replace(f": {old}", f": {new}")
    text = text.replace("  - {name: email, role: email}\n", "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "contract.yaml").write_text(text)
    return folder / "contract.yaml"


def renamed_lead(lead_id: str, **overrides: str) -> dict[str, str]:
    row = lead(lead_id, **overrides)
    row["LeadId"] = row.pop("lead_id")
    del row["email"]
    return row


def test_another_contract_ingests_with_suites_derived_from_it(
    tmp_path: Path, settings, lake: Lake
) -> None:
    from tasks.ingest import ingest_files

    contract = load_contract(renamed_contract(tmp_path / "crm", lead_id="LeadId"))
    source = write_csv(
        tmp_path / "in" / "a.csv", [renamed_lead("A1"), renamed_lead("A2", page_views="abc")]
    )
    result = ingest_files(settings, lake, contract, [source], as_of=AS_OF)
    assert (result.total("silver"), result.total("quarantined")) == (1, 1)
    assert set(lake.read_table(tables.silver("leads"))["LeadId"]) == {"A1"}


def test_suites_command_keeps_only_hand_tuned_expectations_whose_columns_remain(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from app.contract.contract_init import write_suites
    from tasks.ingest.suites import SUITES_DIR

    shutil.copytree(SUITES_DIR, tmp_path / "suites")  # suites tuned for the old contract
    monkeypatch.setenv("LEADOPS_CONTRACT_PATH", str(renamed_contract(tmp_path / "crm")))
    get_settings.cache_clear()
    written = write_suites(tmp_path / "suites")
    leads = json.loads((tmp_path / "suites" / "leads.json").read_text())
    tuned = {e["meta"]["name"] for e in leads["expectations"] if e["meta"].get("hand_tuned")}
    assert [p.name for p in written] == ["leads.json", "outcomes.json"]
    # The bundled suite tunes lead_id and email; this contract has no email column.
    assert "lead_id:length" in tuned and not any(n.startswith("email:") for n in tuned)


def test_own_suites_are_used_from_the_setting_or_beside_the_contract(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.contract.contract_init import write_suites
    from leadops.storage.local import open_lake
    from tasks.ingest import ingest_files

    contract_path = renamed_contract(tmp_path / "crm", lead_id="LeadId")
    monkeypatch.setenv("LEADOPS_CONTRACT_PATH", str(contract_path))
    get_settings.cache_clear()
    write_suites(tmp_path / "crm" / "expectations")
    suite_file = tmp_path / "crm" / "expectations" / "leads.json"
    suite = json.loads(suite_file.read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "country", "value_set": ["US"]},
            "meta": {"name": "country:served", "hand_tuned": True},
        }
    )
    suite_file.write_text(json.dumps(suite))
    rows = [renamed_lead("A1"), renamed_lead("A2", country="FR")]
    source = write_csv(tmp_path / "in" / "a.csv", rows)
    result = ingest_files(
        get_settings(),
        open_lake(get_settings()),
        load_contract(contract_path),
        [source],
        as_of=AS_OF,
    )
    assert result.failed_expectations == {"country:served": 1}

    moved = tmp_path / "elsewhere"
    (tmp_path / "crm" / "expectations").rename(moved)
    monkeypatch.setenv("LEADOPS_EXPECTATIONS_DIR", str(moved))
    get_settings.cache_clear()
    other = write_csv(tmp_path / "in2" / "b.csv", [renamed_lead("B1", country="DE")])
    result = ingest_files(
        get_settings(),
        open_lake(get_settings()),
        load_contract(contract_path),
        [other],
        as_of=AS_OF,
    )
    assert result.failed_expectations == {"country:served": 1}


@pytest.mark.parametrize("target", ["project", "missing-parent"])
def test_suites_are_never_written_into_the_project_or_a_missing_folder(
    tmp_path: Path, home: Path, target: str
) -> None:
    from app.contract.contract_init import OutputError, write_suites
    from expectations import SUITES_DIR

    out = SUITES_DIR if target == "project" else tmp_path / "no" / "such"
    before = {p: p.read_bytes() for p in SUITES_DIR.rglob("*.json")}
    with pytest.raises(
        OutputError,
        match=r"^--out .*(inside the installed LeadOps project|"
        r"does not exist)",
    ):
        write_suites(out)
    assert {p: p.read_bytes() for p in SUITES_DIR.rglob("*.json")} == before
    assert not (tmp_path / "no").exists()
