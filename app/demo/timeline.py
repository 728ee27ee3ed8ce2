"""The demo's timeline picture: drift, conversion and models in service per week."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def plot_timeline(
    records: Sequence[Any], psi_threshold: float, drop_threshold: float, path: Path
) -> Path:
    """Write a three-panel PNG: max PSI, tested conversion, model versions in service.

    Args:
        records: ``app.demo.demo.WeekRecord`` rows, one per simulated week.
        psi_threshold: the drift trigger, drawn as a line.
        drop_threshold: relative conversion drop that triggers a retrain.
        path: where the PNG goes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks = [r.week for r in records]
    # Half an inch a week keeps a 26-week run's labels apart (10 inches fit 17 weeks).
    width = max(10.0, 0.5 * len(weeks) + 2)
    fig, (ax_psi, ax_conv, ax_model) = plt.subplots(3, 1, figsize=(width, 8), sharex=True)

    psi = [r.max_psi if r.max_psi is not None else float("nan") for r in records]
    ax_psi.bar(weeks, psi, color=["#d62728" if p > psi_threshold else "#1f77b4" for p in psi])
    ax_psi.axhline(psi_threshold, color="#d62728", linestyle="--", label=f"trigger {psi_threshold}")
    ax_psi.set_ylabel("max feature PSI")
    ax_psi.legend(loc="upper left")

    rate = [r.conversion_rate if r.conversion_rate is not None else float("nan") for r in records]
    base = [r.baseline_rate if r.baseline_rate is not None else float("nan") for r in records]
    ax_conv.plot(weeks, rate, marker="o", label="conversion the monitor tested (recent cohorts)")
    ax_conv.plot(weeks, base, color="grey", linestyle=":", label="champion baseline")
    ax_conv.plot(
        weeks,
        [b * (1 - drop_threshold) for b in base],
        color="#d62728",
        linestyle="--",
        label=f"-{drop_threshold:.0%} trigger",
    )
    ax_conv.set_ylabel("conversion rate")
    ax_conv.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax_conv.legend(loc="upper left", fontsize=8)

    champion = [_version(r.champion) for r in records]
    challenger = [_version(r.challenger) for r in records]
    ax_model.step(weeks, champion, where="mid", label="champion version", linewidth=2)
    ax_model.scatter(
        weeks, challenger, marker="s", color="#ff7f0e", label="challenger (shadow/canary)"
    )
    # Labels of neighbouring weeks alternate between two heights so they never overlap.
    staged = trained = 0
    for r in records:
        if r.challenger and r.challenger_stage:
            ax_model.annotate(
                r.challenger_stage.replace(" 0%", ""),
                (r.week, _version(r.challenger)),
                xytext=(0, -12 - 10 * (staged % 2)),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
            staged += 1
        trains = [e for e in r.events if e.startswith(("retrain", "trained"))]
        lift = 12 * (trained % 2) * len(trains)
        trained += bool(trains)
        for i, event in enumerate(trains):
            ax_model.annotate(
                _train_label(event),
                (r.week, _version(r.champion) or 0),
                xytext=(0, 16 + lift + 10 * i),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                arrowprops={"arrowstyle": "->"} if i == 0 else None,
            )
        if any("production" in e for e in r.events):
            ax_model.scatter(
                [r.week],
                [_version(r.champion)],
                marker="*",
                s=250,
                color="gold",
                edgecolor="black",
                zorder=5,
                label="promotion",
            )
    ax_model.yaxis.get_major_locator().set_params(integer=True)
    top = max([v for v in champion + challenger if v == v] or [1.0])
    ax_model.set_ylim(0.5, top + 1.2)
    ax_model.set_ylabel("model version")
    ax_model.set_xlabel("simulated week")
    ax_model.legend(loc="upper left", fontsize=8)
    ax_model.set_xticks(weeks)

    fig.suptitle("LeadOps demo timeline: drift → retrain → shadow → canary → production")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _version(value: str | None) -> float:
    try:
        return float(value) if value is not None else float("nan")
    except ValueError:
        return float("nan")


def _train_label(event: str) -> str:
    """ "retrain (drift): v2 rejected" -> "v2 rejected"; "trained v1: champion" -> "v1 champion"."""
    tail = (
        event.split(": ", 1)[-1] if event.startswith("retrain") else event.removeprefix("trained ")
    )
    return tail.replace(":", "")
