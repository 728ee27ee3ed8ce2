"""The train flow end to end under Prefect: gold → search → MLflow → registry gate."""

from __future__ import annotations

import json
from datetime import datetime

import mlflow.pyfunc
import numpy as np
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.storage.local import open_lake
from tests.support.artifacts import read_artifacts
from tests.support.gold import as_of_after, write_gold

TRIALS = 3


def _gold(settings) -> datetime:
    contract = load_contract(settings.contract_path)
    frame = write_gold(open_lake(settings), weeks=8, leads_per_week=300)
    return as_of_after(frame, contract)


@pytest.mark.slow
def test_cli_trains_first_champion_then_flow_rerun_is_identical_and_archived(settings) -> None:
    from app.cli.main import app
    from flows.train import train

    as_of = _gold(settings)
    cli = CliRunner().invoke(
        app,
        [
            "train",
            "--trials",
            str(TRIALS),
            "--as-of",
            as_of.isoformat(),
            "--reason",
            "schedule",
            "--json",
        ],
    )
    assert cli.exit_code == 0, cli.output
    first = json.loads(cli.output.strip().splitlines()[-1])
    assert (first["decision"], first["model_version"], first["trigger"]) == (
        "champion",
        "1",
        "schedule",
    )
    assert first["champion_metrics"] is None
    # The windows it learned and was tested on, in the JSON and on the CLI line.
    (train_from, train_to), (test_from, test_to) = (
        first["train_leads_created"],
        first["test_leads_created"],
    )
    assert train_from <= train_to < test_from <= test_to <= as_of.isoformat()
    assert set(first["metrics"]) == {
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "precision_at_capacity",
        "lift_at_capacity",
        "calibration_error",  # ECE: the report showed "-" for it before
    }
    assert 0.6 < first["metrics"]["roc_auc"] < 0.95
    assert first["trials"]["total"] == TRIALS and first["train_rows"] > first["test_rows"] > 0

    # The registered champion scores raw silver rows through the plain pyfunc interface.
    champion = mlflow.pyfunc.load_model(registry.model_uri(settings.model_name))
    rows = open_lake(settings).read_table("gold/leads").head(5)
    scores = np.asarray(champion.predict(rows[load_contract(settings.contract_path).lead_columns]))
    assert scores.shape == (5,) and ((scores > 0) & (scores < 1)).all()

    # Same data, same seed: the same model; as good as the champion is not good enough.
    second = train(trials=TRIALS, as_of=as_of)
    assert (
        second.metrics == first["metrics"] and second.details["best_params"] == first["best_params"]
    )
    assert second.decision == "rejected" and "below the required +2.0%" in second.reason
    assert second.details["champion_metrics"] == pytest.approx(second.metrics)
    assert second.details["champion_version"] == "1"
    client = MlflowClient(settings.tracking_uri)
    assert client.get_model_version(settings.model_name, "2").tags["stage"] == "archived"
    assert str(registry.get_champion(client, settings.model_name).version) == "1"


@pytest.mark.slow
def test_run_is_fully_tracked_in_mlflow_and_prefect(settings) -> None:
    from flows.train import train

    result = train(trials=2, as_of=_gold(settings), reason="drift")
    client = MlflowClient(settings.tracking_uri)
    run = client.get_run(result.run_id)
    tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
    assert tags["leadops.trigger_reason"] == "drift" and tags["leadops.gold_version"] == "0"
    assert (
        tags["leadops.data_digest"] == result.details["data_digest"]
        and tags["leadops.prefect_flow_run_id"]
    )
    assert (
        tags["leadops.contract"] == "synthetic-crm" and len(tags["leadops.contract_sha256"]) == 64
    )
    assert (
        tags["leadops.git_commit"] and tags["leadops.optuna_study"] == result.details["study_name"]
    )
    assert params["trials"] == "2" and "xgb_max_depth" in params
    assert metrics["test_roc_auc"] == pytest.approx(result.metrics["roc_auc"])
    assert (
        "baseline_test_roc_auc" in metrics
        and metrics["trials_completed"] + metrics["trials_pruned"] == 2
    )
    files = {
        f.path
        for folder in ("plots", "optuna")
        for f in client.list_artifacts(run.info.run_id, folder)
    }
    assert {
        "plots/roc.png",
        "plots/pr.png",
        "plots/calibration.png",
        "plots/lift.png",
        "plots/shap_summary.png",
        "optuna/trials.csv",
        "optuna/study.json",
    } <= files
    reports = read_artifacts(flow_run_id=tags["leadops.prefect_flow_run_id"])
    assert [a["key"] for a in reports] == ["train-report"]
    # A 2-trial search may lose to the logistic baseline; the report then says so (a first
    # model still serves, with the warning in its reason, never silently).
    assert (
        f"→ **{result.decision}**" in reports[0]["data"]
        and "logistic baseline" in reports[0]["data"]
    )
    if "does not beat the logistic baseline" in result.reason:
        assert "WARNING" in result.reason


def test_untrained_lake_fails_with_one_line(settings) -> None:
    from flows.train import train
    from tasks.training.dataset import TrainingDataError

    with pytest.raises(TrainingDataError, match="gold/leads: not found.*leadops ingest"):
        train(trials=1)


def test_unknown_reason_is_refused(settings) -> None:
    from app.cli.main import app

    result = CliRunner().invoke(app, ["train", "--reason", "whim"])
    assert result.exit_code != 0 and "--reason 'whim'" in result.output


def test_a_scheduled_retrain_skips_while_a_challenger_is_in_rollout(settings, registry_db) -> None:
    """Old rule: the weekly retrain replaced a shadow/canary challenger, restarting its rollout."""
    from app.cli.main import app
    from tests.support.rollout import add_version

    client = registry.registry_client(settings)
    add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "canary", 0.5, alias="challenger")
    cli = CliRunner().invoke(app, ["train", "--reason", "schedule", "--json"])
    assert cli.exit_code == 0, cli.output
    result = json.loads(cli.output.strip().splitlines()[-1])
    assert result["decision"] == "skipped" and result["model_version"] is None
    assert f"challenger v{challenger} is in rollout (canary 50%)" in result["reason"]
    assert str(registry.get_challenger(client, settings.model_name).version) == challenger
