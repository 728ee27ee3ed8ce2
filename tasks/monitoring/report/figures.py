"""The page's pictures: matplotlib PNGs as data URIs, 8.5 inches wide at 90 dpi (765 px)
so they fit a laptop screen without scrolling sideways and keep the page small."""

from __future__ import annotations

import base64
import io
from typing import Any

import pandas as pd

from tasks.monitoring.report.served import DECILE, MONTH, TIER, TIERS, WEEK

WIDTH, DPI = 8.5, 90


def _figure(rows: int = 1, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(rows, 1, figsize=(WIDTH, height * rows), squeeze=False)


def png_uri(fig: Any) -> str:
    """The figure as a base64 PNG data URI; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def tier_figure(by_tier: pd.DataFrame) -> str:
    """Conversion rate per tier per month, Wilson 95% bars."""
    fig, axes = _figure()
    ax = axes[0][0]
    months = sorted(by_tier[MONTH].unique())
    width = 0.8 / len(TIERS)
    for i, tier in enumerate(TIERS):
        rows = by_tier[by_tier[TIER] == tier].set_index(MONTH).reindex(months)
        x = [m + (i - 1.5) * width for m in range(len(months))]
        errors = [
            (rows.rate - rows.low).fillna(0).to_numpy(),
            (rows.high - rows.rate).fillna(0).to_numpy(),
        ]
        ax.bar(x, rows.rate, width, yerr=errors, capsize=2, label=f"tier {tier}")
    ax.set_xticks(range(len(months)), months)
    ax.set_ylabel("conversion rate (matured)")
    ax.yaxis.set_major_formatter(_percent())
    ax.legend(ncols=4, fontsize=8)
    return png_uri(fig)


def decile_figure(by_decile: pd.DataFrame) -> str:
    """Lift over the month's base rate per decile, one line per month."""
    fig, axes = _figure()
    ax = axes[0][0]
    for month, rows in by_decile.groupby(MONTH):
        ax.plot(rows[DECILE], rows.lift, marker="o", label=month)
    ax.axhline(1.0, color="grey", linestyle=":")
    ax.set_xticks(range(1, 11))
    ax.set_xlabel("score decile (1 = best 10% of the batch)")
    ax.set_ylabel("lift over base rate")
    ax.legend(fontsize=8, ncols=3)
    return png_uri(fig)


def accuracy_figure(accuracy: pd.DataFrame, training: dict[str, float]) -> str:
    """Served AUC, precision at capacity and calibration by month, training figures dashed."""
    fig, axes = _figure(3, 2.4)
    months = accuracy[MONTH].tolist()
    auc, precision, calibration = axes[0][0], axes[1][0], axes[2][0]
    auc.errorbar(
        months,
        accuracy.auc,
        yerr=[
            (accuracy.auc - accuracy.auc_low).fillna(0).to_numpy(),
            (accuracy.auc_high - accuracy.auc).fillna(0).to_numpy(),
        ],
        marker="o",
        capsize=3,
        label="served (95% CI)",
    )
    precision.plot(months, accuracy.precision, marker="o", label="served")
    calibration.plot(months, accuracy.predicted_rate, marker="o", label="predicted (mean score)")
    calibration.plot(months, accuracy.observed_rate, marker="s", label="observed")
    for ax, key, label in (
        (auc, "roc_auc", "ROC-AUC"),
        (precision, "precision_at_capacity", "precision at capacity"),
        (calibration, "base_rate", "conversion rate"),
    ):
        if training.get(key) is not None:
            ax.axhline(training[key], color="grey", linestyle="--", label="training test window")
        ax.set_ylabel(label)
        ax.legend(fontsize=8, loc="lower left")
    return png_uri(fig)


def estimate_figure(weekly: pd.DataFrame) -> str:
    """Estimated conversions and AUC per week (90% band) with the realised value once matured."""
    fig, axes = _figure(2, 2.6)
    weeks = pd.to_datetime(weekly[WEEK])
    for ax, key, label in ((axes[0][0], "conversions", "conversions"), (axes[1][0], "auc", "AUC")):
        low = weekly[f"est_{key}_low"].astype(float)
        high = weekly[f"est_{key}_high"].astype(float)
        ax.fill_between(weeks, low, high, alpha=0.25, label="estimate, 90% interval")
        ax.plot(weeks, weekly[f"est_{key}"], linestyle="--", label="estimate (scores only)")
        realised = weekly[weekly.matured]
        ax.plot(pd.to_datetime(realised[WEEK]), realised[key].astype(float), "ko", label="realised")
        ax.set_ylabel(label)
        ax.legend(fontsize=8, loc="upper left")
    return png_uri(fig)


def quality_figure(quarantine: pd.DataFrame, drift: pd.DataFrame, threshold: float) -> str:
    """Quarantined share per check per ingest run, and PSI per feature per monitor run."""
    fig, axes = _figure(2, 2.8)
    shares, psi = axes[0][0], axes[1][0]
    for check, rows in quarantine[quarantine.check != ""].groupby("check"):
        shares.plot(rows.as_of, rows.share, marker=".", label=check)
    shares.set_ylabel("quarantined share")
    shares.yaxis.set_major_formatter(_percent())
    shares.legend(fontsize=7, ncols=3)
    for feature, rows in drift.groupby("feature"):
        psi.plot(rows.as_of, rows.psi, marker=".", label=feature)
    psi.axhline(threshold, color="#d62728", linestyle="--", label=f"trigger {threshold:g}")
    psi.set_ylabel("PSI (fixed bins)")
    psi.legend(fontsize=7, ncols=4)
    return png_uri(fig)


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)
