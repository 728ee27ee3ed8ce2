"""Benchmark: the monitor's computation on 100k and 1M scored leads, against plain numpy PSI.

For each size, on the same rows, in the same process:
- ``numpy PSI``: the baseline, a bare loop of np.histogram / np.unique per column with
  bins fixed from the reference (no pandas categoricals, no multi-valued column);
- ``fixed-bin PSI``: leadops.decisions.psi on every monitored column (as the trigger runs it);
- ``monitor computation``: tasks.monitoring.assess.assess, i.e. PSI on all rows + conversion
  on matured cohorts + the Evidently report on 50k-row seeded samples + the HTML.

Leads come from the synthetic generator (a 100k-lead pool, resampled with replacement
to 1M). Then ``--flow-rows`` (default 1M) times the whole ``monitor`` flow, as a user runs
it, on a scratch lake holding that many scored leads (Delta silver + prediction log, a
registered champion): once cold (Prefect's ephemeral API start, imports, the reference built
and cached) and once warm.
Run: ``.venv/bin/python bench/bench_monitor.py [--sizes ...] [--flow-rows N]``.
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

from app.demo import synthetic  # noqa: E402
from bench._support import gold_frame  # noqa: E402
from leadops.decisions.psi import fit_baseline, monitored_columns  # noqa: E402
from leadops.inputs.contract import load_contract  # noqa: E402
from leadops.inputs.maturity import label_matured  # noqa: E402
from leadops.settings import BUNDLED_CONTRACT  # noqa: E402
from tasks.monitoring.assess import Thresholds, assess  # noqa: E402

CONTRACT = load_contract(BUNDLED_CONTRACT)


def pool(weeks: int = 50, per_week: int = 2000) -> pd.DataFrame:
    config = synthetic.GeneratorConfig(
        weeks=weeks, leads_per_week=per_week, seed=3, scenario="covariate-drift", drift_week=40
    )
    frame = gold_frame(*synthetic.generate(config))
    frame["score"] = 1 / (1 + np.exp(-(frame["page_views"] / 10 + frame["form_fills"] - 3)))
    return frame


def numpy_psi(
    reference: pd.DataFrame, current: pd.DataFrame, columns: dict[str, str]
) -> dict[str, float]:
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
            cur_levels, cur_counts = np.unique(
                current[name].to_numpy().astype(str), return_counts=True
            )
            lookup = dict(zip(cur_levels, cur_counts, strict=True))
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


def flow_lake(leads: pd.DataFrame, rows: int, home: Path) -> datetime:
    """A scratch LEADOPS_HOME: its lake holds ``rows`` scored leads, a champion; returns as-of."""
    import os

    import pyarrow as pa

    os.environ["LEADOPS_HOME"] = str(home)
    from app.cli.runtime import prepare_runtime
    from bench._support import register_champion
    from leadops.logs import prediction_log as plog
    from leadops.settings import get_settings
    from leadops.storage.local import open_lake
    from leadops.storage.tables import GOLD_LEADS, silver

    get_settings.cache_clear()
    prepare_runtime()  # PREFECT_HOME under the scratch home, a start-up timeout fit for 2 cores
    settings = get_settings()
    lake = open_lake(settings)
    typed = leads[CONTRACT.lead_columns].copy()  # the pool is gold: typed already
    trained_on = leads[leads[CONTRACT.event_time] <= leads[CONTRACT.event_time].quantile(0.3)]
    lake.overwrite_table(GOLD_LEADS, trained_on)
    trained_at = (trained_on[CONTRACT.event_time].max() + pd.Timedelta(days=8)).to_pydatetime()
    version = register_champion(settings, trained_on, trained_at, lake.table_version(GOLD_LEADS))
    batch = typed.iloc[np.random.default_rng(1).integers(0, len(typed), rows)].reset_index(
        drop=True
    )
    batch[CONTRACT.entity_id] = [f"B{i:08d}" for i in range(rows)]
    lake.overwrite_table(silver("leads"), batch)
    lake.overwrite_table(
        silver("outcomes"), leads.dropna(subset=[CONTRACT.label])[CONTRACT.outcome_columns]
    )
    as_of = datetime(2027, 1, 4, tzinfo=UTC)
    context = plog.LogContext("bench-batch", as_of, settings.model_name)
    scores = np.random.default_rng(2).random(rows)
    plog.append_log(
        lake,
        plog.log_rows(
            context,
            pa.array(batch[CONTRACT.entity_id]),
            pa.array(batch[CONTRACT.event_time]),
            version,
            "champion",
            "production",
            np.full(rows, "champion"),
            np.ones(rows, bool),
            scores,
        ),
    )
    return as_of


def time_flow(leads: pd.DataFrame, rows: int) -> None:
    import os
    import tempfile

    # The resampled pool drifts a little (max PSI ~0.29), so the monitor would start a
    # retrain; that is the train flow's cost (bench_train.py), not the monitor's: the
    # thresholds are raised so this times monitoring alone.
    os.environ["LEADOPS_PSI_THRESHOLD"] = "10"
    os.environ["LEADOPS_CONVERSION_DROP_THRESHOLD"] = "0.99"
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        as_of = flow_lake(leads, rows, Path(folder))
        print(
            f"\nscratch lake with {rows:,} scored leads built in {time.perf_counter() - t0:.1f} s"
        )
        from flows.monitor import monitor

        for label in ("cold (API start, imports, reference built)", "warm (reference cached)"):
            t_run, result = timed(monitor, as_of=as_of)
            print(
                f"monitor flow, {label}: {t_run:.1f} s (max PSI {result.details['max_psi']:.3f}, "
                f"{result.rows['current']:,} leads, retrain={result.retrain_triggered})"
            )
            as_of = as_of + pd.Timedelta(days=1).to_pytimedelta()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--flow-rows", type=int, default=1_000_000, help="0 skips the flow timing")
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
    print(
        f"reference: {len(reference):,} rows; "
        f"Evidently samples {thresholds.sample_rows:,} rows per side\n"
    )
    print(
        f"{'scored leads':>12} | {'numpy PSI':>10} | {'fixed-bin PSI':>13} | "
        f"{'monitor (all)':>13} | ratio monitor/numpy"
    )
    rng = np.random.default_rng(0)
    for size in args.sizes:
        current = leads.iloc[rng.integers(0, len(leads), size)].reset_index(drop=True)
        matured = current.iloc[: min(size, 200_000)]
        t_numpy, _ = timed(numpy_psi, reference, current, columns)
        t_psi, _ = timed(lambda current=current: fit_baseline(reference, columns).psi(current))
        t_all, result = timed(assess, reference, current, matured, CONTRACT, as_of, thresholds)
        print(
            f"{size:>12,} | {t_numpy:>9.2f}s | {t_psi:>12.2f}s | {t_all:>12.2f}s | "
            f"{t_all / t_numpy:>6.1f}x "
            f"(max PSI {max(result.psi.values()):.3f}, retrain={result.decision.retrain})"
        )
    if args.flow_rows:
        time_flow(leads, args.flow_rows)


if __name__ == "__main__":
    main()
