"""Benchmark: how good is the model page's label-free estimate, week by week?

For each scenario of the bundled generator (stable, covariate-drift, conversion-drop: the
last is concept drift, the same leads converting less), an XGBoost model is trained on
weeks 1..TRAIN_WEEKS as the train stage encodes them, then scores each later week. The
page's estimate (tasks.monitoring.report.estimates.label_free_estimate: expected
conversions with an exact Poisson-binomial 90% interval, expected AUC simulated from the
scores) is compared with what that week realised once its outcomes arrived.

Printed per scenario (``--repeats`` histories of it): weeks, mean absolute error of the
conversions, the AUC and the precision at capacity, and the share of weeks whose 90%
interval covered the realised value (target 85-95% where the scores are calibrated).
``--weekly`` also prints every week.
Run: ``.venv/bin/python bench/bench_estimate.py [--leads-per-week 1000] [--weeks 20]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from app.demo import synthetic  # noqa: E402
from bench._support import CONTRACT, typed_leads  # noqa: E402
from leadops.decisions.metrics import precision_at_capacity, rank_auc  # noqa: E402
from tasks.features.encoder import FeatureEncoder  # noqa: E402
from tasks.monitoring.report.estimates import label_free_estimate  # noqa: E402

TRAIN_WEEKS = 8  # the demo's first champion: weeks 1-8; drift starts in week 9
CAPACITY = 0.10


def labelled_week(config: synthetic.GeneratorConfig, week: int) -> pd.DataFrame:
    """One week's typed leads with their final 0/1 outcome (every outcome lands in the window)."""
    leads, outcomes = synthetic.generate_week(config, week)
    frame = typed_leads(leads)
    won = set(outcomes.loc[outcomes["converted"].astype(bool), "lead_id"].astype(str))
    frame["_label"] = frame[CONTRACT.entity_id].astype(str).isin(won).astype(int)
    return frame


def train_model(frame: pd.DataFrame, seed: int) -> tuple[object, FeatureEncoder]:
    import xgboost as xgb

    encoder = FeatureEncoder.fit(frame, CONTRACT, cap=10)
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.08, "nthread": 2}
    params["seed"] = seed
    matrix = xgb.DMatrix(encoder.transform(frame), label=frame["_label"])
    return xgb.train(params, matrix, 200), encoder


def week_rows(scenario: str, args: argparse.Namespace, seed: int) -> list[dict]:
    """One generated history of ``scenario``: a model trained on its first weeks, then
    the estimate and the realised figures of every later week."""
    config = synthetic.GeneratorConfig(
        weeks=args.weeks, leads_per_week=args.leads_per_week, seed=seed, scenario=scenario
    )
    train = pd.concat([labelled_week(config, w) for w in range(1, TRAIN_WEEKS + 1)])
    booster, encoder = train_model(train, seed)
    rows = []
    for week in range(TRAIN_WEEKS + 1, args.weeks + 1):
        import xgboost as xgb

        frame = labelled_week(config, week)
        scores = booster.predict(xgb.DMatrix(encoder.transform(frame)))
        labels = frame["_label"].to_numpy()
        estimate = label_free_estimate(scores, CAPACITY, seed=week)
        auc = rank_auc(labels, scores)
        precision = precision_at_capacity(labels, scores, CAPACITY)
        rows.append(
            {
                "scenario": scenario,
                "seed": seed,
                "week": week,
                "leads": len(frame),
                "est_conversions": estimate.conversions,
                "conversions": int(labels.sum()),
                "conv_covered": estimate.conversions_low
                <= labels.sum()
                <= estimate.conversions_high,
                "est_auc": estimate.auc,
                "auc": auc,
                "auc_covered": estimate.auc_low <= auc <= estimate.auc_high,
                "est_precision": estimate.precision,
                "precision": precision,
                "precision_covered": estimate.precision_low <= precision <= estimate.precision_high,
            }
        )
    return rows


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.groupby("scenario", sort=False).apply(
        lambda g: pd.Series(
            {
                "weeks": len(g),
                "conversions_mae": (g.est_conversions - g.conversions).abs().mean(),
                "conversions_bias": (g.est_conversions - g.conversions).mean(),
                "conversions_coverage": g.conv_covered.mean(),
                "auc_mae": (g.est_auc - g.auc).abs().mean(),
                "auc_coverage": g.auc_covered.mean(),
                "precision_mae": (g.est_precision - g.precision).abs().mean(),
                "precision_coverage": g.precision_covered.mean(),
            }
        ),
        include_groups=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads-per-week", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeats", type=int, default=3, help="histories per scenario (seeds seed, seed+1, ...)"
    )
    parser.add_argument("--scenarios", nargs="+", default=list(synthetic.SCENARIOS))
    parser.add_argument("--weekly", action="store_true", help="print every week too")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    seeds = range(args.seed, args.seed + args.repeats)
    rows = pd.DataFrame(
        [r for s in args.scenarios for seed in seeds for r in week_rows(s, args, seed)]
    )
    table = summary(rows)
    if args.json:
        print(json.dumps(table.reset_index().to_dict("records")))
        return
    if args.weekly:
        print(rows.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"label-free estimate vs realised, weeks {TRAIN_WEEKS + 1}-{args.weeks}, "
        f"{args.leads_per_week:,} leads a week, {args.repeats} histories per scenario, "
        f"90% intervals "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
