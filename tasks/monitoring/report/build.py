"""Read what the page needs from the lake and the Evidently workspace, and write the page.

One page per model name: ``<home>/reports/model-<name>.html``, written atomically (a
browser or ``leadops serve`` never sees half a page).
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from leadops.inputs.contract import load_contract
from leadops.logs import prediction_log as plog
from leadops.settings import Settings
from leadops.storage.local import open_lake
from leadops.storage.tables import PREDICTION_LOG
from tasks.monitoring.report import records
from tasks.monitoring.report.layout import PageInputs
from tasks.monitoring.report.page import render
from tasks.monitoring.report.readiness import champion_version, readiness_line, training_metrics
from tasks.monitoring.report.served import served_outcomes


def page_path(settings: Settings, model_name: str) -> Path:
    """Where the page of ``model_name`` lives (a stable name: ``leadops serve`` links it)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model_name)
    return settings.reports_dir / f"model-{safe}.html"


def gather(settings: Settings, model_name: str, as_of: datetime) -> PageInputs:
    """Everything the page shows, as of ``as_of`` (outcomes known until then)."""
    lake = open_lake(settings)
    contract = load_contract(settings.contract_path)
    served = served_outcomes(lake, contract, model_name, as_of)
    decisions = records.decisions(lake)
    if not decisions.empty:
        decisions = decisions[decisions.as_of <= as_of]
    version = champion_version(decisions)
    training = training_metrics(decisions, version)
    return PageInputs(
        model_name=model_name,
        as_of=as_of,
        served=served,
        quarantine=records.quarantine_shares(lake),
        drift=records.drift_records(settings.home / "evidently", lake),
        decisions=decisions,
        readiness=readiness_line(
            served,
            contract.event_time,
            version,
            training,
            settings.capacity_fraction,
            settings.rollout_noninferiority_margin,
        ),
        capacity=settings.capacity_fraction,
        psi_threshold=settings.psi_threshold,
    )


def model_names(settings: Settings) -> list[str]:
    """Every model name the prediction log holds, and the configured one (a page even before
    its first score says "nothing yet" rather than being missing)."""
    logged = open_lake(settings).read_table(PREDICTION_LOG, columns=[plog.MODEL_NAME])
    return sorted({settings.model_name, *logged[plog.MODEL_NAME].dropna().astype(str)})


def write_pages(settings: Settings, as_of: datetime) -> list[Path]:
    """One page per model name; returns their paths."""
    return [write_page(settings, name, as_of) for name in model_names(settings)]


def write_page(settings: Settings, model_name: str, as_of: datetime) -> Path:
    """Build the page and replace the previous one atomically; returns its path."""
    page = render(gather(settings, model_name, as_of))
    path = page_path(settings, model_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".html.tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(page)
    os.replace(temporary, path)
    return path
