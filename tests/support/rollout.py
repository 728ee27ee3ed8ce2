"""Helpers for the monitor and rollout tests (no tests here): a tmp registry with
registered versions, prediction-log rows as the score stage writes them, silver outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from leadops.inputs.contract import Contract
from leadops.logs import prediction_log as plog
from leadops.models import registry
from leadops.storage.lake import Lake
from leadops.storage.tables import silver
from tasks.scoring.routing import route_to_canary
from tests.support.models import register, tiny_model

NAME = "leadops-lead-scorer"


def add_version(
    client, stage: str, fraction: float = 0.0, alias: str | None = None, tags: dict | None = None
) -> str:
    """A registered version (no artifact: rollout never loads the model) with its stage tags."""
    version = registry.register_version(
        client, NAME, "file:///nonexistent/model", run_id=None, tags=tags or {}
    )
    registry.set_stage(client, NAME, version.version, stage, fraction, f"test: {stage}")
    if alias:
        registry.move_alias(client, NAME, alias, version.version)
    return str(version.version)


def leads(n: int, start: datetime, seed: int, base_rate: float = 0.15) -> pd.DataFrame:
    """Leads over one week with a hidden propensity and a 0/1 outcome drawn from it."""
    rng = np.random.default_rng(seed)
    propensity = rng.normal(0, 1, n)
    converted = rng.random(n) < 1 / (
        1 + np.exp(-(np.log(base_rate / (1 - base_rate)) + 1.5 * propensity))
    )
    return pd.DataFrame(
        {
            "id": [f"L{seed:03d}-{i:06d}" for i in range(n)],
            "event_time": pd.Timestamp(start)
            + pd.to_timedelta(rng.integers(0, 7 * 86_400, n), unit="s"),
            "propensity": propensity,
            "converted": converted,
        }
    )


def model_scores(frame: pd.DataFrame, noise: float, seed: int) -> np.ndarray:
    """A model that sees the propensity through ``noise`` (less noise, better AUC)."""
    rng = np.random.default_rng(seed)
    return 1 / (1 + np.exp(-(frame["propensity"] + rng.normal(0, noise, len(frame)) - 2)))


def log_scores(
    lake: Lake,
    frame: pd.DataFrame,
    scored_at: datetime,
    champion: str,
    challenger: str | None,
    champion_scores: np.ndarray,
    challenger_scores: np.ndarray | None,
    stage: str = "shadow",
    fraction: float = 0.0,
    salt: str = "salt",
) -> None:
    """Prediction-log rows for one batch: the champion's and, if any, the challenger's."""
    context = plog.LogContext(
        batch_id=f"batch-{scored_at:%Y%m%d}", scored_at=scored_at, model_name=NAME
    )
    ids, times = pa.array(frame["id"]), pa.array(frame["event_time"])
    canary = (
        route_to_canary(frame["id"], salt, fraction)
        if stage == "canary"
        else np.zeros(len(frame), bool)
    )
    arms = np.where(canary, "canary", "champion")
    parts = [
        plog.log_rows(
            context, ids, times, champion, "champion", "production", arms, ~canary, champion_scores
        )
    ]
    if challenger is not None:
        parts.append(
            plog.log_rows(
                context,
                ids,
                times,
                challenger,
                "challenger",
                stage,
                arms,
                canary,
                challenger_scores,
            )
        )
    plog.append_log(lake, pa.concat_tables(parts))


def write_outcomes(lake: Lake, contract: Contract, frame: pd.DataFrame) -> None:
    """Silver outcomes for every lead: converted a day after the lead, or closed as lost
    when its outcome window ends (so the outcome watermark covers the whole batch)."""
    created = pd.to_datetime(frame["event_time"], utc=True)
    converted = frame["converted"].astype(bool).to_numpy()
    lost_at = created + timedelta(days=contract.outcome_window_days)
    outcomes = pd.DataFrame(
        {
            contract.entity_id: frame["id"].astype(str),
            contract.label: converted,
            contract.label_time: created.where(~converted, created + timedelta(days=1)).where(
                converted, lost_at
            ),
        }
    )
    existing = lake.read_table(silver("outcomes"))
    lake.overwrite_table(
        silver("outcomes"),
        pd.concat([existing, outcomes], ignore_index=True) if len(existing) else outcomes,
    )


def register_real_model(
    settings,
    contract: Contract,
    frame: pd.DataFrame,
    as_of: datetime,
    gold_version: int | None,
    alias: str = "champion",
) -> str:
    """A tiny real XGBoost pyfunc model logged and registered the way the train stage does,
    with its lineage tags (gold version, as-of); returns the version."""
    from leadops.inputs.maturity import LABEL, label_matured

    train = label_matured(frame, contract, as_of)
    booster, encoder = tiny_model(train, train[LABEL], contract, rounds=10, cap=5)
    tags = {"leadops.gold_version": str(gold_version), "leadops.as_of": as_of.isoformat()}
    return register(
        settings,
        booster,
        encoder,
        alias=alias,
        fraction=1.0,
        run_tags=tags,
        input_example=train[contract.lead_columns].head(3),
    )


def better_challenger_week(
    lake: Lake,
    contract: Contract,
    start: datetime,
    champion: str,
    challenger: str,
    seed: int,
    stage: str = "shadow",
    fraction: float = 0.0,
) -> None:
    """A week of leads from ``start``, scored a week later by both versions (the challenger
    sees the propensity through far less noise), with every outcome ingested: evidence on
    which a rollout step passes."""
    frame = leads(1500, start, seed=seed)
    log_scores(
        lake,
        frame,
        start + timedelta(weeks=1),
        champion,
        challenger,
        model_scores(frame, 1.0, 10 * seed + 1),
        model_scores(frame, 0.4, 10 * seed + 2),
        stage=stage,
        fraction=fraction,
    )
    write_outcomes(lake, contract, frame)
