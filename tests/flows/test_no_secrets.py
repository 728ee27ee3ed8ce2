"""No credential reaches a log, a Prefect artifact, an MLflow param or tag, a report or the lake.

The whole lifecycle (ingest → train → score → monitor) runs with the lake on the
loopback S3 endpoint and distinctive fake credentials in the environment; then every
place LeadOps writes to is searched for them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import boto3
import pytest

from app.demo import synthetic
from leadops.settings import get_settings
from tests.support.artifacts import read_artifacts

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIALEADOPSCANARY7Q",
    "AWS_SECRET_ACCESS_KEY": "leadops-canary-secret-5f3a9c1e",
    "PREFECT_API_KEY": "pnu_leadopscanarykey000000000000000",
}


@pytest.mark.integration
@pytest.mark.slow
def test_credentials_never_leave_the_environment(
    home: Path, s3_bucket: str, monkeypatch, tmp_path: Path, capfd, caplog
) -> None:
    from flows.ingest import ingest
    from flows.monitor import monitor
    from flows.score import score
    from flows.train import train

    caplog.set_level(logging.DEBUG)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LEADOPS_LAKE_ROOT", f"s3://{s3_bucket}/lake")
    monkeypatch.setenv("LEADOPS_TRIALS", "1")
    monkeypatch.setenv("LEADOPS_GATE_BOOTSTRAP_SAMPLES", "1000")
    get_settings.cache_clear()
    settings = get_settings()
    config = synthetic.GeneratorConfig(
        weeks=9, leads_per_week=300, scenario="covariate-drift", drift_week=9
    )
    synthetic.write_dataset(config, tmp_path / "export")
    trained_until = datetime.combine(synthetic.DEFAULT_START, time(), tzinfo=UTC) + timedelta(
        weeks=8
    )
    for week in range(1, 9):
        for kind in ("leads", "outcomes"):
            ingest(
                str(tmp_path / "export" / kind / f"{kind}_week_{week:02d}.csv"),
                kind=kind,
                as_of=trained_until,
            )
    train(as_of=trained_until)
    score(as_of=trained_until)  # the backlog, so the next batch is the drifted week alone
    as_of = trained_until + timedelta(weeks=1)
    ingest(str(tmp_path / "export" / "leads" / "leads_week_09.csv"), kind="leads", as_of=as_of)
    score(as_of=as_of)
    result = monitor(as_of=as_of)
    assert result.drift_detected  # the run went all the way, retrain included

    places: dict[str, str] = {}
    for path in settings.home.rglob("*"):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=s3_bucket, Key=item["Key"])["Body"].read()
            places[f"s3://{s3_bucket}/{item['Key']}"] = body.decode("utf-8", "replace")
    from mlflow import MlflowClient

    client = MlflowClient(settings.tracking_uri)
    for run in client.search_runs([e.experiment_id for e in client.search_experiments()]):
        places[f"mlflow run {run.info.run_id}"] = repr(run.data.params) + repr(run.data.tags)
    for version in client.search_model_versions(f"name = '{settings.model_name}'"):
        places[f"model version {version.version}"] = repr(version.tags)
    places["prefect artifacts"] = repr(read_artifacts(limit=200))
    out, err = capfd.readouterr()
    places["stdout"], places["stderr"], places["log records"] = out, err, caplog.text

    assert len(places) > 50  # the lake, reports, MLflow, Prefect and the logs were all searched
    leaks = [
        (where, name)
        for where, text in places.items()
        for name, secret in SECRETS.items()
        if secret in text
    ]
    assert leaks == []
