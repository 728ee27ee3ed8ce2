"""Deal amounts of the synthetic CRM's won leads, with their true expected value.

The amount of a won deal is lognormal: its log mean moves with company size, industry
and source, and its spread is fixed, so E[value | won] = exp(mu + sigma^2 / 2) is known
exactly for every lead. The value benchmark compares rankings against that truth.
Amounts are drawn from their own RNG stream, so leads and outcomes stay as they were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEAL_COLUMN = "deal_amount"  # the bundled contract's value column (one currency: EUR)
# Log-amount lifts; enterprise-heavy industries and partner deals close larger, and the
# order differs from the conversion lifts so expected value ranks unlike probability.
INDUSTRY_VALUE_LIFT = {
    "software": 0.0,
    "finance": 0.7,
    "healthcare": 0.5,
    "manufacturing": 0.4,
    "retail": -0.3,
    "education": -0.6,
    "media": -0.2,
    "logistics": 0.2,
}
SOURCE_VALUE_LIFT = {
    "web": -0.2,
    "referral": 0.1,
    "paid_search": -0.4,
    "events": 0.3,
    "outbound": 0.6,
    "partner": 0.4,
}
BASE_LOG_AMOUNT = np.log(8_000.0)  # a 100-employee software web deal's median amount
SIZE_ELASTICITY = 0.45  # amount grows ~2.8x per tenfold company size
SIGMA = 0.9  # heavy tail: the top 1% of deals are ~8x the median


def log_mean(lead: pd.DataFrame) -> np.ndarray:
    """mu of log(amount) per lead, from company size, industry and source."""
    size = np.log10(lead["company_size"].to_numpy(dtype=float) / 100.0)
    industry = lead["industry"].map(INDUSTRY_VALUE_LIFT).fillna(0.0).to_numpy()
    source = lead["lead_source"].map(SOURCE_VALUE_LIFT).fillna(0.0).to_numpy()
    return BASE_LOG_AMOUNT + SIZE_ELASTICITY * np.log(10) * size + industry + source


def expected_value(lead: pd.DataFrame) -> np.ndarray:
    """The true E[amount | won] of each lead: the lognormal mean."""
    return np.exp(log_mean(lead) + SIGMA**2 / 2)


def draw_amounts(lead: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """One amount per lead, rounded to cents (exact in CSV)."""
    amounts = np.exp(log_mean(lead) + SIGMA * rng.standard_normal(len(lead)))
    return np.round(amounts, 2)
