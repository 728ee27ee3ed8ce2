"""The page's pictures: matplotlib PNGs as data URIs, 8.5 inches wide at 90 dpi (765 px)
so they fit a laptop screen without scrolling sideways and keep the page small."""

from __future__ import annotations

import base64
import io
from typing import Any

import pandas as pd

from leadops.models.cutpoints import TIERS
from tasks.monitoring.report.served import DECILE, MONTH, TIER, WEEK

WIDTH, DPI = 8.5, 90


def figure_grid(rows: int = 1, height: float = 3.2) -> tuple[Any, Any]:
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
    fig, axes = figure_grid()
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
    fig, axes = figure_grid()
    ax = axes[0][0]
    for month, rows in by_decile.groupby(MONTH):
        ax.plot(rows[DECILE], rows.lift, marker="o", label=month)
    ax.axhline(1.0, color="grey", linestyle=":")
    ax.set_xticks(range(1, 11))
    ax.set_xlabel("score decile (1 = best 10% of the batch)")
    ax.set_ylabel("lift over base rate")
    ax.legend(fontsize=8, ncols=3)
    return png_uri(fig)


def accuracy_figure(accuracy: pd.DataFrame, training: dict[str, dict[str, float]]) -> str:
    """Served AUC, precision at capacity and calibration by month; dashed, the test-window
    figure of the version that served most of that month's leads (``training`` by version)."""
    fig, axes = figure_grid(3, 2.4)
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
        trained = [training.get(str(v), {}).get(key) for v in accuracy["version"]]
        if any(t is not None for t in trained):
            values = [float("nan") if t is None else t for t in trained]
            ax.plot(months, values, color="grey", linestyle="--", marker="_", label="at training")
        ax.set_ylabel(label)
        ax.legend(fontsize=8, loc="lower left")
    return png_uri(fig)


def estimate_figure(weekly: pd.DataFrame) -> str:
    """Estimated conversion rate, AUC and precision at capacity per week (90% band), and the
    realised value once the week matured.

    Rates, not counts: the first batch often holds a backlog of several weeks of leads.
    """
    fig, axes = figure_grid(3, 2.3)
    weeks = pd.to_datetime(weekly[WEEK])
    leads = weekly["est_leads"].astype(float)
    panels = (
        (axes[0][0], "conversions", "conversion rate", leads),
        (axes[1][0], "auc", "AUC", 1.0),
        (axes[2][0], "precision", "precision at capacity", 1.0),
    )
    for ax, key, label, per in panels:
        low = weekly[f"est_{key}_low"].astype(float) / per
        high = weekly[f"est_{key}_high"].astype(float) / per
        ax.fill_between(weeks, low, high, alpha=0.25, label="estimate, 90% interval")
        ax.plot(weeks, weekly[f"est_{key}"] / per, linestyle="--", label="estimate (scores only)")
        realised = weekly.matured.to_numpy()
        values = weekly[key].astype(float) / per
        ax.plot(weeks[realised], values[realised], "ko", label="realised")
        ax.set_ylabel(label)
        ax.legend(fontsize=8, loc="upper left", ncols=3)
        date_axis(ax, weeks)
    for ax in (axes[0][0], axes[2][0]):
        ax.yaxis.set_major_formatter(_percent())
    return png_uri(fig)


def quality_figure(quarantine: pd.DataFrame, drift: pd.DataFrame, threshold: float) -> str:
    """Quarantined share per check per ingest run, and PSI per feature per monitor run."""
    fig, axes = figure_grid(2, 2.8)
    shares, psi = axes[0][0], axes[1][0]
    table = quarantine.pivot_table(index="as_of", columns="check", values="share", aggfunc="sum")
    table = table.drop(columns=[""], errors="ignore").fillna(0.0)
    if not table.empty:  # stacked: the top edge is the run's whole quarantined share
        shares.stackplot(table.index, table.T.to_numpy(), labels=list(table.columns))
        shares.legend(fontsize=7, ncols=3)
    shares.set_ylabel("quarantined share")
    date_axis(shares, quarantine.as_of)
    shares.yaxis.set_major_formatter(_percent())
    for feature, rows in drift.groupby("feature"):
        psi.plot(rows.as_of, rows.psi, marker=".", label=feature)
    psi.axhline(threshold, color="#d62728", linestyle="--", label=f"trigger {threshold:g}")
    psi.set_ylabel("PSI (fixed bins)")
    date_axis(psi, drift.as_of)
    psi.legend(fontsize=7, ncols=4)
    return png_uri(fig)


def date_axis(ax: Any, dates: Any) -> None:
    """Short date ticks that do not run together on a year of weeks."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    if pd.Series(dates).nunique() < 2:  # one date (a first run): no interval to pick
        return
    locator = AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)
