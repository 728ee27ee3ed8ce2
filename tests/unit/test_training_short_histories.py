"""Short real-sized histories train: 6 weeks x 800 (7-day window), 8 weeks x 750 (14 days).

Both were refused before ("no split into 2 or more time-series folds has both classes
in every fold"): a whole outcome window was dropped before the test window and before
each fold, although most outcomes are decided within days by explicit won/lost rows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from app.demo import synthetic
from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import LABEL
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage.local import LocalLake
from leadops.storage.tables import GOLD_LEADS
from tasks.training import dataset as D
from tasks.training.pipeline import fit_candidate, search_candidate
from tasks.training.search import SearchConfig
from tests.support.gold import gold_frame


def _export(tmp_path: Path, weeks: int, per_week: int, window_days: int) -> tuple:
    """Gold as a CRM export on its last day holds it: outcomes only up to that day."""
    contract = dataclasses.replace(load_contract(BUNDLED_CONTRACT), outcome_window_days=window_days)
    config = synthetic.GeneratorConfig(weeks=weeks, leads_per_week=per_week)
    leads, outcomes = synthetic.generate(config)
    exported = pd.Timestamp(config.start, tz="UTC") + pd.Timedelta(weeks=weeks)
    outcomes = outcomes[pd.to_datetime(outcomes[contract.label_time], utc=True) <= exported]
    lake = LocalLake(tmp_path / "lake")
    lake.overwrite_table(GOLD_LEADS, gold_frame(leads, outcomes, contract))
    return lake, contract, exported.to_pydatetime()


def _train(tmp_path: Path, weeks: int, per_week: int, window_days: int) -> tuple:
    lake, contract, as_of = _export(tmp_path, weeks, per_week, window_days)
    training = D.build_training_set(lake, contract, as_of, test_window_days=14)
    config = SearchConfig(
        study_name=f"short-{weeks}",
        storage_uri=f"journal:{tmp_path / 'optuna.log'}",
        seed=7,
        trials=2,
        max_rounds=60,
        nthread=1,
    )
    outcome = search_candidate(training, contract, config, technographics_cap=10, cv_folds=3)
    return training, fit_candidate(training, outcome, seed=7, capacity_fraction=0.1)


@pytest.mark.parametrize(
    ("weeks", "per_week", "window_days"),
    [(6, 800, 7), (8, 750, 14)],
    ids=["6x800-7d", "8x750-14d"],
)
def test_a_short_export_trains_and_is_tested_on_enough_leads(
    tmp_path: Path, weeks: int, per_week: int, window_days: int
) -> None:
    training, candidate = _train(tmp_path, weeks, per_week, window_days)
    test_converted = int(training.test[LABEL].sum())
    assert test_converted >= 40 and len(training.test) - test_converted >= 40
    assert training.dev[LABEL].sum() >= 40
    # The training side reaches into the outcome window before the test window.
    window = pd.Timedelta(days=window_days)
    assert training.dev_span[1] > pd.Timestamp(training.test_start) - window
    assert candidate.metrics["roc_auc"] > 0.7
