"""`leadops demo --fast`: the whole lifecycle, as a user runs it, in a fresh LEADOPS_HOME."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.slow
def test_fast_demo_detects_drift_retrains_and_promotes_the_challenger(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADOPS_", "PREFECT_"))}
    env.update(LEADOPS_HOME=str(home), PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "demo", "--fast"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout

    weeks = re.findall(r"^week +(\d+) ", out, flags=re.M)
    assert [int(w) for w in weeks] == list(range(8, 27))
    assert "trained v1: champion" in out
    # Drift from week 9 is seen, and it (not a person) starts a retrain with reason drift.
    assert re.search(r"retrain \(drift\): v\d+ challenger", out)
    # The challenger goes shadow → canary 10% → 50% → 100% → production, and is champion at the end.
    challenger = re.search(r"retrain \(drift\): v(\d+) challenger", out).group(1)
    for step in (
        "shadow → canary 10%",
        "canary 10% → canary 50%",
        "canary 50% → canary 100%",
        "canary 100% → production",
    ):
        assert f"v{challenger}: {step}" in out, step
    assert f"final champion: v{challenger}" in out
    assert re.search(r"quarantined [1-9]", out)

    picture = home / "demo-timeline.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000
    status = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    state = json.loads(status.stdout.strip().splitlines()[-1])
    assert str(state["champion"]["version"]) == challenger

    print(f"fast demo: {seconds:.0f} s")  # a figure, not an assertion: timing is for bench/

    # Soak: the same timeline replayed on the same home ends in the same state as one run.
    once = lake_and_registry_state(home, env)
    replay = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "demo", "--fast"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert replay.returncode == 0, replay.stdout[-3000:] + replay.stderr[-3000:]
    assert "replaying its weeks" in replay.stdout and "trained v" not in replay.stdout
    assert lake_and_registry_state(home, env) == once

    # Another plan on the same home is refused unless asked to start over.
    other = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        other.returncode == 1
        and "--fresh" in other.stderr
        and len(other.stderr.strip().splitlines()) == 1
    )


def lake_and_registry_state(home: Path, env: dict[str, str]) -> dict:
    """Every lake table's rows (order-free digest) and every model version's aliases and stage."""
    import hashlib

    import pandas as pd
    from deltalake import DeltaTable

    from leadops.storage import tables

    state = {}
    names = [
        tables.MANIFEST,
        tables.GOLD_LEADS,
        tables.PREDICTION_LOG,
        *(
            f(kind)
            for kind in tables.KINDS
            for f in (tables.bronze, tables.silver, tables.quarantine)
        ),
    ]
    for name in names:
        folder = home / "lake" / "tables" / name
        if not folder.exists():  # e.g. no outcome row was ever quarantined
            state[name] = None
            continue
        frame = DeltaTable(str(folder)).to_pandas()
        # Ingest and scoring times differ between runs only where rows were (re)written.
        rows = sorted(pd.util.hash_pandas_object(frame.astype(str), index=False).tolist())
        state[name] = (len(frame), hashlib.sha256(str(rows).encode()).hexdigest())
    for kept in ("monitor/state.json", "rollout/history.json"):  # cooldown and rollout transitions
        state[kept] = (home / "lake" / kept).read_text()
    status = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "status", "--json", "--limit", "50"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    state["status"] = json.loads(status.stdout.strip().splitlines()[-1])
    from mlflow import MlflowClient

    from leadops.models import registry

    versions = registry.history(
        MlflowClient(f"sqlite:///{home / 'mlflow.db'}"), "leadops-lead-scorer"
    )
    state["versions"] = [
        (v["version"], v["aliases"], v["stage"], v["fraction"], v["reason"]) for v in versions
    ]
    return state
