"""A remote MLflow tracking server whose artifacts live on the loopback S3 endpoint.

`leadops train` registers the model through the server (artifacts proxied to S3) and
`leadops score` loads the champion back from there. Real processes: moto (S3), `mlflow
server`, and the two CLI commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pandas as pd
import pytest

from app.demo import synthetic
from app.servers.servers import mlflow_server
from leadops.inputs.contract import load_contract
from leadops.storage.local import open_lake
from tests.support.gold import as_of_after, write_gold

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_train_registers_through_the_server_to_s3_and_score_loads_it_back(
    settings, s3_bucket, s3_endpoint, tmp_path: Path
) -> None:
    frame = write_gold(open_lake(settings), weeks=8, leads_per_week=300)
    as_of = as_of_after(frame, load_contract(settings.contract_path)).isoformat()
    destination = f"s3://{s3_bucket}/mlflow"
    with mlflow_server(
        f"sqlite:///{tmp_path / 'server.db'}", destination, tmp_path / "mlflow.log", proxied=True
    ) as url:
        # Clients get the server URL only: no bucket credentials, no S3 endpoint.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PREFECT_", "LEADOPS_", "AWS_", "MLFLOW_"))
        }
        env.update(
            LEADOPS_HOME=str(settings.home),
            LEADOPS_MLFLOW_TRACKING_URI=url,
            LEADOPS_GATE_BOOTSTRAP_SAMPLES="1000",
        )
        trained = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli.main",
                "train",
                "--trials",
                "2",
                "--as-of",
                as_of,
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert trained.returncode == 0, trained.stderr[-3000:]
        result = json.loads(trained.stdout.strip().splitlines()[-1])
        assert (result["decision"], result["model_version"]) == ("champion", "1")

        keys = [
            o["Key"]
            for o in boto3.client("s3", endpoint_url=s3_endpoint)
            .list_objects_v2(Bucket=s3_bucket, Prefix="mlflow/")
            .get("Contents", [])
        ]
        assert any(k.endswith("MLmodel") for k in keys) and any(k.endswith(".png") for k in keys), (
            keys[:20]
        )
        assert not (settings.home / "artifacts").exists()  # nothing went to the local default

        leads, _ = synthetic.generate_week(
            synthetic.GeneratorConfig(weeks=10, leads_per_week=400), 10
        )
        batch = tmp_path / "batch.csv"
        leads.to_csv(batch, index=False)
        scored = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli.main",
                "score",
                str(batch),
                "--out",
                str(tmp_path / "scores.parquet"),
                "--as-of",
                as_of,
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert scored.returncode == 0, scored.stderr[-3000:]
        summary = json.loads(scored.stdout.strip().splitlines()[-1])
        assert summary["rows"] == 400 and summary["model_versions"]["champion"] == "1"
        out = pd.read_parquet(tmp_path / "scores.parquet")
        assert out["score"].between(0, 1).all() and len(out) == 400
