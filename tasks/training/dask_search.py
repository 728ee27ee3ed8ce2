"""The search's trials on a Dask cluster: one share of the study per worker.

Every worker runs ``search._optimize`` against the same study in shared storage
(a journal file on one host, PostgreSQL across hosts), exactly as the local
process pool does; Optuna hands out trial numbers, so each trial is recorded
once whichever worker ran it. The training rows are sent to the cluster once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from leadops.runners import dask_client, worker_count, worker_threads

log = logging.getLogger(__name__)


def optimize_on_dask(
    optimize: Callable[..., None],
    shares: list[int | None],
    features: np.ndarray,
    labels: np.ndarray,
    folds: list,
    config: Any,
) -> None:
    """Run the study's trials on the cluster in ``config.workers`` shares (on a LocalCluster
    of that many workers started here, or on the cluster at ``config.dask_address``).

    The number of shares comes from the config, not from the cluster's size, so the
    same config gives the same split (and with one share, the same trials) anywhere.

    A journal-file study must be on a disk every worker sees; remote workers need
    an RDB storage URL (PostgreSQL).

    Args:
        optimize: ``search._optimize``, run once per share on a worker (passed in, so this
            module and the search do not import each other).
        shares: trials per share (None: until the timeout).
        config: the ``search.SearchConfig``.
    """
    workers = max(1, config.workers)
    with dask_client(config.dask_address, workers) as client:
        per_worker = replace(config, nthread=worker_threads(client))
        # Broadcast once rather than pickling the rows into every submitted call.
        shared = client.scatter([features, labels, folds], broadcast=True)
        futures = [
            client.submit(
                optimize,
                *shared,
                per_worker,
                i,
                share,
                pure=False,
                key=f"optuna-{config.study_name}-share-{i}",
            )
            for i, share in enumerate(shares)
            if share != 0
        ]
        log.info(
            "study %s: %d shares on %d dask workers",
            config.study_name,
            len(futures),
            worker_count(client),
        )
        client.gather(futures)
