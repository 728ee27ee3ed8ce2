"""Nothing lost: `contract check` proposes the widened contract from the quarantine,
`--write` writes it to the user's file, and a replay moves the rows that now pass into
silver and gold, once (a second replay adds nothing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.contract.contract_init import OutputError
from app.contract.contract_widen import check_contract
from leadops.inputs.contract import load_contract
from leadops.settings import Settings
from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.ingest.replay import replay_configured
from tasks.ingest.run import ingest_files
from tests.support.ingest import lead, silver, write_csv
from tests.support.quarantine import month_export, narrow_contract

LATE = datetime(2026, 12, 1, tzinfo=UTC)


def _month_seven(tmp_path: Path, settings: Settings, lake: Lake) -> Settings:
    """Two clean months, then month 7: 12 counts 2..13, one company too big, one bad email."""
    contract = narrow_contract(tmp_path)
    for month in (1, 2):
        ingest_files(
            settings,
            lake,
            contract,
            [month_export(tmp_path / f"m{month}.csv", month, 20, [])],
            as_of=LATE,
        )
    late = month_export(tmp_path / "m7.csv", 7, 20, list(range(2, 14)))
    rows = late.read_text().splitlines()
    extra = [
        lead("M7-big", created_at="2026-07-05T10:00:00", company_size="2400000", previous="1"),
        lead("M7-mail", created_at="2026-07-05T10:00:00", email="not an email", previous="0"),
    ]
    write_csv(tmp_path / "extra.csv", extra)
    late.write_text("\n".join(rows + (tmp_path / "extra.csv").read_text().splitlines()[1:]) + "\n")
    result = ingest_files(settings, lake, contract, [late], as_of=LATE)
    assert result.total("quarantined") == 14
    return settings.model_copy(update={"contract_path": Path(contract.source)})


def test_contract_check_names_the_rejections_and_proposes_the_widening(
    tmp_path: Path, settings: Settings, lake: Lake
) -> None:
    mine = _month_seven(tmp_path, settings, lake)
    lines = check_contract(mine)
    assert "  previous:boolean rejected 12 rows (e.g. '2', '3', '4', '5', '6')" in lines
    assert "  previous: boolean -> numeric: 12 rows had 2..13" in lines
    assert "  company_size: max 1,000,000 -> 2,400,000: 1 rows above" in lines
    assert any(line.startswith("  email:format rejected 1 rows") for line in lines)
    assert lines[-1].startswith("write it with --write")
    assert load_contract(mine.contract_path).feature("previous").role == "boolean"  # not written


def test_write_widens_the_users_file_keeping_its_comments_never_the_bundled_one(
    tmp_path: Path, settings: Settings, lake: Lake
) -> None:
    mine = _month_seven(tmp_path, settings, lake)
    path = Path(mine.contract_path)
    path.write_text("# my CRM, checked by Ann\n" + path.read_text())
    lines = check_contract(mine, write=True)
    assert lines[-1] == f"wrote {path.resolve()}; now run `leadops quarantine replay`"
    widened = load_contract(path)
    assert widened.feature("previous").role == "numeric"
    assert widened.feature("company_size").max == 2_400_000
    assert path.read_text().startswith("# my CRM, checked by Ann\n")
    with pytest.raises(OutputError, match="the bundled contract, inside the installed project"):
        check_contract(settings, write=True)


def test_replay_moves_what_now_passes_into_silver_and_gold_once(
    tmp_path: Path, settings: Settings, lake: Lake
) -> None:
    mine = _month_seven(tmp_path, settings, lake)
    check_contract(mine, write=True)
    first = replay_configured(mine, "leads", as_of=LATE)
    assert (first.read, first.to_silver, first.already_in_silver, first.still_quarantined) == (
        14,
        13,
        0,
        1,
    )
    assert dict(first.still_failing) == {"email:format": 1}
    assert json.loads(Path(first.report).read_text())["to_silver"] == 13  # kept beside the data
    rows = silver(lake)
    assert len(rows) == 20 + 20 + 21 and rows["previous"].dtype == "float64"
    assert rows.loc["M7-11", "previous"] == 13.0 and rows.loc["M1-1", "previous"] == 1.0
    assert rows.loc["M7-big", "company_size"] == 2_400_000
    assert rows.loc["M7-3", tables.SOURCE_FILE].endswith("m7.csv")  # where it was received
    gold = lake.read_table(tables.GOLD_LEADS).set_index("lead_id")
    assert len(gold) == 61 and gold.loc["M7-11", "previous"] == 13.0
    held = lake.read_table(tables.quarantine("leads"))
    assert held["lead_id"].tolist() == ["M7-mail"]
    versions = {t: lake.table_version(t) for t in (tables.silver("leads"), tables.GOLD_LEADS)}
    again = replay_configured(mine, "leads", as_of=LATE)
    assert (again.read, again.to_silver, again.still_quarantined) == (1, 0, 1)
    assert versions == {t: lake.table_version(t) for t in versions}


def test_a_lead_silver_got_from_a_later_export_is_already_there(
    tmp_path: Path, settings: Settings, lake: Lake
) -> None:
    mine = _month_seven(tmp_path, settings, lake)
    check_contract(mine, write=True)
    widened = load_contract(mine.contract_path)
    later = write_csv(
        tmp_path / "m8.csv", [lead("M7-0", created_at="2026-07-05T10:00:00", previous="40")]
    )
    ingest_files(mine, lake, widened, [later], as_of=LATE)
    assert silver(lake).loc["M1-0", "previous"] == 0.0  # stored booleans became counts
    result = replay_configured(mine, "leads", as_of=LATE)
    assert (result.to_silver, result.already_in_silver, result.still_quarantined) == (12, 1, 1)
    assert silver(lake).loc["M7-0", "previous"] == 40.0  # the later export's row stands


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple:
    from app.cli import main as cli
    from leadops.settings import get_settings

    monkeypatch.setattr("sys.argv", ["leadops", *args])
    get_settings.cache_clear()
    try:
        cli.main()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    return code, out, err


def test_the_commands_widen_then_replay_and_refuse_the_bundled_contract_in_one_line(
    tmp_path: Path,
    settings: Settings,
    lake: Lake,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = _month_seven(tmp_path, settings, lake)
    code, _, err = _cli(capsys, monkeypatch, "contract", "check", "--write")
    assert code == 1 and err.count("\n") == 1 and "the bundled contract" in err
    monkeypatch.setenv("LEADOPS_CONTRACT_PATH", str(mine.contract_path))
    code, out, _ = _cli(capsys, monkeypatch, "contract", "check", "--write")
    assert code == 0 and "  previous: boolean -> numeric: 12 rows had 2..13\n" in out
    code, out, _ = _cli(capsys, monkeypatch, "quarantine", "replay")
    assert code == 0 and out.startswith(
        "replayed 14 quarantined leads: 13 to silver (0 updated), 0 already in silver, "
        "1 still quarantined (email:format (1))\n"
    )
