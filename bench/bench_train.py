"""Train-stage benchmark: pruning vs no pruning on one time budget, and a full train run.

Prints, measured in this run on the same 50k synthetic leads (time-series CV folds):
- the baseline: one XGBoost fit per fold at the search's largest round budget (what one
  unpruned trial costs), so the search figures read as "trials per baseline trial";
- for the same wall-clock budget, best CV ROC-AUC and trials completed / pruned, with
  Hyperband pruning (XGBoost pruning callback) and without;
- the wall time of one full ``train`` flow (Prefect, Optuna, final fit, SHAP plots,
  MLflow logging, registry gate) on those 50k leads, with LEADOPS_TRIALS trials.

Usage: python bench/bench_train.py [--leads 50000] [--budget 60] [--trials 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument(
        "--budget", type=float, default=60.0, help="seconds per search; 0 skips the two searches"
    )
    parser.add_argument("--trials", type=int, default=20, help="trials of the full train run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        os.environ["LEADOPS_HOME"] = folder
        from app.cli.runtime import prepare_runtime
        from bench._support import as_of_after, write_gold
        from leadops.inputs.contract import load_contract
        from leadops.inputs.maturity import LABEL
        from leadops.settings import get_settings
        from leadops.storage.local import open_lake
        from tasks.features.encoder import FeatureEncoder
        from tasks.training.dataset import build_training_set, time_series_folds
        from tasks.training.search import SearchConfig, booster_params, run_search

        get_settings.cache_clear()
        prepare_runtime()
        settings = get_settings()
        contract = load_contract(settings.contract_path)
        weeks = 25
        frame = write_gold(open_lake(settings), weeks=weeks, leads_per_week=args.leads // weeks)
        as_of = as_of_after(frame)
        training = build_training_set(
            open_lake(settings), contract, as_of, settings.test_window_days
        )
        encoder = FeatureEncoder.fit(training.dev, contract, settings.technographics_cap)
        features, labels = encoder.transform(training.dev), training.dev[LABEL].to_numpy()
        folds = time_series_folds(labels, settings.cv_folds)
        print(
            f"{len(frame):,} leads: {len(training.dev):,} dev rows x "
            f"{features.shape[1]} encoded features, "
            f"{len(training.test):,} test rows, {settings.cv_folds} CV folds"
        )

        base = SearchConfig(study_name="x", storage_uri="", seed=settings.seed)
        params = booster_params(
            {"max_depth": 6, "learning_rate": 0.05}, settings.seed, base.nthread
        )
        started = time.perf_counter()
        aucs = []
        for train_idx, valid_idx in folds:
            booster = xgb.train(
                params,
                xgb.DMatrix(features[train_idx], label=labels[train_idx]),
                num_boost_round=base.max_rounds,
            )
            aucs.append(
                roc_auc_score(labels[valid_idx], booster.inplace_predict(features[valid_idx]))
            )
        baseline_seconds = time.perf_counter() - started
        print(
            f"baseline: one unpruned trial ({base.max_rounds} rounds x {len(folds)} folds) "
            f"{baseline_seconds:.1f} s, CV AUC {np.mean(aucs):.4f}"
        )

        print(
            f"\nsearch, {args.budget:.0f} s budget each | best CV AUC | complete | pruned | "
            "trials per baseline-trial time"
        )
        for pruning in (True, False) if args.budget > 0 else ():
            config = SearchConfig(
                study_name=f"bench-{'pruned' if pruning else 'unpruned'}",
                storage_uri=f"journal:{folder}/bench-journal-{pruning}.log",
                seed=settings.seed,
                trials=None,
                timeout_seconds=args.budget,
                pruning=pruning,
            )
            started = time.perf_counter()
            result = run_search(features, labels, folds, config)
            seconds = time.perf_counter() - started
            total = len(result.trials)
            print(
                f"{'Hyperband pruning' if pruning else 'no pruning':>28} | "
                f"{result.best_value:11.4f} | "
                f"{result.counts['COMPLETE']:8d} | {result.counts['PRUNED']:6d} | "
                f"{total / (seconds / baseline_seconds):.2f} ({total} trials in {seconds:.0f} s)"
            )

        from flows.train import train

        os.environ["LEADOPS_TRIALS"] = str(args.trials)
        get_settings.cache_clear()
        started = time.perf_counter()
        result = train(as_of=as_of)
        seconds = time.perf_counter() - started
        trials = result.details["trials"]
        print(
            f"\nfull train flow on {len(frame):,} leads, {args.trials} trials: {seconds:.0f} s "
            f"= {seconds / baseline_seconds:.1f}x one baseline trial "
            f"(test ROC-AUC {result.metrics['roc_auc']:.4f}, "
            f"v{result.model_version} {result.decision}; "
            f"trials {trials['completed']} complete, {trials['pruned']} pruned)"
        )


if __name__ == "__main__":
    main()
