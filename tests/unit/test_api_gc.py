"""The scoring service exempts what it loaded at startup from the cyclic GC: a full
collection over every object of FastAPI, pandas, XGBoost and the models took ~200-370 ms
in the service (bench_api, gc callbacks), stalling whichever request it landed in."""

from __future__ import annotations

import gc
import time

from app.api.app import freeze_loaded_objects


def full_collection_ms() -> float:
    started = time.perf_counter()
    gc.collect()
    return 1000 * (time.perf_counter() - started)


def test_after_startup_a_full_collection_skips_what_was_loaded() -> None:
    loaded = [{"tree": [n, str(n)]} for n in range(300_000)]  # as the libraries and models
    before = min(full_collection_ms() for _ in range(3))
    try:
        freeze_loaded_objects()
        after = min(full_collection_ms() for _ in range(3))
    finally:
        gc.unfreeze()
    assert after < before / 4, f"a full collection took {after:.1f} ms, {before:.1f} before"
    assert len(loaded) == 300_000
