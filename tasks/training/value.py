"""The deal-value model: E[amount | won] on won leads, beside the conversion model.

Plain functions on encoded rows; the objective (squared error on log amount, gamma or
Tweedie on the amount) is one of the Optuna search's choices, because which fits a
CRM's heavy tail best is an empirical question. A median-per-segment baseline is fitted
on the same rows and judged on the same out-of-time test window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import optuna
from xgboost import XGBRegressor

from leadops.decisions.value_metrics import mae_log, normalised_gini

OBJECTIVES = ("reg:squarederror", "reg:gamma", "reg:tweedie")


@dataclass(frozen=True)
class ValueFit:
    model: XGBRegressor
    objective: str
    on_log: bool  # the model predicts log amount (squared error) rather than the amount
    log_spread: float  # residual variance of log amount: exp(mu + s/2) is the mean
    # Revenue correction: realised / predicted amount summed over out-of-fold predictions
    # of the training deals. Without it every objective under-predicted summed revenue
    # (shrunk trees, in-sample log spread), so the monitor read 1.2-1.3x on stable data.
    revenue_scale: float = 1.0

    def predict(self, rows: np.ndarray) -> np.ndarray:
        raw = self.model.predict(rows)
        return self.revenue_scale * (np.exp(raw + self.log_spread / 2) if self.on_log else raw)


def fit_value(rows: np.ndarray, amounts: np.ndarray, params: dict) -> ValueFit:
    """One XGBoost fit; ``params`` holds the objective and the tree parameters."""
    params = dict(params)
    objective = params.pop("objective")
    on_log = objective == "reg:squarederror"
    target = np.log(amounts) if on_log else amounts
    model = XGBRegressor(objective=objective, n_estimators=200, n_jobs=1, **params)
    model.fit(rows, target)
    spread = float(np.var(target - model.predict(rows))) if on_log else 0.0
    return ValueFit(model, objective, on_log, spread)


def search_value(rows: np.ndarray, amounts: np.ndarray, trials: int, seed: int) -> ValueFit:
    """Optuna TPE over objective and tree shape; each trial is judged by the normalised
    Gini on the newest fifth of the training rows (rows come in time order)."""
    cut = int(len(rows) * 0.8)

    def objective(trial: optuna.Trial) -> float:
        params = _params(trial)
        fit = fit_value(rows[:cut], amounts[:cut], params)
        return normalised_gini(amounts[cut:], fit.predict(rows[cut:]))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    params = _params(optuna.trial.FixedTrial(study.best_params))
    return replace(
        fit_value(rows, amounts, params), revenue_scale=revenue_scale(rows, amounts, params)
    )


def revenue_scale(rows: np.ndarray, amounts: np.ndarray, params: dict, folds: int = 5) -> float:
    """Sum of realised over sum of out-of-fold predicted amounts (each contiguous fold
    predicted by a fit on the others): the multiplier that makes predictions add up to
    revenue. Cross-fitted rather than in-sample, whose fitted trees already lean towards
    their own deals, and over all training deals rather than one window, whose heavy tail
    alone moves a sum by ~10%."""
    predicted = np.empty(len(amounts))
    for fold in np.array_split(np.arange(len(amounts)), folds):
        others = np.setdiff1d(np.arange(len(amounts)), fold)
        predicted[fold] = fit_value(rows[others], amounts[others], params).predict(rows[fold])
    return float(amounts.sum() / predicted.sum())


def _params(trial: optuna.Trial) -> dict:
    return {
        "objective": trial.suggest_categorical("objective", OBJECTIVES),
        "max_depth": trial.suggest_int("max_depth", 2, 6),
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 20.0, log=True),
    }


def segment_medians(
    segments: np.ndarray, amounts: np.ndarray, min_deals: int = 1
) -> dict[str, float]:
    """The baseline: median amount per segment (e.g. industry), with '' for the rest; a
    segment with fewer than ``min_deals`` deals gets the overall median."""
    names, counts = np.unique(segments, return_counts=True)
    medians = {
        str(s): float(np.median(amounts[segments == s]))
        for s, n in zip(names, counts, strict=True)
        if n >= min_deals
    }
    return {**medians, "": float(np.median(amounts))}


def baseline_predict(medians: dict[str, float], segments: np.ndarray) -> np.ndarray:
    return np.array([medians.get(str(s), medians[""]) for s in segments])


def value_metrics(amounts: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {"gini": normalised_gini(amounts, predicted), "mae_log": mae_log(amounts, predicted)}
