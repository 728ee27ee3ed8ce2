"""Benchmark: the monitor's computation on 100k and 1M scored leads, against plain numpy PSI.

For each size, on the same rows, in the same process:
- ``numpy PSI``: the baseline, a bare loop of np.histogram / np.unique per column with
  bins fixed from the reference (no pandas categoricals, no multi-valued column);
- ``fixed-bin PSI``: tasks.monitoring.psi on every monitored column (as the trigger runs it);
- ``monitor computation``: tasks.monitoring.assess.assess, i.e. PSI on all rows + conversion
  on matured cohorts + the Evidently report on 50k-row seeded samples + the HTML.

Leads come from the synthetic generator (a 100k-lead pool, resampled with replacement
to 1M). Run: ``.venv/bin/python bench/bench_monitor.py [--sizes 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from leadops import synthetic  # noqa: E402
from leadops.contract import load_contract  # noqa: E402
from leadops.settings import BUNDLED_CONTRACT  # noqa: E402
from tasks.monitoring.assess import Thresholds, assess  # noqa: E402
from tasks.monitoring.conversion import label_matured  # noqa: E402
from tasks.monitoring.psi import fit_baseline, monitored_columns  # noqa: E402
from tests.unit.gold_data import gold_frame  # noqa: E402

CONTRACT = load_contract(BUNDLED_CONTRACT)


def pool(weeks: int = 50, per_week: int = 2000) -> pd.DataFrame:
    config = synthetic.GeneratorConfig(weeks=weeks, leads_per_week=per_week, seed=3, scenario="covariate-drift", drift_week=40)
    frame = gold_frame(*synthetic.generate(config), CONTRACT)
    frame["score"] = 1 / (1 + np.exp(-(frame["page_views"] / 10 + frame["form_fills"] - 3)))
    return frame


def numpy_psi(reference: pd.DataFrame, current: pd.DataFrame, columns: dict[str, str]) -> dict[str, float]:
    """The plain-numpy baseline: fixed reference bins, histogram / unique counts, floored shares."""
    out = {}
    for name, role in columns.items():
        if role == "numeric":
            ref = reference[name].to_numpy(dtype="float64")
            edges = np.unique(np.quantile(ref, np.linspace(0, 1, 11)[1:-1]))
            edges = np.concatenate([[-np.inf], edges, [np.inf]])
            r = np.histogram(ref, edges)[0] / len(ref)
            c = np.histogram(current[name].to_numpy(dtype="float64"), edges)[0] / len(current)
        elif role in ("categorical", "boolean"):
            levels, counts = np.unique(reference[name].to_numpy().astype(str), return_counts=True)
            cur_levels, cur_counts = np.unique(current[name].to_numpy().astype(str), return_counts=True)
            lookup = dict(zip(cur_levels, cur_counts))
            r = counts / len(reference)
            c = np.array([lookup.get(level, 0) for level in levels]) / len(current)
        else:
            continue  # plain numpy has no list columns
        r, c = np.maximum(r, 1e-4), np.maximum(c, 1e-4)
        out[name] = float(np.sum((c - r) * np.log(c / r)))
    return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    t0 = time.perf_counter()
    leads = pool()
    print(f"synthetic pool: {len(leads):,} leads in {time.perf_counter() - t0:.1f} s")
    cut = leads[CONTRACT.event_time].quantile(0.3)
    as_of = datetime(2027, 1, 1, tzinfo=UTC)
    reference = label_matured(leads[leads[CONTRACT.event_time] <= cut], CONTRACT, as_of)
    columns = monitored_columns(CONTRACT)
    thresholds = Thresholds(psi=0.25, conversion_drop=0.10, capacity=0.10)
    # Warm the imports (Evidently alone takes ~6-20 s to import) so they do not count.
    assess(reference.head(2_000), leads.head(2_000), leads.head(2_000), CONTRACT, as_of, thresholds)
    print(f"reference: {len(reference):,} rows; Evidently samples {thresholds.sample_rows:,} rows per side\n")
    print(f"{'scored leads':>12} | {'numpy PSI':>10} | {'fixed-bin PSI':>13} | {'monitor (all)':>13} | ratio monitor/numpy")
    rng = np.random.default_rng(0)
    for size in args.sizes:
        current = leads.iloc[rng.integers(0, len(leads), size)].reset_index(drop=True)
        matured = current.iloc[: min(size, 200_000)]
        t_numpy, _ = timed(numpy_psi, reference, current, columns)
        t_psi, _ = timed(lambda: fit_baseline(reference, columns).psi(current))
        t_all, result = timed(assess, reference, current, matured, CONTRACT, as_of, thresholds)
        print(f"{size:>12,} | {t_numpy:>9.2f}s | {t_psi:>12.2f}s | {t_all:>12.2f}s | {t_all / t_numpy:>6.1f}x "
              f"(max PSI {max(result.psi.values()):.3f}, retrain={result.decision.retrain})")


if __name__ == "__main__":
    main()
