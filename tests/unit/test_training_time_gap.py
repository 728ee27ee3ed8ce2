"""No absolute-time features, and no training label decided after validation or test began."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import KNOWN_AT, LABEL, label_known, label_matured
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage.local import LocalLake
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


def test_training_labels_are_known_before_the_test_and_each_fold_begins(tmp_path) -> None:
    """Old rule: a whole outcome window dropped before test and each fold (short histories
    were refused); older still: no gap, so late labels of training rows resolved inside."""
    frame = write_gold(LocalLake(tmp_path / "lake"), weeks=8, leads_per_week=200)
    as_of = frame[CONTRACT.event_time].max().to_pydatetime()  # the export's day: most undecided
    labelled = label_known(frame, CONTRACT, as_of)
    dev, test, test_start = D.split_by_time(labelled, CONTRACT, 14)
    assert dev[KNOWN_AT].max() <= pd.Timestamp(test_start) < test[CONTRACT.event_time].min()
    assert dev[CONTRACT.event_time].max() > pd.Timestamp(test_start) - GAP  # no whole window lost
    folds = D.time_series_folds(dev[LABEL].to_numpy(), 3, dev[CONTRACT.event_time], dev[KNOWN_AT])
    created = pd.to_datetime(dev[CONTRACT.event_time], utc=True).to_numpy()
    known = pd.to_datetime(dev[KNOWN_AT], utc=True).to_numpy()
    for train, valid in folds:
        assert len(train) and known[train].max() < created[valid].min()
    plain = D.time_series_folds(dev[LABEL].to_numpy(), 3)
    assert len(plain[-1][0]) > len(folds[-1][0])  # the undecided rows are what was left out
    assert timedelta(days=CONTRACT.outcome_window_days) == GAP
