"""Label maturity and the time split: what the model is allowed to learn from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import KNOWN_AT, label_matured
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage.local import LocalLake
from tasks.training import dataset as D
from tests.support.gold import as_of_after, write_gold

CONTRACT = load_contract(BUNDLED_CONTRACT)
WINDOW = timedelta(days=CONTRACT.outcome_window_days)
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def _gold(rows: list[tuple[str, datetime, bool | None, datetime | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            CONTRACT.entity_id: [r[0] for r in rows],
            CONTRACT.event_time: pd.to_datetime([r[1] for r in rows], utc=True),
            CONTRACT.label: pd.array([r[2] for r in rows], dtype="boolean"),
            CONTRACT.label_time: pd.to_datetime([r[3] for r in rows], utc=True),
        }
    )


def test_immature_leads_are_excluded_not_counted_as_negatives() -> None:
    old = AS_OF - WINDOW - timedelta(days=10)
    young = AS_OF - timedelta(days=5)
    gold = _gold(
        [
            ("won", old, True, old + timedelta(days=3)),
            ("lost", old, False, old + timedelta(days=20)),
            ("silent", old, None, None),  # matured, never heard of again: a negative
            ("fresh", young, None, None),  # its window is still open: unknown, so left out
            ("fresh-won-later", young, True, AS_OF + timedelta(days=3)),
        ]
    )
    labelled = label_matured(gold, CONTRACT, AS_OF)
    assert dict(zip(labelled[CONTRACT.entity_id], labelled[D.LABEL], strict=True)) == {
        "won": 1,
        "lost": 0,
        "silent": 0,
    }
    # Treating immature leads as negatives would have changed the conversion rate.
    assert labelled[D.LABEL].mean() == pytest.approx(1 / 3)


def test_conversion_after_the_outcome_window_is_not_a_positive() -> None:
    old = AS_OF - WINDOW - timedelta(days=30)
    gold = _gold(
        [
            ("late", old, True, old + WINDOW + timedelta(days=1)),
            ("in-time", old, True, old + WINDOW - timedelta(days=1)),
        ]
    )
    labelled = label_matured(gold, CONTRACT, AS_OF)
    assert dict(zip(labelled[CONTRACT.entity_id], labelled[D.LABEL], strict=True)) == {
        "late": 0,
        "in-time": 1,
    }


def test_training_window_keeps_only_recent_matured_leads() -> None:
    cutoff = AS_OF - WINDOW
    gold = _gold(
        [
            ("recent", cutoff - timedelta(days=5), False, None),
            ("ancient", cutoff - timedelta(days=200), False, None),
        ]
    )
    kept = label_matured(gold, CONTRACT, AS_OF, training_window_days=30)
    assert kept[CONTRACT.entity_id].tolist() == ["recent"]


def test_split_puts_newest_matured_days_in_test_and_trains_on_what_was_known_before(
    tmp_path: Path,
) -> None:
    lake = LocalLake(tmp_path / "lake")
    frame = write_gold(lake, weeks=6, leads_per_week=150)
    training = D.build_training_set(
        lake, CONTRACT, as_of_after(frame, CONTRACT), test_window_days=14
    )
    assert training.gold_version == 0
    start = pd.Timestamp(training.test_start)
    # No leakage: every training label was known when the test window began, and the
    # test window (at least 14 days) holds the minimum converted and not-converted leads.
    assert training.dev[KNOWN_AT].max() <= start < training.test[CONTRACT.event_time].min()
    assert training.test[CONTRACT.event_time].max() - start >= pd.Timedelta(days=14)
    assert training.test[D.LABEL].sum() >= 40 and (1 - training.test[D.LABEL]).sum() >= 40
    # Old rule: a whole outcome window before the test window was dropped. Now leads created
    # in it whose outcome was decided before the test window began are training rows.
    assert training.dev[CONTRACT.event_time].max() > start - WINDOW
    folds = D.time_series_folds(training.dev[D.LABEL].to_numpy(), 3)
    assert len(folds) == 3 and all(train.max() < valid.min() for train, valid in folds)


def test_digest_changes_with_the_data_and_only_then(tmp_path: Path) -> None:
    lake = LocalLake(tmp_path / "lake")
    frame = write_gold(lake, weeks=2, leads_per_week=50)
    labelled = label_matured(frame, CONTRACT, as_of_after(frame, CONTRACT))
    same = D.frame_digest(labelled.copy(), CONTRACT)
    changed = labelled.copy()
    changed.loc[0, "page_views"] += 1
    assert D.frame_digest(labelled, CONTRACT) == same != D.frame_digest(changed, CONTRACT)


def test_missing_gold_table_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(D.TrainingDataError, match="gold/leads: not found.*leadops ingest"):
        D.build_training_set(LocalLake(tmp_path / "lake"), CONTRACT, None, 14)


def test_a_contract_column_gold_lacks_is_one_clear_error_before_any_search(
    tmp_path: Path,
) -> None:
    # The contract gained a feature after its leads were ingested: training used to
    # search for minutes and then fail on a KeyError when logging the model.
    lake = LocalLake(tmp_path / "lake")
    frame = write_gold(lake, weeks=6, leads_per_week=150)  # enough for the 40/40 minimums
    lake.overwrite_table(D.GOLD_LEADS, frame.drop(columns=["legacy_lead_score"]))
    with pytest.raises(D.TrainingDataError) as error:
        D.build_training_set(lake, CONTRACT, as_of_after(frame, CONTRACT), 14)
    assert str(error.value).startswith(
        "table gold/leads has no column(s) legacy_lead_score, which contract"
    )
    assert "ingest a leads export that has them" in str(error.value)


def test_nothing_matured_yet_is_one_clear_error(tmp_path: Path) -> None:
    lake = LocalLake(tmp_path / "lake")
    frame = write_gold(lake, weeks=2, leads_per_week=50)
    too_early = frame[CONTRACT.event_time].min().to_pydatetime()
    with pytest.raises(D.TrainingDataError, match="no matured leads"):
        D.build_training_set(lake, CONTRACT, too_early, 14)


def test_single_class_folds_are_one_clear_error() -> None:
    labels = np.array([0] * 30 + [1] * 3)
    with pytest.raises(D.TrainingDataError, match="no split of 33 training leads into 2 or more"):
        D.time_series_folds(labels, 3)


def test_folds_train_only_on_leads_decided_before_validation_and_fall_back_when_starved() -> None:
    # 4 weeks of daily leads, each decided 7 days after creation: with 4 folds the first
    # fold keeps no training rows decided before its validation began.
    days = np.repeat(np.arange(28), 10)
    labels = (np.arange(len(days)) % 7 == 0).astype(int)
    times = pd.Series(pd.Timestamp("2026-01-05", tz="UTC") + pd.to_timedelta(days, unit="D"))
    known_at = times + pd.Timedelta(days=7)
    splits = D.time_series_folds(labels, 4, times, known_at)
    assert 2 <= len(splits) < 4
    for train, valid in splits:
        assert known_at[train].max() < times[valid].min()
        assert set(labels[train]) == set(labels[valid]) == {0, 1}
    # Decided within a day (explicit won/lost rows): all 4 folds, nearly every earlier row kept.
    fast = D.time_series_folds(labels, 4, times, times + pd.Timedelta(hours=20))
    assert len(fast) == 4
    assert all(len(train) >= valid.min() - 10 for train, valid in fast)


def _matured(days_before: list[int], converted: list[bool | None]) -> pd.DataFrame:
    old = AS_OF - WINDOW
    return _gold(
        [
            (f"L{i}", old - timedelta(days=d), c, None if c is None else old)
            for i, (d, c) in enumerate(zip(days_before, converted, strict=True))
        ]
    )


def test_no_outcomes_ingested_is_named_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    lake = LocalLake(tmp_path / "lake")
    lake.overwrite_table(D.GOLD_LEADS, _matured(list(range(0, 60, 2)), [None] * 30))
    with pytest.raises(D.TrainingDataError, match="no outcomes ingested.*--kind outcomes"):
        D.build_training_set(lake, CONTRACT, AS_OF, 14)


def test_too_few_matured_leads_for_the_test_window_names_the_missing_counts(
    tmp_path: Path,
) -> None:
    lake = LocalLake(tmp_path / "lake")
    # The outcome export runs up to AS_OF (a lost lead recorded then): no watermark cap.
    latest = _gold([("late", AS_OF - timedelta(days=1), False, AS_OF)])
    frame = pd.concat([_matured([1, 2, 3, 4] * 10, [True, False] * 20), latest], ignore_index=True)
    lake.overwrite_table(D.GOLD_LEADS, frame)
    with pytest.raises(
        D.TrainingDataError,
        match="all 40 matured leads are too few for the test window: have 20 converted, need 40 "
        r"\(LEADOPS_MIN_TEST_CONVERTED\); have 20 not converted, need 40",
    ):
        D.build_training_set(lake, CONTRACT, AS_OF, 14)
