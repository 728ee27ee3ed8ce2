"""Optuna search over XGBoost: TPE + Hyperband pruning on time-series CV AUC.

The study lives in shared storage (a journal file by default, an RDB URL in
production), so ``workers`` processes on one machine, or workers on several
machines with PostgreSQL, can each run a share of the trials of one study.
"""

from __future__ import annotations

import binascii
import logging
import multiprocessing
import os
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import xgboost as xgb

from leadops import progress
from leadops.errors import LeadOpsError
from leadops.settings import Settings

log = logging.getLogger(__name__)

EARLY_STOPPING_ROUNDS = 30
# Below this many rows a second OpenMP thread costs more in synchronisation than it
# saves, and on a busy 2-core machine spinning threads made CV up to 10x slower.
SINGLE_THREAD_ROWS = 20_000
MIN_ROUNDS = 10  # Hyperband's first rung: AUC after fewer rounds says little


@dataclass(frozen=True)
class SearchConfig:
    study_name: str
    storage_uri: str
    seed: int
    trials: int | None = 20
    timeout_seconds: float | None = None
    workers: int = 1
    max_rounds: int = 400
    pruning: bool = True
    nthread: int = 2
    runner: str = "process"  # "process": local processes; "dask": workers of a Dask cluster
    dask_address: str | None = None  # with runner "dask": a scheduler, or none for a LocalCluster


@dataclass(frozen=True)
class SearchResult:
    study_name: str
    best_params: dict[str, Any]
    best_rounds: int
    best_value: float
    trials: pd.DataFrame  # one row per trial: number, state, value, duration_s, rounds, params
    counts: dict[str, int]  # trials per final state (COMPLETE, PRUNED, FAIL)


class SearchError(LeadOpsError):
    """The search ended without one completed trial."""


