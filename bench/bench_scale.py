"""Scale-out benchmark: batch scoring and an Optuna search on 1 vs 2 Dask workers.

For each worker count a LocalCluster of that many worker processes is started
(threads per worker = cores / workers, so both runs use the whole machine) and
the same work runs on it:
- scoring ``--rows`` silver leads end to end (read, score, reasons, write the
  partitioned output and the prediction log), partitions of ``--chunk-rows``;
- a ``--trials`` Optuna search on ``--search-rows`` encoded leads, trials shared
  by the workers through one journal-file study.
Printed per run: wall time, rows/s or trials/min, and the peak RSS of each
worker process and of the driver.

Usage: python bench/bench_scale.py [--rows 5000000] [--trials 40] [--workers 1,2]
       [--search-rows 20000] [--chunk-rows 250000] [--reasons approx]
Exact TreeSHAP costs ~1.6 ms a lead on 2 threads (2+ hours for 5M), so reasons
default to ``approx`` here; pass --reasons exact with fewer --rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_score import AS_OF, CONTRACT, load_serving, train_model, typed_leads, write_silver  # noqa: E402

from leadops.runners import dask_client  # noqa: E402
from leadops.storage.local import LocalLake  # noqa: E402

BASE_ROWS = 100_000  # generated once, then copied under new ids up to --rows


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a spawned
    # worker would report its parent's peak; VmHWM belongs to the process's own memory map.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peaks(client) -> list[float]:
    return sorted(round(v, 1) for v in client.run(_peak_rss_mb).values())


def bench_scoring(
    base_lake: Path, model_dir: Path, workers: int, chunk_rows: int, reasons: str, scratch: Path
) -> dict:
    from tasks.scoring.batch import RunOptions, run_score

    lake_dir = scratch / f"lake-{workers}"
    shutil.copytree(base_lake, lake_dir)
    serving = load_serving(model_dir)
    with dask_client(None, workers) as client:
        start = time.perf_counter()
        result = run_score(
            LocalLake(lake_dir),
            CONTRACT,
            serving,
            RunOptions(scored_at=AS_OF, reasons_mode=reasons),
            chunk_rows,
            client=client,
        )
        wall = time.perf_counter() - start
        peaks = worker_peaks(client)
    shutil.rmtree(lake_dir, ignore_errors=True)
    return {
        "what": "score",
        "workers": workers,
        "rows": result.rows,
        "wall_s": round(wall, 1),
        "rows_per_s": round(result.rows / wall),
        "worker_peak_rss_mb": peaks,
    }


def search_data(rows: int):
    from tasks.features.encoder import FeatureEncoder
    from tasks.training.dataset import time_series_folds

    table, won = typed_leads(rows, seed=3)
    frame = table.to_pandas().sort_values(CONTRACT.event_time, kind="stable")
    encoder = FeatureEncoder.fit(frame, CONTRACT, cap=20)
    labels = frame[CONTRACT.entity_id].isin(won).to_numpy().astype(int)
    return encoder.transform(frame), labels, time_series_folds(labels, 3)


def bench_search(data, workers: int, trials: int, scratch: Path) -> dict:
    from tasks.training.search import SearchConfig, run_search

    config = SearchConfig(
        study_name=f"scale-{workers}",
        storage_uri=f"journal:{scratch / f'journal-{workers}.log'}",
        seed=42,
        trials=trials,
        workers=workers,
        runner="dask",
        max_rounds=200,
    )
    # The cluster is started here (not inside run_search) so its workers' memory can be read after.
    with dask_client(None, workers) as client:
        start = time.perf_counter()
        result = run_search(*data, _on(config, client))
        wall = time.perf_counter() - start
        peaks = worker_peaks(client)
    return {
        "what": "search",
        "workers": workers,
        "trials": len(result.trials),
        "counts": result.counts,
        "best_auc": round(result.best_value, 4),
        "wall_s": round(wall, 1),
        "trials_per_min": round(60 * len(result.trials) / wall, 1),
        "worker_peak_rss_mb": peaks,
    }


def _on(config, client):
    from dataclasses import replace

    return replace(config, dask_address=client.scheduler.address)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--search-rows", type=int, default=20_000)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--reasons", default="approx", choices=("exact", "approx", "tiered"))
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-score", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        scratch = Path(tmp)
        results = []
        if not args.skip_score:
            model_dir = scratch / "model"
            model_dir.mkdir()
            train_model(model_dir)
            base = scratch / "base-lake"
            start = time.perf_counter()
            write_silver(base, min(args.rows, BASE_ROWS), max(1, args.rows // BASE_ROWS))
            print(
                f"# silver: {args.rows} leads written in {time.perf_counter() - start:.0f} s",
                flush=True,
            )
            for n in counts:
                results.append(
                    bench_scoring(base, model_dir, n, args.chunk_rows, args.reasons, scratch)
                )
                print(json.dumps(results[-1]), flush=True)
        if not args.skip_search:
            data = search_data(args.search_rows)
            for n in counts:
                results.append(bench_search(data, n, args.trials, scratch))
                print(json.dumps(results[-1]), flush=True)
        print(f"# driver peak RSS {_peak_rss_mb():.0f} MB; args {vars(args)}")


if __name__ == "__main__":
    main()
