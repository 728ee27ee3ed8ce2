"""Score-stage benchmark: end-to-end throughput vs raw XGBoost, reasons modes, memory.

Prints, all measured in this run on the same encoded rows:
- rows/s end to end (read silver, features, predict, reasons, write output + log) per
  reasons mode, and raw ``inplace_predict`` / ``pred_contribs`` (exact, approx) rows/s,
  with the ratios that matter (end to end exact vs raw pred_contribs: target >= 0.80;
  end to end without reasons (``none``) vs raw inplace_predict: target >= 0.25);
- how often the approx / tiered top-3 reasons equal the exact top-3 (same features);
- peak RSS of a score run on SMALL and 10x SMALL leads, each in its own process
  (approx reasons there, so the 10x run finishes in minutes; memory is per chunk either way).

Usage: python bench/bench_score.py [--rows 20000] [--memory-rows 200000] [--skip-memory]
       [--modes exact,approx,tiered,none]
Exact TreeSHAP costs ~2 ms per lead here (depth 6, 200 trees), so the throughput
part defaults to 20k leads rather than 200k; pass --rows 200000 for the full run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from app.demo.synthetic import GeneratorConfig, generate_week  # noqa: E402
from leadops.inputs.contract import load_contract  # noqa: E402
from leadops.settings import BUNDLED_CONTRACT  # noqa: E402
from leadops.storage import tables  # noqa: E402
from leadops.storage.local import LocalLake  # noqa: E402

AS_OF = datetime(2027, 1, 1, tzinfo=UTC)
CONTRACT = load_contract(BUNDLED_CONTRACT)


def typed_leads(rows: int, seed: int = 7) -> tuple[pa.Table, set[str]]:
    """``rows`` synthetic leads typed like silver, and the ids that converted."""
    from leadops.inputs.normalise import parse_frame

    raw, outcomes = generate_week(GeneratorConfig(leads_per_week=rows, seed=seed), 1)
    roles = CONTRACT.roles("leads")
    typed = parse_frame(raw.astype(str), roles)[list(roles)]
    won = set(outcomes.loc[outcomes[CONTRACT.label], CONTRACT.entity_id])
    return pa.Table.from_pandas(typed, preserve_index=False), won


def train_model(folder: Path) -> tuple[Path, Path]:
    """A realistic booster (depth 6, 200 trees) on 50k encoded leads; saved to files."""
    import xgboost as xgb

    from tasks.features.encoder import FeatureEncoder

    table, won = typed_leads(50_000, seed=1)
    frame = table.to_pandas()
    encoder = FeatureEncoder.fit(frame, CONTRACT, cap=20)
    labels = frame[CONTRACT.entity_id].isin(won).to_numpy()
    params = {"max_depth": 6, "eta": 0.05, "objective": "binary:logistic", "nthread": 2, "seed": 0}
    booster = xgb.train(
        params,
        xgb.DMatrix(encoder.transform(frame), labels, feature_names=encoder.feature_names),
        200,
    )
    booster.save_model(folder / "model.ubj")
    (folder / "encoder.json").write_text(encoder.to_json())
    return folder / "model.ubj", folder / "encoder.json"


def load_serving(folder: Path):
    import xgboost as xgb

    from tasks.features.encoder import FeatureEncoder
    from tasks.scoring.scorer import ServingModel, ServingSet

    booster = xgb.Booster(model_file=str(folder / "model.ubj"))
    encoder = FeatureEncoder.from_json((folder / "encoder.json").read_text())
    return ServingSet(ServingModel("bench", "1", "champion", "production", booster, encoder))


def write_silver(lake_dir: Path, rows: int, copies: int = 1) -> None:
    """``rows`` x ``copies`` leads; copies get new ids (same distribution, bounded build time)."""
    lake = LocalLake(lake_dir)
    table, _ = typed_leads(rows)
    ids = table.column(CONTRACT.entity_id)
    for copy in range(copies):
        renamed = pc.binary_join_element_wise(ids, pa.scalar(f"-{copy}"), "")
        lake.append_table(tables.silver("leads"), table.set_column(0, CONTRACT.entity_id, renamed))


def run_score(
    lake_dir: Path, model_dir: Path, mode: str, chunk_rows: int = 100_000
) -> tuple[float, str]:
    from tasks.scoring.batch import RunOptions
    from tasks.scoring.batch import run_score as run

    serving = load_serving(model_dir)
    options = RunOptions(scored_at=AS_OF, reasons_mode=mode)
    start = time.perf_counter()
    result = run(LocalLake(lake_dir), CONTRACT, serving, options, chunk_rows)
    return time.perf_counter() - start, result.output


def top3_match(model_dir: Path, lake_dir: Path, sample: int) -> dict[str, float]:
    """Share of leads whose approx (and tiered) top-3 features equal the exact top-3."""
    from tasks.features.reasons import unit_matrix
    from tasks.scoring.explain import EXACT_DECILES

    model = load_serving(model_dir).champion
    frame = LocalLake(lake_dir).read_table(tables.silver("leads")).head(sample)
    encoded = model.encode(frame)
    units = unit_matrix(model.reason_units, encoded.shape[1])
    top = [
        np.argsort(-np.abs(model.contributions(encoded, approx)[:, :-1] @ units), axis=1)[:, :3]
        for approx in (False, True)
    ]
    same = (np.sort(top[0], axis=1) == np.sort(top[1], axis=1)).all(axis=1)
    scores = model.predict(encoded)
    decile = 1 + (
        10 * (len(scores) - np.searchsorted(np.sort(scores), scores, side="right"))
    ) // len(scores)
    tiered = np.where(decile <= EXACT_DECILES, True, same)
    return {
        "approx": float(same.mean()),
        "tiered": float(tiered.mean()),
        "approx_ordered": float((top[0] == top[1]).all(axis=1).mean()),
    }


def raw_throughput(model_dir: Path, lake_dir: Path, contributions: bool) -> dict[str, float]:
    """Bare XGBoost rows/s on the same encoded rows; SHAP only when a reasons mode needs it
    (exact ``pred_contribs`` costs ~2 ms a lead: an hour on 1M leads)."""
    model = load_serving(model_dir).champion
    encoded = model.encode(LocalLake(lake_dir).read_table(tables.silver("leads")))
    calls = [("inplace_predict", lambda: model.predict(encoded))]
    if contributions:
        calls += [
            ("pred_contribs_exact", lambda: model.contributions(encoded)),
            ("pred_contribs_approx", lambda: model.contributions(encoded, approx=True)),
        ]
    rates = {}
    for name, call in calls:
        start = time.perf_counter()
        call()
        rates[name] = len(encoded) / (time.perf_counter() - start)
    return rates


def memory_child(lake_dir: str, model_dir: str) -> None:
    """Run in a subprocess: score with approx reasons, print peak RSS (MiB) as JSON."""
    import resource

    seconds, _ = run_score(Path(lake_dir), Path(model_dir), "approx")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mib": peak, "seconds": seconds}))


def measure_memory(work: Path, model_dir: Path, rows: int) -> None:
    peaks = {}
    for copies in (1, 10):
        lake_dir = work / f"mem-lake-{copies}"
        write_silver(lake_dir, rows, copies)
        out = (
            subprocess.run(
                [sys.executable, __file__, "--memory-child", str(lake_dir), str(model_dir)],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        peaks[copies] = json.loads(out)
        print(
            f"memory: {rows * copies:>9,} leads  peak RSS {peaks[copies]['peak_rss_mib']:7.0f} MiB"
            f"  ({peaks[copies]['seconds']:.0f} s, approx reasons)"
        )
    ratio = peaks[10]["peak_rss_mib"] / peaks[1]["peak_rss_mib"]
    print(f"memory: peak RSS ratio 10x leads / 1x = {ratio:.2f} (target <= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--memory-rows", type=int, default=200_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--modes",
        default="exact,approx,tiered,none",
        help="reasons modes to time end to end (comma-separated)",
    )
    parser.add_argument("--memory-child", nargs=2, metavar=("LAKE", "MODEL"))
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(*args.memory_child)
    with tempfile.TemporaryDirectory(prefix="bench-score-") as tmp:
        work = Path(tmp)
        model_dir = work / "model"
        model_dir.mkdir()
        train_model(model_dir)
        write_silver(work / "lake", args.rows)
        write_silver(work / "warm-up", 1000)
        run_score(
            work / "warm-up", model_dir, "approx"
        )  # first-use imports stay out of the timings
        modes = args.modes.split(",")
        with_reasons = any(mode != "none" for mode in modes)
        raw = raw_throughput(model_dir, work / "lake", with_reasons)
        print(
            f"leads: {args.rows:,} (depth 6, 200 trees); raw XGBoost rows/s: "
            + ", ".join(f"{k} {v:,.0f}" for k, v in raw.items())
        )
        for mode in modes:
            lake_dir = work / f"lake-{mode}"
            write_silver(lake_dir, args.rows)
            seconds, _ = run_score(lake_dir, model_dir, mode)
            rate = args.rows / seconds
            target = {
                "exact": " (target >= 0.80x raw exact pred_contribs)",
                "none": " (target >= 0.25x raw inplace_predict)",
            }.get(mode, "")
            exact = raw.get("pred_contribs_exact")
            print(
                f"end to end [{mode:6}] {rate:10,.0f} rows/s  = "
                + (f"{rate / exact:.2f}x raw exact pred_contribs, " if exact else "")
                + f"{rate / raw['inplace_predict']:.4f}x raw inplace_predict{target}"
            )
        if with_reasons:
            match = top3_match(model_dir, work / "lake", min(args.rows, 20_000))
            print(
                f"top-3 reasons equal to exact (same 3 features): approx {match['approx']:.1%} "
                f"(same order {match['approx_ordered']:.1%}), tiered {match['tiered']:.1%}"
            )
        if not args.skip_memory:
            measure_memory(work, model_dir, args.memory_rows)


if __name__ == "__main__":
    main()
