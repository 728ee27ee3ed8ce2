"""A permanent error fails a flow at once: no retry of a task that cannot succeed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from leadops.models.registry import NoChampionError
from leadops.settings import get_settings


async def _task_runs(flow_run_id: object) -> dict[str, int]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    async with get_client() as client:
        runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_DESC,
            limit=50,
        )
    return {run.name.rsplit("-", 1)[0]: run.run_count for run in runs}


def test_monitor_without_a_champion_fails_without_retrying(home: Path) -> None:
    from flows.monitor import monitor

    state = monitor(return_state=True)
    assert state.is_failed()
    with pytest.raises(NoChampionError):
        state.result()
    runs = asyncio.run(_task_runs(state.state_details.flow_run_id))
    assert runs["load-monitor-inputs"] == 1  # ran once: no 5 s + 30 s of retries


def test_score_with_a_corrupt_champion_file_fails_without_retrying(home: Path) -> None:
    """A model file that does not load stays so: load-serving-models runs once (not 12 s more)."""
    from flows.score import score
    from tests.support.models import register
    from tests.support.scoring import train_tiny, typed_week, write_crm

    week = typed_week(write_crm(home / "crm"), 1)
    register(get_settings(), *train_tiny(week, rounds=5, seed=0))
    models = [p for p in home.rglob("booster.json") if p.is_file()]
    assert models, "the registered model's file"
    for path in models:
        path.write_bytes(b"not a booster")
    state = score(return_state=True)
    assert state.is_failed()
    runs = asyncio.run(_task_runs(state.state_details.flow_run_id))
    assert runs["load-serving-models"] == 1
