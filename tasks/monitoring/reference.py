"""The champion's training reference: what "no drift" means for the model in production.

Rebuilt from the model version's lineage (the gold table version it was trained
on, read back with Delta time travel, and its training as-of / window), scored
once with the model itself, and cached in the lake as
``reports/reference/<name>-v<version>.parquet`` so later monitor runs read one file.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from leadops.clock import utc
from leadops.errors import LeadOpsError
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LABEL, label_matured, outcome_watermark
from leadops.storage.lake import Lake
from leadops.storage.tables import GOLD_LEADS

log = logging.getLogger(__name__)

REFERENCE_PREFIX = "reports/reference"
SCORE = "score"


class ReferenceError(LeadOpsError):
    """The champion's training data cannot be rebuilt."""


@dataclass(frozen=True)
class Lineage:
    """Where a model version's training data came from."""

    gold_version: int | None
    as_of: datetime | None
    training_window_days: int | None


def reference_key(model_name: str, version: str | int) -> str:
    return f"{REFERENCE_PREFIX}/{model_name}-v{version}.parquet"


def _first(mapping: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if mapping.get(key) not in (None, "", "None", "null"):
            return mapping[key]
    return None


def lineage_of(client: Any, model_version: Any) -> Lineage:
    """Read the lineage the train stage recorded on the version and its run."""
    tags = dict(model_version.tags or {})
    run = client.get_run(model_version.run_id) if model_version.run_id else None
    if run is not None:
        tags = {**run.data.params, **run.data.tags, **tags}
    # The train stage's lineage tags (tasks/training/tracking.py) and run parameters.
    gold = _first(tags, "leadops.gold_version", "gold_version")
    as_of = _first(tags, "leadops.as_of", "as_of")
    window = _first(tags, "training_window_days", "leadops.training_window_days")
    if as_of is None and run is not None:
        as_of = datetime.fromtimestamp(run.info.start_time / 1000).isoformat()
    return Lineage(
        gold_version=int(gold) if gold is not None else None,
        as_of=utc(datetime.fromisoformat(str(as_of))) if as_of is not None else None,
        training_window_days=int(float(window)) if window is not None else None,
    )


def gold_at(lake: Lake, version: int | None) -> pd.DataFrame:
    """The gold table as of Delta version ``version`` (the current one when None)."""
    from deltalake import DeltaTable

    if version is None:
        return lake.read_table(GOLD_LEADS)
    try:
        table = DeltaTable(
            lake.table_uri(GOLD_LEADS), version=version, storage_options=lake.storage_options
        )
    except Exception as exc:  # a vacuumed or missing version
        raise ReferenceError(
            f"table {GOLD_LEADS} version {version}: cannot be read back ({exc})"
        ) from exc
    return table.to_pyarrow_dataset().to_table().to_pandas()


def build_reference(lake: Lake, contract: Contract, lineage: Lineage, predict: Any) -> pd.DataFrame:
    """The matured, labelled leads the version was trained (and tested) on, with its scores."""
    gold = gold_at(lake, lineage.gold_version)
    if lineage.as_of is None:
        raise ReferenceError("the champion's training time is unknown: its run has no as-of tag")
    frame = label_matured(
        gold,
        contract,
        lineage.as_of,
        lineage.training_window_days,
        outcome_watermark(gold, contract),
    )
    if frame.empty:
        raise ReferenceError(
            f"table {GOLD_LEADS} version {lineage.gold_version}: "
            f"no matured leads as of {lineage.as_of}"
        )
    frame[SCORE] = predict(frame[contract.lead_columns])
    return frame[[*contract.lead_columns, contract.label, contract.label_time, LABEL, SCORE]]


def load_reference(
    lake: Lake, contract: Contract, model_name: str, version: str, lineage: Any, predict: Any
) -> tuple[pd.DataFrame, bool]:
    """The cached reference of ``version``, built and cached on first use.

    Args:
        lineage: a ``Lineage`` or a zero-argument callable returning one (only
            called when the cache misses, so a cached run needs no registry).
        predict: rows → probabilities with the version's model (only called on a miss).

    Returns:
        (reference frame, whether it came from the cache).
    """
    key = reference_key(model_name, version)
    if lake.exists(key):
        return pd.read_parquet(io.BytesIO(lake.read_bytes(key))), True
    frame = build_reference(lake, contract, lineage() if callable(lineage) else lineage, predict)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    lake.write_bytes(key, buffer.getvalue())
    log.info(
        "cached the training reference of %s v%s (%d rows) at %s",
        model_name,
        version,
        len(frame),
        key,
    )
    return frame, False
