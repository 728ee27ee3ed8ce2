"""The training set: matured, labelled leads from gold, split by time.

A lead's outcome is only known once its outcome window has passed, so a lead
younger than the window is *immature*: it is left out, never counted as a
negative (that would teach the model that fresh leads do not convert).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.model_selection import TimeSeriesSplit

from leadops.contract import Contract
from leadops.errors import LeadOpsError
from leadops.maturity import LABEL, known_until, label_matured, outcome_watermark, utc
from leadops.storage import Lake
from leadops.tables import GOLD_LEADS

log = logging.getLogger(__name__)


class TrainingDataError(LeadOpsError):
    """The lake does not hold enough matured, labelled leads to train."""


@dataclass(frozen=True)
class TrainingSet:
    """Time-ordered matured leads: older ``dev`` rows for the search, newest ``test`` rows."""

    dev: pd.DataFrame
    test: pd.DataFrame
    as_of: datetime
    maturity_cutoff: datetime
    test_start: datetime
    gold_version: int | None
    digest: str
    # Creation times (first, last) of the leads each part holds, for the CLI line.
    dev_span: tuple[datetime, datetime] | None = None
    test_span: tuple[datetime, datetime] | None = None


def read_gold(lake: Lake) -> tuple[pd.DataFrame, int | None]:
    """The gold leads table and its Delta version (for lineage)."""
    version = lake.table_version(GOLD_LEADS)
    if version is None:
        raise TrainingDataError(
            f"table {GOLD_LEADS}: not found in {lake.root}; run `leadops ingest` first"
        )
    return lake.read_table(GOLD_LEADS), version


def split_by_time(
    matured: pd.DataFrame, contract: Contract, test_window_days: int, outcomes_ingested: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, datetime]:
    """The newest ``test_window_days`` of matured leads are the test set.

    Raises:
        TrainingDataError: saying what is missing and the data or setting that would fix it.
    """
    if matured.empty:
        raise TrainingDataError(
            f"{GOLD_LEADS}: no matured leads yet: a lead's outcome counts "
            f"{contract.outcome_window_days} days after it was created; ingest "
            "older leads, or pass a later --as-of"
        )
    if not outcomes_ingested:
        raise TrainingDataError(
            f"{GOLD_LEADS}: no outcomes ingested, so none of the "
            f"{len(matured)} matured leads is known to have converted: run "
            "`leadops ingest <outcomes file> --kind outcomes`"
        )
    newest = matured[contract.event_time].max()
    test_start = newest - pd.Timedelta(days=test_window_days)
    is_test = matured[contract.event_time] > test_start
    # A gap of one outcome window: no training label resolves inside the test window.
    gap = pd.Timedelta(days=contract.outcome_window_days)
    is_dev = matured[contract.event_time] <= test_start - gap
    dev = matured.loc[is_dev].reset_index(drop=True)
    test = matured.loc[is_test].reset_index(drop=True)
    if dev.empty:
        raise TrainingDataError(
            f"{GOLD_LEADS}: all {len(matured)} matured leads fall inside the "
            f"{test_window_days}-day test window or the {contract.outcome_window_days}-day "
            "outcome gap before it, leaving "
            "none to train on: ingest older weeks of leads and outcomes, or "
            f"lower LEADOPS_TEST_WINDOW_DAYS (now {test_window_days})"
        )
    for name, part in (("training", dev), ("test", test)):
        if part[LABEL].nunique() < 2:
            which = "converted" if bool(part[LABEL].iloc[0]) else "did not convert"
            raise TrainingDataError(
                f"{GOLD_LEADS}: all {len(part)} matured leads in the {name} window {which}; both "
                "kinds are needed: ingest more weeks of leads and their outcomes"
                + (
                    f", or raise LEADOPS_TEST_WINDOW_DAYS (now {test_window_days})"
                    if name == "test"
                    else ""
                )
            )
    return dev, test, test_start.to_pydatetime()


def time_series_folds(
    labels: np.ndarray, folds: int, times: pd.Series | None = None, gap_days: float = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """sklearn TimeSeriesSplit on time-ordered rows: each fold validates on later rows.

    With ``times``, training rows within ``gap_days`` (the outcome window) before a fold's
    first validation row are left out, so no training label resolves inside validation.
    When that gap leaves the first fold without both classes (a short history), fewer
    folds are used, down to two, and the log says so.
    """
    if len(labels) < 2 * (folds + 1):
        raise TrainingDataError(
            f"{GOLD_LEADS}: {len(labels)} training leads are too few for {folds} folds"
        )
    for count in range(folds, 1, -1):
        splits = _gapped_splits(labels, count, times, gap_days)
        if all(
            len(np.unique(labels[valid])) == 2 and len(np.unique(labels[train])) == 2
            for train, valid in splits
        ):
            if count < folds:
                log.warning(
                    "cross-validation: %d folds instead of %d (LEADOPS_CV_FOLDS): with a "
                    "%g-day gap before each validation fold, the first fold had no "
                    "training leads of both classes",
                    count,
                    folds,
                    gap_days,
                )
            return splits
    raise TrainingDataError(
        f"{GOLD_LEADS}: no split into 2 or more time-series folds has both classes in every "
        f"fold (with a {gap_days:g}-day outcome gap before each validation fold); ingest more "
        "weeks of leads and outcomes"
    )


def _gapped_splits(
    labels: np.ndarray, folds: int, times: pd.Series | None, gap_days: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    splits = list(TimeSeriesSplit(n_splits=folds).split(labels))
    if times is None or not gap_days:
        return splits
    stamps = pd.to_datetime(pd.Series(times), utc=True).to_numpy()
    gap = np.timedelta64(int(gap_days * 86_400), "s")
    return [(train[stamps[train] <= stamps[valid[0]] - gap], valid) for train, valid in splits]


def frame_digest(frame: pd.DataFrame, contract: Contract) -> str:
    """A content hash of the training rows (lineage: same digest, same data)."""
    columns = [c for c in [*contract.lead_columns, LABEL] if c in frame.columns]
    flat = frame[columns].copy()
    for name in contract.by_role("multi_valued"):
        if name in flat.columns:
            flat[name] = flat[name].map(lambda v: "|".join(map(str, v)) if v is not None else "")
    hashed = pd.util.hash_pandas_object(flat, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def build_training_set(
    lake: Lake,
    contract: Contract,
    as_of: datetime | None,
    test_window_days: int,
    training_window_days: int | None = None,
) -> TrainingSet:
    """Read gold, keep matured leads, label them and split by time."""
    moment = utc(as_of)
    gold, version = read_gold(lake)
    watermark = outcome_watermark(gold, contract)  # a late outcome export is not a negative
    matured = label_matured(gold, contract, moment, training_window_days, watermark)
    # No lead carries an outcome at all: the outcomes file was never ingested.
    outcomes = contract.label not in gold.columns or bool(gold[contract.label].notna().any())
    dev, test, test_start = split_by_time(matured, contract, test_window_days, outcomes)
    problem = contract.absent_from(GOLD_LEADS, gold.columns)
    if problem:  # now, not after a search that left the column out
        raise TrainingDataError(problem)
    log.info(
        "training set: %d matured of %d gold leads (%d dev, %d test), %.1f%% converted",
        len(matured),
        len(gold),
        len(dev),
        len(test),
        100 * matured[LABEL].mean(),
    )
    window = pd.Timedelta(days=contract.outcome_window_days).to_pytimedelta()
    cutoff = known_until(moment, watermark) - window
    return TrainingSet(
        dev=dev,
        test=test,
        as_of=moment,
        maturity_cutoff=cutoff,
        test_start=test_start,
        gold_version=version,
        digest=frame_digest(matured, contract),
        dev_span=_span(dev[contract.event_time]),
        test_span=_span(test[contract.event_time]),
    )


def _span(times: pd.Series) -> tuple[datetime, datetime] | None:
    stamps = pd.to_datetime(times, utc=True)
    return None if stamps.empty else (stamps.min().to_pydatetime(), stamps.max().to_pydatetime())