class SeededHyperbandPruner(optuna.pruners.HyperbandPruner):
    """Hyperband whose bracket depends on (seed, trial number), not the study name.

    Study names are unique per training run, and stock Hyperband hashes the name
    into the bracket choice, so two runs on the same data and seed would prune
    differently; this keeps "same seed, same data → same model" true.
    """

    def __init__(self, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seed = seed

    def _get_bracket_id(self, _study: optuna.Study, trial: optuna.trial.FrozenTrial) -> int:
        if len(self._pruners) == 0:
            return 0
        n = (
            binascii.crc32(f"{self._seed}_{trial.number}".encode())
            % self._total_trial_allocation_budget
        )
        for bracket_id, budget in enumerate(self._trial_allocation_budgets):
            n -= budget
            if n < 0:
                return bracket_id
        return len(self._trial_allocation_budgets) - 1


def open_storage(uri: str) -> optuna.storages.BaseStorage | str:
    """``journal:<path>`` → a journal file (safe for several local processes); else an RDB URL."""
    if uri.startswith("journal:"):
        path = Path(uri.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(str(path)))
    return uri


def booster_params(trial_params: dict[str, Any], seed: int, nthread: int) -> dict[str, Any]:
    """The fixed XGBoost parameters plus a trial's sampled ones."""
    return {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "tree_method": "hist",
        "nthread": nthread,
        "seed": seed,
        "verbosity": 0,
        **trial_params,
    }


def suggest_params(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "eta": trial.suggest_float("eta", 0.02, 0.3, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 8),
        "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 50.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "lambda": trial.suggest_float("lambda", 1e-3, 20.0, log=True),
        "alpha": trial.suggest_float("alpha", 1e-3, 10.0, log=True),
    }


class _Objective:
    """Mean validation AUC over the time-series folds, reported each boosting round."""

    def __init__(self, data: xgb.DMatrix, folds: list, config: SearchConfig) -> None:
        self.data, self.folds, self.config = data, folds, config

    def __call__(self, trial: optuna.Trial) -> float:
        from optuna_integration import XGBoostPruningCallback

        params = booster_params(suggest_params(trial), self.config.seed, self.config.nthread)
        callbacks = [XGBoostPruningCallback(trial, "test-auc")] if self.config.pruning else None
        history = xgb.cv(
            params,
            self.data,
            num_boost_round=self.config.max_rounds,
            folds=self.folds,
            early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            callbacks=callbacks,
            as_pandas=True,
            seed=self.config.seed,
        )
        scores = history["test-auc-mean"].to_numpy()
        trial.set_user_attr("rounds", int(np.argmax(scores)) + 1)
        return float(scores.max())


def _study(config: SearchConfig, worker: int = 0, create: bool = False) -> optuna.Study:
    # Our _log_trial reports each trial once; Optuna's own INFO lines would repeat them.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Each worker samples with its own seed, or parallel workers would propose the same points.
    sampler = optuna.samplers.TPESampler(seed=config.seed + worker)
    pruner = (
        SeededHyperbandPruner(
            config.seed, min_resource=MIN_ROUNDS, max_resource=config.max_rounds, reduction_factor=3
        )
        if config.pruning
        else optuna.pruners.NopPruner()
    )
    storage = open_storage(config.storage_uri)
    if create:
        return optuna.create_study(
            study_name=config.study_name,
            storage=storage,
            direction="maximize",
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )
    return optuna.load_study(
        study_name=config.study_name, storage=storage, sampler=sampler, pruner=pruner
    )


def _log_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    progress.show("search", trials_done=len(study.trials), best_auc=_best_value(study))
    log.info(
        "trial %d %s: cv auc %s (%.1f s)",
        trial.number,
        trial.state.name,
        f"{trial.value:.4f}" if trial.value is not None else "-",
        trial.duration.total_seconds() if trial.duration else 0.0,
    )


def _best_value(study: optuna.Study) -> float | str:
    completed = [
        t.value
        for t in study.trials
        if t.value is not None and t.state == optuna.trial.TrialState.COMPLETE
    ]
    return max(completed) if completed else "-"


def _optimize(
    features: np.ndarray,
    labels: np.ndarray,
    folds: list,
    config: SearchConfig,
    worker: int,
    trials: int | None,
) -> None:
    """One worker's share of the study (runs in this process or a child)."""
    config = replace(config, nthread=threads_for(len(labels), config.nthread))
    data = xgb.DMatrix(features, label=labels, nthread=config.nthread)
    study = _study(config, worker)
    study.optimize(
        _Objective(data, folds, config),
        n_trials=trials,
        timeout=config.timeout_seconds,
        callbacks=[_log_trial],
        gc_after_trial=False,
    )


def search_budget(
    default_trials: int,
    default_timeout: float | None,
    trials: int | None,
    timeout_seconds: float | None,
) -> tuple[int | None, float | None]:
    """Trials and timeout for a run: only a timeout given means "as many trials as fit"."""
    if trials is None and timeout_seconds is None:
        return default_trials, default_timeout
    if trials is None:
        return None, timeout_seconds
    return trials, timeout_seconds if timeout_seconds is not None else default_timeout


def search_config_from(
    settings: Settings,
    trials: int | None = None,
    timeout_seconds: float | None = None,
    workers: int = 1,
    started: datetime | None = None,
) -> SearchConfig:
    """The search one train run does, from its options over the settings' defaults.

    Args:
        trials / timeout_seconds: the run's budget; none given: LEADOPS_TRIALS and
            LEADOPS_TRAIN_TIMEOUT_SECONDS; only a timeout: as many trials as fit.
        workers: search processes sharing the study; on Dask at least LEADOPS_DASK_WORKERS
            (one share per worker of the LocalCluster) unless more are asked for.
        started: when the run started (default now); with a random suffix it makes the
            study name unique, so two runs in the same second never share a study.
    """
    n_trials, timeout = search_budget(
        settings.trials, settings.train_timeout_seconds, trials, timeout_seconds
    )
    moment = started or datetime.now(UTC)
    on_dask = settings.task_runner == "dask"
    return SearchConfig(
        study_name=f"{settings.model_name}-{moment:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}",
        storage_uri=settings.optuna_storage_uri,
        seed=settings.seed,
        trials=n_trials,
        timeout_seconds=timeout,
        workers=max(workers, settings.dask_workers) if on_dask else workers,
        runner="dask" if on_dask else "process",
        dask_address=settings.dask_address,
    )


def threads_for(rows: int, nthread: int) -> int:
    return 1 if rows < SINGLE_THREAD_ROWS else nthread


def _shares(trials: int | None, workers: int) -> list[int | None]:
    if trials is None:
        return [None] * workers
    return [trials // workers + (1 if i < trials % workers else 0) for i in range(workers)]


def run_search(
    features: np.ndarray, labels: np.ndarray, folds: list, config: SearchConfig
) -> SearchResult:
    """Run the study (in ``config.workers`` processes) and summarise it.

    Raises:
        SearchError: no trial completed (every one pruned, failed or cut by the timeout).
    """
    _study(config, create=True)
    workers = max(1, config.workers)
    if config.runner == "dask":
        from tasks.training.dask_search import optimize_on_dask

        optimize_on_dask(
            _optimize, _shares(config.trials, workers), features, labels, folds, config
        )
    elif workers == 1:
        _optimize(features, labels, folds, config, 0, config.trials)
    else:
        # Each process gets a fair share of the cores; spawn, not fork: the parent
        # may hold Prefect/MLflow threads whose locks a forked child would inherit.
        per_worker = replace(config, nthread=max(1, (os.cpu_count() or 2) // workers))
        context = multiprocessing.get_context("spawn")
        # Sleeping, not spinning, OpenMP threads: N workers share the cores (read at child start).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(_optimize, features, labels, folds, per_worker, i, share)
                for i, share in enumerate(_shares(config.trials, workers))
                if share != 0
            ]
            for future in futures:
                future.result()
    return summarise(_study(config))


def summarise(study: optuna.Study) -> SearchResult:
    """Best parameters and the per-trial table of a finished study."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise SearchError(
            f"optuna study {study.study_name}: no trial completed "
            f"({len(study.trials)} started); raise --timeout or --trials"
        )
    best = study.best_trial
    rows = [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "duration_s": round(t.duration.total_seconds(), 3) if t.duration else None,
            "rounds": t.user_attrs.get(
                "rounds", t.last_step + 1 if t.last_step is not None else None
            ),
            **{f"params_{k}": v for k, v in t.params.items()},
        }
        for t in study.trials
    ]
    table = pd.DataFrame(rows)
    counts = {
        state: int((table["state"] == state).sum()) for state in ("COMPLETE", "PRUNED", "FAIL")
    }
    return SearchResult(
        study_name=study.study_name,
        best_params=dict(best.params),
        best_rounds=int(best.user_attrs["rounds"]),
        best_value=float(best.value),
        trials=table,
        counts=counts,
    )


def fit_booster(
    features: np.ndarray,
    labels: np.ndarray,
    params: dict[str, Any],
    rounds: int,
    seed: int,
    feature_names: list[str] | None = None,
    nthread: int = 2,
) -> xgb.Booster:
    """Train the final booster on all training rows with the best trial's settings."""
    nthread = threads_for(len(labels), nthread)
    data = xgb.QuantileDMatrix(features, label=labels, feature_names=feature_names, nthread=nthread)
    return xgb.train(booster_params(params, seed, nthread), data, num_boost_round=rounds)
