"""The Evidently workspace: every monitor run as a snapshot, so ``evidently ui`` shows trends.

Each run adds two snapshots to the project "leadops": Evidently's drift report, and a
one-row "trigger PSI" snapshot whose MaxValue metrics are exactly the fixed-bin PSI
values the retrain trigger used (a custom metric class would have to be importable
by the UI process; built-in metrics on a one-row frame need nothing). The project's
dashboard plots both over time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

PROJECT = "leadops"
PSI_PREFIX = "trigger_psi:"


def trigger_psi_snapshot(psi: dict[str, float], as_of: datetime) -> Any:
    """A snapshot whose MaxValue(column="trigger_psi:<feature>") is that feature's PSI."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import MaxValue

    frame = pd.DataFrame({f"{PSI_PREFIX}{name}": [value] for name, value in psi.items()})
    definition = DataDefinition(numerical_columns=list(frame.columns))
    report = Report([MaxValue(column=c) for c in frame.columns], tags=["leadops", "trigger-psi"])
    return report.run(
        Dataset.from_pandas(frame, data_definition=definition),
        None,
        timestamp=as_of.replace(tzinfo=None),
        name=f"trigger PSI {as_of:%Y-%m-%d %H:%M}",
    )


def _dashboard(project: Any, features: list[str]) -> None:
    # tab=None on purpose: evidently 0.7.23's add_panel lists a panel twice when it
    # is given the name of a tab that already exists.
    from evidently.sdk.models import PanelMetric
    from evidently.sdk.panels import line_plot_panel

    trigger = [
        PanelMetric(legend=f, metric="MaxValue", metric_labels={"column": f"{PSI_PREFIX}{f}"})
        for f in features
    ]
    project.dashboard.add_panel(
        line_plot_panel("PSI per feature, fixed bins (the retrain trigger)", trigger)
    )
    evidently_psi = [
        PanelMetric(legend=f, metric="ValueDrift", metric_labels={"column": f}) for f in features
    ]
    project.dashboard.add_panel(
        line_plot_panel("Evidently PSI per column (sampled)", evidently_psi)
    )
    share = [
        PanelMetric(
            legend="share of drifted columns",
            metric="DriftedColumnsCount",
            metric_labels={"value_type": "share"},
        )
    ]
    project.dashboard.add_panel(line_plot_panel("Dataset drift share (Evidently)", share))


def project_for(workspace: Any, features: list[str]) -> Any:
    """The "leadops" project, created with its dashboard on first use."""
    found = [p for p in workspace.search_project(PROJECT) if p.name == PROJECT]
    if found:
        return found[0]
    project = workspace.create_project(PROJECT, description="LeadOps drift monitoring")
    try:
        _dashboard(project, features)
    except Exception as exc:  # a dashboard layout problem must not lose the run
        log.warning("evidently dashboard not created: %s", exc)
    return project


def snapshot_workspace(path: Path) -> Any:
    """Evidently's local ``Workspace`` at ``path`` without its dataset manager.

    ``Workspace(path)`` builds a dataset manager that parses every snapshot already in
    the workspace (measured: 13 s of a 18 s monitor run at 78 snapshots, growing by two
    per run). Projects, dashboards and runs without data, all LeadOps uses, go through
    the workspace's file state alone, so the same files are written without that cost;
    ``evidently ui`` and ``Workspace(path)`` read them as their own (tested).
    """
    from evidently.ui.storage.local.base import LocalState
    from evidently.ui.workspace import Workspace

    class SnapshotWorkspace(Workspace):
        def __init__(self, where: str) -> None:  # no super(): that is the parse we skip
            self.path = where
            self.state = LocalState(where)

    return SnapshotWorkspace(str(path))


def add_to_workspace(path: Path, snapshots: list[Any], features: list[str]) -> str:
    """Add the run's snapshots to the workspace at ``path``; returns the project id."""
    path.mkdir(parents=True, exist_ok=True)
    workspace = snapshot_workspace(path)
    project = project_for(workspace, features)
    for snapshot in snapshots:
        workspace.add_run(project.id, snapshot, include_data=False)
    return str(project.id)
