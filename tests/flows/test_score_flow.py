"""The score flow end to end under Prefect: registry → silver or a file → output + log."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadops.storage import tables
from leadops.storage.local import open_lake
from tests.support.models import register
from tests.support.scoring import train_tiny, typed_week, write_crm, write_silver

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory):
    folder = write_crm(tmp_path_factory.mktemp("crm"))
    week1 = typed_week(folder, 1)
    return (
        folder,
        week1,
        train_tiny(week1, rounds=10, seed=0),
        train_tiny(week1, rounds=12, depth=4, seed=1),
    )


def test_no_champion_stops_the_flow_with_one_line(settings) -> None:
    from flows.score import score
    from leadops.models.registry import NoChampionError

    with pytest.raises(NoChampionError, match="run `leadops train` first"):
        score(as_of=AS_OF)


@pytest.mark.slow
def test_flow_scores_unscored_silver_leads_once_with_a_shadow_challenger(settings, crm) -> None:
    from flows.score import score

    folder, week1, champion, challenger = crm
    lake = open_lake(settings)
    write_silver(lake, [week1])
    v1 = register(settings, *champion)
    v2 = register(settings, *challenger, alias="challenger", stage="shadow")
    result = score(as_of=AS_OF)
    assert result.rows == week1.num_rows and result.arms == {"champion": week1.num_rows}
    assert result.model_versions == {"champion": v1, "challenger": v2}
    out = pd.read_parquet(result.output)
    assert len(out) == week1.num_rows and set(out["model_version"]) == {v1}
    logged = lake.read_table(tables.PREDICTION_LOG)
    assert len(logged) == 2 * week1.num_rows and logged.groupby("model_version")[
        "served"
    ].all().to_dict() == {v1: True, v2: False}
    again = score(as_of=AS_OF)
    assert again.rows == 0 and again.output is None
    assert len(lake.read_table(tables.PREDICTION_LOG)) == 2 * week1.num_rows


@pytest.mark.slow
def test_cli_scores_a_file_to_csv_and_prints_json(settings, crm, tmp_path) -> None:
    from app.cli.main import app

    folder, _, champion, _ = crm
    register(settings, *champion)
    target = tmp_path / "scored.csv"
    batch = folder / "leads" / "leads_week_02.csv"
    outcome = CliRunner().invoke(
        app,
        [
            "score",
            str(batch),
            "--out",
            str(target),
            "--format",
            "csv",
            "--as-of",
            "2026-02-01T00:00:00",
            "--json",
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    # stdout only: Prefect's console log lines go to stderr and may interleave with it.
    result = json.loads(outcome.stdout.strip().splitlines()[-1])
    assert result["output"] == str(target) and result["rows"] == 1500
    assert {"rows", "output", "arms", "model_versions", "batch_id"} <= result.keys()
    scored = pd.read_csv(target)
    assert scored.columns[:4].tolist() == ["lead_id", "score", "decile", "tier"]
    assert (
        scored["reason_1"]
        .str.match(r".+: (raises|lowers) the score .+ \([+-]\d+\.\d\d log-odds\)$")
        .all()
    )

    # --reasons none: a fast rescoring, the same columns with the reasons left empty.
    fast = tmp_path / "fast.csv"
    args = ["score", str(folder / "leads" / "leads_week_01.csv"), "--out", str(fast)]
    outcome = CliRunner().invoke(app, [*args, "--format", "csv", "--reasons", "none"])
    assert outcome.exit_code == 0, outcome.output
    quick = pd.read_csv(fast)
    assert quick.columns.tolist() == scored.columns.tolist() and quick["reason_1"].isna().all()
    wrong = CliRunner().invoke(app, [*args, "--reasons", "shap"])
    assert wrong.exit_code == 2 and "--reasons 'shap': choose one of exact" in wrong.output
