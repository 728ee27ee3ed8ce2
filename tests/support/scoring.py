"""Test helpers for the score stage (no tests here): a small synthetic CRM typed like
silver, and a tiny XGBoost model on the real feature encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from app.demo.synthetic import GeneratorConfig, generate_week, write_dataset
from leadops.inputs.contract import Contract, load_contract
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.scoring.batch_file import load_batch_file
from tasks.scoring.scorer import ServingModel
from tests.support.models import tiny_model

CONFIG = GeneratorConfig(weeks=2, leads_per_week=1500, seed=11)


def contract() -> Contract:
    return load_contract(BUNDLED_CONTRACT)


def write_crm(folder: Path, config: GeneratorConfig = CONFIG) -> Path:
    """The generator's CSV export under ``folder``; returns the folder."""
    write_dataset(config, folder)
    return folder


def typed_week(folder: Path, week: int) -> pa.Table:
    """One week of leads typed exactly as silver types them."""
    return load_batch_file(
        str(folder / "leads" / f"leads_week_{week:02d}.csv"), contract(), 10_000
    ).table


def write_silver(lake: Lake, weeks: list[pa.Table]) -> None:
    lake.overwrite_table(tables.silver("leads"), pa.concat_tables(weeks))


def train_tiny(table: pa.Table, week: int = 1, rounds: int = 20, depth: int = 3, seed: int = 0):
    """(booster, encoder) trained on ``table`` with the generator's true outcomes."""
    c = contract()
    frame = table.to_pandas()
    _, outcomes = generate_week(CONFIG, week)
    won = set(outcomes.loc[outcomes[c.label].astype(bool), c.entity_id])
    labels = frame[c.entity_id].isin(won).to_numpy()
    return tiny_model(frame, labels, c, rounds=rounds, max_depth=depth, seed=seed)


def serving_model(
    booster,
    encoder,
    version: str = "1",
    role: str = "champion",
    stage: str = "production",
    fraction: float = 0.0,
) -> ServingModel:
    return ServingModel(
        "leadops-test", version, role, stage, booster, encoder, fraction=fraction, salt=version
    )


def margins(booster, encoded: np.ndarray) -> np.ndarray:
    return booster.inplace_predict(encoded, predict_type="margin")


def artifact_folder(settings, version: str) -> Path:
    """Where a registered version's artifacts are stored (a local artifact root)."""
    import mlflow

    from leadops.models import registry

    version_info = registry.registry_client(settings).get_model_version(
        settings.model_name, version
    )
    model_id = (
        version_info.model_id or version_info.source.rsplit("/", 1)[-1]
    )  # source: models:/m-...
    return Path(mlflow.get_logged_model(model_id).artifact_location.removeprefix("file://"))


def tiny_value(table: pa.Table, champion: ServingModel, version: str = "4"):
    """A deal-value champion (tasks.scoring.value.ValueServing) fitted on ``table``'s won
    leads with the generator's amounts, on the champion's encoder."""
    from app.demo import deal_value
    from leadops.models.cutpoints import score_cutpoints
    from tasks.scoring.value import ValueServing
    from tasks.training.value import fit_value

    c, frame = contract(), table.to_pandas()
    _, outcomes = generate_week(CONFIG, 1)
    won = frame.merge(outcomes[outcomes[c.label].astype(bool)], on=c.entity_id)
    encoder = champion.encoder
    params = {"objective": "reg:gamma", "max_depth": 3, "learning_rate": 0.1}
    fit = fit_value(encoder.transform(won), won[deal_value.DEAL_COLUMN].to_numpy(), params)
    encoded = encoder.transform(frame)
    expected = champion.predict(encoded) * fit.predict(encoded)
    booster = fit.model.get_booster()
    return ValueServing(
        f"{champion.name}-value",
        version,
        booster,
        encoder,
        fit.on_log,
        fit.log_spread,
        score_cutpoints(expected),
    )
