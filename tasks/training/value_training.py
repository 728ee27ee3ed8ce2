"""The deal-value candidate of a training: its won deals, its fit, and its baseline.

It trains on the conversion model's own split (won leads of the same training side and
test window), with the conversion model's encoder, so both models see a lead the same
way and the value gate judges on the same out-of-time rows the conversion gate did. The
amounts come from silver outcomes (gold keeps them out so they never become a feature).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadops.decisions.value_gate import MIN_DEALS
from leadops.decisions.value_metrics import decile_calibration, mae_log
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LABEL
from leadops.storage.lake import Lake
from leadops.storage.tables import silver
from tasks.features.encoder import FeatureEncoder
from tasks.training.dataset import TrainingSet
from tasks.training.value import (
    baseline_predict,
    search_value,
    segment_medians,
    value_metrics,
)
from tasks.training.value_model import DealValueModel

# The baseline's segments need this many training deals for a median of their own: a
# 30-level column's 3-deal medians ranked the test deals worse than random (Gini -0.29).
MIN_SEGMENT_DEALS = 10


@dataclass(frozen=True)
class WonDeals:
    """Won leads with an amount: the training side and the test window, oldest first."""

    dev: pd.DataFrame
    test: pd.DataFrame
    amount_column: str


@dataclass(frozen=True)
class ValueCandidate:
    model: DealValueModel
    objective: str
    segment: str | None  # the baseline's segment column (None: one overall median)
    test_amounts: np.ndarray
    predicted: np.ndarray
    baseline: np.ndarray
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    calibration: pd.DataFrame


def deal_amounts(lake: Lake, contract: Contract) -> pd.DataFrame:
    """Entity id and positive amount of every won deal silver outcomes know."""
    columns = [contract.entity_id, contract.value]
    table = lake.read_table(silver("outcomes"))
    if contract.value not in table.columns:
        return pd.DataFrame(columns=columns)
    found = table[columns].dropna()
    found = found[pd.to_numeric(found[contract.value]) > 0]
    found[contract.entity_id] = found[contract.entity_id].astype(str)
    return found.drop_duplicates(contract.entity_id, keep="last")


def select_won_deals(
    training: TrainingSet, amounts: pd.DataFrame, contract: Contract, minimum: int
) -> tuple[WonDeals | None, str | None]:
    """The won deals to train on, or None and one line saying why there is no value model."""
    if contract.value is None:
        return None, "value model not trained: the contract names no value column"

    def won(frame: pd.DataFrame) -> pd.DataFrame:
        rows = frame[frame[LABEL].astype(bool)].drop(columns=[contract.value], errors="ignore")
        rows = rows.assign(**{contract.entity_id: rows[contract.entity_id].astype(str)})
        joined = rows.merge(amounts, on=contract.entity_id, how="inner")
        return joined.sort_values(contract.event_time, kind="stable", ignore_index=True)

    deals = WonDeals(won(training.dev), won(training.test), contract.value)
    count = len(deals.dev) + len(deals.test)
    if count < minimum:
        return None, (
            f"value model not trained: only {count} won deals with a {contract.value}, "
            f"need {minimum} (LEADOPS_VALUE_MIN_WON_DEALS)"
        )
    if len(deals.test) < MIN_DEALS:
        return None, (
            f"value model not trained: only {len(deals.test)} won deals with a "
            f"{contract.value} in the test window, need {MIN_DEALS}"
        )
    return deals, None


def fit_value_candidate(
    deals: WonDeals, encoder: FeatureEncoder, contract: Contract, trials: int, seed: int
) -> ValueCandidate:
    """Search and fit the value model on the training side; judge it and the baseline on
    the test window's won deals."""
    dev_amounts = deals.dev[deals.amount_column].to_numpy(np.float64)
    test_amounts = deals.test[deals.amount_column].to_numpy(np.float64)
    fit = search_value(encoder.transform(deals.dev), dev_amounts, trials, seed)
    model = DealValueModel.from_fit(fit, encoder)
    predicted = model.predict_value(deals.test)
    segment = baseline_segment(deals.dev, dev_amounts, contract)
    segments = _segments(deals.dev, segment)
    medians = segment_medians(segments, dev_amounts, MIN_SEGMENT_DEALS)
    baseline = baseline_predict(medians, _segments(deals.test, segment))
    return ValueCandidate(
        model=model,
        objective=fit.objective,
        segment=segment,
        test_amounts=test_amounts,
        predicted=predicted,
        baseline=baseline,
        metrics=value_metrics(test_amounts, predicted),
        baseline_metrics=value_metrics(test_amounts, baseline),
        calibration=decile_calibration(test_amounts, predicted),
    )


def baseline_segment(dev: pd.DataFrame, amounts: np.ndarray, contract: Contract) -> str | None:
    """The categorical column whose medians size the newest fifth of the training deals
    best (MAE on log value, what a median minimises; fitted on the older four fifths):
    the plain baseline a team would build. None: no column beats one overall median."""
    cut = int(len(dev) * 0.8)
    best, best_error = (
        None,
        mae_log(amounts[cut:], np.full(len(dev) - cut, np.median(amounts[:cut]))),
    )
    for column in contract.by_role("categorical"):
        if column not in dev.columns:
            continue
        segments = _segments(dev, column)
        medians = segment_medians(segments[:cut], amounts[:cut], MIN_SEGMENT_DEALS)
        error = mae_log(amounts[cut:], baseline_predict(medians, segments[cut:]))
        if error < best_error:
            best, best_error = column, error
    return best


def _segments(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is None:
        return np.full(len(frame), "", dtype=object)
    return frame[column].astype(str).to_numpy()
