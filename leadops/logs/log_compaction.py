"""Keep the prediction and request logs readable: merge their small files now and then.

The scoring API flushes a few hundred rows every couple of seconds and every batch run
appends once, so the logs grow a Parquet file per commit (1,751 files for 8.4M rows were
measured); every monitor read then opens each one. The monitor compacts both logs on its
daily run, under the prediction log's write lock so a batch run's undo never meets a
compaction half-way.
"""

from __future__ import annotations

import logging

from leadops.logs import prediction_log as plog
from leadops.storage import tables
from leadops.storage.lake import COMPACT_MIN_FILES, Lake
from leadops.storage.locks import lake_lock

log = logging.getLogger(__name__)
LOGS = (tables.PREDICTION_LOG, tables.API_REQUESTS)


def compact_logs(
    lake: Lake, min_files: int = COMPACT_MIN_FILES, lock_timeout: float = 60.0
) -> dict[str, tuple[int, int]]:
    """Compact each log that has ``min_files`` or more; returns {table: (files before, after)}."""
    done = {}
    for name in LOGS:
        if name == tables.PREDICTION_LOG:
            with lake_lock(lake, plog.WRITE_LOCK, timeout=lock_timeout):
                result = lake.compact_table(name, min_files)
        else:  # only the API appends to it; Delta's commit protocol orders the two
            result = lake.compact_table(name, min_files)
        if result is not None:
            done[name] = result
            log.info("%s: compacted %d files into %d", name, *result)
    return done
