"""Outcomes dated before their lead was created: a check across the two files.

A conversion time before the lead's creation is a CRM error (a merged record, a
time zone written as local time): counted, it would be a conversion inside the
outcome window whatever the window is. The check needs the lead, so it runs when
the lead is already in silver; an outcome that arrives before its lead is not
checked here (its label is decided from the times as they are).
"""

from __future__ import annotations

import pandas as pd

from leadops.inputs.contract import Contract
from leadops.storage import tables
from leadops.storage.lake import Lake


def before_creation_name(contract: Contract) -> str:
    """The failed-expectation name a quarantined outcome row lists."""
    return f"{contract.label_time}:after_created"


def lead_created(lake: Lake, contract: Contract, typed: pd.DataFrame) -> pd.Series:
    """Each outcome row's lead creation time from silver (NaT: the lead is not there yet)."""
    none = pd.Series(pd.NaT, index=typed.index, dtype="datetime64[ns, UTC]")
    dated = typed[typed[contract.label_time].notna()]
    if dated.empty or not lake.table_exists(tables.silver("leads")):
        return none
    ids = dated[contract.entity_id].astype(str)
    leads = lake.read_table(
        tables.silver("leads"),
        columns=[contract.entity_id, contract.event_time],
        filters=[(contract.entity_id, "in", ids.unique().tolist())],
    )
    if leads.empty:
        return none
    created = pd.to_datetime(
        leads.astype({contract.entity_id: str})
        .drop_duplicates(contract.entity_id, keep="last")
        .set_index(contract.entity_id)[contract.event_time],
        utc=True,
    )
    return pd.to_datetime(typed[contract.entity_id].astype(str).map(created), utc=True)


def dated_before_creation(contract: Contract, typed: pd.DataFrame, created: pd.Series) -> pd.Index:
    """Index labels of ``typed`` outcome rows whose time is before their lead's creation
    (``created``: from :func:`lead_created`)."""
    early = pd.to_datetime(typed[contract.label_time], utc=True) < created
    return typed.index[early.fillna(False).to_numpy(dtype=bool)]


def with_failures(failures: pd.Series, labels: pd.Index, name: str, order: pd.Index) -> pd.Series:
    """``failures`` (index label → failed names) with ``name`` added for ``labels``."""
    if not len(labels):
        return failures
    merged = {label: list(names) for label, names in failures.items()}
    for label in labels:
        merged.setdefault(label, []).append(name)
    kept = order[order.isin(list(merged))]
    return pd.Series([merged[label] for label in kept], index=kept, dtype=object)
