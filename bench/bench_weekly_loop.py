"""Benchmark: the demo's weekly loop at a B2B team's volume, with drift and with no change.

Runs the real flows week by week (ingest leads and outcomes → rollout step → score →
monitor, retraining when the monitor's tests say so), as ``leadops demo`` does, on a
scratch home per scenario:

- ``covariate-drift``: drift from week 9; what should happen is one retrain that has
  seen the drift, a shadow and canary rollout, and a better champion in production;
- ``stable``: no change at all; what should happen is nothing (no retrain, no rollout).

Prints each week's line (leads in, max PSI, matured conversion, serving models, events)
and a verdict per scenario. The baseline is the loop's own work at the demo's volume:
the seconds per week are printed beside it, not compared.
Run: ``.venv/bin/python bench/bench_weekly_loop.py [--leads-per-week 300] [--weeks 26]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run(scenario: str, leads_per_week: int, weeks: int, trials: int) -> dict:
    from app.demo.demo import DemoPlan, prepare_home, run_demo
    from leadops.settings import Settings

    home = Path(tempfile.mkdtemp(prefix=f"weekly-{scenario}-"))
    settings = Settings(home=home)
    plan = replace(
        DemoPlan(), weeks=weeks, leads_per_week=leads_per_week, trials=trials, scenario=scenario
    )
    prepare_home(settings, fresh=False, plan=plan)
    started = time.perf_counter()
    print(f"== {scenario}, {leads_per_week} leads a week, home {home}", flush=True)
    records = run_demo(plan, settings, echo=lambda line: print(line, flush=True))
    events = [e for r in records for e in r.events]
    retrains = [e for e in events if e.startswith("retrain")]
    promoted = [r.week for r in records for e in r.events if "→ production" in e]
    final = records[-1]
    return {
        "scenario": scenario,
        "retrains": len(retrains),
        "challengers": sum("challenger" in e for e in retrains),
        "promoted_week": promoted[0] if promoted else None,
        "final_champion": final.champion,
        "first_champion": records[0].champion,
        "minutes": (time.perf_counter() - started) / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads-per-week", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--scenarios", nargs="+", default=["covariate-drift", "stable"])
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The flows' Prefect server belongs to a home of its own (one per LEADOPS_HOME).
    os.environ.setdefault("LEADOPS_HOME", tempfile.mkdtemp(prefix="weekly-prefect-"))
    from app.cli.runtime import prepare_runtime

    prepare_runtime()
    from app.servers.home_server import stop_server
    from leadops.settings import get_settings

    try:
        results = [run(s, args.leads_per_week, args.weeks, args.trials) for s in args.scenarios]
    finally:
        stop_server(get_settings())  # the Prefect server the flows started for this home
    print()
    print("| scenario | retrains | challengers | promoted in week | champion first → last | min |")
    print("|---|---:|---:|---:|---|---:|")
    for r in results:
        print(
            f"| {r['scenario']} | {r['retrains']} | {r['challengers']} | "
            f"{r['promoted_week'] or '-'} | v{r['first_champion']} → v{r['final_champion']} | "
            f"{r['minutes']:.1f} |"
        )


if __name__ == "__main__":
    main()
