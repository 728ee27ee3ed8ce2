"""Silver and gold follow a widened contract: a column whose role changed is rewritten
in its new type before any row of the new type is written.

Why: Delta's schema merge does not refuse a float written to a boolean column, it casts
it (measured with deltalake 1.6: 2.0 was stored as true). After ``leadops contract check
--write`` turned ``previous`` from boolean into numeric, the next ingest or replay would
have stored every count as true. The stored booleans become 1.0 / 0.0 (what a 0/1 count
column meant), and text roles take the values' text.
"""

from __future__ import annotations

import logging

import pyarrow as pa
import pyarrow.compute as pc

from leadops.errors import LeadOpsError, one_line
from leadops.inputs.contract import Contract
from leadops.storage import tables
from leadops.storage.lake import Lake

log = logging.getLogger(__name__)


def conform_tables(lake: Lake, contract: Contract, kind: str) -> list[str]:
    """Rewrite silver ``kind`` (and gold, for leads) where a contract column's stored type
    differs from its role's type; returns "table.column: old -> new" for each change.

    Raises:
        LeadOpsError: a stored column cannot be cast to its new type (one line).
    """
    wanted = contract.arrow_schema(kind)
    names = [tables.silver(kind)] + ([tables.GOLD_LEADS] if kind == "leads" else [])
    changed = []
    for name in names:
        if not lake.table_exists(name):
            continue
        from deltalake import DeltaTable

        delta = DeltaTable(lake.table_uri(name), storage_options=lake.storage_options)
        stored = pa.schema(delta.schema().to_arrow())
        moves = {
            f.name: wanted.field(f.name).type
            for f in stored
            if f.name in wanted.names and _family(f.type) != _family(wanted.field(f.name).type)
        }
        if not moves:
            continue
        table = delta.to_pyarrow_table()
        for column, target in moves.items():
            table = table.set_column(
                table.schema.get_field_index(column),
                pa.field(column, target),
                _cast(name, column, table.column(column), target),
            )
            changed.append(f"{name}.{column}: {stored.field(column).type} -> {target}")
        lake.overwrite_table(name, table)
    for change in changed:
        log.warning("contract widened: rewrote %s", change)
    return changed


def _family(kind: pa.DataType) -> str:
    """A role's family of types: only a change of family is a change of role (Delta may
    hand back large_string for string, or another list field name, for the same role)."""
    checks = {
        "boolean": pa.types.is_boolean,
        "number": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t),
        "text": lambda t: (
            pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or getattr(pa.types, "is_string_view", lambda _: False)(t)
        ),
        "list": lambda t: pa.types.is_list(t) or pa.types.is_large_list(t),
        "time": pa.types.is_timestamp,
    }
    return next((family for family, test in checks.items() if test(kind)), str(kind))


def _cast(name: str, column: str, values: pa.ChunkedArray, target: pa.DataType) -> pa.Array:
    try:
        if pa.types.is_boolean(values.type) and pa.types.is_floating(target):
            return pc.cast(pc.cast(values, pa.int8()), target)
        return pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LeadOpsError(
            f"table {name}: column {column} cannot become {target} as the contract now says "
            f"({one_line(exc)})"
        ) from exc
