"""Deployments as data: on a work pool each run carries the flow-run environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.definitions import DEPLOYMENTS, runner_deployments


@pytest.mark.slow  # imports every flow (Prefect, MLflow, XGBoost, GX, Evidently)
def test_work_pool_runs_forward_the_package_loggers_to_prefect(home: Path) -> None:
    pool = runner_deployments("leadops-lead-scorer", str(home / "landing"), work_pool="leadops")
    assert [d.name for d in pool] == [spec.name for spec in DEPLOYMENTS]
    for deployment in pool:
        forwarded = deployment.job_variables["env"]["PREFECT_LOGGING_EXTRA_LOGGERS"].split(",")
        assert {"leadops", "tasks", "flows"} <= set(forwarded), deployment.name
    # prefect.serve takes no job variables: served runs inherit the CLI's environment.
    served = runner_deployments("leadops-lead-scorer", str(home / "landing"))
    assert all(not deployment.job_variables for deployment in served)
