"""Test helpers for the score stage (no tests here): a small synthetic CRM typed like
silver, and a tiny XGBoost model on the real feature encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from leadops import tables
from leadops.contract import Contract, load_contract
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage import Lake
from leadops.app.synthetic import GeneratorConfig, generate_week, write_dataset
from tasks.scoring.batch_file import load_batch_file
from tasks.scoring.scorer import ServingModel

CONFIG = GeneratorConfig(weeks=2, leads_per_week=1500, seed=11)


def contract() -> Contract:
    return load_contract(BUNDLED_CONTRACT)


def write_crm(folder: Path, config: GeneratorConfig = CONFIG) -> Path:
    """The generator's CSV export under ``folder``; returns the folder."""
    write_dataset(config, folder)
    return folder


def typed_week(folder: Path, week: int) -> pa.Table:
    """One week of leads typed exactly as silver types them."""
    return load_batch_file(str(folder / "leads" / f"leads_week_{week:02d}.csv"), contract(), 10_000).table


def write_silver(lake: Lake, weeks: list[pa.Table]) -> None:
    lake.overwrite_table(tables.silver("leads"), pa.concat_tables(weeks))


def train_tiny(table: pa.Table, week: int = 1, rounds: int = 20, depth: int = 3, seed: int = 0):
    """(booster, encoder) trained on ``table`` with the generator's true outcomes."""
    import xgboost as xgb

    from tasks.features.encoder import FeatureEncoder

    c = contract()
    frame = table.to_pandas()
    _, outcomes = generate_week(CONFIG, week)
    won = set(outcomes.loc[outcomes[c.label].astype(bool), c.entity_id])
    labels = frame[c.entity_id].isin(won).to_numpy()
    encoder = FeatureEncoder.fit(frame, c, cap=20)
    params = {"max_depth": depth, "eta": 0.3, "objective": "binary:logistic", "nthread": 2, "seed": seed}
    matrix = xgb.DMatrix(encoder.transform(frame), labels, feature_names=encoder.feature_names)
    return xgb.train(params, matrix, rounds), encoder


def serving_model(booster, encoder, version: str = "1", role: str = "champion",
                  stage: str = "production", fraction: float = 0.0) -> ServingModel:
    return ServingModel("leadops-test", version, role, stage, booster, encoder,
                        fraction=fraction, salt=version)


def margins(booster, encoded: np.ndarray) -> np.ndarray:
    return booster.inplace_predict(encoded, predict_type="margin")


def register(settings, booster, encoder, alias: str | None = "champion", stage: str = "production",
             fraction: float = 0.0, salt: str | None = None) -> str:
    """Log and register a LeadScoringModel version in the settings' registry; returns its version."""
    import tempfile

    import mlflow

    from leadops import registry
    from tasks.training.model import LeadScoringModel, save_parts

    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    experiment = "score-tests"
    if mlflow.get_experiment_by_name(experiment) is None:
        mlflow.create_experiment(experiment, artifact_location=settings.artifact_uri)
    mlflow.set_experiment(experiment)
    with tempfile.TemporaryDirectory() as parts, mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name="model", python_model=LeadScoringModel(),
                                       artifacts=save_parts(booster, encoder, Path(parts)),
                                       pip_requirements=[])
    client = registry.registry_client(settings)
    version = str(registry.register_version(client, settings.model_name, info.model_uri, run.info.run_id,
                                            model_id=info.model_id).version)
    if alias:
        registry.move_alias(client, settings.model_name, alias, version)
    registry.set_stage(client, settings.model_name, version, stage, fraction, "test")
    if salt:
        client.set_model_version_tag(settings.model_name, version, "salt", salt)
    return version


def artifact_folder(settings, version: str) -> Path:
    """Where a registered version's artifacts are stored (a local artifact root)."""
    import mlflow

    from leadops import registry

    version_info = registry.registry_client(settings).get_model_version(settings.model_name, version)
    model_id = version_info.model_id or version_info.source.rsplit("/", 1)[-1]  # source: models:/m-...
    return Path(mlflow.get_logged_model(model_id).artifact_location.removeprefix("file://"))
