"""Evaluation plots as matplotlib Figures (no pyplot: no global state, Agg canvas).

Each function takes arrays and returns a Figure; tracking.py logs them to MLflow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from leadops.decisions.metrics import calibration_table, lift_table


def _figure(width: float = 5.5, height: float = 4.5) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def roc_figure(labels: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    """ROC curves of several models (name → scores) on the same leads."""
    fig, ax = _figure()
    for name, scores in curves.items():
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test window)")
    ax.legend(loc="lower right")
    return fig


def pr_figure(labels: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    fig, ax = _figure()
    for name, scores in curves.items():
        precision, recall, _ = precision_recall_curve(labels, scores)
        ax.plot(recall, precision, label=name)
    ax.axhline(np.mean(labels), linestyle=":", color="grey", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test window)")
    ax.legend(loc="upper right")
    return fig


def calibration_figure(labels: np.ndarray, scores: np.ndarray) -> Figure:
    table = calibration_table(labels, scores)
    fig, ax = _figure()
    top = max(table["mean_score"].max(), table["conversion_rate"].max()) * 1.05
    ax.plot([0, top], [0, top], linestyle=":", color="grey", label="perfect")
    ax.plot(table["mean_score"], table["conversion_rate"], marker="o", label="model")
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed conversion rate",
        title="Calibration (score deciles)",
    )
    ax.legend(loc="upper left")
    return fig


def lift_figure(labels: np.ndarray, scores: np.ndarray, capacity_fraction: float) -> Figure:
    table = lift_table(labels, scores)
    fig, ax = _figure()
    ax.bar(table["decile"], table["lift"], color="tab:blue")
    ax.axhline(1.0, linestyle=":", color="grey")
    ax.set(
        xlabel="score decile (1 = highest)",
        ylabel="lift over base rate",
        title=f"Lift by decile (capacity {capacity_fraction:.0%})",
        xticks=table["decile"],
    )
    return fig


def shap_summary_figure(
    contributions: np.ndarray,
    encoded: np.ndarray,
    feature_names: list[str],
    groups: list[str],
    top: int = 15,
) -> Figure:
    """Left: mean |SHAP| per contract feature; right: per-row SHAP of the top encoded columns,
    coloured by the column's value (red high, blue low), as in shap's summary plot."""
    width = encoded.shape[1]
    values = contributions[:, :width]
    by_group = pd.Series(np.abs(values).mean(axis=0), index=groups).groupby(level=0).sum()
    by_group = by_group.sort_values().tail(top)
    fig = Figure(figsize=(12, 6), dpi=100, layout="constrained")
    left, right = fig.subplots(1, 2)
    left.barh(by_group.index, by_group.to_numpy(), color="tab:blue")
    left.set(xlabel="mean |SHAP| (log-odds)", title="Feature importance (test sample)")
    order = np.argsort(np.abs(values).mean(axis=0))[-top:]
    rng = np.random.default_rng(0)
    for row, column in enumerate(order):
        x = encoded[:, column]
        span = np.nanmax(x) - np.nanmin(x) if np.isfinite(x).any() else 0.0
        colour = (x - np.nanmin(x)) / span if span > 0 else np.zeros_like(x)
        jitter = rng.uniform(-0.3, 0.3, len(x))
        right.scatter(
            values[:, column],
            row + jitter,
            c=np.nan_to_num(colour, nan=0.5),
            cmap="coolwarm",
            s=4,
            alpha=0.6,
        )
    right.set_yticks(range(len(order)), [feature_names[c] for c in order])
    right.axvline(0, color="grey", linewidth=0.8)
    right.set(xlabel="SHAP value (log-odds)", title="SHAP summary")
    return fig
