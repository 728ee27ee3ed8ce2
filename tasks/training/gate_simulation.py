"""How often the gate lets a challenger through, measured by simulation (README figures).

Leads have a latent signal x; the truth is P(convert) = sigmoid(a + b x). A model sees
x + shared + own noise (the shared part, sd ``SHARED_NOISE``, is what both models miss
alike: retrained models on the same features agree closely, their scores correlate
~0.93 here) and serves the probability calibrated for what it sees (the
probit approximation of E[sigmoid(a + b x) | x + noise]); a *stale* model serves the
same ranking with its log-odds shifted by ``stale_shift`` (e.g. -2.0: ~7x too low, as a
champion serving ~0.04 while far more converted). Each run draws fresh test leads,
scores them with both models and applies ``tasks.training.gate.decide`` exactly as
the train flow does (the same paired bootstrap, calibration test and rules); the old
rule (relative +2% AUC and a bootstrap CI above 0) and Dynamics 365's (the retrained
model's accuracy, here AUC, >= 95% of the active one's) are counted on the same runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from leadops.decisions import stats
from leadops.decisions.metrics import score_metrics
from leadops.settings import Settings
from tasks.training.gate import GateRules, decide
from tasks.training.promotion import paired_intervals

B = 1.6  # signal strength: AUC ~0.80 for a model with noise 0.47, as the demo's models
SHARED_NOISE = 0.4


@dataclass(frozen=True)
class Scenario:
    name: str
    champion_noise: float  # each model's own noise, on top of the shared one
    challenger_noise: float
    champion_shift: float = 0.0  # log-odds added to the champion's scores (stale: < 0)
    drift_persists: bool = False  # the monitor's drift outlived the rejected retrains


@dataclass(frozen=True)
class PassRates:
    scenario: str
    leads: int
    runs: int
    gate: float  # share of runs the gate makes the new model a challenger
    old_rule: float
    dynamics_rule: float
    champion_flagged_stale: float


def served(signal: np.ndarray, noise: float, intercept: float, shift: float) -> np.ndarray:
    """A model's probabilities: calibrated for what it sees, then shifted by ``shift``."""
    shrink = 1 / (1 + noise**2)  # E[x | x + e] = shrink (x + e) for x, e normal
    spread = noise**2 * shrink  # Var[x | x + e]
    logit = (intercept + B * shrink * signal) / math.sqrt(1 + math.pi * B**2 * spread / 8)
    return 1 / (1 + np.exp(-(logit + shift)))


def one_run(
    scenario: Scenario, leads: int, intercept: float, rules: GateRules, settings: Settings, rng
) -> tuple[bool, bool, bool, bool]:
    """(gate passes, old rule passes, Dynamics' rule passes, champion flagged stale)."""
    x = rng.normal(size=leads)
    labels = (rng.random(leads) < 1 / (1 + np.exp(-(intercept + B * x)))).astype(int)
    seen = x + rng.normal(0, SHARED_NOISE, leads)
    new, old = (
        served(seen + rng.normal(0, own, leads), math.hypot(SHARED_NOISE, own), intercept, shift)
        for own, shift in (
            (scenario.challenger_noise, 0.0),
            (scenario.champion_noise, scenario.champion_shift),
        )
    )
    new_m, old_m = (score_metrics(labels, s, settings.capacity_fraction) for s in (new, old))
    intervals = paired_intervals(labels, new, old, settings)
    calibration = stats.calibration_in_the_large(labels, old)
    result = decide(
        new_m,
        old_m,
        intervals,
        rules,
        None,
        None,
        calibration,
        stats.calibration_in_the_large(labels, new),
        "drift persists (simulated)" if scenario.drift_persists else None,
    )
    gain = (new_m["roc_auc"] - old_m["roc_auc"]) / old_m["roc_auc"]
    old_rule = gain >= rules.min_relative_gain and intervals.auc["low"] > 0
    dynamics = new_m["roc_auc"] >= 0.95 * old_m["roc_auc"]
    stale = calibration.p_value < rules.stale_alpha
    return result.decision == "challenger", old_rule, dynamics, stale


def pass_rates(
    scenario: Scenario, leads: int, runs: int, base_logit: float = -2.3, seed: int = 0
) -> PassRates:
    """Share of ``runs`` in which each rule passes (base_logit -2.3: ~15% convert)."""
    settings, rng = Settings(), np.random.default_rng(seed)
    rules = GateRules.from_settings(settings)
    outcomes = np.array(
        [one_run(scenario, leads, base_logit, rules, settings, rng) for _ in range(runs)]
    )
    gate, old, dynamics, stale = outcomes.mean(axis=0)
    return PassRates(scenario.name, leads, runs, gate, old, dynamics, stale)


SCENARIOS = (
    Scenario("equal challenger, calibrated champion", 0.25, 0.25),
    Scenario("equal ranking, calibrated challenger, stale champion", 0.25, 0.25, -2.0),
    Scenario("worse challenger (AUC ~-0.04), calibrated champion", 0.25, 0.65),
    Scenario("worse challenger (AUC ~-0.04), stale champion", 0.25, 0.65, -2.0),
    Scenario("equal challenger, champion stale by persisting drift", 0.25, 0.25, 0.0, True),
    Scenario("worse challenger (AUC ~-0.04), stale by persisting drift", 0.25, 0.65, 0.0, True),
)


if __name__ == "__main__":  # python -m tasks.training.gate_simulation: the README table
    import sys

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    volumes = [int(v) for v in sys.argv[2:]] or [300, 1000, 3000]
    print("| scenario | test leads | gate | old rule | Dynamics 365 (>= 95% AUC) | stale flagged |")
    print("|---|---:|---:|---:|---:|---:|")
    for leads in volumes:
        for scenario in SCENARIOS:
            r = pass_rates(scenario, leads, runs)
            print(
                f"| {r.scenario} | {leads:,} | {r.gate:.1%} | {r.old_rule:.1%} | "
                f"{r.dynamics_rule:.1%} | {r.champion_flagged_stale:.1%} |"
            )
