"""Every automated decision is a test whose error rate holds: measured here under the null."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from leadops.decisions import stats
from leadops.decisions.monitor_decisions import (
    batches_to_pool,
    conversion_drop_test,
    nested_pool_critical,
    pooled_conversion_test,
    psi_drift_test,
)
from leadops.decisions.psi import psi_value, smoothed_shares
from leadops.decisions.verdict import (
    Verdict,
    paired_auc_test,
    paired_precision_test,
    rollout_step_test,
    with_max_wait,
)


def leads(rng: np.random.Generator, n: int, rate: float = 0.07) -> tuple[np.ndarray, np.ndarray]:
    """True log-odds and outcomes of ``n`` leads (~``rate`` conversion)."""
    eta = rng.normal(math.log(rate / (1 - rate)) - 0.9, 1.6, n)
    return eta, (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)


def model(rng: np.random.Generator, eta: np.ndarray, noise: float) -> np.ndarray:
    """A model's scores: the true log-odds plus its own noise (more noise, lower AUC)."""
    return eta + rng.normal(0, noise, len(eta))


def monte_carlo_bound(rate: float, runs: int) -> float:
    """``rate`` plus three Monte-Carlo standard errors: what a measured rate may reach."""
    return rate + 3 * math.sqrt(rate * (1 - rate) / runs)


def test_equal_challenger_fails_a_look_no_more_often_than_alpha() -> None:
    rng, runs, alpha = np.random.default_rng(1), 400, 0.05
    verdicts = []
    for _ in range(runs):
        eta, labels = leads(rng, 1500)
        verdicts.append(
            paired_auc_test(labels, model(rng, eta, 1.3), model(rng, eta, 1.3), alpha=alpha).verdict
        )
    assert verdicts.count(Verdict.FAIL) / runs <= monte_carlo_bound(alpha, runs)
    assert Verdict.PASS in verdicts  # an equal challenger can prove non-inferiority


def test_worse_challenger_passes_a_look_no_more_often_than_alpha() -> None:
    rng, runs, alpha = np.random.default_rng(2), 300, 0.05
    passed = 0
    for _ in range(runs):
        eta, labels = leads(rng, 1500)
        worse, champion = model(rng, eta, 2.6), model(rng, eta, 1.3)  # ~0.05 AUC below: beyond 2%
        passed += (
            paired_auc_test(labels, worse, champion, margin=0.02, alpha=alpha).verdict
            is Verdict.PASS
        )
    assert passed / runs <= monte_carlo_bound(alpha, runs)


def test_clearly_better_passes_and_clearly_worse_fails() -> None:
    rng = np.random.default_rng(3)
    eta, labels = leads(rng, 5000)
    good, weak = model(rng, eta, 0.6), model(rng, eta, 2.5)
    better = paired_auc_test(labels, good, weak)
    assert (
        better.verdict is Verdict.PASS and better.estimate > 0 and better.ci_low > better.threshold
    )
    worse = paired_auc_test(labels, weak, good)
    assert (
        worse.verdict is Verdict.FAIL
        and worse.ci_high < 0
        and "significantly worse" in worse.reason
    )
    step = rollout_step_test(labels, weak, good, capacity=0.1)
    assert step.verdict is Verdict.FAIL and len(step.details["parts"]) == 2


def test_delong_matches_the_paired_bootstrap() -> None:
    rng = np.random.default_rng(4)
    eta, labels = leads(rng, 3000)
    first, second = model(rng, eta, 1.0), model(rng, eta, 1.4)
    auc_first, auc_second, variance = stats.delong_paired(labels, first, second)
    boot = stats.paired_bootstrap(labels, first, second, "auc", resamples=1000, seed=5)
    assert boot.estimate == pytest.approx(auc_first - auc_second)
    assert (boot.high - boot.low) / (2 * 1.96) == pytest.approx(math.sqrt(variance), rel=0.15)
    with pytest.raises(ValueError, match="at least 1,000"):
        stats.paired_bootstrap(labels, first, second, "auc", resamples=300)


