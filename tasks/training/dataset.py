"""The training set: leads whose outcome is known, labelled as known, split by time.

A lead counts once its outcome is known: an explicit won/lost row, or its outcome
window closed (then no conversion within it is a negative). A lead not yet decided
is left out, never counted as a negative (that would teach the model that fresh
leads do not convert). The training side keeps only leads whose outcome was known
before the test window began, so no gap of a whole window is wasted and no label
from inside the test window leaks into training.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.model_selection import TimeSeriesSplit

from leadops.clock import utc
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import (
    KNOWN_AT,
    LABEL,
    MATURED,
    known_until,
    label_known,
    outcome_known_at,
    outcome_watermark,
)
from leadops.storage.lake import Lake
from leadops.storage.tables import GOLD_LEADS
from tasks.training.early_decided import unbiased_early_decided
from tasks.training.history import (
    HistoryMinimums,
    LateWins,
    TrainingDataError,
    late_wins,
    more_history_hint,
    shortfall,
    test_window_start,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingSet:
    """Time-ordered known leads: older ``dev`` rows for the search, newest ``test`` rows."""

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
    # Wins that came after the outcome window (labelled 0): train warns about them.
    late_wins: LateWins | None = None


def read_gold(lake: Lake) -> tuple[pd.DataFrame, int | None]:
    """The gold leads table and its Delta version (for lineage)."""
    version = lake.table_version(GOLD_LEADS)
    if version is None:
        raise TrainingDataError(
            f"table {GOLD_LEADS}: not found in {lake.root}; run `leadops ingest` first"
        )
    return lake.read_table(GOLD_LEADS), version


def split_by_time(
    labelled: pd.DataFrame,
    contract: Contract,
    test_window_days: int,
    outcomes_ingested: bool = True,
    minimums: HistoryMinimums | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, datetime]:
    """The newest matured leads are the test set; leads known before it, the training side.

    The test window is the newest ``test_window_days`` of matured leads (window closed:
    no selection by how fast an outcome came), grown back in time until it holds the
    minimum converted and not-converted leads. Training rows were created, and their
    outcome known, by the window's start. ``labelled`` comes from ``label_known``
    (``label_matured`` rows count as matured, known when their window closed).

    Raises:
        TrainingDataError: saying what is missing and the data or setting that would fix it.
    """
    minimums = minimums or HistoryMinimums()
    _refuse_without_outcomes(labelled, contract, outcomes_ingested)
    events = labelled[contract.event_time]
    known_at = labelled[KNOWN_AT] if KNOWN_AT in labelled else outcome_known_at(labelled, contract)
    matured = labelled[MATURED].astype(bool) if MATURED in labelled else events.notna()
    test_start = test_window_start(
        labelled[matured], labelled, contract, test_window_days, minimums
    )
    test = labelled.loc[matured & (events > test_start)].reset_index(drop=True)
    dev = labelled.loc[(events <= test_start) & (known_at <= test_start)].reset_index(drop=True)
    dev = unbiased_early_decided(dev, contract, test_start)
    if dev.empty:
        raise TrainingDataError(
            f"{GOLD_LEADS}: all {len(labelled)} leads with a known outcome fall inside the "
            f"test window (created after {test_start:%Y-%m-%d}) or were decided after it "
            "began, leaving "
            "none to train on: ingest older weeks of leads and outcomes, or "
            f"lower LEADOPS_TEST_WINDOW_DAYS (now {test_window_days})"
        )
    missing = shortfall(dev[LABEL], minimums.train_converted, minimums.train_not_converted, "TRAIN")
    if missing:
        raise TrainingDataError(
            f"{GOLD_LEADS}: too few training leads (created and decided before the test "
            f"window's start {test_start:%Y-%m-%d}): {missing}; "
            + more_history_hint(labelled, contract, minimums)
        )
    return dev, test, test_start.to_pydatetime()


def _refuse_without_outcomes(
    labelled: pd.DataFrame, contract: Contract, outcomes_ingested: bool
) -> None:
    if labelled.empty:
        raise TrainingDataError(
            f"{GOLD_LEADS}: no matured leads yet: a lead's outcome counts once an outcome "
            f"row decides it or {contract.outcome_window_days} days after it was created; "
            "ingest older leads and their outcomes, or pass a later --as-of"
        )
    if not outcomes_ingested:
        raise TrainingDataError(
            f"{GOLD_LEADS}: no outcomes ingested, so none of the "
            f"{len(labelled)} matured leads is known to have converted: run "
            "`leadops ingest <outcomes file> --kind outcomes`"
        )


def time_series_folds(
    labels: np.ndarray,
    folds: int,
    times: pd.Series | None = None,
    known_at: pd.Series | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """sklearn TimeSeriesSplit on time-ordered rows: each fold validates on later rows.

    With ``times`` (creation) and ``known_at`` (when each outcome became known), a fold
    trains only on rows whose outcome was known before its first validation row was
    created, so no training label comes from inside validation; the gap is what the
    data needs, not a whole outcome window. When that leaves a fold without both
    classes (a short history), fewer folds are used, down to two, and the log says so.
    """
    if len(labels) < 2 * (folds + 1):
        raise TrainingDataError(
            f"{GOLD_LEADS}: {len(labels)} training leads are too few for {folds} folds"
        )
    for count in range(folds, 1, -1):
        splits = _known_before_splits(labels, count, times, known_at)
        if all(
            len(np.unique(labels[valid])) == 2 and len(np.unique(labels[train])) == 2
            for train, valid in splits
        ):
            if count < folds:
                log.warning(
                    "cross-validation: %d folds instead of %d (LEADOPS_CV_FOLDS): with only "
                    "leads decided before each validation fold to train on, the first fold "
                    "had no training leads of both classes",
                    count,
                    folds,
                )
            return splits
    raise TrainingDataError(
        f"{GOLD_LEADS}: no split of {len(labels)} training leads into 2 or more time-series "
        "folds has both classes in every fold (training only on leads decided before each "
        "validation fold); ingest more weeks of leads and outcomes"
    )


def _known_before_splits(
    labels: np.ndarray, folds: int, times: pd.Series | None, known_at: pd.Series | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    splits = list(TimeSeriesSplit(n_splits=folds).split(labels))
    if times is None or known_at is None:
        return splits
    created = pd.to_datetime(pd.Series(times), utc=True).to_numpy()
    known = pd.to_datetime(pd.Series(known_at), utc=True).to_numpy()
    return [(train[known[train] < created[valid[0]]], valid) for train, valid in splits]


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
    minimums: HistoryMinimums | None = None,
) -> TrainingSet:
    """Read gold, keep leads whose outcome is known, label them and split by time."""
    moment = utc(as_of)
    gold, version = read_gold(lake)
    watermark = outcome_watermark(gold, contract)  # a late outcome export is not a negative
    labelled = label_known(gold, contract, moment, training_window_days, watermark)
    # No lead carries an outcome at all: the outcomes file was never ingested.
    outcomes = contract.label not in gold.columns or bool(gold[contract.label].notna().any())
    dev, test, test_start = split_by_time(labelled, contract, test_window_days, outcomes, minimums)
    problem = contract.absent_from(GOLD_LEADS, gold.columns)
    if problem:  # now, not after a search that left the column out
        raise TrainingDataError(problem)
    late = late_wins(labelled, contract, pd.Timestamp(moment))
    if late.warning:
        log.warning("training set: %s", late.warning)
    log.info(
        "training set: %d of %d gold leads with a known outcome (%d training, %d test), "
        "%.1f%% converted",
        len(labelled),
        len(gold),
        len(dev),
        len(test),
        100 * labelled[LABEL].mean(),
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
        digest=frame_digest(labelled, contract),
        dev_span=_span(dev[contract.event_time]),
        test_span=_span(test[contract.event_time]),
        late_wins=late,
    )


def _span(times: pd.Series) -> tuple[datetime, datetime] | None:
    stamps = pd.to_datetime(times, utc=True)
    return None if stamps.empty else (stamps.min().to_pydatetime(), stamps.max().to_pydatetime())
