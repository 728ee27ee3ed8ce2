"""Register every LeadOps deployment on a Prefect work pool (production).

    prefect work-pool create leadops --type process
    export PREFECT_API_URL=http://prefect.internal:4200/api
    python -m deployments.deploy --work-pool leadops
    prefect worker start --pool leadops      # on each host that runs flows (with this checkout)

The deployments, schedules, parameters and the retrain trigger are the same table
``leadops serve`` uses (deployments/definitions.py). A process pool runs the flows from
this checkout on the worker's host; for containers, build an image with the project
and pass ``--image``.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-pool", required=True, help="An existing Prefect work pool.")
    parser.add_argument(
        "--image", default=None, help="Container image holding this project (docker/k8s pools)."
    )
    args = parser.parse_args(argv)

    from prefect import deploy

    from deployments.definitions import runner_deployments
    from leadops.settings import get_settings

    settings = get_settings()
    deployments = runner_deployments(
        settings.model_name, settings.landing_uri, work_pool=args.work_pool
    )
    ids = deploy(
        *deployments,
        work_pool_name=args.work_pool,
        image=args.image,
        build=False,
        push=False,
        print_next_steps_message=False,
    )
    print(f"registered {len(ids)} deployments on work pool {args.work_pool!r}")
    from deployments.notifications import register as register_alerts

    alerts = register_alerts(settings)
    print(
        f"registered {len(alerts)} alert automations"
        if alerts
        else "alerts: off (no LEADOPS_NOTIFY_*)"
    )


if __name__ == "__main__":
    main()
