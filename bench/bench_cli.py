"""How long LeadOps commands take as a user sees them: whole new processes, warm bytecode.

Prints medians of ``--runs`` runs (after one warm-up run each), in a throw-away
LEADOPS_HOME that already has a champion and a running home Prefect server (warm home):

- ``leadops ingest`` of a 300-row file next to the plain ``ingest_files`` function in a
  fresh Python process on a file like it (each run gets a new file: a file already
  ingested is skipped, which would measure nothing);
- ``leadops score`` of 300 leads next to the score steps' plain functions in a fresh process;
- ``leadops status``; ``leadops --help`` (and a bare ``python -c pass`` for scale).

Targets (issue 19): ingest and score of 300 rows <= 10 s and <= 1.3x the plain function;
status <= 3 s; --help <= 0.5 s. No assertion: the figures are read.

    python bench/bench_cli.py [--runs 5] [--help-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = 300
TARGETS = {"ingest": (10.0, 1.3), "score": (10.0, 1.3), "status": (3.0, None), "help": (0.5, None)}

PLAIN_INGEST = """
import sys
from leadops.inputs.contract import load_contract
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.ingest.run import ingest_files
settings = get_settings()
ingest_files(settings, open_lake(settings), load_contract(settings.contract_path), [sys.argv[1]])
"""

PLAIN_SCORE = """
import sys
from datetime import UTC, datetime
from leadops.inputs.contract import load_contract
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.scoring.batch import RunOptions, run_score
from tasks.scoring.batch_file import load_batch_file, resolve_batch_file
from tasks.scoring.model_access import load_serving_set
settings = get_settings()
contract = load_contract(settings.contract_path)
serving = load_serving_set(settings)
batch = load_batch_file(resolve_batch_file(sys.argv[1]), contract, settings.score_chunk_rows)
options = RunOptions(scored_at=datetime.now(UTC), reasons_mode=settings.reasons_mode,
                     output_format="parquet", out=sys.argv[2], endpoint_url=None)
run_score(open_lake(settings), contract, serving, options, settings.score_chunk_rows, batch)
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])} failed:\n{done.stderr[-2000:]}")
    return seconds


def median_of(make: Callable[[int], list[str]], env: dict[str, str], runs: int) -> float:
    """Median seconds of ``make(i)`` for i in 1..runs, after the warm-up run ``make(0)``."""
    timed(make(0), env)
    return statistics.median(timed(make(i), env) for i in range(1, runs + 1))


def leadops(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli.main", *args]


def lead_file(folder: Path, env: dict[str, str], seed: int) -> Path:
    """A fresh 300-row leads file (its own seed and id prefix: new leads, not updates)."""
    out = folder / f"batch-{seed}"
    timed(
        leadops(
            "generate",
            "--out",
            str(out),
            "--weeks",
            "1",
            "--leads-per-week",
            str(ROWS),
            "--seed",
            str(seed),
            "--id-prefix",  # ids of its own: another file's leads would be updated, not new
            f"B{seed}-",
        ),
        env,
    )
    return next((out / "leads").glob("*.csv"))


def warm_home(home: Path, env: dict[str, str]) -> None:
    """Eight weeks of leads and outcomes ingested, a champion trained, the server running."""
    history = home / "history"
    timed(
        leadops("generate", "--out", str(history), "--weeks", "8", "--leads-per-week", "400"), env
    )
    timed(leadops("ingest", str(history / "leads")), env)
    timed(leadops("ingest", str(history / "outcomes"), "--kind", "outcomes"), env)
    timed(leadops("train", "--trials", "2"), env)


def verdict(name: str, seconds: float, plain: float | None = None) -> str:
    limit, ratio_limit = TARGETS[name]
    text = f"median {seconds:6.2f} s (target <= {limit:g} s"
    if plain is not None and ratio_limit is not None:
        text += (
            f"; plain function {plain:.2f} s, ratio {seconds / plain:.2f}x, "
            f"target <= {ratio_limit:g}x"
        )
    return text + ")"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--help-only", action="store_true", help="Only time `leadops --help`.")
    args = parser.parse_args()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADOPS_"))}
    help_s = median_of(lambda _: leadops("--help"), clean, args.runs)
    bare_s = median_of(lambda _: [sys.executable, "-c", "pass"], clean, args.runs)
    print(f"leadops --help:  {verdict('help', help_s)}; bare interpreter {bare_s:.2f} s")
    if args.help_only:
        return
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        home = Path(tmp) / "home"
        env = {**clean, "LEADOPS_HOME": str(home), "LEADOPS_GATE_BOOTSTRAP_SAMPLES": "1000"}
        try:
            warm_home(home, env)
            files = [lead_file(Path(tmp), env, seed) for seed in range(100, 102 + 2 * args.runs)]
            cli_files, plain_files = files[: args.runs + 1], files[args.runs + 1 :]
            ingest_s = median_of(lambda i: leadops("ingest", str(cli_files[i])), env, args.runs)
            plain_ingest_s = median_of(
                lambda i: [sys.executable, "-c", PLAIN_INGEST, str(plain_files[i])], env, args.runs
            )
            print(f"leadops ingest of {ROWS} rows:  {verdict('ingest', ingest_s, plain_ingest_s)}")
            out = Path(tmp) / "scores"
            out.mkdir()  # --out never creates a folder
            score_s = median_of(
                lambda i: leadops(
                    "score", str(cli_files[i]), "--out", str(out / f"cli-{i}.parquet")
                ),
                env,
                args.runs,
            )
            plain_score_s = median_of(
                lambda i: [
                    sys.executable,
                    "-c",
                    PLAIN_SCORE,
                    str(plain_files[i]),  # not the CLI's files: their leads are scored already
                    str(out / f"plain-{i}.parquet"),
                ],
                env,
                args.runs,
            )
            print(f"leadops score of {ROWS} leads:  {verdict('score', score_s, plain_score_s)}")
            status_s = median_of(lambda _: leadops("status"), env, args.runs)
            print(f"leadops status:  {verdict('status', status_s)}")
        finally:
            subprocess.run(leadops("server", "stop"), env=env, capture_output=True, check=False)
    print(f"({args.runs} runs each after a warm-up; the machine may be shared: compare ratios)")


if __name__ == "__main__":
    main()
