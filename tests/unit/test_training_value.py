"""The deal-value model on the generator's won deals, whose true E[value | won] is known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.demo import deal_value
from app.demo.synthetic import GeneratorConfig, generate
from tasks.training.value import (
    OBJECTIVES,
    baseline_predict,
    search_value,
    segment_medians,
    value_metrics,
)


def won_deals() -> pd.DataFrame:
    leads, outcomes = generate(GeneratorConfig(weeks=6, leads_per_week=1500, defect_share=0.0))
    won = outcomes[outcomes["converted"]].merge(leads, on="lead_id")
    return won.sort_values("created_at", ignore_index=True)


def test_the_searched_value_model_ranks_and_sizes_deals_better_than_segment_medians() -> None:
    won = won_deals()
    rows = pd.get_dummies(won[["industry", "lead_source"]]).assign(
        size=np.log10(won["company_size"])
    )
    rows = rows.to_numpy(dtype=float)
    amounts = won[deal_value.DEAL_COLUMN].to_numpy()
    cut = int(len(won) * 0.75)  # out-of-time: the newest quarter is the test window
    fit = search_value(rows[:cut], amounts[:cut], trials=4, seed=0)
    medians = segment_medians(won["industry"].to_numpy()[:cut], amounts[:cut])
    model = value_metrics(amounts[cut:], fit.predict(rows[cut:]))
    baseline = value_metrics(
        amounts[cut:], baseline_predict(medians, won["industry"].to_numpy()[cut:])
    )
    assert fit.objective in OBJECTIVES
    assert model["gini"] > baseline["gini"] + 0.05
    truth = deal_value.expected_value(won.iloc[cut:])
    # It estimates the mean amount (not the median): within 15% of the true mean.
    assert abs(fit.predict(rows[cut:]).mean() / truth.mean() - 1) < 0.15


def test_an_unseen_segment_gets_the_overall_median() -> None:
    medians = segment_medians(np.array(["a", "a", "b"]), np.array([1.0, 3.0, 10.0]))
    assert list(baseline_predict(medians, np.array(["a", "zzz"]))) == [2.0, 3.0]


def test_the_baseline_sizes_by_the_column_that_explains_amounts_and_pools_sparse_segments() -> None:
    from leadops.inputs.contract import load_contract
    from leadops.settings import BUNDLED_CONTRACT
    from tasks.training.value_training import MIN_SEGMENT_DEALS, baseline_segment

    rng = np.random.default_rng(5)
    n = 600
    dev = pd.DataFrame(
        {
            "lead_source": rng.choice(["web", "event"], n),
            "industry": rng.choice(["bank", "retail", "saas"], n),
            "country": [f"c{i}" for i in rng.integers(0, 200, n)],  # ~3 deals per level
        }
    )
    scale = dev["industry"].map({"bank": 50_000.0, "retail": 5_000.0, "saas": 20_000.0})
    amounts = (scale * np.exp(rng.normal(0, 0.3, n))).to_numpy()
    assert baseline_segment(dev, amounts, load_contract(BUNDLED_CONTRACT)) == "industry"
    medians = segment_medians(dev["country"].to_numpy(), amounts, MIN_SEGMENT_DEALS)
    assert set(medians) == {""}  # no country has 10 deals: all take the overall median


def _test_window_ratio(seed: int) -> tuple[float, float, float]:
    """Realised / predicted revenue (bootstrap 95% CI, as the monitor states it) of the
    searched value model on the newest quarter of a stable generator history's won deals."""
    from tasks.monitoring.value_watch import realised_ratio

    leads, outcomes = generate(
        GeneratorConfig(weeks=6, leads_per_week=1500, defect_share=0.0, seed=seed)
    )
    won = outcomes[outcomes["converted"]].merge(leads, on="lead_id")
    won = won.sort_values("created_at", ignore_index=True)
    rows = pd.get_dummies(won[["industry", "lead_source"]]).assign(
        size=np.log10(won["company_size"])
    )
    rows, amounts = rows.to_numpy(dtype=float), won[deal_value.DEAL_COLUMN].to_numpy()
    cut = int(len(won) * 0.75)
    fit = search_value(rows[:cut], amounts[:cut], trials=4, seed=0)
    return realised_ratio(amounts[cut:], fit.predict(rows[cut:]), 1000, 0)


def test_predicted_values_add_up_to_the_revenue_won_on_stable_data() -> None:
    # Before the revenue correction these read 1.29 [1.04, 1.63] and 1.34 [1.07, 1.65]:
    # the monitor would have called a value shift on data that never moved.
    for seed in (7, 11):
        ratio, low, high = _test_window_ratio(seed)
        assert low < 1 < high, (seed, ratio, low, high)
