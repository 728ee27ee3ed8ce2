"""Leads decided before their window closes join training without tilting the class mix."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import LABEL, label_known
from leadops.settings import BUNDLED_CONTRACT
from tasks.training.early_decided import decided_share, unbiased_early_decided

CONTRACT = load_contract(BUNDLED_CONTRACT)
WINDOW_DAYS = CONTRACT.outcome_window_days
TEST_START = pd.Timestamp(datetime(2026, 6, 1, tzinfo=UTC))


def _crm(n: int, rate: float, seed: int = 1) -> pd.DataFrame:
    """Leads over 8 weeks before the test window: wins closed within 2 days, only 60% of
    losses ever closed, uniformly over the window (the synthetic export's habit)."""
    rng = np.random.default_rng(seed)
    created = TEST_START - pd.to_timedelta(rng.random(n) * 56, unit="D")
    won = rng.random(n) < rate
    reported = won | (rng.random(n) < 0.6)
    delay = np.where(won, rng.random(n) * 2, 1 + rng.random(n) * (WINDOW_DAYS - 1.01))
    decided = created + pd.to_timedelta(delay, unit="D")
    return pd.DataFrame(
        {
            CONTRACT.entity_id: [f"L{i}" for i in range(n)],
            CONTRACT.event_time: created,
            CONTRACT.label: pd.array(np.where(reported, won, pd.NA), dtype="boolean"),
            CONTRACT.label_time: pd.Series(decided).where(reported),
        }
    )


def _fresh_rate(dev: pd.DataFrame) -> float:
    age = (TEST_START - pd.to_datetime(dev[CONTRACT.event_time], utc=True)).dt.days
    return float(dev.loc[age < WINDOW_DAYS, LABEL].mean())


def test_fresh_leads_keep_the_true_conversion_rate() -> None:
    labelled = label_known(_crm(40_000, 0.10), CONTRACT, TEST_START.to_pydatetime())
    # As the CRM decides them, the leads of the last window are mostly wins.
    assert _fresh_rate(labelled) > 0.2
    balanced = unbiased_early_decided(labelled, CONTRACT, TEST_START)
    assert abs(_fresh_rate(balanced) - 0.10) < 0.02
    # Matured leads are untouched.
    age = (TEST_START - pd.to_datetime(balanced[CONTRACT.event_time], utc=True)).dt.days
    old = (TEST_START - pd.to_datetime(labelled[CONTRACT.event_time], utc=True)).dt.days
    assert (age >= WINDOW_DAYS).sum() == (old >= WINDOW_DAYS).sum()


def test_nothing_is_thinned_without_matured_leads_of_both_classes() -> None:
    labelled = label_known(_crm(2_000, 0.10), CONTRACT, TEST_START.to_pydatetime())
    age = (TEST_START - pd.to_datetime(labelled[CONTRACT.event_time], utc=True)).dt.days
    fresh_only = labelled[age < WINDOW_DAYS].reset_index(drop=True)
    assert len(unbiased_early_decided(fresh_only, CONTRACT, TEST_START)) == len(fresh_only)


def test_decided_share_counts_delays_at_or_below_each_age() -> None:
    share = decided_share(np.array([1.0, 2.0, np.inf, np.inf]), np.array([0.5, 1.0, 3.0]))
    assert np.allclose(share, [0.5 / 5, 1.5 / 5, 2.5 / 5])


def test_same_rows_every_time() -> None:
    labelled = label_known(_crm(5_000, 0.10), CONTRACT, TEST_START.to_pydatetime())
    first = unbiased_early_decided(labelled, CONTRACT, TEST_START)
    again = unbiased_early_decided(labelled, CONTRACT, TEST_START)
    assert first[CONTRACT.entity_id].tolist() == again[CONTRACT.entity_id].tolist()
    assert len(first) < len(labelled)
