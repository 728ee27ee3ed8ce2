"""Monitor runs land in the Evidently workspace as Evidently itself reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.monitoring.workspace import PROJECT, add_to_workspace, trigger_psi_snapshot

AT = datetime(2026, 5, 4, tzinfo=UTC)


def test_runs_added_without_the_dataset_manager_are_evidently_runs(tmp_path) -> None:
    from evidently.ui.workspace import Workspace

    features = ["company_size", "lead_source"]
    for week in range(3):
        psi = {"company_size": 0.1 * week, "lead_source": 0.02}
        project = add_to_workspace(
            tmp_path, [trigger_psi_snapshot(psi, AT + timedelta(weeks=week))], features
        )

    workspace = Workspace(str(tmp_path))  # Evidently's own, as `evidently ui` opens it
    [found] = workspace.search_project(PROJECT)
    assert str(found.id) == project
    runs = workspace.list_runs(found.id)
    assert len(runs) == 3
    loaded = workspace.get_run(found.id, runs[0])
    assert loaded is not None and loaded.metric_results
    panels = workspace.state.read_dashboard(found.id).panels
    assert len(panels) >= 2  # the trend panels, made once with the project
