"""``leadops approve`` / ``leadops reject``: answer a rollout step waiting for approval.

On a Prefect server the waiting step is a paused ``rollout`` flow run: it is resumed with
the same ``ApprovalInput`` the UI's form sends. Without one, the decision is written on
the pending approval in the lake and, for an approval, the rollout step runs at once.
"""

from __future__ import annotations

import getpass
from typing import Any

from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.rollout import approval


def paused_rollout_runs() -> list[Any]:
    """The ``rollout`` flow runs paused on the configured Prefect server (none without one)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    if not approval.server_configured():
        return []
    paused = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )
    # Prefect 3.8 refuses limit=null and sort=null, which the client sends by default.
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["rollout"])),
            flow_run_filter=paused,
            limit=50,
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        )


def answer(decision: str, comment: str = "", by: str | None = None) -> dict[str, Any]:
    """Resume every paused rollout run with the decision; else record it in the lake.

    Returns:
        ``resumed``: the flow run ids resumed; ``pending``: the lake's approval record as
        updated (None when a run was resumed).

    Raises:
        NoPendingApprovalError: nothing is waiting for an approval.
    """
    from prefect.flow_runs import resume_flow_run

    given = approval.ApprovalInput(decision=decision, comment=comment, by=by or getpass.getuser())
    runs = paused_rollout_runs()
    for run in runs:
        resume_flow_run(run.id, run_input=given.model_dump())
    if runs:
        return {"resumed": [str(run.id) for run in runs], "pending": None, **given.model_dump()}
    record = approval.give(open_lake(get_settings()), decision, given.by, comment)
    return {"resumed": [], "pending": record, **given.model_dump()}
