"""The deal-value gate and the won deals it trains on: when a value model is trained,
and when a new one may replace what serves."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from leadops.decisions.value_gate import judge_value
from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import LABEL
from leadops.settings import BUNDLED_CONTRACT
from tasks.training.dataset import TrainingSet
from tasks.training.value_training import select_won_deals

RNG = np.random.default_rng(3)
AMOUNTS = np.exp(RNG.normal(9, 1, 400))


def _judge(new: np.ndarray, old: np.ndarray):
    return judge_value(AMOUNTS, new, old, "baseline", 0.02, 1000, 0)


def test_a_model_that_ranks_and_sizes_deals_passes_against_one_median() -> None:
    sharp = AMOUNTS * np.exp(RNG.normal(0, 0.3, len(AMOUNTS)))
    verdict = _judge(sharp, np.full(len(AMOUNTS), np.median(AMOUNTS)))
    assert verdict.passed and verdict.gini.low > 0
    assert "paired bootstrap on n=400 won deals" in verdict.reason and "95% CI" in verdict.reason


def test_a_retrain_no_better_than_the_champion_does_not_replace_it() -> None:
    same = AMOUNTS * np.exp(RNG.normal(0, 0.5, len(AMOUNTS)))
    verdict = _judge(same, same)
    assert not verdict.passed and "does not size deals better" in verdict.reason


def test_better_sizing_does_not_excuse_worse_ranking() -> None:
    good = AMOUNTS * np.exp(RNG.normal(0, 0.3, len(AMOUNTS)))
    # Right on average (small log error) but the order is noise: ranks far worse.
    shuffled = np.median(AMOUNTS) * np.exp(RNG.normal(0, 0.05, len(AMOUNTS)))
    verdict = _judge(shuffled, good)
    assert not verdict.passed and "may rank deals worse" in verdict.reason


def _training(won_dev: int, won_test: int) -> TrainingSet:
    def frame(won: int, start: int) -> pd.DataFrame:
        n = won * 2
        return pd.DataFrame(
            {
                "lead_id": [f"L{start + i}" for i in range(n)],
                "created_at": pd.date_range("2026-01-05", periods=n, freq="h", tz="UTC"),
                LABEL: [i % 2 == 0 for i in range(n)],
            }
        )

    now = datetime(2026, 3, 1, tzinfo=UTC)
    return TrainingSet(frame(won_dev, 0), frame(won_test, 10_000), now, now, now, 1, "d")


def _amounts(training: TrainingSet) -> pd.DataFrame:
    won = pd.concat([training.dev, training.test])
    won = won[won[LABEL]]
    return pd.DataFrame({"lead_id": won["lead_id"], "deal_amount": 1000.0})


def test_without_a_value_column_only_the_conversion_model_is_trained() -> None:
    contract = replace(load_contract(BUNDLED_CONTRACT), value=None)
    deals, why = select_won_deals(_training(300, 60), None, contract, 200)
    assert deals is None and why == "value model not trained: the contract names no value column"


def test_too_few_won_deals_say_how_many_there_are_and_how_many_are_needed() -> None:
    contract, training = load_contract(BUNDLED_CONTRACT), _training(100, 40)
    deals, why = select_won_deals(training, _amounts(training), contract, 200)
    assert deals is None
    assert why == (
        "value model not trained: only 140 won deals with a deal_amount, need 200 "
        "(LEADOPS_VALUE_MIN_WON_DEALS)"
    )
    deals, why = select_won_deals(training, _amounts(training), contract, 100)
    assert why is None and (len(deals.dev), len(deals.test)) == (100, 40)
    assert (deals.dev["deal_amount"] == 1000.0).all()
