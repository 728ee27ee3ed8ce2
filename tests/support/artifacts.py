"""Read Prefect artifacts back from the API the flows published them to.

Not ``Artifact.get`` nor ``client.read_artifacts``: in prefect 3.8.8 the former sends null
filters the server refuses (HTTP 422), and the latter's flow-run and task-run filters, even
empty, inner-join on task runs and so drop every artifact a flow (not a task) created.
"""

from __future__ import annotations

from typing import Any


def read_artifacts(
    key: str | None = None, flow_run_id: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Artifacts newest first, optionally only those with ``key`` or of one flow run."""
    from prefect.client.orchestration import get_client

    artifact_filter: dict[str, Any] = {}
    if key is not None:
        artifact_filter["key"] = {"any_": [key]}
    if flow_run_id is not None:
        artifact_filter["flow_run_id"] = {"any_": [str(flow_run_id)]}
    with get_client(sync_client=True) as client:
        response = client.request(
            "POST",
            "/artifacts/filter",
            json={
                "artifacts": artifact_filter,
                "sort": "CREATED_DESC",
                "limit": limit,
                "offset": 0,
            },
        )
    response.raise_for_status()
    return response.json()


def latest_artifact(key: str) -> str:
    """The markdown of the newest artifact ``key``, or "" when there is none."""
    found = read_artifacts(key=key, limit=1)
    return found[0]["data"] if found else ""
