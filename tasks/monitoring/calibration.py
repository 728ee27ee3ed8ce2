"""Calibration of the served probabilities, watched in both directions.

The conversion monitor asks "did conversion drop?"; this asks "do the probabilities the
champion serves match what its leads did?". A champion serving 0.04 to leads of which
half convert is as wrong as one serving 0.4 to leads that convert at 4%, and neither is
a drop. Per weekly cohort of the champion's scored leads (the prediction log joined with
outcomes, the conversion monitor's window) the observed conversions O are compared with
the expected E = sum of the served probabilities (with a delay curve, a maturing lead
counts its probability times the share of conversions the curve expects by its age, as
in the conversion monitor; without one, matured leads only).

Under "calibrated", O is a sum of independent Bernoulli draws (Poisson-binomial) with
mean E and variance V = sum q(1 - q); the test is its normal approximation,
z = (O - E) / sqrt(V), two-sided. The effect is the relative miss O / E - 1 (+100%:
twice the predicted conversions, under-predicting; -50%: half, over-predicting), with
the interval O / E - 1 +- c sqrt(V) / E. Nested pools of the latest 1, 2, 4, ... cohorts
share one critical value c (``leadops.decisions.monitor_decisions.nested_pool_critical``, each
tail at alpha / 2), so a calibrated model fires with probability <= alpha per run.
FAIL needs significance *and* a miss beyond the relative threshold, so a 3% miss that is
significant at 3,000 leads a week starts nothing. PASS needs the miss detectable at
``power`` to be within the threshold; otherwise WAIT names the leads needed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from leadops.decisions import stats
from leadops.decisions.monitor_decisions import nested_pool_critical, pool_sizes
from leadops.decisions.verdict import Decision, Verdict
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import AGE_DAYS, LABEL, MATURED, DelayCurve
from tasks.monitoring.conversion import COHORT, week_of

TEST = "calibration"
COLUMNS = [COHORT, "leads", "maturing", "observed", "expected", "variance"]


def calibration_cohorts(
    labelled: pd.DataFrame,
    contract: Contract,
    score: str = "score",
    curve: DelayCurve | None = None,
) -> pd.DataFrame:
    """Per week of event time: leads, observed conversions, expected ones and their variance.

    Args:
        labelled: ``label_matured`` or ``label_so_far`` leads with the served ``score``.
        curve: maturing leads count by it; None: only matured leads count.
    """
    if labelled.empty or score not in labelled:
        return pd.DataFrame(columns=COLUMNS)
    done = labelled[MATURED].to_numpy(bool) if MATURED in labelled else np.ones(len(labelled), bool)
    p = np.clip(labelled[score].to_numpy(dtype="float64"), 0.0, 1.0)
    if curve is not None and AGE_DAYS in labelled:
        share = np.where(done, 1.0, curve.seen_share(labelled[AGE_DAYS]))
    else:
        share = done.astype("float64")  # a maturing lead's 0 is not yet evidence
    q = p * share
    frame = pd.DataFrame(
        {
            COHORT: week_of(labelled[contract.event_time]).to_numpy(),
            "leads": done.astype(int),
            "maturing": ((~done) & (share > 0)).astype(int),
            "observed": labelled[LABEL].to_numpy(dtype="float64") * (share > 0),
            "expected": q,
            "variance": q * (1.0 - q),
        }
    )
    weekly = frame.groupby(COHORT, sort=True).sum().reset_index()
    return weekly[weekly["leads"] + weekly["maturing"] > 0][COLUMNS].reset_index(drop=True)


def calibration_test(
    observed: float,
    expected: float,
    variance: float,
    leads: int,
    threshold: float,
    critical: float,
    power: float = 0.8,
    described: str = "",
) -> Decision:
    """O against E (normal approximation to the Poisson-binomial), two-sided at ``critical``.

    Args:
        leads: the leads behind the counts (matured, plus maturing ones counted).
        threshold: relative miss |O / E - 1| a FAIL needs besides significance.
        critical: the z each tail is held to (the caller's share of alpha).
    """
    if expected <= 0 or variance <= 0:
        return Decision(TEST, Verdict.WAIT, "no scored leads with outcomes yet", 0)
    ratio, se = observed / expected, math.sqrt(variance) / expected
    z = (observed - expected) / math.sqrt(variance)
    miss, z_power, n = ratio - 1.0, stats.z_of(1 - power), int(leads)
    mde = (critical + z_power) * se
    direction = "under-predicting" if miss > 0 else "over-predicting"
    details = {
        "observed": observed,
        "expected": expected,
        "variance": variance,
        "z": z,
        "p_value": 2 * (1 - stats.normal_cdf(abs(z))),
        "direction": direction,
        "critical_z": critical,
    }
    alpha = 2 * (1 - stats.normal_cdf(critical))
    args = (miss, miss - critical * se, miss + critical * se, threshold, mde, alpha, details)
    text = (
        f"{observed:,.0f} conversions vs {expected:,.1f} predicted (observed/predicted "
        f"{ratio:.2f}, {miss:+.0%}, z={z:.2f}) on {described or f'{n:,} leads'}"
    )
    if abs(z) >= critical and abs(miss) > threshold:
        return Decision(TEST, Verdict.FAIL, f"miscalibrated, {direction}: {text}", n, {}, *args)
    if 0 < threshold < mde:
        # The detectable miss shrinks as 1 / sqrt(leads) at the same scores.
        needed = math.ceil(n * (mde / threshold) ** 2)
        details["leads_needed"] = needed
        return Decision(
            TEST,
            Verdict.WAIT,
            f"not enough leads to detect a {threshold:.0%} miss (n needed: {needed:,}); {text}",
            n,
            {},
            *args,
        )
    return Decision(
        TEST,
        Verdict.PASS,
        f"calibrated within {threshold:.0%} (a {mde:.0%} miss would be seen 80% of the time): "
        f"{text}",
        n,
        {},
        *args,
    )


def pooled_calibration_test(
    cohorts: pd.DataFrame, threshold: float, alpha: float, power: float = 0.8
) -> tuple[Decision, int]:
    """Test nested pools of the latest 1, 2, 4, ... cohorts (oldest first in ``cohorts``).

    As the conversion monitor pools: stop at the first pool that is not WAIT (more
    cohorts would dilute a recent miss). Both tails share ``alpha``: each pool's |z| is
    held to the value the largest of the pools' z exceeds with probability alpha / 2.

    Returns:
        (decision, number of most recent cohorts it used).
    """
    sizes = pool_sizes(len(cohorts))
    if not sizes or float(cohorts["variance"].iloc[-1]) <= 0:
        return calibration_test(0, 0, 0, 0, threshold, stats.z_of(alpha / 2), power), 0
    variances = [float(cohorts["variance"].iloc[-size:].sum()) for size in sizes]
    critical = nested_pool_critical(variances, None, alpha / 2)
    decision, used = None, 0
    for size in sizes:
        pool = cohorts.iloc[len(cohorts) - size :]
        matured, maturing = int(pool["leads"].sum()), int(pool["maturing"].sum())
        described = f"{matured:,} matured leads" + (
            f" + {maturing:,} maturing (counted by the delay curve)" if maturing else ""
        )
        decision = calibration_test(
            float(pool["observed"].sum()),
            float(pool["expected"].sum()),
            float(pool["variance"].sum()),
            matured + maturing,
            threshold,
            critical,
            power,
            described,
        )
        used = size
        if decision.verdict is not Verdict.WAIT:
            break
    assert decision is not None
    return decision, used


@dataclass(frozen=True)
class CalibrationCheck:
    """The calibration finding of one monitor run (``decision`` is its test)."""

    decision: Decision
    cohorts: list[str]
    miscalibrated: bool
    note: str
    ranking: dict | None = None  # tasks.monitoring.ranking.RankingCheck.as_dict()

    @property
    def ranking_holds(self) -> bool:
        """Whether a recalibration may answer: the ranking was checked and holds."""
        return bool(self.ranking and self.ranking.get("holds"))

    def as_dict(self) -> dict:
        out = asdict(self)
        out["decision"] = self.decision.as_dict()
        return out


def calibration_check(
    cohorts: pd.DataFrame, threshold: float, alpha: float, power: float = 0.8
) -> CalibrationCheck:
    """The pooled test on ``calibration_cohorts``, named by the weeks it used."""
    decision, used = pooled_calibration_test(cohorts, threshold, alpha, power)
    names = [str(c) for c in cohorts[COHORT].iloc[len(cohorts) - used :]] if used else []
    window = (
        f" (cohorts {names[0]} to {names[-1]}, weeks of event time)"
        if len(names) > 1
        else (f" (cohort {names[0]})" if names else "")
    )
    return CalibrationCheck(
        decision, names, decision.verdict is Verdict.FAIL, f"{decision.reason}{window}"
    )
