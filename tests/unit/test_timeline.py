"""The demo's timeline picture stays readable over a 26-week run."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import pytest

from app.demo.demo import WeekRecord
from app.demo.timeline import plot_timeline


def demo_like_weeks() -> list[WeekRecord]:
    """A retrain every week from week 9, then a challenger moving a step every week."""
    stages = ["shadow", "shadow", "canary 10%", "canary 50%", "canary 100%"]
    records = []
    for week in range(8, 27):
        record = WeekRecord(week, datetime(2026, 1, 1, tzinfo=UTC), max_psi=1.3, champion="1")
        record.events.append(
            "trained v1: champion" if week == 8 else f"retrain (drift): v{week - 7} rejected"
        )
        if 12 <= week < 12 + len(stages):
            record.challenger, record.challenger_stage = "5", stages[week - 12]
        records.append(record)
    return records


def test_no_two_labels_of_the_model_panel_overlap(tmp_path: Path) -> None:
    """The labels "v1 champion v2 rejected ..." and "canary 10% canary 50%" ran together."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    plot_timeline(demo_like_weeks(), 0.25, 0.1, tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 0
    # plot_timeline closes its figure; draw the same one again to measure the labels.
    captured = {}
    original = plt.close
    plt.close = lambda fig=None: captured.setdefault("fig", fig)
    try:
        plot_timeline(demo_like_weeks(), 0.25, 0.1, tmp_path / "t2.png")
    finally:
        plt.close = original
    fig = captured["fig"]
    renderer = fig.canvas.get_renderer()
    panel = fig.axes[2]
    # The texts alone: an annotation's own extent also spans its arrow.
    boxes = [Text.get_window_extent(text, renderer) for text in panel.texts]
    assert len(boxes) >= 20
    clashes = [(a, b) for a, b in combinations(range(len(boxes)), 2) if boxes[a].overlaps(boxes[b])]
    assert clashes == [], [
        (panel.texts[a].get_text(), panel.texts[b].get_text()) for a, b in clashes
    ]
    plt.close(fig)
