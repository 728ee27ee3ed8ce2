"""Test helper: build the ``gold/leads`` table from the synthetic generator.

The ingest stage owns the real bronze → silver → gold path; train tests only need
its output schema (see leadops/storage/tables.py), so this types the generator's frames
the way silver does and writes them with ``lake.overwrite_table``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from app.demo import synthetic
from leadops.inputs.contract import Contract, load_contract
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage.lake import Lake
from leadops.storage.tables import GOLD_LEADS
from tests.support.models import tiny_model


def typed_leads(leads: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Raw generator/CSV lead rows typed as silver types them."""
    frame = leads.copy()
    frame[contract.entity_id] = frame[contract.entity_id].astype(str)
    frame[contract.event_time] = pd.to_datetime(frame[contract.event_time], utc=True)
    for name in contract.by_role("numeric"):
        frame[name] = frame[name].astype("float64")
    for name in contract.by_role("boolean"):
        frame[name] = frame[name].map(
            lambda v: v if isinstance(v, bool) else str(v).lower() == "true"
        )
    for name in contract.by_role("multi_valued"):
        frame[name] = [json.loads(v) if isinstance(v, str) else list(v) for v in frame[name]]
    for name in (
        contract.by_role("categorical") + contract.by_role("email") + contract.by_role("text")
    ):
        frame[name] = frame[name].astype(str)
    return frame


def gold_frame(leads: pd.DataFrame, outcomes: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Typed leads left-joined with their (possibly absent) outcome."""
    typed = typed_leads(leads, contract)
    outcome = outcomes[contract.outcome_columns].copy()
    outcome[contract.entity_id] = outcome[contract.entity_id].astype(str)
    outcome[contract.label_time] = pd.to_datetime(outcome[contract.label_time], utc=True)
    joined = typed.merge(outcome, on=contract.entity_id, how="left")
    # A missing outcome is a null label, not False: maturity is decided by train.
    joined[contract.label] = joined[contract.label].astype("boolean")
    return joined


def write_gold(
    lake: Lake,
    weeks: int = 10,
    leads_per_week: int = 300,
    seed: int = 7,
    scenario: str = "stable",
    contract: Contract | None = None,
) -> pd.DataFrame:
    """Generate ``weeks`` of leads, write them as gold/leads, return the frame."""
    contract = contract or load_contract(BUNDLED_CONTRACT)
    config = synthetic.GeneratorConfig(
        weeks=weeks, leads_per_week=leads_per_week, seed=seed, scenario=scenario
    )
    leads, outcomes = synthetic.generate(config)
    frame = gold_frame(leads, outcomes, contract)
    lake.overwrite_table(GOLD_LEADS, frame)
    return frame


def as_of_after(frame: pd.DataFrame, contract: Contract, days: float = 60) -> datetime:
    """An as-of late enough that every lead in ``frame`` has matured."""
    newest = frame[contract.event_time].max()
    return (newest + pd.Timedelta(days=days)).to_pydatetime().astimezone(UTC)


def rng_rows(frame: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """A seeded sample of rows (for fast unit tests)."""
    idx = np.random.default_rng(seed).choice(len(frame), size=min(n, len(frame)), replace=False)
    return frame.iloc[np.sort(idx)].reset_index(drop=True)


def small_model(
    training_rows: pd.DataFrame,
    contract: Contract,
    label_column: str,
    rounds: int = 40,
    shuffle_labels: bool = False,
    seed: int = 0,
) -> tuple:
    """(booster, encoder) fitted quickly; ``shuffle_labels`` gives a useless model."""
    labels = training_rows[label_column].to_numpy()
    if shuffle_labels:
        labels = np.random.default_rng(seed).permutation(labels)
    return tiny_model(
        training_rows, labels, contract, rounds=rounds, cap=10, eta=0.1, nthread=1, seed=seed
    )
