"""`leadops contract init`: a contract proposed from sample exports, with reasons."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from leadops.inputs.contract import load_contract

LEADS = """Deal Owner Email,Record Id,Created Date,Employees,Opt In,Tech Stack,Segment,Notes,\
Last Activity Date
{rows}"""
OUTCOMES = "Record Id,Stage,Closed On\n" + "\n".join(
    f"{n},{'Won' if n % 3 else 'Lost'},2026-02-0{n % 9 + 1}" for n in range(1, 40)
)


def leads_rows() -> str:
    stacks = ["Salesforce;Slack", "HubSpot", "Slack;Zoom;Jira", ""]
    return "\n".join(
        f"rep{n % 4}@acme.com,{n},{1767607200000 + n * 60_000},{10 * n},"
        f"{'yes' if n % 2 else 'no'},{stacks[n % 4]},{'SMB' if n % 2 else 'ENT'},"
        f"note {n} free text,{1767607200 + n * 3600}"
        for n in range(1, 40)
    )


def test_a_proposal_names_keys_roles_and_label_spellings(tmp_path: Path, home: Path) -> None:
    from app.contract.contract_init import init_contract

    (tmp_path / "leads.csv.gz").write_bytes(gzip.compress(LEADS.format(rows=leads_rows()).encode()))
    (tmp_path / "outcomes.csv").write_text(OUTCOMES)
    lines = init_contract(
        [str(tmp_path / "leads.csv.gz"), str(tmp_path / "outcomes.csv")], tmp_path / "contract.yaml"
    )
    contract = load_contract(tmp_path / "contract.yaml")
    assert (contract.entity_id, contract.event_time) == ("Record Id", "Created Date")
    assert (contract.label, contract.label_time) == ("Stage", "Closed On")
    assert contract.positive_values == ("Won",)
    roles = {f.name: f.role for f in contract.features}
    assert roles == {
        "Deal Owner Email": "email",
        "Employees": "numeric",
        "Opt In": "boolean",
        "Tech Stack": "multi_valued",
        "Segment": "categorical",
        "Notes": "text",
    }
    assert any(line.startswith("entity_id: Record Id (its name says id") for line in lines)
    assert any(line.startswith("Tech Stack: multi_valued (values are lists") for line in lines)
    # Another point in time (epoch seconds here) is not a feature: it would extrapolate.
    assert any(line.startswith("Last Activity Date: left out (a point in time") for line in lines)


@pytest.mark.parametrize("case", ["missing-folder", "exists"])
def test_out_is_never_created_silently_nor_overwritten(
    tmp_path: Path, home: Path, case: str
) -> None:
    from app.contract.contract_init import OutputError, init_contract

    (tmp_path / "outcomes.csv").write_text(OUTCOMES)
    out = tmp_path / "no" / "c.yaml" if case == "missing-folder" else tmp_path / "outcomes.csv"
    with pytest.raises(OutputError, match=r"^--out .*(does not exist|already exists)"):
        init_contract([str(tmp_path / "outcomes.csv")], out)
    assert not (tmp_path / "no").exists() and (tmp_path / "outcomes.csv").read_text() == OUTCOMES
