"""Early-decided leads on the training side, without their class bias.

A lead created less than one outcome window before the test window counts only if an
outcome row already decided it. CRMs record wins faster and more often than losses
(many lost leads are never closed), so those fresh leads are mostly wins: trained on
as they are, the model learns a conversion rate several times too high for new leads
(the demo's drift challenger served 0.087 for an actual 0.061). Each class is thinned
to the share of it that would be decided by that age, estimated from the matured leads
(whose decision delays are all known), so the fresh leads keep the true class mix.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from leadops.inputs.contract import Contract
from leadops.inputs.maturity import KNOWN_AT, LABEL

log = logging.getLogger(__name__)


def decided_share(delays: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """Share of ``delays`` (days; inf = never decided early) at or below each age.

    Smoothed by half a lead so an age before the first observed decision is not zero.
    """
    ordered = np.sort(delays)
    return (np.searchsorted(ordered, ages, side="right") + 0.5) / (len(ordered) + 1.0)


def unbiased_early_decided(
    dev: pd.DataFrame, contract: Contract, test_start: pd.Timestamp, seed: int = 0
) -> pd.DataFrame:
    """``dev`` with leads not matured at ``test_start`` thinned to the matured class mix.

    At age ``a`` a win is decided with probability W(a) and a loss with L(a) (both
    read off the matured leads); keeping wins with min(1, L/W) and losses with
    min(1, W/L) samples both classes at min(W, L), which leaves the odds of converting
    as they are. Matured leads are all kept; without matured wins and losses to
    estimate W and L from, nothing is thinned.
    """
    if KNOWN_AT not in dev or dev.empty:
        return dev
    events = pd.to_datetime(dev[contract.event_time], utc=True)
    window_closes = events + pd.Timedelta(days=contract.outcome_window_days)
    matured = (window_closes <= test_start).to_numpy()  # matured when the test window began
    if matured.all():
        return dev
    labels = dev[LABEL].to_numpy(bool)
    delay = (pd.to_datetime(dev[KNOWN_AT], utc=True) - events) / pd.Timedelta(days=1)
    window = float(contract.outcome_window_days)
    # A matured lead decided only by its window closing was never decided early.
    explicit = (delay < window).to_numpy() | labels
    delays = np.where(explicit, delay.to_numpy(float), np.inf)
    won, lost = delays[matured & labels], delays[matured & ~labels]
    if len(won) == 0 or len(lost) == 0:
        return dev
    fresh = ~matured
    ages = ((test_start - events[fresh]) / pd.Timedelta(days=1)).to_numpy(float)
    w, l_ = decided_share(won, ages), decided_share(lost, ages)
    keep_share = np.where(labels[fresh], np.minimum(1.0, l_ / w), np.minimum(1.0, w / l_))
    keep = np.ones(len(dev), dtype=bool)
    draws = np.random.default_rng(seed).random(int(fresh.sum()))
    keep[fresh] = draws < keep_share
    dropped_won = int((fresh & labels & ~keep).sum())
    dropped_lost = int((fresh & ~labels & ~keep).sum())
    if dropped_won or dropped_lost:
        log.info(
            "training set: %d early-decided leads (not matured by the test window) keep the "
            "matured leads' class mix: %d converted and %d not converted left out "
            "(wins decided by that age: %.0f%%, losses: %.0f%%)",
            int(fresh.sum()),
            dropped_won,
            dropped_lost,
            100 * float(np.mean(w)),
            100 * float(np.mean(l_)),
        )
    return dev.loc[keep].reset_index(drop=True)
