"""Start runs of served or deployed flows on a Prefect server (``--via-server``)."""

from __future__ import annotations

import os
from typing import Any

from leadops.errors import LeadOpsError


class NoServer(LeadOpsError):
    """No Prefect server is configured, or it does not know the deployment."""


def start_deployment_run(deployment: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Create a flow run of ``deployment`` ("flow/deployment") and return without waiting."""
    if not os.environ.get("PREFECT_API_URL"):
        raise NoServer(
            "--via-server: PREFECT_API_URL is not set; start `leadops serve` and export "
            "the PREFECT_API_URL it prints"
        )
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run = run_deployment(
            deployment, parameters=parameters, timeout=0, tags=["leadops", "manual"]
        )
    except ObjectNotFound:
        raise NoServer(
            f"deployment {deployment!r} not found on {os.environ['PREFECT_API_URL']}; "
            "is `leadops serve` (or python -m deployments.deploy) running there?"
        ) from None
    ui = os.environ["PREFECT_API_URL"].rstrip("/").removesuffix("/api")
    return {
        "flow_run_id": str(run.id),
        "flow_run_name": run.name,
        "deployment": deployment,
        "parameters": parameters,
        "url": f"{ui}/runs/flow-run/{run.id}",
    }
