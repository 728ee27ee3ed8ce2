"""Benchmark: the calibration monitor's false alarms and detection at 100-3,000 leads a week.

Leads are simulated lead by lead: a served probability from a log-odds model (normal
log-odds around -2.6, ~8% conversion) and an outcome drawn from the true probability.
"Calibrated" draws outcomes from the served probability itself; "10x" from the true
rate ten times the served one's odds (the real history: 0.04 served, ~40% converted);
"over 2x" from half the served rate. Each weekly monitor run tests the matured cohorts
of the last 26 weeks exactly as the monitor does (``calibration_cohorts`` sums,
``calibration_check``: nested pools, two-sided, the settings' alpha and threshold).

Per volume it prints false alarms per year (52 weekly runs, nothing changed) and the
median weeks from the shift to the first FAIL. Run:
``.venv/bin/python bench/bench_calibration.py [--years N] [--alpha A]`` (~1 min at 100 years).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from leadops.settings import get_settings
from tasks.monitoring.calibration import calibration_check

VOLUMES = (100, 300, 1000, 3000)
LOOKBACK = 26


def weekly_sums(rng: np.random.Generator, weeks: int, per_week: int, odds: float) -> pd.DataFrame:
    """One row per week: leads, observed conversions, sum of p, sum of p(1-p)."""
    margin = rng.normal(-2.6, 1.0, (weeks, per_week))
    served = 1 / (1 + np.exp(-margin))
    truth = 1 / (1 + np.exp(-(margin + np.log(odds))))
    observed = (rng.random((weeks, per_week)) < truth).sum(axis=1)
    return pd.DataFrame(
        {
            "cohort": [f"w{w:03d}" for w in range(weeks)],
            "leads": per_week,
            "maturing": 0,
            "observed": observed.astype(float),
            "expected": served.sum(axis=1),
            "variance": (served * (1 - served)).sum(axis=1),
        }
    )


def alarms_in_a_year(rng, per_week: int, miss: float, alpha: float) -> int:
    weeks = weekly_sums(rng, 52 + LOOKBACK, per_week, 1.0)
    return sum(
        calibration_check(weeks.iloc[t - LOOKBACK : t], miss, alpha).miscalibrated
        for t in range(LOOKBACK, 52 + LOOKBACK)
    )


def weeks_to_detect(rng, per_week: int, odds: float, miss: float, alpha: float) -> int | None:
    """Runs after a shift (26 calibrated weeks, then shifted ones) until the first FAIL."""
    before = weekly_sums(rng, LOOKBACK, per_week, 1.0)
    after = weekly_sums(rng, 26, per_week, odds)
    weeks = pd.concat([before, after], ignore_index=True)
    for t in range(1, 27):
        if calibration_check(weeks.iloc[t : LOOKBACK + t], miss, alpha).miscalibrated:
            return t
    return None


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=100)
    parser.add_argument("--shifts", type=int, default=50)
    parser.add_argument("--alpha", type=float, default=settings.calibration_alpha)
    parser.add_argument("--miss", type=float, default=settings.calibration_miss_threshold)
    parser.add_argument("--volumes", type=int, nargs="+", default=list(VOLUMES))
    args = parser.parse_args()
    rng, started, rows = np.random.default_rng(2026), time.perf_counter(), []
    for volume in args.volumes:
        alarms = [alarms_in_a_year(rng, volume, args.miss, args.alpha) for _ in range(args.years)]
        found = {
            name: [
                weeks_to_detect(rng, volume, odds, args.miss, args.alpha)
                for _ in range(args.shifts)
            ]
            for name, odds in (("10x", 10.0), ("over_2x", 0.5), ("plus_30pct", 1.3))
        }
        rows.append(
            {
                "leads_per_week": volume,
                "false_alarms_per_year": float(np.mean(alarms)),
                "years": args.years,
                **{
                    f"{name}_detected": float(np.mean([w is not None for w in weeks]))
                    for name, weeks in found.items()
                },
                **{
                    f"{name}_median_weeks": float(
                        np.median([w for w in weeks if w is not None] or [np.nan])
                    )
                    for name, weeks in found.items()
                },
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    print(
        json.dumps(
            {
                "alpha": args.alpha,
                "miss": args.miss,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