def test_tiny_samples_wait_and_say_how_many_are_needed() -> None:
    labels = np.array([1] * 3 + [0] * 47)
    scores = np.linspace(0, 1, 50)
    decision = paired_auc_test(labels, scores, scores[::-1], min_per_class=10)
    assert decision.verdict is Verdict.WAIT
    assert "3 converted" in decision.reason and "7 more converted" in decision.reason
    late = with_max_wait(decision, elapsed_days=60, max_wait_days=56)
    assert late.verdict is Verdict.INCONCLUSIVE and "max wait 56" in late.reason
    assert with_max_wait(decision, 10, 56).verdict is Verdict.WAIT


def test_a_wait_states_the_leads_an_equal_challenger_needs() -> None:
    rng = np.random.default_rng(6)
    eta, labels = leads(rng, 600)
    decision = paired_auc_test(labels, model(rng, eta, 1.3), model(rng, eta, 1.3))
    assert decision.verdict is Verdict.WAIT, decision.reason
    needed = decision.details["leads_needed_if_equal"]
    assert needed > 600 and f"{needed:,}" in decision.reason and decision.mde > 0


def test_precision_at_capacity_guard() -> None:
    rng = np.random.default_rng(7)
    eta, labels = leads(rng, 4000)
    good = model(rng, eta, 0.5)
    same = paired_precision_test(labels, good, good.copy(), capacity=0.1)
    assert same.verdict is Verdict.PASS and same.estimate == 0 and same.n_by_arm["discordant"] == 0
    worse = paired_precision_test(labels, rng.random(4000), good, capacity=0.1)
    assert worse.verdict is Verdict.FAIL and worse.estimate < 0
    strict = paired_precision_test(labels, model(rng, eta, 0.5), good, capacity=0.1, margin=0.001)
    assert strict.verdict is Verdict.WAIT  # a tight margin cannot be cleared on 400 top leads


def test_decision_serialises_for_artifacts_and_tags() -> None:
    decision = with_max_wait(paired_auc_test(np.array([1, 0, 0]), np.ones(3), np.ones(3)), 99, 56)
    data = json.loads(json.dumps(decision.as_dict()))
    assert data["verdict"] == "inconclusive" and data["n"] == 3
    tags = decision.as_tags()
    # Two readable tags on the version, not one per field and part (~27, cut short).
    assert set(tags) == {"leadops.decision", "leadops.decision.verdict"}
    assert tags["leadops.decision.verdict"] == "inconclusive"
    assert tags["leadops.decision"].startswith("paired_auc inconclusive (n 3")


def _family_fires(
    rng: np.random.Generator, shares: list[np.ndarray], n: int, m: int, alpha: float
) -> bool:
    decisions = []
    for share in shares:
        reference, current = rng.multinomial(m, share), rng.multinomial(n, share)
        psi = psi_value(smoothed_shares(reference), smoothed_shares(current))
        bins = int(((reference > 0) | (current > 0)).sum())
        decisions.append(psi_drift_test(psi, m, n, bins, len(shares), alpha_family=alpha))
    return any(d.verdict is Verdict.FAIL for d in decisions)


@pytest.mark.parametrize("rows", [100, 300, 1000])
def test_unchanged_distribution_fires_at_most_alpha_per_run(rows: int) -> None:
    """Five features (a 30-level Zipf categorical and four decile-binned numerics)."""
    rng, runs, alpha = (
        np.random.default_rng(rows),
        1500,
        0.05,
    )  # alpha 0.05: measurable in 1,500 runs
    zipf = 1 / np.arange(1, 31) ** 1.1
    shares = [zipf / zipf.sum()] + [np.full(10, 0.1)] * 4
    fired = sum(_family_fires(rng, shares, rows, 2600, alpha) for _ in range(runs))
    assert fired / runs <= monte_carlo_bound(alpha, runs)


def test_drift_waits_below_the_minimum_batch_and_fires_on_a_real_shift() -> None:
    small = psi_drift_test(0.9, 10_000, 60, bins=11, n_features=5, min_rows=100, feature="x")
    assert small.verdict is Verdict.WAIT and "60 rows < 100" in small.reason
    shift = psi_drift_test(0.4, 10_000, 1000, bins=31, n_features=5, feature="country")
    assert shift.verdict is Verdict.FAIL and shift.mde < 0.4
    noise = psi_drift_test(0.4, 10_000, 100, bins=31, n_features=5, feature="country")
    assert noise.verdict is Verdict.PASS  # 0.4 is within what 100 rows of 31 bins show by chance
    assert batches_to_pool([500, 120, 90, 100], 300) == 3 and batches_to_pool([50, 60], 300) == 2


