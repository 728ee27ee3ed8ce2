"""Ingest throughput on synthetic leads: rows per second and where the time goes.

Generates N synthetic leads (default 1M) as weekly CSV files in a temp folder,
ingests them into a fresh temp lake with the plain ingest function (no Prefect),
and prints rows/s, the share of time in GX validation and the other steps, the
peak memory of the ingest process, and a baseline measured in the same run: a
bare Arrow CSV read of the same files (the floor any ingest pays).

``--bytes`` writes one CSV of that size instead (a 50k-lead block repeated with
new ids: ``synthetic.write_big_leads_csv``, as tests/integration/test_big_file.py):
``--bytes 1073741824`` is the 1 GB file (6.65M leads).

Steps are the ingest thread's time: "write" is building the tables plus waiting
for the write thread (Delta appends and gold's Parquet files run there, beside
the next chunk's work), so the steps add up to the wall time.

    python bench/bench_ingest.py [--rows 1000000] [--files 5] [--chunk-rows 200000]
    python bench/bench_ingest.py --bytes 1073741824
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def write_leads(out: Path, rows: int, files: int) -> None:
    """Synthetic leads, ``files`` weekly CSVs (runs in a child so its memory is not counted)."""
    from app.demo import synthetic

    config = synthetic.GeneratorConfig(weeks=files, leads_per_week=rows // files, seed=7)
    for week in range(1, files + 1):
        leads, _ = synthetic.generate_week(config, week)
        flags = leads.select_dtypes(bool).columns
        leads = leads.assign(**{c: leads[c].map({True: "true", False: "false"}) for c in flags})
        leads.to_csv(
            out / f"leads_week_{week:02d}.csv",
            index=False,
            date_format="%Y-%m-%dT%H:%M:%S",
            lineterminator="\n",
        )


def write_one_file(out: Path, size: int) -> None:
    from app.demo.synthetic import write_big_leads_csv

    write_big_leads_csv(out / "leads.csv", size)


def arrow_read_seconds(paths: list[Path]) -> float:
    from pyarrow import csv

    # Streamed as ingest reads (a block at a time): the whole file in memory would set
    # this process's peak RSS, which is the ingest's figure below.
    started = time.perf_counter()
    for path in paths:
        for _ in csv.open_csv(path):
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--bytes", type=int, default=0, help="one CSV of this size instead")
    args = parser.parse_args()

    from leadops.inputs.contract import load_contract
    from leadops.settings import Settings
    from leadops.storage.local import open_lake
    from tasks.ingest import ingest_files
    from tasks.ingest.validation import _gx

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        started = time.perf_counter()
        target, target_args = (
            (write_one_file, (landing, args.bytes))
            if args.bytes
            else (write_leads, (landing, args.rows, args.files))
        )
        child = multiprocessing.get_context("spawn").Process(target=target, args=target_args)
        child.start()
        child.join()
        paths = sorted(landing.glob("*.csv"))
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        if args.bytes:
            with paths[0].open("rb") as text:
                args.rows = (
                    sum(block.count(b"\n") for block in iter(lambda: text.read(1 << 24), b"")) - 1
                )
        print(
            f"generated {args.rows:,} leads in {len(paths)} CSV files ({size_mb:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        _gx()  # a one-off per process; reported apart from the per-row cost
        gx_import = time.perf_counter() - started
        baseline = arrow_read_seconds(paths)

        settings = Settings(home=Path(tmp) / "home")
        lake, contract = open_lake(settings), load_contract(settings.contract_path)
        started = time.perf_counter()
        result = ingest_files(
            settings,
            lake,
            contract,
            paths,
            kind="leads",
            as_of=datetime(2027, 1, 1, tzinfo=UTC),
            chunk_rows=args.chunk_rows,
        )
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print_figures(result, seconds, baseline, gx_import, peak_mb, args)


def print_figures(
    result,
    seconds: float,
    baseline: float,
    gx_import: float,
    peak_mb: float,
    args: argparse.Namespace,
) -> None:
    totals = result.as_dict()
    print(
        f"ingested: {totals['rows_in']:,} rows in -> {totals['silver']:,} silver, "
        f"{totals['quarantined']:,} quarantined, {totals['duplicates']:,} duplicates"
    )
    print(f"ingest wall time      {seconds:8.1f} s   ({totals['rows_in'] / seconds:,.0f} rows/s)")
    print(
        f"baseline arrow stream {baseline:8.1f} s   ({args.rows / baseline:,.0f} rows/s); "
        f"ingest = {seconds / baseline:.1f}x a bare CSV read"
    )
    for step in ("validate", "parse", "write", "read", "gold"):
        # gold: the commit of rows streamed during "write" (and merges of changed leads)
        spent = result.seconds.get(step, 0.0)
        print(f"  {step:<10} {spent:8.1f} s   {spent / seconds:6.1%} of ingest")
    other = seconds - sum(result.seconds.values())
    print(
        f"  {'other':<10} {other:8.1f} s   {other / seconds:6.1%} of ingest "
        "(dedup lookups, manifest)"
    )
    print(f"GX import (once per process, not in the above): {gx_import:.1f} s")
    print(f"peak RSS of the ingest process: {peak_mb:,.0f} MB (chunks of {args.chunk_rows:,} rows)")


if __name__ == "__main__":
    main()
