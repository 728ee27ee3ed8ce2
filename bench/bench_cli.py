"""How long ``leadops --help`` takes as a user sees it: a whole new process, warm bytecode.

Prints the median of 5 runs (after one warm-up run that fills the bytecode cache) and,
for scale, the median of a bare ``python -c pass``. No assertion: the figure is read, and
tests/integration/test_cli_process.py checks which heavy libraries ``--help`` imports.

    python bench/bench_cli.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(command: list[str], runs: int) -> float:
    """Median wall-clock seconds of ``command`` over ``runs`` runs, after one warm-up run."""
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    help_s = median_seconds([sys.executable, "-m", "leadops.app.cli", "--help"], args.runs)
    bare_s = median_seconds([sys.executable, "-c", "pass"], args.runs)
    print(f"leadops --help: median {help_s:.2f} s of {args.runs} runs "
          f"(bare interpreter {bare_s:.2f} s, ratio {help_s / bare_s:.1f}x)")


if __name__ == "__main__":
    main()
