"""The monitor flow's last step: rewrite the model pages and link them as a Prefect artifact."""

from __future__ import annotations

import re
from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact
from prefect.cache_policies import NO_CACHE

from leadops.settings import get_settings
from tasks.monitoring.report.build import write_pages


@task(name="publish-model-page", cache_policy=NO_CACHE)
def publish_model_page(as_of: datetime) -> list[str]:
    """Write ``<home>/reports/model-<name>.html`` for every model name; a failure is logged,
    never raised: the page is a view of the monitor's findings, not one of them."""
    try:
        paths = write_pages(get_settings(), as_of)
    except Exception as exc:  # noqa: BLE001 (any failure: the monitor's decisions stand)
        get_run_logger().warning("model page not written: %s", exc)
        return []
    for path in paths:
        create_link_artifact(
            key=re.sub(r"[^a-z0-9-]", "-", path.stem.lower()).replace("model-", "model-page-", 1),
            link=path.as_uri(),
            link_text=f"Is the model working? {path.name} as of {as_of:%Y-%m-%d %H:%M}",
            description="Conversion by tier, served accuracy, label-free estimate, data "
            "quality, decisions (`leadops serve` serves it too)",
        )
    return [str(p) for p in paths]
