"""Quarantined leads for the "leads not scored yet" run: scored, degraded, never trained on.

Ingest keeps a lead that fails the contract's suite out of silver (so out of training)
and stores it, as received, in the quarantine table with the expectations it failed.
It is still a lead sales should call: the silver run scores it too, from that table,
typed as silver types leads. The features its failed expectations name
("company_size:between"; not an email's format) and any value failing
leadops.inputs.lead_checks are scored as missing and named in the ``degraded`` column; a row
without a usable id or creation time (or created after the run's time) stays
unscored. A lead that later reached silver (fixed and ingested again) is scored from
silver, not from here.

The quarantine is small by design (a few broken rows per file), so it is read whole,
at one pinned table version so that both passes of a run see the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadops.inputs.contract import Contract
from leadops.inputs.lead_checks import DEGRADED_FEATURES, check_leads
from leadops.storage import tables
from leadops.storage.lake import Lake

log = logging.getLogger(__name__)


def quarantined_leads(
    lake: Lake,
    contract: Contract,
    version: int,
    as_of: datetime,
    exclude: pa.Array,
    in_silver: Callable[[list[str]], set[str]],
) -> pa.Table:
    """Quarantined leads at ``version`` that can be scored, typed like silver, plus ``_degraded``.

    Args:
        exclude: ids that already have a served score.
        in_silver: which of the given ids silver holds (those are scored from there).
    """
    raw = _read(lake, contract, version)
    schema = contract.arrow_schema("leads").append(pa.field(DEGRADED_FEATURES, pa.string()))
    if raw.empty:
        return schema.empty_table()
    raw = raw[~raw[contract.entity_id].isin(exclude.cast(pa.string()).to_pylist())]
    ids = raw[contract.entity_id].dropna().unique().tolist()  # a row without an id stays unscored
    raw = raw[~raw[contract.entity_id].isin(in_silver(ids))]
    # The latest quarantined row of a lead wins, as in silver.
    raw = raw.sort_values(tables.INGESTED_AT, kind="stable")
    raw = raw.drop_duplicates(contract.entity_id, keep="last").reset_index(drop=True)
    typed, checks = _typed(raw, contract, as_of)
    keep = (checks.unscorable == "").to_numpy()
    failed = [_failed_features(contract, names) for names in raw[tables.FAILED_EXPECTATIONS]]
    degraded = [
        ", ".join(_merged(contract, found.split(", ") if found else [], named)) or None
        for found, named in zip(checks.degraded, failed, strict=True)
    ]
    for row, named in enumerate(failed):
        for feature in named:  # a value the suite refused is unknown, whatever else it passed
            typed.at[row, feature] = None
    frame = typed[list(contract.roles("leads"))].assign(**{DEGRADED_FEATURES: degraded})[keep]
    if (~keep).any():
        log.warning("quarantine: %d lead(s) without a usable id or creation time", (~keep).sum())
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def _read(lake: Lake, contract: Contract, version: int) -> pd.DataFrame:
    from deltalake import DeltaTable

    delta = DeltaTable(
        lake.table_uri(tables.quarantine("leads")),
        version=version,
        storage_options=lake.storage_options,
    )
    dataset = delta.to_pyarrow_dataset()
    wanted = [*contract.lead_columns, tables.INGESTED_AT, tables.FAILED_EXPECTATIONS]
    present = [c for c in wanted if c in dataset.schema.names]
    if contract.entity_id not in present:  # only malformed lines so far: nothing to score
        return pd.DataFrame(columns=wanted)
    ids = pc.field(contract.entity_id)
    table = dataset.to_table(columns=present, filter=ids.is_valid())
    frame = table.to_pandas()
    for column in wanted:
        if column not in frame.columns:  # a column no quarantined file has had yet
            frame[column] = None
    return frame


def _typed(raw: pd.DataFrame, contract: Contract, as_of: datetime):
    from leadops.inputs.normalise import parse_frame

    roles = contract.roles("leads")
    text = raw[list(roles)].astype(object).where(raw[list(roles)].notna(), None)
    typed = parse_frame(text, roles, **contract.parse_options("leads"))
    return check_leads(contract, typed, as_of, text)


def _failed_features(contract: Contract, names: object) -> list[str]:
    """Features named by failed expectations ("company_size:between" -> company_size).

    An email that fails the format check is left as sent, as in file and online scoring
    (leadops.inputs.lead_checks): the encoder already reads it as an invalid address, which is
    what it is, not an unknown.
    """
    features = set(contract.feature_names) - set(contract.by_role("email"))
    columns = {str(name).split(":", 1)[0] for name in (names if names is not None else [])}
    return [f for f in contract.feature_names if f in columns & features]


def _merged(contract: Contract, *groups: list[str]) -> list[str]:
    """The union of feature-name lists, in contract order."""
    found = {name for group in groups for name in group}
    return [f for f in contract.feature_names if f in found]
