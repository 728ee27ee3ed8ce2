"""Where parallel work runs: in this process (threads / local processes) or on a Dask cluster.

``LEADOPS_TASK_RUNNER=dask`` sends the two parallel parts of LeadOps, the Optuna
trials and the scoring partitions, to Dask: the scheduler at
``LEADOPS_DASK_ADDRESS``, or a LocalCluster of ``LEADOPS_DASK_WORKERS`` worker
processes started for the run and stopped after it. ``task_runner()`` gives the
matching Prefect task runner for a flow (prefect-dask's DaskTaskRunner), and
``dask_client()`` the client the plain-Python code submits to; inside a flow run
on a DaskTaskRunner it joins that runner's cluster instead of starting another.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from leadops.errors import LeadOpsError, one_line
from leadops.settings import Settings

if TYPE_CHECKING:
    from distributed import Client as DaskClient
    from prefect import Flow
    from prefect.task_runners import TaskRunner

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 20

# Plain code logs with logging.getLogger(__name__); Prefect sends these loggers to the run's
# logs (UI, API) only when named here, so every process that runs flows needs the variable.
FORWARDED_LOGGERS = "leadops,tasks,flows"


def flow_run_environment() -> dict[str, str]:
    """Environment variables every flow-run process needs: the CLI's own process, the runner
    of ``leadops serve`` (it inherits them) and a work pool's worker (job variables)."""
    return {"PREFECT_LOGGING_EXTRA_LOGGERS": FORWARDED_LOGGERS}


class DaskError(LeadOpsError):
    """The Dask cluster could not be reached or started."""


def uses_dask(settings: Settings) -> bool:
    return settings.task_runner == "dask"


def local_cluster_kwargs(workers: int) -> dict[str, Any]:
    """One process per worker sharing the cores; loopback only, no dashboard."""
    threads = max(1, (os.cpu_count() or 2) // workers)
    # Sleeping, not spinning, OpenMP threads: XGBoost in several workers shares the cores.
    return {
        "n_workers": workers,
        "threads_per_worker": threads,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": None,
        "env": {"OMP_WAIT_POLICY": "PASSIVE"},
    }


def task_runner(settings: Settings) -> TaskRunner[Any]:
    """The Prefect task runner the settings select (threads by default)."""
    if not uses_dask(settings):
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner()
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs=local_cluster_kwargs(settings.dask_workers),
    )


def with_task_runner(flow: Flow, settings: Settings) -> Flow:
    """``flow`` running on the task runner the settings select (unchanged for the default).

    With Dask, the flow run owns one cluster (DaskTaskRunner) and the search and scoring
    code joins it (``dask_client``) instead of starting its own.
    """
    return flow.with_options(task_runner=task_runner(settings)) if uses_dask(settings) else flow


def _flow_runner_address() -> str | None:
    """The scheduler of the current flow run's DaskTaskRunner, if it has one."""
    try:
        from prefect.context import FlowRunContext
        from prefect_dask import DaskTaskRunner
    except ImportError:
        return None
    context = FlowRunContext.get()
    runner = getattr(context, "task_runner", None) if context else None
    client = getattr(runner, "_client", None) if isinstance(runner, DaskTaskRunner) else None
    return client.scheduler.address if client is not None else None


def _on_dask_worker() -> bool:
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


@contextmanager
def dask_client(
    address: str | None = None, workers: int = 2, timeout: float = CONNECT_TIMEOUT_S
) -> Iterator[Any]:
    """A ``distributed.Client`` for this unit of work; a LocalCluster started here stops on exit.

    Args:
        address: a scheduler (``tcp://host:8786``); none: a LocalCluster of ``workers``.

    Raises:
        DaskError: the scheduler at ``dask_address`` did not answer, or a local cluster failed.
    """
    from distributed import Client, LocalCluster, worker_client

    if _on_dask_worker():
        # A task the DaskTaskRunner placed on a worker: submit from it without
        # holding the worker's slot (worker_client secedes while waiting).
        with worker_client() as client:
            yield client
        return
    address = _flow_runner_address() or address
    if address:
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise DaskError(
                f"dask scheduler {address}: cannot connect ({one_line(exc)}); "
                "check LEADOPS_DASK_ADDRESS"
            ) from exc
        with client:
            yield client
        return
    n = workers
    try:
        cluster = LocalCluster(**local_cluster_kwargs(n))
    except Exception as exc:  # distributed raises several unrelated types at start-up
        raise DaskError(
            f"dask LocalCluster of {n} workers: failed to start ({one_line(exc)})"
        ) from exc
    with cluster, Client(cluster, set_as_default=False) as client:
        log.info("dask: LocalCluster of %d workers started for this run", n)
        yield client


def worker_count(client: DaskClient) -> int:
    return max(1, len(client.nthreads()))


def worker_threads(client: DaskClient) -> int:
    """Threads of the smallest worker: what one task on it may use."""
    return max(1, min(client.nthreads().values(), default=1))
