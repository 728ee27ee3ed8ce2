"""No absolute-time features, and a gap of one outcome window before validation and test rows."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from leadops.contract import load_contract
from leadops.maturity import LABEL, label_matured
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage import LocalLake
from tasks.features.encoder import FeatureEncoder
from tasks.training import dataset as D
from tests.support.gold import as_of_after, write_gold

CONTRACT = load_contract(BUNDLED_CONTRACT)
GAP = pd.Timedelta(days=CONTRACT.outcome_window_days)


def _matured(tmp_path) -> pd.DataFrame:
    frame = write_gold(LocalLake(tmp_path / "lake"), weeks=8, leads_per_week=200)
    return label_matured(frame, CONTRACT, as_of_after(frame, CONTRACT))


def test_the_model_sees_weekday_and_hour_but_not_the_month(tmp_path) -> None:
    """Old rule: month of year was a feature (an extrapolation under a time-based split)."""
    matured = _matured(tmp_path)
    encoder = FeatureEncoder.fit(matured, CONTRACT, 5)
    time_features = [n for n in encoder.feature_names if n.startswith(CONTRACT.event_time)]
    assert time_features and all("month" not in n for n in time_features)
    assert any("weekday" in n for n in time_features) and any("hour" in n for n in time_features)
    assert encoder.transform(matured.head(3)).shape[1] == len(encoder.feature_names)
    legacy = dict(encoder.spec)  # an encoder fitted before keeps its month column
    legacy.pop("date_parts")
    old = FeatureEncoder(legacy)
    assert any("month" in n for n in old.feature_names)
    assert old.transform(matured.head(3)).shape[1] == len(old.feature_names)


def test_training_rows_end_one_outcome_window_before_the_test_and_each_fold(tmp_path) -> None:
    """Old rule: no gap, so late labels of training rows resolved inside validation / test."""
    matured = _matured(tmp_path)
    dev, test, test_start = D.split_by_time(matured, CONTRACT, 14)
    assert dev[CONTRACT.event_time].max() <= pd.Timestamp(test_start) - GAP
    assert test[CONTRACT.event_time].min() > pd.Timestamp(test_start)
    folds = D.time_series_folds(
        dev[LABEL].to_numpy(), 3, dev[CONTRACT.event_time], CONTRACT.outcome_window_days
    )
    times = pd.to_datetime(dev[CONTRACT.event_time], utc=True).to_numpy()
    for train, valid in folds:
        assert len(train) and times[train].max() <= times[valid].min() - np.timedelta64(GAP)
    plain = D.time_series_folds(dev[LABEL].to_numpy(), 3)
    assert len(plain[-1][0]) > len(folds[-1][0])  # the gap rows are what was left out
    assert timedelta(days=CONTRACT.outcome_window_days) == GAP
