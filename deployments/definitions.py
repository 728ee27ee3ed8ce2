"""Every LeadOps deployment as data: schedules, parameters, triggers.

The same table feeds ``leadops serve`` (a local Prefect server serving all
deployments from this process) and ``python -m deployments.deploy`` (a work pool
in production). Flows never carry their own schedules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from leadops.models.events import RETRAIN_REQUESTED as RETRAIN_EVENT
from leadops.models.events import model_resource


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: which flow, when it runs, with which parameters."""

    name: str
    entrypoint: str  # "flows/train.py:train" — also what a work pool deployment runs
    cron: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    retrain_trigger: bool = False
    # One run at a time per deployment: the registry's aliases are last-writer-wins.
    concurrency_limit: int = 1

    @property
    def module(self) -> str:
        return self.entrypoint.split(":")[0].removesuffix(".py").replace("/", ".")

    @property
    def flow_name(self) -> str:
        return self.entrypoint.split(":")[1]


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="ingest-landing",
        entrypoint="flows/ingest.py:ingest",
        cron="*/15 * * * *",
        parameters={"source": "{landing}/leads", "kind": "leads"},
        description=(
            "Every 15 minutes: new CRM lead files from the landing folder (LEADOPS_LANDING_ROOT)."
        ),
    ),
    DeploymentSpec(
        name="ingest-outcomes",
        entrypoint="flows/ingest.py:ingest",
        cron="7,37 * * * *",
        parameters={"source": "{landing}/outcomes", "kind": "outcomes"},
        description="Twice an hour: new outcome (conversion) files.",
    ),
    DeploymentSpec(
        name="score-daily",
        entrypoint="flows/score.py:score",
        cron="0 6 * * *",
        description="Daily: score leads not scored yet with the champion (+ shadow / canary).",
    ),
    DeploymentSpec(
        name="monitor-daily",
        entrypoint="flows/monitor.py:monitor",
        cron="30 6 * * *",
        description="Daily: drift and matured conversion; emits the retrain event.",
    ),
    DeploymentSpec(
        name="rollout-daily",
        entrypoint="flows/rollout.py:rollout",
        cron="0 7 * * *",
        description="Daily: move the challenger one step (shadow → canary → production).",
    ),
    DeploymentSpec(
        name="retrain",
        entrypoint="flows/train.py:train",
        cron="0 3 * * 1",
        parameters={"reason": "schedule"},
        description="Weekly retrain; also run by hand and by the drift/conversion event.",
        retrain_trigger=True,
    ),
)


# The CRM database as a source (leadops.inputs.db_source), when LEADOPS_CRM_DATABASE_URL is set:
# each run takes the rows changed since the last committed watermark, so a short period costs
# little. "{crm}" is that URL (never with a password: it is a visible parameter).
CRM_DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="ingest-crm-leads",
        entrypoint="flows/ingest.py:ingest",
        cron="*/15 * * * *",
        parameters={"source": "{crm}", "kind": "leads"},
        description="Every 15 minutes: leads changed in the CRM database since the last run.",
    ),
    DeploymentSpec(
        name="ingest-crm-outcomes",
        entrypoint="flows/ingest.py:ingest",
        cron="7,37 * * * *",
        parameters={"source": "{crm}", "kind": "outcomes"},
        description="Twice an hour: outcomes changed in the CRM database since the last run.",
    ),
)


def active_specs(crm_database_url: str | None) -> tuple[DeploymentSpec, ...]:
    """Every deployment, with the database ingests when a CRM database is configured.

    Raises:
        LeadOpsError: the URL holds a password (it would be a visible parameter).
    """
    if not crm_database_url:
        return DEPLOYMENTS
    from leadops.inputs.db_source import DatabaseSource

    DatabaseSource.parse(crm_database_url, "leads")  # refuses a URL holding a password
    return DEPLOYMENTS + CRM_DEPLOYMENTS


def load_flow(spec: DeploymentSpec) -> Any:
    """Import the flow object a spec names (imports Prefect and the stage code)."""
    return getattr(importlib.import_module(spec.module), spec.flow_name)


def retrain_trigger(model_name: str) -> Any:
    """A deployment trigger: each retrain event starts one train run with its reason."""
    from prefect.events import DeploymentEventTrigger

    return DeploymentEventTrigger(
        name="retrain-on-drift-or-conversion-drop",
        expect={RETRAIN_EVENT},
        match={"prefect.resource.id": model_resource(model_name)["prefect.resource.id"]},
        parameters={
            "reason": "{{ event.payload.reason }}",
            "as_of": "{{ event.payload.as_of }}",
        },
    )


def resolved_parameters(spec: DeploymentSpec, landing: str, crm: str = "") -> dict[str, Any]:
    """The spec's parameters with ``{landing}`` replaced by the configured landing root
    (and ``{crm}`` by the CRM database URL)."""
    return {
        key: value.replace("{landing}", landing).replace("{crm}", crm)
        if isinstance(value, str)
        else value
        for key, value in spec.parameters.items()
    }


def runner_deployments(model_name: str, landing: str, work_pool: str | None = None) -> list[Any]:
    """RunnerDeployments for ``prefect.serve`` (work_pool None) or a work pool.

    On a work pool each run carries the flow-run environment as job variables (the worker's
    process knows nothing of the CLI), so our package loggers reach the run's logs there too;
    ``prefect.serve`` takes no job variables: its runs inherit the serving process's environment.
    """
    from leadops.runners import flow_run_environment, with_task_runner
    from leadops.settings import get_settings

    deployments = []
    crm = get_settings().crm_database_url
    for spec in active_specs(crm):
        flow = with_task_runner(load_flow(spec), get_settings())
        deployments.append(
            flow.to_deployment(
                name=spec.name,
                cron=spec.cron,
                parameters=resolved_parameters(spec, landing, crm or ""),
                description=spec.description,
                triggers=[retrain_trigger(model_name)] if spec.retrain_trigger else None,
                tags=["leadops"],
                concurrency_limit=spec.concurrency_limit,
                work_pool_name=work_pool,
                job_variables={"env": flow_run_environment()} if work_pool else None,
            )
        )
    return deployments
