"""Gold: silver leads left-joined with their outcome; rewritten whenever silver changes.

Gold does not decide labels: whether a lead without an outcome is a negative
depends on the evaluation time, which only training knows (tables.py).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from leadops import tables
from leadops.contract import Contract
from leadops.storage import Lake
from tasks.ingest.normalise import column_roles
from tasks.ingest.silver import silver_schema


def gold_schema(contract: Contract) -> pa.Schema:
    """Typed lead columns, then label and label time (null until an outcome arrives)."""
    leads = silver_schema(column_roles(contract, "leads"))
    outcomes = silver_schema(column_roles(contract, "outcomes"))
    lead_fields = [leads.field(name) for name in contract.lead_columns]
    outcome_fields = [outcomes.field(contract.label), outcomes.field(contract.label_time)]
    return pa.schema(lead_fields + outcome_fields)


def rebuild_gold(lake: Lake, contract: Contract) -> int | None:
    """Rewrite ``gold/leads`` from silver in one commit.

    The join runs in Arrow (index lookup + take): a pandas round trip of a million
    list-valued technographics cells costs more than everything else here.

    Returns:
        The new gold table version, or None when there are no silver leads yet.
    """
    if not lake.table_exists(tables.silver("leads")):
        return None
    schema = gold_schema(contract)
    leads = _read(lake, tables.silver("leads"), contract.lead_columns)
    outcomes = _read(lake, tables.silver("outcomes"), contract.outcome_columns)
    if outcomes is None:
        outcomes = pa.table({f.name: pa.array([], f.type) for f in
                             (schema.field(contract.entity_id), schema.field(contract.label),
                              schema.field(contract.label_time))})
    ids = outcomes[contract.entity_id].combine_chunks()
    position = pc.index_in(leads[contract.entity_id], value_set=ids)  # null: no outcome yet
    for name in (contract.label, contract.label_time):
        leads = leads.append_column(schema.field(name), outcomes[name].take(position))
    order = pc.sort_indices(leads, sort_keys=[(contract.event_time, "ascending"),
                                              (contract.entity_id, "ascending")])
    return lake.overwrite_table(tables.GOLD_LEADS, leads.take(order).cast(schema))


def _read(lake: Lake, name: str, columns: list[str]) -> pa.Table | None:
    from deltalake import DeltaTable

    if not lake.table_exists(name):
        return None
    delta = DeltaTable(lake.table_uri(name), storage_options=lake.storage_options)
    return delta.to_pyarrow_dataset().to_table(columns=columns)