def test_conversion_drop_false_alarm_rate_is_alpha() -> None:
    rng, runs, alpha = np.random.default_rng(8), 3000, 0.05
    baseline = rng.binomial(5000, 0.07, runs)
    current = rng.binomial(2000, 0.07, runs)
    fired = sum(
        conversion_drop_test(b, 5000, c, 2000, threshold=0.0, alpha=alpha).verdict is Verdict.FAIL
        for b, c in zip(baseline, current, strict=True)
    )
    assert fired / runs <= monte_carlo_bound(alpha, runs)


def test_detectable_drop_matches_the_textbook_sample_size() -> None:
    # Fleiss: equal groups, p0 = 7%, p1 = 6.3% (-10%), one-sided 5%, power 80%.
    p0, p1 = 0.07, 0.063
    pooled, za, zb = (p0 + p1) / 2, 1.6448536, 0.8416212
    n = (
        za * math.sqrt(2 * pooled * (1 - pooled)) + zb * math.sqrt(p0 * (1 - p0) + p1 * (1 - p1))
    ) ** 2 / (p0 - p1) ** 2
    assert stats.detectable_drop(0.07, n, n, 0.05, 0.8) == pytest.approx(0.10, rel=1e-3)
    # The figure: a 10% drop from a known 7% at z 2.33 (50% power) needs ~7,200 leads.
    assert stats.leads_needed(0.07, None, 0.10, 0.01, 0.5) == pytest.approx(7186, rel=0.01)
    # the baseline alone is too noisy
    assert stats.leads_needed(0.07, 2000, 0.10, 0.005, 0.8) == math.inf


def test_conversion_waits_until_it_could_see_the_threshold() -> None:
    wait = conversion_drop_test(140, 2000, 70, 1000, threshold=0.10)
    assert (
        wait.verdict is Verdict.WAIT
        and "not enough matured leads to detect a 10% drop" in wait.reason
    )
    assert "n needed" in wait.reason or "too few" in wait.reason
    calm = conversion_drop_test(7000, 100_000, 2800, 40_000, threshold=0.10)
    assert calm.verdict is Verdict.PASS and calm.mde <= 0.10


def test_nested_pools_share_one_critical_value_between_one_test_and_bonferroni() -> None:
    assert nested_pool_critical([1000.0], None, 0.02) == pytest.approx(stats.z_of(0.02), abs=0.03)
    pools = [1000.0, 2000.0, 4000.0, 8000.0, 12000.0]
    critical = nested_pool_critical(pools, 50_000, 0.02)
    assert stats.z_of(0.02) < critical < stats.z_of(0.02 / len(pools)) - 0.1


def test_pooled_cohorts_catch_a_recent_drop_and_stay_quiet_on_a_stable_funnel() -> None:
    rng, runs, alpha = np.random.default_rng(9), 2000, 0.02
    leads_per_week = [3000] * 12
    fired = 0
    for _ in range(runs):
        stable = [int(c) for c in rng.binomial(3000, 0.07, 12)]
        base = float(rng.binomial(50_000, 0.07))
        decision, used = pooled_conversion_test(
            leads_per_week, stable, base, 50_000, threshold=0.0, alpha=alpha
        )
        fired += decision.verdict is Verdict.FAIL
        assert used >= 1
    assert fired / runs <= monte_carlo_bound(alpha, runs)
    stable = [int(c) for c in rng.binomial(3000, 0.07, 12)]
    dropped = stable[:10] + [int(3000 * 0.07 * 0.7)] * 2  # the last two weeks convert 30% less
    decision, used = pooled_conversion_test(leads_per_week, dropped, 0.07 * 50_000, 50_000)
    assert decision.verdict is Verdict.FAIL and used <= 2 and decision.estimate < -0.10
