"""The monitor's tests: feature drift (PSI) and a drop of the matured conversion rate.

Drift: a feature fires only when its PSI is above the effect threshold (0.25, the
documented rule) *and* above the value "no change" exceeds with probability
alpha_family / n_features (chi-square approximation), so an unchanged distribution
fires with probability <= alpha_family per monitor run over all features together.
Batches below ``min_rows`` are not tested: the caller pools recent batches first.

Conversion: a one-sided two-proportion z-test of the recent conversion rate against
the champion's baseline. A significant drop beyond the threshold fires at any n; "no
drop" is only claimed when the test could have seen one (minimum detectable relative
drop at ``power`` <= threshold), otherwise WAIT says how many leads are needed. The
"leads" may be matured-lead equivalents: conversions seen so far among leads whose
window is still open, against the share of conversions the delay curve expects by
their age (tasks.monitoring.conversion). Nested pools of the latest 1, 2, 4, ...
cohorts share a critical value that holds the whole family to ``alpha`` per run.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.stats import ncx2

from leadops.decisions import stats
from leadops.decisions.verdict import Decision, Verdict


@lru_cache(maxsize=4096)
def _critical(n_reference: float, n_current: float, bins: int, alpha: float) -> float:
    return stats.psi_critical_value(n_reference, n_current, bins, alpha)


@lru_cache(maxsize=4096)
def _detectable_psi(scale: float, bins: int, fires_above: float, power: float) -> float:
    """True PSI that exceeds ``fires_above`` with probability ``power`` (noncentral chi-square)."""
    df, cut = max(bins - 1, 1), fires_above / scale
    lam = brentq(
        lambda lam: ncx2.sf(cut, df, lam) - power, 1e-9, cut + 100 * math.sqrt(cut + df) + 100
    )
    return lam * scale


def batches_to_pool(batch_rows: list[int], min_rows: int) -> int:
    """How many of the most recent batches (``batch_rows`` oldest first) reach ``min_rows``.

    Returns len(batch_rows) when even all of them do not (the caller then WAITs).
    """
    total = 0
    for taken, rows in enumerate(reversed(batch_rows), start=1):
        total += rows
        if total >= min_rows:
            return taken
    return len(batch_rows)


def psi_drift_test(
    psi: float,
    n_reference: int,
    n_current: int,
    bins: int,
    n_features: int,
    alpha_family: float = 0.01,
    effect: float = 0.25,
    min_rows: int = 100,
    feature: str = "",
    power: float = 0.8,
) -> Decision:
    """Did this feature drift? FAIL = drifted, PASS = no drift it could see, WAIT = too few rows.

    Args:
        psi: the feature's PSI (bins fixed from the reference, add-half smoothed).
        bins: the bins that hold rows in the reference or the current batch.
        n_features: features tested in this run (Bonferroni: alpha_family / n_features each).
    """
    arms = {"reference": int(n_reference), "current": int(n_current)}
    if n_current < min_rows:
        return Decision(
            "psi_drift",
            Verdict.WAIT,
            f"{feature}: {n_current} rows < {min_rows} minimum batch; pool more batches",
            int(n_current),
            arms,
            psi,
            threshold=effect,
            details={"feature": feature},
        )
    alpha = alpha_family / max(n_features, 1)
    critical = _critical(float(n_reference), float(n_current), int(bins), alpha)
    fires_above = max(effect, critical)
    scale = 1 / n_current + 1 / n_reference
    mde = _detectable_psi(round(scale, 8), int(bins), round(fires_above, 6), power)
    details = {"feature": feature, "critical_value": critical, "effect": effect, "bins": bins}
    args = (int(n_current), arms, psi, None, None, fires_above, mde, alpha, details)
    if psi > effect and psi > critical:
        return Decision(
            "psi_drift",
            Verdict.FAIL,
            f"{feature}: PSI {psi:.3f} > {effect:g} and > "
            f"{critical:.3f} (no-change limit at {n_current} rows)",
            *args,
        )
    return Decision(
        "psi_drift",
        Verdict.PASS,
        f"{feature}: PSI {psi:.3f} within max({effect:g}, "
        f"{critical:.3f}); PSI >= {mde:.2f} would be seen 80% of the time",
        *args,
    )


def conversion_drop_test(
    baseline_conversions: float,
    baseline_n: float | None,
    current_conversions: float,
    current_n: float,
    threshold: float = 0.10,
    alpha: float = 0.005,
    power: float = 0.8,
    described: str | None = None,
) -> Decision:
    """Has the matured conversion rate dropped more than ``threshold`` relative to the baseline?

    Args:
        baseline_n: leads behind the baseline rate; None: ``baseline_conversions`` is the
            rate itself, taken as exact.
        current_n: matured leads, or matured-lead equivalents when maturing leads count.
        alpha: one-sided error of "dropped" for this test.
        described: what ``current_n`` is, for the reason (default "N matured leads").
    """
    base = baseline_conversions / baseline_n if baseline_n else baseline_conversions
    rate = current_conversions / current_n if current_n else math.nan
    arms = {"baseline": int(baseline_n or 0), "current": int(current_n)}
    mde = stats.detectable_drop(base, baseline_n, current_n, alpha, power)
    if not current_n or not 0 < base < 1:
        return Decision(
            "conversion_drop",
            Verdict.WAIT,
            "no matured leads or no baseline rate",
            int(current_n),
            arms,
            alpha=alpha,
            threshold=threshold,
        )
    inv_base = 1 / baseline_n if baseline_n else 0.0
    pooled = (base * (baseline_n or 0) + current_conversions) / ((baseline_n or 0) + current_n)
    pooled = pooled if baseline_n else base
    z = (base - rate) / math.sqrt(pooled * (1 - pooled) * (inv_base + 1 / current_n))
    se = math.sqrt(base * (1 - base) * inv_base + rate * (1 - rate) / current_n) / base
    change, zc = rate / base - 1, stats.z_of(alpha)
    details = {
        "baseline_rate": base,
        "current_rate": rate,
        "z": z,
        "p_value": 1 - stats.normal_cdf(z),
    }
    args = (
        int(current_n),
        arms,
        change,
        change - zc * se,
        change + zc * se,
        -threshold,
        mde,
        alpha,
        details,
    )
    text = (
        f"{rate:.2%} vs baseline {base:.2%} ({change:+.1%}, z={z:.2f}) "
        f"on {described or f'{int(current_n):,} matured leads'}"
    )
    if z >= zc and change < -threshold:
        return Decision("conversion_drop", Verdict.FAIL, f"conversion dropped: {text}", *args)
    if mde > threshold:
        needed = stats.leads_needed(base, baseline_n, threshold, alpha, power)
        details["leads_needed"] = needed
        what = (
            f"n needed: {needed:,.0f}"
            if math.isfinite(needed)
            else f"the baseline's {int(baseline_n or 0):,} leads are too few at any n"
        )
        return Decision(
            "conversion_drop",
            Verdict.WAIT,
            f"not enough matured leads to detect a {threshold:.0%} drop ({what}); {text}",
            *args,
        )
    return Decision(
        "conversion_drop",
        Verdict.PASS,
        f"no drop beyond {threshold:.0%} (a {mde:.1%} drop would be seen 80% of the time): {text}",
        *args,
    )


def pool_sizes(available: int) -> list[int]:
    """The nested pools tested: the latest 1, 2, 4, ... cohorts, and all of them."""
    sizes = [1 << i for i in range(available.bit_length()) if 1 << i < available]
    return sizes + [available] if available else []


# Draws behind a nested-pool critical value: its Monte Carlo error is ~0.015 in z at
# alpha 0.02 (a fixed seed makes it the same number on every run).
NESTED_DRAWS = 100_000


def nested_pool_critical(pool_leads: list[float], baseline_n: float | None, alpha: float) -> float:
    """The z that the largest of the nested pools' z-statistics exceeds with probability alpha.

    Pools are nested (each holds the previous one's leads and more), so their z-statistics
    under no change are those of one random walk seen at growing sizes, plus the
    baseline's own noise shared by all of them; the maximum is simulated. It is below
    the Bonferroni value z(alpha / pools) because the pools overlap.

    Args:
        pool_leads: leads (or matured-lead equivalents) of each pool, smallest first.
    """
    # The value depends on the pools' ratios to one another and to the baseline only:
    # rounding those (to 2%) lets runs with similar cohorts share one simulation.
    first = pool_leads[0]
    ratios = tuple(round(math.log(n / first) / 0.02) for n in pool_leads)
    weight = round(pool_leads[-1] / baseline_n, 3) if baseline_n else 0.0
    return _nested_critical(ratios, weight, round(alpha, 6))


@lru_cache(maxsize=4096)
def _nested_critical(ratios: tuple[int, ...], weight: float, alpha: float) -> float:
    leads = np.exp(np.array(ratios) * 0.02)
    rng = np.random.default_rng(20_26_11_27)
    steps = np.diff(leads, prepend=0.0)
    walk = np.cumsum(rng.standard_normal((NESTED_DRAWS, len(leads))) * np.sqrt(steps), axis=1)
    # Baseline noise: its error times each pool's size, the same draw for every pool.
    inverse_base = weight / leads[-1]
    shared = rng.standard_normal((NESTED_DRAWS, 1)) * math.sqrt(inverse_base) * leads
    z = (walk + shared) / np.sqrt(leads + inverse_base * leads**2)
    return float(np.quantile(z.max(axis=1), 1 - alpha))


def pooled_conversion_test(
    cohort_leads: list[float],
    cohort_conversions: list[int],
    baseline_conversions: float,
    baseline_n: float | None,
    threshold: float = 0.10,
    alpha: float = 0.005,
    power: float = 0.8,
    described: list[str] | None = None,
) -> tuple[Decision, int]:
    """Test nested pools of the most recent cohorts (lists oldest first).

    Pools grow 1, 2, 4, ... cohorts and stop at the first whose detectable drop is <=
    ``threshold`` (more would dilute a recent drop). A significant drop in any pool
    fires. Every pool is tested against one critical value (``nested_pool_critical``)
    that the largest of all the pools' statistics exceeds with probability ``alpha``
    under no change, so a stable funnel fires with probability <= alpha per run.
    Otherwise the largest pool's PASS or WAIT stands.

    Args:
        cohort_leads: matured leads per cohort, or matured-lead equivalents.
        described: per pool size tried (``pool_sizes`` order), what its leads are.

    Returns:
        (decision, number of most recent cohorts it used).
    """
    sizes = pool_sizes(len(cohort_leads))
    pooled = [sum(cohort_leads[-size:]) for size in sizes]
    if not sizes or pooled[0] <= 0:
        return conversion_drop_test(
            baseline_conversions, baseline_n, 0, 0, threshold, alpha, power
        ), 0
    critical = nested_pool_critical(pooled, baseline_n, alpha)
    each = 1 - stats.normal_cdf(critical)
    decision, used = None, 0
    for i, (size, leads) in enumerate(zip(sizes, pooled, strict=True)):
        conversions = sum(cohort_conversions[-size:])
        decision = conversion_drop_test(
            baseline_conversions,
            baseline_n,
            conversions,
            leads,
            threshold,
            each,
            power,
            described[i] if described else None,
        )
        used = size
        if decision.verdict is not Verdict.WAIT:
            break
    assert decision is not None
    return decision, used
