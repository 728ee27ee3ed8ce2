"""All-or-nothing writes across several Delta tables, surviving a killed process.

Each Delta commit is atomic, but a flow run commits to several tables (bronze,
silver, quarantine, manifest). Before its first write a run records every
table's version in a journal object; the journal is removed after the last
write. A run that dies in between leaves its journal behind, and the next run
of the same flow restores every table to the recorded versions before it does
anything else, so each table is as before the dead run or complete.

Writers of one journal are serialised by ``leadops.storage.locks.lake_lock`` (a create-only
lock object with a heartbeat), so two runs never interleave their commits.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from leadops.storage import delivery
from leadops.storage.lake import Lake
from leadops.storage.locks import LockTimeout, lake_lock  # noqa: F401 (callers import them from here)

log = logging.getLogger(__name__)


def _journal_key(name: str) -> str:
    return f"_journal/{name}.json"


def recover(lake: Lake, name: str) -> list[str]:
    """Undo a dead run's partial writes; returns the tables that were restored."""
    key = _journal_key(name)
    if not lake.exists(key):
        return []
    record = json.loads(lake.read_bytes(key))
    publish = record.get("publish")
    if publish and delivery.is_delivered(publish):
        # The dead run got as far as delivering its output (the last act before the
        # journal is removed): its writes are complete, and undoing them under output
        # already handed out would have the next run deliver the same rows again.
        lake.delete(key)
        log.warning(
            "journal %s: the interrupted run had published %s; kept its writes",
            name,
            publish["target"],
        )
        return []
    if publish:
        # Not delivered: parts it left on S3 would otherwise be delivered twice.
        discarded = delivery.discard_undelivered(publish)
        if discarded:
            log.warning(
                "journal %s: removed %d undelivered part(s) under %s",
                name,
                len(discarded),
                publish["target"],
            )
    versions: dict[str, int | None] = record["versions"]
    restored = []
    for table, version in versions.items():
        current = lake.table_version(table)
        if current == version:
            continue
        _restore(lake, table, version)
        restored.append(table)
    lake.delete(key)
    if restored:
        log.warning("journal %s: undid an interrupted run on %s", name, ", ".join(restored))
    return restored


def note_publish(lake: Lake, name: str, pending_file: str | os.PathLike, target: str) -> None:
    """Record, inside an open transaction, that the run's last act renames the finished
    local file (or folder) ``pending_file`` onto ``target``: once that rename has happened,
    ``recover`` keeps the run's writes instead of undoing them."""
    note_delivery(lake, name, delivery.local(pending_file, target))


def note_delivery(lake: Lake, name: str, output: dict) -> None:
    """Record how to recognise the run's output at its target (``leadops.storage.delivery``), before
    any of it can appear there."""
    key = _journal_key(name)
    record = json.loads(lake.read_bytes(key))
    record["publish"] = output
    lake.write_bytes(key, json.dumps(record).encode())


def _restore(lake: Lake, table: str, version: int | None) -> None:
    from deltalake import DeltaTable

    delta = DeltaTable(lake.table_uri(table), storage_options=lake.storage_options)
    if version is None:
        # The table did not exist before the dead run: leave it empty (same schema).
        empty = delta.to_pyarrow_dataset().schema.empty_table()
        lake.overwrite_table(table, empty)
    else:
        delta.restore(version)


@contextmanager
def lake_transaction(lake: Lake, name: str, tables: list[str]) -> Iterator[None]:
    """Run the body's table writes as one unit (see module docstring)."""
    with lake_lock(lake, name):
        recover(lake, name)
        versions = {table: lake.table_version(table) for table in tables}
        record = {"versions": versions, "started": datetime.now(UTC).isoformat()}
        lake.write_bytes(_journal_key(name), json.dumps(record).encode())
        try:
            yield
        except BaseException:
            recover(lake, name)
            raise
        lake.delete(_journal_key(name))
