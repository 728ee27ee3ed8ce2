"""The decisions on one timeline: every version's gate and rollout steps, as the demo's
picture shows them, drawn from the lake's rollout history."""

from __future__ import annotations

import pandas as pd

from tasks.monitoring.report.figures import date_axis, figure_grid, png_uri

# stage -> (marker, colour, legend text)
MARKS = {
    "production": ("o", "#2ca02c", "production (champion)"),
    "shadow": ("D", "#ff7f0e", "challenger in shadow"),
    "canary": ("^", "#1f77b4", "canary step"),
    "archived": ("x", "#d62728", "archived (gate or rollout)"),
    "paused": ("s", "#7f7f7f", "paused"),
}


def decisions_figure(decisions: pd.DataFrame) -> str:
    """Versions (y) over decision time (x); each transition a marker, canary steps labelled."""
    fig, axes = figure_grid(1, 2.8)
    ax = axes[0][0]
    times = pd.to_datetime(decisions.as_of)
    versions = decisions.version.astype(int)
    for stage, (marker, colour, label) in MARKS.items():
        mine = (decisions.stage == stage).to_numpy()
        if mine.any():
            ax.scatter(times[mine], versions[mine], marker=marker, color=colour, label=label, s=40)
    for row, when, version in zip(decisions.itertuples(), times, versions, strict=True):
        if row.stage == "canary" and pd.notna(row.fraction):
            ax.annotate(
                f"{row.fraction:.0%}",
                (when, version),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
    ax.set_ylabel("model version")
    ax.set_yticks(sorted(set(versions)))
    # below the axes: inside, it hid the newest markers
    ax.legend(fontsize=7, ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    ax.margins(y=0.25)
    date_axis(ax, times)
    return png_uri(fig)
